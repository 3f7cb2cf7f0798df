#pragma once
/// \file Batch normalisation layers: each channel standardised by the batch's statistics while training and by
/// running averages of them in evaluation, then scaled by γ and shifted by β.

#include <adgraph/nn/module.hpp>

namespace adg::nn {

/// What BatchNorm1d and BatchNorm2d share: parameters weight (γ, ones) and bias (β, zeros) and buffers
/// running_mean (zeros) and running_var (ones), all (C); forward is batch_norm over axis 1.
class BatchNorm : public Module {
public:
    /// batch_norm(x, running_mean, running_var, weight, bias, training(), momentum, eps); in training mode it
    /// updates the running statistics. Throws shape_error unless x has this layer's rank and C channels.
    Tensor forward(const Tensor& x) override;
    /// "BatchNorm2d(32)" (with momentum and eps when not the defaults 0.1 and 1e-5).
    std::string to_string() const override;
    /// PyTorch-style settings for operator<<: "32, eps=1e-05, momentum=0.1".
    std::string extra_repr() const override;
    /// γ (C).
    const Tensor& weight() const { return weight_; }
    /// β (C).
    const Tensor& bias() const { return bias_; }
    /// The running mean (C), a buffer.
    const Tensor& running_mean() const { return running_mean_; }
    /// The running (unbiased) variance (C), a buffer.
    const Tensor& running_var() const { return running_var_; }
    /// Channels C.
    std::size_t channels() const { return channels_; }

protected:
    /// A layer for inputs of `rank` axes ((N, C): 2, (N, C, H, W): 4) named `name` in messages; throws value_error
    /// for zero channels, momentum outside [0, 1] or eps ≤ 0.
    BatchNorm(const char* name, std::size_t rank, std::size_t channels, double momentum, double eps, Dtype dtype);

private:
    const char* name_;
    std::size_t rank_, channels_;
    double momentum_, eps_;
    Tensor weight_, bias_, running_mean_, running_var_;
};

/// Batch norm of features: x is (N, C).
class BatchNorm1d : public BatchNorm {
public:
    /// A layer for C = `features`.
    explicit BatchNorm1d(std::size_t features, double momentum = 0.1, double eps = 1e-5, Dtype dtype = f32)
        : BatchNorm("BatchNorm1d", 2, features, momentum, eps, dtype) {}
};

/// Batch norm of image channels: x is (N, C, H, W); the statistics run over N, H and W.
class BatchNorm2d : public BatchNorm {
public:
    /// A layer for C = `channels`.
    explicit BatchNorm2d(std::size_t channels, double momentum = 0.1, double eps = 1e-5, Dtype dtype = f32)
        : BatchNorm("BatchNorm2d", 4, channels, momentum, eps, dtype) {}
};

}  // namespace adg::nn
