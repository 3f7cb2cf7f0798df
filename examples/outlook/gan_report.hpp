#pragma once
// What the GAN demo (gan.cpp) reports besides its pictures: a trained classifier's view of a set of images (its
// mean top-class confidence and the share of the images it puts in each class), the distance between two sets'
// mean images, and the curve of the two losses.

#include <cstddef>
#include <string>
#include <vector>

#include <adgraph/adgraph.hpp>
#include <adgraph/nn/load_model.hpp>

namespace gan {

/// A classifier's verdict on a set of images.
struct Verdict {
    /// Mean over the images of the largest softmax probability.
    double confidence = 0;
    /// Per class, the fraction of the images whose top class it is.
    std::vector<double> share;
};

/// `classifier` on `normalised` rows (N, 784) of normalised pixels, in batches, without recording a graph.
Verdict judge(adg::nn::LoadedModel& classifier, const adg::Tensor& normalised);

/// Prints the verdicts side by side, one column per set, one row per class (Fashion-MNIST's names).
void print_verdicts(const std::vector<std::string>& titles, const std::vector<Verdict>& verdicts);

/// The mean over pixels of |mean image of a − mean image of b|, both (N, 784) in [0, 1]: 0 when the two sets are
/// alike on average, about 0.3 between a set of mid-gray noise and Fashion-MNIST.
double mean_image_distance(const adg::Tensor& a, const adg::Tensor& b);

/// Plots the two losses per step (averaged over blocks of steps so a long run stays readable), with the epochs'
/// ends on the x axis, to `png` through nn::plot_png; returns "" or why no PNG was written.
std::string plot_losses(const std::vector<double>& d_loss, const std::vector<double>& g_loss,
                        std::size_t steps_per_epoch, const std::string& png);

}  // namespace gan
