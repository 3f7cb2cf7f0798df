#include <adgraph/nn/data.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <new>
#include <utility>

#include <adgraph/nn/idx.hpp>
#include <adgraph/tensor/error.hpp>

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

}  // namespace adg::nn
