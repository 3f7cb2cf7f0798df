#include <adgraph/nn/data.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <new>
#include <numeric>
#include <random>
#include <utility>

#include <adgraph/nn/idx.hpp>
#include <adgraph/tensor/error.hpp>
#include <adgraph/tensor/parallel.hpp>
#include <adgraph/tensor/size.hpp>

namespace adg::nn {

namespace {

constexpr const char* install_hint =
    "install the Debian package `dataset-fashion-mnist` (apt-get install dataset-fashion-mnist) or pass --data DIR";

std::string dims_str(const std::vector<std::size_t>& dims) {
    std::string s = "(";
    for (std::size_t i = 0; i < dims.size(); ++i) s += (i ? "," : "") + std::to_string(dims[i]);
    return s + ")";
}

}  // namespace

std::size_t Dataset::features() const { return images.defined() && images.dim() == 2 ? images.shape()[1] : 0; }

Dataset load_idx_pair(const std::string& images_path, const std::string& labels_path, std::size_t limit,
                      Normalization norm, std::size_t classes) {
    if (!std::isfinite(norm.mean) || !std::isfinite(norm.std) || !(norm.std > 0)) {
        throw value_error("load_idx_pair: Normalization{mean " + number_str(norm.mean) + ", std " +
                          number_str(norm.std) + "} is invalid; mean must be finite and std finite and > 0");
    }
    if (classes == 0) throw value_error("load_idx_pair: classes must be at least 1 (got 0)");

    const IdxArray images = read_idx(images_path);
    if (images.dims.size() != 3) {
        throw io_error(images_path + ": images must be a 3-D IDX array (count, rows, cols) but this one is " +
                       dims_str(images.dims));
    }
    const IdxArray labels = read_idx(labels_path);
    if (labels.dims.size() != 1) {
        throw io_error(labels_path + ": labels must be a 1-D IDX array (count) but this one is " +
                       dims_str(labels.dims));
    }
    const std::size_t count = images.dims[0];
    if (labels.dims[0] != count) {
        throw io_error("load_idx_pair: " + images_path + " holds " + std::to_string(count) + " images but " +
                       labels_path + " holds " + std::to_string(labels.dims[0]) + " labels; the counts must be equal");
    }
    for (std::size_t i = 0; i < count; ++i) {
        if (labels.data[i] >= classes) {
            throw io_error(labels_path + ": label " + std::to_string(i) + " (byte " + std::to_string(8 + i) + ") is " +
                           std::to_string(labels.data[i]) + "; labels must be in 0.." + std::to_string(classes - 1));
        }
    }

    const std::size_t n = limit > 0 ? std::min(limit, count) : count;
    const std::size_t features = images.dims[1] * images.dims[2];
    // 256 possible bytes: one table lookup per pixel instead of a divide, computed in double so the table does
    // not depend on float rounding order.
    std::array<float, 256> table{};
    for (std::size_t v = 0; v < table.size(); ++v) {
        table[v] = static_cast<float>((static_cast<double>(v) / 255.0 - norm.mean) / norm.std);
    }
    xt::xarray<float> x;
    try {
        x = xt::xarray<float>::from_shape({n, features});
    } catch (const std::bad_alloc&) {
        throw io_error("load_idx_pair: " + images_path + ": cannot allocate " +
                       std::to_string(std::uint64_t{n} * features * sizeof(float)) + " bytes for " + std::to_string(n) +
                       " images as float32: out of memory; free memory or raise the memory limit "
                       "(ulimit -v), or load fewer images");
    }
    std::transform(images.data.begin(), images.data.begin() + static_cast<std::ptrdiff_t>(n * features), x.data(),
                   [&](std::uint8_t p) { return table[p]; });

    Dataset out;
    out.images = Tensor(std::move(x));
    out.labels.assign(labels.data.begin(), labels.data.begin() + static_cast<std::ptrdiff_t>(n));
    out.classes = classes;
    out.source = images_path;
    out.image_shape = {images.dims[1], images.dims[2]};
    return out;
}

Dataset load_fashion_mnist(const std::string& dir, Split split, std::size_t limit, Normalization norm) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
        const bool exists = fs::exists(dir, ec);
        throw io_error("load_fashion_mnist: the data directory " + dir +
                       (exists ? " is not a directory" : " does not exist") + "; " + install_hint);
    }
    const std::string prefix = split == Split::train ? "train" : "t10k";
    const auto find = [&](const std::string& stem) {
        const fs::path raw = fs::path(dir) / stem;
        if (fs::exists(raw, ec)) return raw.string();
        const fs::path gz = fs::path(dir) / (stem + ".gz");
        if (fs::exists(gz, ec)) return gz.string();
        throw io_error("load_fashion_mnist: neither " + raw.string() + " nor " + gz.string() + " exists; " +
                       install_hint);
    };
    const std::string images = find(prefix + "-images-idx3-ubyte");
    const std::string labels = find(prefix + "-labels-idx1-ubyte");
    return load_idx_pair(images, labels, limit, norm, fashion_mnist_classes().size());
}

