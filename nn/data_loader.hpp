#pragma once
/// \file TensorDataset (samples along the first axis of tensors, with float targets or class labels) and the seeded
/// minibatch DataLoader over it, as torch.utils.data.TensorDataset and DataLoader.

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <vector>

#include <adgraph/autodiff/tensor.hpp>

namespace adg::nn {

/// One minibatch: rows of the inputs with their targets or labels. Every tensor is freshly allocated.
struct Batch {
    /// The inputs' rows (B, ...), in the inputs' dtype.
    Tensor x;
    /// The targets' rows (B, ...), in the targets' dtype; undefined for a dataset of labels.
    Tensor y;
    /// B class labels; empty for a dataset of targets.
    std::vector<std::size_t> labels;
};

/// Samples along the first axis of `inputs`, each with a row of `targets` (regression: any shape (N, ...), float32
/// or float64) or a class label (classification: what cross_entropy takes). Holds shared handles: copying it is
/// cheap and the arrays are not copied.
class TensorDataset {
public:
    /// Regression: sample i is (inputs[i], targets[i]); throws shape_error naming both shapes unless both have a
    /// first axis of the same extent N, value_error if either is undefined.
    TensorDataset(Tensor inputs, Tensor targets);
    /// Classification: sample i is (inputs[i], labels[i]); throws shape_error unless inputs has a first axis of
    /// extent labels.size().
    TensorDataset(Tensor inputs, std::vector<std::size_t> labels);
    /// Number of samples N.
    std::size_t size() const { return inputs_.shape()[0]; }
    /// The inputs (N, ...).
    const Tensor& inputs() const { return inputs_; }
    /// The targets (N, ...); undefined for a dataset of labels.
    const Tensor& targets() const { return targets_; }
    /// The N labels; empty for a dataset of targets.
    const std::vector<std::size_t>& labels() const { return *labels_; }
    /// True if the samples carry class labels rather than a targets tensor.
    bool has_labels() const { return !targets_.defined(); }
    /// The samples at `rows` (each < size(), else value_error), in that order, as one batch of new tensors.
    Batch gather(const std::vector<std::size_t>& rows) const { return gather(rows.data(), rows.size()); }
    /// The `count` samples at rows[0..count), as gather(rows).
    Batch gather(const std::size_t* rows, std::size_t count) const;

private:
    Tensor inputs_;
    Tensor targets_;
    std::shared_ptr<const std::vector<std::size_t>> labels_;
};

/// How a DataLoader batches, in libtorch's style: `DataLoaderOptions(64).shuffle(true).seed(7).drop_last(true)`.
struct DataLoaderOptions {
    /// Batches of `batch_size` samples (≥ 1), in order, keeping the last partial batch.
    explicit DataLoaderOptions(std::size_t batch_size = 1) : batch_size_(batch_size) {}
    /// Samples per batch (≥ 1).
    DataLoaderOptions& batch_size(std::size_t n) {
        batch_size_ = n;
        return *this;
    }
    /// Permute the samples anew each epoch (default false).
    DataLoaderOptions& shuffle(bool on) {
        shuffle_ = on;
        return *this;
    }
    /// Seed of the shuffle: epoch e's order depends only on (seed, e) (PyTorch: generator=manual_seed(seed)).
    DataLoaderOptions& seed(std::uint64_t s) {
        seed_ = s;
        return *this;
    }
    /// Drop the last batch when it would be smaller than batch_size (default false: it is kept).
    DataLoaderOptions& drop_last(bool on) {
        drop_last_ = on;
        return *this;
    }
    /// Samples per batch.
    std::size_t batch_size() const { return batch_size_; }
    /// True if each epoch is shuffled.
    bool shuffle() const { return shuffle_; }
    /// The shuffle's seed.
    std::uint64_t seed() const { return seed_; }
    /// True if a last partial batch is dropped.
    bool drop_last() const { return drop_last_; }

private:
    std::size_t batch_size_;
    bool shuffle_ = false;
    std::uint64_t seed_ = 0;
    bool drop_last_ = false;
};

class DataLoader;

/// The batches of one epoch in a fixed order; iterate it with range-for. Shares the dataset's arrays.
class Epoch {
public:
    /// Number of batches (0 if drop_last leaves none).
    std::size_t size() const;
    /// Batch `i` (0 ≤ i < size()); throws value_error otherwise.
    Batch batch(std::size_t i) const;
    /// The dataset row visited at each position of this epoch.
    const std::vector<std::size_t>& order() const { return order_; }
    /// Samples per full batch: batch i covers positions [i·batch_size(), min((i + 1)·batch_size(), order().size())).
    std::size_t batch_size() const { return batch_size_; }
    /// The dataset the batches are gathered from.
    const TensorDataset& dataset() const { return data_; }

