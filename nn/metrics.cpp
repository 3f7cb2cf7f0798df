#include <adgraph/nn/metrics.hpp>

#include <cstdint>
#include <cstdio>

#include <adgraph/tensor/error.hpp>

namespace adg::nn {

namespace {

// classes² counters, checked: a product that wraps around would make a small matrix that add() writes past.
std::size_t cell_count(std::size_t classes) {
    std::size_t cells = 0, bytes = 0;
    if (__builtin_mul_overflow(classes, classes, &cells) ||
        __builtin_mul_overflow(cells, sizeof(std::size_t), &bytes) || bytes > static_cast<std::size_t>(PTRDIFF_MAX)) {
        throw value_error("confusion matrix: " + std::to_string(classes) + " classes need " + std::to_string(classes) +
                          "² counters, more than memory can address; pass the real number of classes");
    }
    return cells;
}

}  // namespace

ConfusionMatrix::ConfusionMatrix(std::size_t classes) : n_(classes), counts_(cell_count(classes), 0) {}

void ConfusionMatrix::add(std::size_t truth, std::size_t predicted) {
    if (truth >= n_ || predicted >= n_) {
        throw value_error("confusion matrix: class " + std::to_string(truth >= n_ ? truth : predicted) +
                          " is out of range for " + std::to_string(n_) + " classes");
    }
    ++counts_[truth * n_ + predicted];
}

void ConfusionMatrix::add(const std::vector<std::size_t>& truth, const std::vector<std::size_t>& predicted) {
    if (truth.size() != predicted.size()) {
        throw value_error("confusion matrix: " + std::to_string(truth.size()) + " labels but " +
                          std::to_string(predicted.size()) + " predictions");
    }
    for (std::size_t i = 0; i < truth.size(); ++i) add(truth[i], predicted[i]);
}

std::size_t ConfusionMatrix::total() const {
    std::size_t t = 0;
    for (auto c : counts_) t += c;
    return t;
}

double ConfusionMatrix::accuracy() const {
    std::size_t hits = 0;
    for (std::size_t c = 0; c < n_; ++c) hits += at(c, c);
    const std::size_t t = total();
    return t ? static_cast<double>(hits) / static_cast<double>(t) : 0.0;
}

double ConfusionMatrix::class_accuracy(std::size_t c) const {
    std::size_t row = 0;
    for (std::size_t p = 0; p < n_; ++p) row += at(c, p);
    return row ? static_cast<double>(at(c, c)) / static_cast<double>(row) : 0.0;
}

std::string ConfusionMatrix::to_string(const std::vector<std::string>& names) const {
    std::string out;
    char buf[64];
    out += "true \\ predicted ";
    for (std::size_t p = 0; p < n_; ++p) {
        std::snprintf(buf, sizeof buf, "%6zu", p);
        out += buf;
    }
    out += "\n";
    for (std::size_t t = 0; t < n_; ++t) {
        std::snprintf(buf, sizeof buf, "%2zu %-13.13s ", t, t < names.size() ? names[t].c_str() : "");
        out += buf;
        for (std::size_t p = 0; p < n_; ++p) {
            std::snprintf(buf, sizeof buf, "%6zu", at(t, p));
            out += buf;
        }
        out += "\n";
    }
    return out;
}

std::string ConfusionMatrix::to_csv(const std::vector<std::string>& names) const {
    std::string out = "true\\predicted";
    for (std::size_t p = 0; p < n_; ++p) out += "," + (p < names.size() ? names[p] : std::to_string(p));
    out += "\n";
    for (std::size_t t = 0; t < n_; ++t) {
        out += t < names.size() ? names[t] : std::to_string(t);
        for (std::size_t p = 0; p < n_; ++p) out += "," + std::to_string(at(t, p));
        out += "\n";
    }
    return out;
}

}  // namespace adg::nn
