#pragma once
// The two attacks of examples/outlook/adversarial.cpp, on batches of images in pixel space: the fast gradient sign
// method and projected gradient descent in the L∞ ball. The classifier stays frozen; only the input is
// differentiated.

#include <cstddef>
#include <vector>

#include <xtensor/xarray.hpp>

#include <adgraph/adgraph.hpp>
#include <adgraph/nn/load_model.hpp>

namespace adversarial {

/// A batch of images (B, 784) with pixels in [0, 1].
using Pixels = xt::xarray<float>;

/// What the attacks measure about the engine while they run: graph nodes alive between PGD steps (which must not
/// grow), resident memory after the first few steps, and whether a backward ever left a gradient on a parameter.
struct Probe {
    long nodes_first = -1;  ///< live nodes at the start of the first PGD step
    long nodes_most = 0;    ///< the most live nodes seen at the start of any PGD step
    std::size_t steps = 0;  ///< PGD steps taken
    std::size_t rss_start = 0;
    bool parameter_grad = false;  ///< a parameter held a gradient after a backward
    std::size_t backwards = 0;
};

/// Settings of projected gradient descent.
struct PgdOptions {
    std::size_t steps = 10;
    double alpha_ratio = 0.25;  ///< step size as a fraction of ε
    bool random_start = false;  ///< start from a uniform point of the ε-ball instead of the image
};

/// ∇ₓ of the cross-entropy summed over the batch, with x the pixels: one forward and one backward for the whole
/// batch. Records in `probe` whether a parameter of the frozen classifier received a gradient.
Pixels input_gradient(const adg::nn::LoadedModel& model, const Pixels& x, const std::vector<std::size_t>& labels,
                      Probe& probe);

/// x' = clip(x + ε·sign(∇ₓ loss), 0, 1).
Pixels fgsm(const adg::nn::LoadedModel& model, const Pixels& x, const std::vector<std::size_t>& labels, double eps,
            Probe& probe);

/// `options.steps` signed-gradient steps of α = alpha_ratio·ε, each projected back onto {x' : |x' − x|∞ ≤ ε} ∩
/// [0, 1]; `gen` draws the random start.
Pixels pgd(const adg::nn::LoadedModel& model, const Pixels& x, const std::vector<std::size_t>& labels, double eps,
           const PgdOptions& options, adg::Generator& gen, Probe& probe);

/// The classifier's logits (B, classes) on pixels, without recording a graph.
adg::Tensor logits(const adg::nn::LoadedModel& model, const Pixels& x);

}  // namespace adversarial
