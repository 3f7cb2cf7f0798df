#pragma once
// What the outlook programs (docs/outlook.md) share: the data, a trained classifier, pictures of tensors and the
// process's resident memory. Not installed: a fixture of the examples.

#include <cstddef>
#include <memory>
#include <string>

#include <adgraph/adgraph.hpp>
#include <adgraph/nn/data.hpp>
#include <adgraph/nn/load_model.hpp>
#include <adgraph/nn/png.hpp>

namespace outlook {

/// Fashion-MNIST's side in pixels.
inline constexpr std::size_t side = 28;

/// Loads a Fashion-MNIST split (the first `limit` images if > 0); on failure prints "<program>: <error>" and exits
/// with 77 if `dir` does not exist (the data is not installed: CTest counts a skip), else 1.
adg::nn::Dataset load_split(const std::string& program, const std::string& dir, adg::nn::Split split,
                            std::size_t limit);

/// A classifier written by `adgraph train` (MLP or layer list), in evaluation mode with every parameter frozen
/// (requires_grad false): the outlook programs differentiate with respect to inputs only. Prints the error and
/// exits 1 if the checkpoint cannot be loaded.
adg::nn::LoadedModel load_classifier(const std::string& program, const std::string& path);

/// Rows (B, 784) of normalised pixels as `input` says the model takes them: (B, 1, 28, 28) for a CNN, unchanged
/// for an MLP.
adg::Tensor as_model_input(const adg::Tensor& rows, const adg::Shape& input);

/// Normalised pixels (as nn::load_fashion_mnist makes them) back to [0, 1], and the reverse.
adg::Tensor to_unit(const adg::Tensor& normalised);
adg::Tensor from_unit(const adg::Tensor& unit);

/// A (28, 28) or (784) tensor of normalised pixels as a gray image in pixel space (values clamped to [0, 1]),
/// each pixel a `scale` x `scale` block.
adg::nn::Image gray_picture(const adg::Tensor& normalised, std::size_t scale);

/// A (3, H, W) tensor in [0, 1] (clamped) as an RGB image.
adg::nn::Image rgb_picture(const adg::Tensor& chw);

/// The process's resident set size in bytes (/proc/self/statm), 0 if unreadable.
std::size_t rss_bytes();

}  // namespace outlook
