#pragma once
/// \file A training step for the benchmarked MLP written by hand, with the fewest passes over memory: the reference
/// for how close to the GEMM floor any trainer gets on this machine, beside which adgraph's engine cost is read.
/// Not an engine and not a model to use: it knows one network (ReLU layers, cross-entropy) and SGD with momentum.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "mlp_setup.hpp"

namespace adg::bench {

/// SGD with momentum (PyTorch's convention: v = μ·v + g, w -= lr·v, v = g at the first step) on a ReLU MLP with
/// mean cross-entropy, on adgraph's GEMM blocks and threads (kernels::gemm, parallel_for) but without a graph:
/// the bias starts each forward GEMM's C, ReLU and its derivative work in place, and each weight gradient's GEMM
/// accumulates straight into the momentum buffer (beta = μ), so no gradient array is ever written. Batches are
/// read in place (no copy), as the GEMM floor reads them.
class FusedTrainer {
public:
    /// Starts from `init` (the layers in order, weights (out, in)) for batches of up to `batch` rows.
    FusedTrainer(const std::vector<LayerInit>& init, std::size_t batch, float lr, float momentum);
    /// One step on `rows` ≤ batch rows of `x` (row-major, the first layer's inputs per row) with their class
    /// labels; returns the batch's mean loss. Throws std::invalid_argument on a label outside the classes.
    double step(const float* x, const std::int64_t* labels, std::size_t rows);

private:
    struct Layer {
        std::size_t in = 0, out = 0;
        std::vector<float> w, b, v, vb;  // weight (out, in), bias, and their momentum buffers
        std::vector<float> h, dh;        // this layer's output (batch, out) after ReLU, and its cotangent
    };
    std::vector<Layer> layers_;
    std::size_t batch_;
    float lr_, momentum_;
    std::size_t steps_ = 0;
};

}  // namespace adg::bench