const std::array<const char*, 10>& fashion_mnist_classes() {
    static const std::array<const char*, 10> names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                      "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
    return names;
}

// ---- batches ---------------------------------------------------------------------------------------------------

Epoch::Epoch(const Dataset& data, std::size_t batch_size, std::vector<std::size_t> order)
    : data_(&data), batch_size_(batch_size), order_(std::move(order)) {}

namespace {

// Batches of `batch` covering `n` rows, the last partial. Not (n + batch - 1) / batch: that wraps to 0 batches
// for a batch size near SIZE_MAX.
std::size_t batch_count(std::size_t n, std::size_t batch) { return n / batch + (n % batch != 0); }

}  // namespace

std::size_t Epoch::size() const { return batch_count(order_.size(), batch_size_); }

Batch Epoch::batch(std::size_t i) const {
    if (i >= size()) {
        throw value_error("Epoch::batch: batch " + std::to_string(i) + " is out of range; the epoch has " +
                          std::to_string(size()) + " batches");
    }
    const std::size_t start = i * batch_size_;
    const std::size_t rows = std::min(batch_size_, order_.size() - start);
    const std::size_t features = data_->features();
    const float* src = data_->images.data<float>().data();
    // A fresh array per batch: the caller may still hold earlier batches (or graphs recorded on them).
    auto x = new_xarray<float>({rows, features}, "DataLoader");
    Batch b;
    b.labels.resize(rows);
    for (std::size_t r = 0; r < rows; ++r) b.labels[r] = data_->labels[order_[start + r]];
    parallel_rows(rows, features, [&](std::size_t r) {
        std::memcpy(x.data() + r * features, src + order_[start + r] * features, features * sizeof(float));
    });
    b.x = Tensor(std::move(x));
    return b;
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

DataLoader::DataLoader(const Dataset& data, std::size_t batch_size, bool shuffle, std::uint64_t seed)
    : data_(&data), batch_size_(batch_size), shuffle_(shuffle), seed_(seed) {
    if (batch_size == 0) throw value_error("DataLoader: batch_size must be at least 1 (got 0)");
    if (!data.images.defined() || data.images.dim() != 2 || data.images.dtype() != f32 ||
        data.images.shape()[0] != data.labels.size()) {
        throw shape_error("DataLoader: the dataset must hold float32 images (N, features) and N labels, but has " +
                          (data.images.defined() ? std::string(dtype_name(data.images.dtype())) + " images " +
                                                       shape_str(data.images.shape())
                                                 : std::string("no images")) +
                          " and " + std::to_string(data.labels.size()) + " labels");
    }
}

std::size_t DataLoader::batches() const { return batch_count(data_->size(), batch_size_); }

std::vector<std::size_t> DataLoader::order(std::size_t e) const {
    std::vector<std::size_t> order(data_->size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    if (!shuffle_) return order;
    // std::seed_seq and std::mt19937_64 are specified bit for bit, std::shuffle and uniform_int_distribution are
    // not: a hand-written Fisher-Yates keeps the order identical across standard libraries.
    const std::uint64_t epoch = e;
    std::seed_seq seq{static_cast<std::uint32_t>(seed_), static_cast<std::uint32_t>(seed_ >> 32),
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

Epoch DataLoader::epoch(std::size_t e) const { return Epoch(*data_, batch_size_, order(e)); }

Batch DataLoader::batch(std::size_t e, std::size_t i) const { return epoch(e).batch(i); }

}  // namespace adg::nn
