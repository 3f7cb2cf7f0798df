#pragma once
// What the GAN demo (gan.cpp) reports besides its pictures: a trained classifier's view of a set of images (its
// mean top-class confidence and the share of the images it puts in each class), the Fréchet distance between two
// sets in the classifier's feature space, the distance between two sets' mean images, and the curve of the losses.

#include <cstddef>
#include <string>
#include <vector>

#include <adgraph/adgraph.hpp>
#include <adgraph/nn/load_model.hpp>

#include <xtensor/xtensor.hpp>

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

/// The classifier's penultimate features of `normalised` rows (N, 784): every child of the model but the last (for
/// the cnn preset the 128 ReLU outputs that its last Linear reads), (N, F) in float64, without recording a graph.
xt::xtensor<double, 2> features(adg::nn::LoadedModel& classifier, const adg::Tensor& normalised);

/// A set's mean and covariance (divided by N − 1), in float64.
struct Moments {
    xt::xtensor<double, 1> mean;
    xt::xtensor<double, 2> cov;
};

/// The moments of the rows of `f` (N ≥ 2, F).
Moments moments(const xt::xtensor<double, 2>& f);

/// The Fréchet distance between the Gaussians of `a` and `b`: |μa − μb|² + tr(Σa + Σb − 2 (Σa^½ Σb Σa^½)^½), the
/// matrix square roots from symmetric eigendecompositions (LAPACK's syevd), eigenvalues below 0 (rounding) taken
/// as 0. FID when the features are Inception's; here they are the trained classifier's.
double frechet_distance(const Moments& a, const Moments& b);

/// Checks frechet_distance on Gaussians whose distance is known in closed form (commuting and non-commuting
/// covariances, symmetry, invariance under a rotation); returns "" or what failed.
std::string check_frechet_distance();

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
