#pragma once
/// \file The GEMM floor of a training step of the `cnn` preset: only the GEMMs any im2col trainer must make, on
/// preallocated buffers, timed alone as GemmFloor does for the MLP. Each conv layer is one GEMM over the whole
/// batch (forward Y = W·cols, backward dW = dY·colsᵀ and, except for the first layer, dcols = Wᵀ·dY); the linears
/// as in GemmFloor (forward, dW, dX). No im2col, batch norm, pooling or elementwise work.

#include <cstddef>
#include <vector>

#include "gemm_floor.hpp"

namespace adg::bench {

/// Buffers for the GEMMs of one step of the preset with up to `batch` samples.
class CnnGemmFloor {
public:
    explicit CnnGemmFloor(std::size_t batch);
    /// The step's GEMMs for `rows` samples, threaded as `threads` says.
    void step(std::size_t rows, GemmFloor::Threads threads);

private:
    struct Conv {
        std::size_t c, o, hw;  // input channels, output channels, output pixels per sample
        std::vector<float> w, dw, cols, y, dy;
    };
    std::vector<Conv> conv_;
    std::vector<float> w1_, dw1_, h1_, dh1_, w2_, dw2_, y2_, dy2_;
};

}  // namespace adg::bench
