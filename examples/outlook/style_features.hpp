#pragma once
// The feature extractor of style_transfer: a small convolutional network with fixed random weights (nothing to
// download or train). Random filters of several sizes, rectified and pooled, already separate texture statistics
// (their Gram matrices) from layout (the feature maps themselves): Ustyuzhaninov et al. ("Texture synthesis using
// shallow convolutional networks with random filters", 2016) synthesised textures with one such layer, and He,
// Wang and Hopcroft ("A powerful generative model using random weights for the deep image representation", 2016)
// transferred style with random deep networks.

#include <cstddef>
#include <cstdint>
#include <vector>

#include <adgraph/adgraph.hpp>

namespace style {

/// Four levels of features at full, 1/2, 1/4 and 1/8 resolution: level 0 concatenates relu(conv) with random
/// 3x3, 5x5 and 7x7 filters of the image; each next level average-pools 2x2, then applies a random 3x3
/// convolution and relu. Weights are N(0, 2 / fan-in) (He), seeded, and never require grad.
class RandomFeatures {
public:
    /// `width` filters per kernel size at level 0 (3·width channels) and 2·width channels deeper.
    RandomFeatures(std::size_t width, std::uint64_t seed);
    /// The features of x (1, 3, H, W) in [0, 1], H and W multiples of 8: one (1, C, H', W') tensor per level.
    std::vector<adg::Tensor> operator()(const adg::Tensor& x) const;
    /// Every weight, to check that none received a gradient.
    std::vector<adg::Tensor> weights() const;
    static constexpr std::size_t levels = 4;

private:
    std::vector<adg::Tensor> first_;   // (width, 3, k, k) for k = 3, 5, 7
    std::vector<adg::Tensor> deeper_;  // (2 width, C, 3, 3), one per level after the first
};

/// The Gram matrix of features f (1, C, H, W): F Fᵀ / (H W) with F the (C, H W) matrix of f, the channels'
/// correlations averaged over positions, blind to where anything is.
adg::Tensor gram(const adg::Tensor& f);

}  // namespace style
