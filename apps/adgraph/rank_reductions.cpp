#include "adgraph/rank_reductions.hpp"

#include <cmath>
#include <string>
#include <vector>

#include <adgraph/autodiff/ops.hpp>

namespace adg::cli {

namespace {

// Rows [begin, end) of `data`, sharing its images.
nn::Dataset rows_of(const nn::Dataset& data, std::size_t begin, std::size_t end) {
    nn::Dataset part;
    part.images = slice(data.images, 0, begin, end);
    part.labels.assign(data.labels.begin() + static_cast<std::ptrdiff_t>(begin),
                       data.labels.begin() + static_cast<std::ptrdiff_t>(end));
    part.classes = data.classes;
    part.source = data.source;
    part.image_shape = data.image_shape;
    return part;
}

}  // namespace

std::string rank_list(const std::vector<std::size_t>& ranks, std::size_t size) {
    std::string text = ranks.size() == 1 ? "rank " : "ranks ";
    for (std::size_t i = 0; i < ranks.size(); ++i) {
        text += (i == 0 ? "" : i + 1 == ranks.size() ? " and " : ", ") + std::to_string(ranks[i]);
    }
    return text + " of " + std::to_string(size);
}

// After the sum every rank knows whether one failed: all throw PeerFailure (the failing ones with their error), so
// all exit alike and no rank waits for one that is gone.
EvalResult evaluate_ranks(nn::Module& model, const nn::Dataset& data, const Shape& input, Ranks& ranks) {
    if (ranks.size() == 1) return evaluate(model, data, 1000, input);
    const auto [begin, end] = ranks.shard(data.size());
    const std::size_t classes = data.classes;
    std::vector<double> sums(2 + classes * classes, 0.0);
    std::string failure;
    if (end > begin) {
        try {
            const EvalResult part = evaluate(model, rows_of(data, begin, end), 1000, input, begin);
            sums[0] = part.loss * static_cast<double>(end - begin);
            for (std::size_t t = 0; t < classes; ++t) {
                for (std::size_t p = 0; p < classes; ++p) sums[2 + t * classes + p] = double(part.confusion.at(t, p));
            }
        } catch (const std::exception& e) {
            failure = e.what();
            sums[1] = 1;
        }
    }
    ranks.sum(sums);
    if (sums[1] > 0) throw PeerFailure{failure};
    EvalResult r;
    r.confusion = nn::ConfusionMatrix(classes);
    for (std::size_t t = 0; t < classes; ++t) {
        for (std::size_t p = 0; p < classes; ++p) {
            for (auto n = static_cast<std::size_t>(sums[2 + t * classes + p]); n > 0; --n) r.confusion.add(t, p);
        }
    }
    r.loss = data.size() ? sums[0] / static_cast<double>(data.size()) : 0.0;
    r.accuracy = r.confusion.accuracy();
    return r;
}

// A second, rare collective: only after the step's sums said that some rank's loss is not finite.
std::pair<std::string, double> nonfinite_ranks(Ranks& ranks, double loss) {
    if (ranks.size() == 1) return {"", loss};
    const auto n = static_cast<std::size_t>(ranks.size());
    std::vector<double> v(2 * n, 0.0);
    if (!std::isfinite(loss)) {
        v[static_cast<std::size_t>(ranks.rank())] = 1;
        v[n + static_cast<std::size_t>(ranks.rank())] = loss;  // NaN or ±Inf survives a sum with zeros
    }
    ranks.sum(v);
    std::vector<std::size_t> bad;
    for (std::size_t r = 0; r < n; ++r) {
        if (v[r] > 0) bad.push_back(r);
    }
    return {" on " + rank_list(bad, n), bad.empty() ? loss : v[n + bad.front()]};
}

}  // namespace adg::cli
