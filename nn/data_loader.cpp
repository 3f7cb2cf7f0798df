#include <adgraph/nn/data_loader.hpp>

#include <algorithm>
#include <cstring>
#include <numeric>
#include <random>
#include <utility>

#include <adgraph/tensor/error.hpp>
#include <adgraph/tensor/parallel.hpp>
#include <adgraph/tensor/size.hpp>

namespace adg::nn {

namespace {

constexpr const char* sample_axis_hint = "put the samples along the first axis, e.g. (N, features)";

void check_has_samples(const Tensor& t, const char* what) {
    if (!t.defined()) {
        throw value_error(std::string("TensorDataset: the ") + what + " tensor is undefined; pass a tensor (N, ...)");
    }
    if (t.dim() == 0) {
        throw shape_error(std::string("TensorDataset: the ") + what + " are a scalar () with no sample axis; " +
                          sample_axis_hint);
    }
}

// The rows of `src` (N, ...) at rows[0..count) as a new (count, ...) tensor of its dtype.
Tensor gather_rows(const Tensor& src, const std::size_t* rows, std::size_t count) {
    Shape shape = src.shape();
    shape[0] = count;
    return src.value().visit([&](const auto& a) {
        using T = typename std::decay_t<decltype(a)>::value_type;
        const std::size_t width = a.shape()[0] ? a.size() / a.shape()[0] : 0;
        // A fresh array per batch: the caller may still hold earlier batches (or graphs recorded on them).
        auto out = new_xarray<T>(shape, "DataLoader");
        const T* from = a.data();
        T* to = out.data();
        parallel_rows(count, width,
                      [&](std::size_t r) { std::memcpy(to + r * width, from + rows[r] * width, width * sizeof(T)); });
        return Tensor(std::move(out));
    });
}

// Batches of `batch` covering `n` rows, the last partial unless dropped. Not (n + batch - 1) / batch: that wraps to
// 0 batches for a batch size near SIZE_MAX.
std::size_t batch_count(std::size_t n, std::size_t batch, bool drop_last) {
    return n / batch + (!drop_last && n % batch != 0);
}

}  // namespace

TensorDataset::TensorDataset(Tensor inputs, Tensor targets)
    : inputs_(std::move(inputs)),
      targets_(std::move(targets)),
      labels_(std::make_shared<const std::vector<std::size_t>>()) {
    check_has_samples(inputs_, "inputs");
    check_has_samples(targets_, "targets");
    if (inputs_.shape()[0] != targets_.shape()[0]) {
        throw shape_error("TensorDataset: inputs " + shape_str(inputs_.shape()) + " and targets " +
                          shape_str(targets_.shape()) + " hold different numbers of samples (" +
                          std::to_string(inputs_.shape()[0]) + " vs " + std::to_string(targets_.shape()[0]) +
                          " along the first axis); give one target row per input row");
    }
}

TensorDataset::TensorDataset(Tensor inputs, std::vector<std::size_t> labels)
    : inputs_(std::move(inputs)), labels_(std::make_shared<const std::vector<std::size_t>>(std::move(labels))) {
    check_has_samples(inputs_, "inputs");
    if (inputs_.shape()[0] != labels_->size()) {
        throw shape_error("TensorDataset: inputs " + shape_str(inputs_.shape()) + " hold " +
                          std::to_string(inputs_.shape()[0]) + " samples but " + std::to_string(labels_->size()) +
                          " labels were given; give one label per input row");
    }
}

Batch TensorDataset::gather(const std::size_t* rows, std::size_t count) const {
    const std::size_t n = size();
    for (std::size_t r = 0; r < count; ++r) {
        if (rows[r] >= n) {
            throw value_error("TensorDataset::gather: row " + std::to_string(rows[r]) +
                              " is out of range; the dataset holds " + std::to_string(n) + " samples");
        }
    }
    Batch b;
    b.x = gather_rows(inputs_, rows, count);
    if (has_labels()) {
        b.labels.resize(count);
        for (std::size_t r = 0; r < count; ++r) b.labels[r] = (*labels_)[rows[r]];
    } else {
        b.y = gather_rows(targets_, rows, count);
    }
    return b;
}

// ---- batches ---------------------------------------------------------------------------------------------------

Epoch::Epoch(TensorDataset data, std::size_t batch_size, bool drop_last, std::vector<std::size_t> order)
    : data_(std::move(data)), batch_size_(batch_size), drop_last_(drop_last), order_(std::move(order)) {}

std::size_t Epoch::size() const { return batch_count(order_.size(), batch_size_, drop_last_); }

Batch Epoch::batch(std::size_t i) const {
    if (i >= size()) {
        throw value_error("Epoch::batch: batch " + std::to_string(i) + " is out of range; the epoch has " +
                          std::to_string(size()) + " batches");
    }
    const std::size_t start = i * batch_size_;
    return data_.gather(order_.data() + start, std::min(batch_size_, order_.size() - start));
}

const Batch& Epoch::iterator::operator*() const {
    if (!loaded_) {
        current_ = epoch_->batch(i_);
        loaded_ = true;
    }
    return current_;
}

Epoch::iterator& Epoch::iterator::operator++() {
    ++i_;
    loaded_ = false;
    current_ = Batch{};  // drop our handle so the batch's memory goes when the caller lets go of it
    return *this;
}

DataLoader::DataLoader(TensorDataset data, const DataLoaderOptions& options)
    : data_(std::move(data)), options_(options) {
    if (options.batch_size() == 0) {
        throw value_error("DataLoader: batch_size must be at least 1 (got 0)");
    }
    if (data_.size() == 0) {
        throw value_error("DataLoader: the dataset is empty (inputs " + shape_str(data_.inputs().shape()) +
                          "); give it at least one sample");
    }
}

DataLoader::DataLoader(TensorDataset data, std::size_t batch_size, bool shuffle, std::uint64_t seed)
    : DataLoader(std::move(data), DataLoaderOptions(batch_size).shuffle(shuffle).seed(seed)) {}

std::size_t DataLoader::batches() const {
    return batch_count(data_.size(), options_.batch_size(), options_.drop_last());
}

std::vector<std::size_t> DataLoader::order(std::size_t e) const {
    std::vector<std::size_t> order(data_.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    if (!options_.shuffle()) return order;
    // std::seed_seq and std::mt19937_64 are specified bit for bit, std::shuffle and uniform_int_distribution are
    // not: a hand-written Fisher-Yates keeps the order identical across standard libraries.
    const std::uint64_t seed = options_.seed(), epoch = e;
    std::seed_seq seq{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32),
                      static_cast<std::uint32_t>(epoch), static_cast<std::uint32_t>(epoch >> 32)};
    std::mt19937_64 rng(seq);
    for (std::size_t i = order.size(); i > 1; --i) {
        // Unbiased draw in [0, i): reject the lowest 2^64 mod i values, then reduce.
        const std::uint64_t range = i;
        const std::uint64_t reject_below = (0 - range) % range;
        std::uint64_t v = rng();
        while (v < reject_below) v = rng();
        std::swap(order[i - 1], order[static_cast<std::size_t>(v % range)]);
    }
    return order;
}

Epoch DataLoader::epoch(std::size_t e) const {
    return Epoch(data_, options_.batch_size(), options_.drop_last(), order(e));
}

Batch DataLoader::batch(std::size_t e, std::size_t i) const { return epoch(e).batch(i); }

}  // namespace adg::nn
