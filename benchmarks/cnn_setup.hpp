#pragma once
/// \file What the CNN benchmarks share so that every engine does identical work: the `cnn` preset's layer sizes,
/// its initial parameters, the training step's settings and the conv2d shapes of the per-layer table. No engine
/// code here: adgraph and libtorch programs both include it.

#include <cstddef>
#include <string>
#include <vector>

#include "mlp_setup.hpp"

namespace adg::bench {

/// The `cnn` preset (BRIEF.md): (N,1,28,28) → conv 1→32 3×3 pad 1 → BatchNorm2d → ReLU → MaxPool 2 → conv 32→64
/// 3×3 pad 1 → BatchNorm2d → ReLU → MaxPool 2 → Flatten (3136) → Linear 3136→128 → ReLU → Dropout → Linear 128→10,
/// softmax cross-entropy; float32. The step is `adgraph train --model cnn`'s: AdamW (lr 2e-3, weight decay 0.05),
/// dropout 0.3, batch 128 (its cosine schedule changes only the value of lr).
struct CnnConfig {
    std::size_t batch = 128;
    double dropout = 0.3;             ///< the preset's default
    std::string optimizer = "adamw";  ///< "adamw" (lr 2e-3, weight decay 0.05) or "sgd" (lr 0.01, momentum 0.9)
    double lr() const { return optimizer == "sgd" ? 0.01 : 2e-3; }
    double weight_decay() const { return optimizer == "sgd" ? 0.0 : 0.05; }
    double momentum() const { return 0.9; }
    std::string optimizer_line() const;  ///< "adamw lr 0.002 betas 0.9/0.999 eps 1e-08 weight decay 0.05"
    std::string model() const;           ///< the preset as one line
};

/// Initial parameters of the preset, PyTorch's default initialisation (U(-1/√fan_in, 1/√fan_in) for every
/// weight and bias) from a fixed seed, the same on every engine; the batch norms start at γ = 1, β = 0.
struct CnnInit {
    LayerInit conv1;  ///< weight (32, 1·3·3) = (32, 1, 3, 3) row-major, bias (32)
    LayerInit conv2;  ///< weight (64, 32·3·3), bias (64)
    LayerInit fc1;    ///< weight (128, 3136), bias (128)
    LayerInit fc2;    ///< weight (10, 128), bias (10)
};

/// The preset's initial parameters from `seed`.
CnnInit initial_cnn(std::uint64_t seed);

/// One conv2d of the per-layer table: x (n, c, h, w), weight (o, c, k, k) with bias, stride and padding; the
/// backward computes the input's gradient unless it is the network's input (`input_grad` false).
struct ConvCase {
    std::string name;
    std::size_t n, c, h, w, o, k, stride, pad;
    bool input_grad;
    std::size_t out_h() const { return (h + 2 * pad - k) / stride + 1; }
    std::size_t out_w() const { return (w + 2 * pad - k) / stride + 1; }
    /// Multiply-adds ×2 of the forward pass (the backward does this once for dW and once more for dx).
    double forward_flops() const;
    /// "128×1×28×28 → 32, 3×3 s1 p1".
    std::string shape() const;
};

/// The preset's two conv layers at batch 128 plus two common ResNet-style layers; tiny ones with `quick`.
std::vector<ConvCase> conv_cases(bool quick);

/// One batch norm (training: batch statistics, running statistics updated) or 2×2 max pool of the preset, timed
/// alone like the conv cases so the table shows what else a step spends time on.
struct LayerCase {
    std::string name;
    std::string op;  ///< "batch_norm" or "max_pool2d"
    std::size_t n, c, h, w;
    /// "128x32x28x28".
    std::string shape() const;
};

/// The preset's two batch norms and two max pools at batch 128 (tiny ones with `quick`).
std::vector<LayerCase> layer_cases(bool quick);

/// Deterministic values in [-1, 1] for inputs and seeds of the per-layer table (the same on every engine).
std::vector<float> pattern(std::size_t n, double phase);

/// Multiply-adds ×2 of the GEMMs of one training step of the preset with `rows` samples (the conv layers as
/// im2col GEMMs: forward, dW, and dx except for the first layer; the linears forward, dW and dx).
double cnn_step_flops(std::size_t rows);

}  // namespace adg::bench