    /// Input iterator over the batches; each is gathered when first dereferenced.
    class iterator {
    public:
        using iterator_category = std::input_iterator_tag;
        using value_type = Batch;
        using difference_type = std::ptrdiff_t;
        using pointer = const Batch*;
        using reference = const Batch&;
        /// The current batch.
        const Batch& operator*() const;
        /// The current batch.
        const Batch* operator->() const { return &**this; }
        /// Advances to the next batch.
        iterator& operator++();
        /// True if both are at the same position of the same epoch.
        bool operator==(const iterator& o) const { return epoch_ == o.epoch_ && i_ == o.i_; }
        /// Negation of ==.
        bool operator!=(const iterator& o) const { return !(*this == o); }

    private:
        friend class Epoch;
        iterator(const Epoch* epoch, std::size_t i) : epoch_(epoch), i_(i) {}
        const Epoch* epoch_;
        std::size_t i_;
        mutable Batch current_;
        mutable bool loaded_ = false;
    };
    /// The first batch.
    iterator begin() const { return iterator(this, 0); }
    /// Past the last batch.
    iterator end() const { return iterator(this, size()); }

private:
    friend class DataLoader;
    Epoch(TensorDataset data, std::size_t batch_size, bool drop_last, std::vector<std::size_t> order);
    TensorDataset data_;
    std::size_t batch_size_;
    bool drop_last_;
    std::vector<std::size_t> order_;
};

/// Splits a TensorDataset into minibatches, in order or shuffled; the last batch may be smaller unless drop_last,
/// and a batch size larger than the dataset makes one batch of all of it. The order of epoch e depends only on
/// (seed, e), so runs repeat exactly. Shares the dataset's arrays; batches are new tensors that share nothing with
/// the dataset or each other.
class DataLoader {
public:
    /// A loader over `data` (at least one sample) as `options` say; throws value_error for an empty dataset or a
    /// batch size of 0.
    DataLoader(TensorDataset data, const DataLoaderOptions& options);
    /// Same as DataLoader(data, DataLoaderOptions(batch_size).shuffle(shuffle).seed(seed)).
    DataLoader(TensorDataset data, std::size_t batch_size, bool shuffle, std::uint64_t seed = 0);
    /// Number of batches per epoch, counting the last partial one unless drop_last.
    std::size_t batches() const;
    /// Samples per full batch.
    std::size_t batch_size() const { return options_.batch_size(); }
    /// The dataset it batches.
    const TensorDataset& dataset() const { return data_; }
    /// The dataset row visited at each position of epoch `e` (the identity without shuffling).
    std::vector<std::size_t> order(std::size_t e) const;
    /// The batches of epoch `e`: `for (const Batch& b : loader.epoch(e))`.
    Epoch epoch(std::size_t e) const;
    /// Batch `i` of epoch `e` (computes the epoch's order; iterate epoch(e) to visit all batches).
    Batch batch(std::size_t e, std::size_t i) const;

private:
    TensorDataset data_;
    DataLoaderOptions options_;
};

}  // namespace adg::nn
