#pragma once
/// \file Image classification data from IDX files (Fashion-MNIST): a Dataset of images and labels, which a
/// DataLoader (nn/data_loader.hpp) batches as a TensorDataset.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <adgraph/autodiff/tensor.hpp>
#include <adgraph/nn/data_loader.hpp>

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
    /// The images and labels as a TensorDataset (shares the images; copies the labels), so that
    /// `DataLoader(dataset, 64, true, seed)` batches it; throws shape_error unless there are N labels for N images.
    operator TensorDataset() const { return TensorDataset(images, labels); }
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

}  // namespace adg::nn
