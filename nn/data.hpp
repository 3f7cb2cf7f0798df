#pragma once
/// \file Image classification data from IDX files (Fashion-MNIST) and a seeded minibatch loader.

#include <array>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>
#include <vector>

#include <adgraph/autodiff/tensor.hpp>

namespace adg::nn {

/// How pixels are normalised: p in [0, 1] becomes (p - mean) / std. The defaults are the Fashion-MNIST
/// training set's statistics; `{0, 1}` leaves pixels in [0, 1].
struct Normalization {
    /// Subtracted from every pixel in [0, 1].
    float mean = 0.2860f;
    /// Divides every pixel after subtracting the mean (must be > 0).
    float std = 0.3530f;
};

/// Images as float32 rows (N, rows·cols) with their class labels.
struct Dataset {
    /// float32 (N, features), normalised.
    Tensor images;
    /// N labels, each < classes.
    std::vector<std::size_t> labels;
    /// Number of classes.
    std::size_t classes = 10;
    /// The images file it was loaded from ("" if built in memory), for messages.
    std::string source;
    /// Rows and columns of each image as stored in the file (empty if built in memory).
    std::vector<std::size_t> image_shape;
    /// Number of samples N.
    std::size_t size() const { return labels.size(); }
    /// Number of features per sample (rows·cols).
    std::size_t features() const;
};

/// Loads images (IDX, 3-D: N, rows, cols) and labels (IDX, 1-D: N), raw or .gz, keeping the first `limit`
/// samples if `limit` > 0. Throws io_error when the files are unreadable, have the wrong rank, disagree in
/// count or hold a label ≥ `classes`; value_error for a bad Normalization.
Dataset load_idx_pair(const std::string& images_path, const std::string& labels_path, std::size_t limit = 0,
                      Normalization norm = {}, std::size_t classes = 10);

/// Which half of a dataset.
enum class Split { train, test };

/// Where the Debian package `dataset-fashion-mnist` installs the files.
inline constexpr const char* default_fashion_mnist_dir = "/usr/share/datasets/fashion-mnist";

/// Loads Fashion-MNIST's training (60000) or test (10000) split from `dir`, which holds
/// `{train,t10k}-{images-idx3,labels-idx1}-ubyte`, each raw or with `.gz` (the raw file is preferred).
/// A missing directory or file raises io_error naming the path and how to get the data.
Dataset load_fashion_mnist(const std::string& dir, Split split, std::size_t limit = 0, Normalization norm = {});

/// The ten Fashion-MNIST class names, indexed by label.
const std::array<const char*, 10>& fashion_mnist_classes();

/// One minibatch: float32 inputs (B, features) and their B labels. The tensor is freshly allocated.
struct Batch {
    /// float32 (B, features).
    Tensor x;
    /// B labels.
    std::vector<std::size_t> labels;
};

class DataLoader;

/// The batches of one epoch in a fixed order; iterate it with range-for. Refers to the loader's dataset, which
/// must outlive it.
class Epoch {
public:
    /// Number of batches (the last may be partial; 0 for an empty dataset).
    std::size_t size() const;
    /// Batch `i` (0 ≤ i < size()); throws value_error otherwise.
    Batch batch(std::size_t i) const;
    /// The dataset row visited at each position of this epoch.
    const std::vector<std::size_t>& order() const { return order_; }

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
    Epoch(const Dataset& data, std::size_t batch_size, std::vector<std::size_t> order);
    const Dataset* data_;
    std::size_t batch_size_;
    std::vector<std::size_t> order_;
};

/// Splits a dataset into minibatches, in order or shuffled; the last batch may be smaller, and a batch size
/// larger than the dataset makes one batch of all of it. The order of epoch
/// e depends only on (seed, e), so runs repeat exactly. Holds a reference: the Dataset must outlive the loader
/// and every Epoch it returns. Batches are new tensors that share nothing with the dataset or each other.
class DataLoader {
public:
    /// A loader over `data` with batches of `batch_size` (≥ 1, else value_error); `shuffle` permutes the rows
    /// anew each epoch with a generator seeded from (seed, epoch).
    DataLoader(const Dataset& data, std::size_t batch_size, bool shuffle, std::uint64_t seed = 0);
    /// Refused: the loader would outlive a temporary dataset.
    DataLoader(Dataset&&, std::size_t, bool, std::uint64_t = 0) = delete;
    /// Number of batches per epoch, counting the last partial one.
    std::size_t batches() const;
    /// Samples per full batch.
    std::size_t batch_size() const { return batch_size_; }
    /// The dataset row visited at each position of epoch `e` (the identity without shuffling).
    std::vector<std::size_t> order(std::size_t e) const;
    /// The batches of epoch `e`: `for (const Batch& b : loader.epoch(e))`.
    Epoch epoch(std::size_t e) const;
    /// Batch `i` of epoch `e` (computes the epoch's order; iterate epoch(e) to visit all batches).
    Batch batch(std::size_t e, std::size_t i) const;

private:
    const Dataset* data_;
    std::size_t batch_size_;
    bool shuffle_;
    std::uint64_t seed_;
};

}  // namespace adg::nn
