#pragma once
/// \file What the GRU benchmarks share so that every engine does identical work: the classifier's sizes, its
/// initial parameters and the training step's settings. No engine code here: adgraph and libtorch programs both
/// include it.

#include <cstddef>
#include <cstdint>
#include <string>

#include "mlp_setup.hpp"

namespace adg::bench {

/// The benchmarked step (issue 17): each Fashion-MNIST image read as 28 steps of 28 pixels (batch-first), one GRU
/// layer of `hidden` features from a zero state, Linear(hidden, 10) on the last state, softmax cross-entropy, Adam
/// (lr 2e-3, betas 0.9/0.999, eps 1e-8), gradients clipped to global norm `clip` first (0: no clipping); float32.
struct GruConfig {
    std::size_t batch = 128, steps = 28, input = 28, hidden = 128, classes = 10;
    double lr = 2e-3;
    double clip = 5.0;
    std::string model() const;           ///< "gru 28-128 (28 steps), linear 128-10"
    std::string optimizer_line() const;  ///< "adam lr 0.002 betas 0.9/0.999 eps 1e-08, clip_grad_norm 5"
};

/// Initial parameters, PyTorch's default initialisation from a fixed seed, the same on every engine: the GRU's
/// weight_ih_l0 (3·hidden, input), bias_ih_l0, weight_hh_l0 (3·hidden, hidden), bias_hh_l0 all U(−1/√hidden,
/// 1/√hidden); the Linear's weight (10, hidden) and bias U(−1/√hidden, 1/√hidden).
struct GruInit {
    LayerInit ih;  ///< weight = weight_ih_l0 row-major, bias = bias_ih_l0
    LayerInit hh;  ///< weight = weight_hh_l0 row-major, bias = bias_hh_l0
    LayerInit fc;  ///< the Linear's weight (classes, hidden) and bias
};

/// The classifier's initial parameters from `seed`.
GruInit initial_gru(const GruConfig& cfg, std::uint64_t seed);

/// Multiply-adds ×2 of the GEMMs of one training step with `rows` samples: per time step the forward x·W_ihᵀ and
/// h·W_hhᵀ, the backward dW_ih, dW_hh and dh (no dx: the input needs no gradient); the Linear's forward, dW, dh.
double gru_step_flops(const GruConfig& cfg, std::size_t rows);

}  // namespace adg::bench
