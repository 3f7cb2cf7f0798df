#pragma once
/// \file Pooling layers: the maximum or mean of each window, shrinking an image while keeping its channels.

#include <optional>

#include <adgraph/autodiff/ops.hpp>
#include <adgraph/nn/module.hpp>

namespace adg::nn {

/// Where a pooling window goes: kernel, stride (the kernel if not given) and zero padding.
struct PoolWindow {
    /// Window size.
    Size2 kernel;
    /// Step between windows.
    Size2 stride;
    /// Padding on each side.
    Size2 padding;
    /// "2x2" or "3x3, stride 2, padding 1".
    std::string to_string() const;
    /// PyTorch-style settings: "kernel_size=2, stride=2, padding=0" (a pair as "(2, 3)" when its sides differ).
    std::string extra_repr() const;
};

/// max_pool2d over (N, C, H, W): the largest value of each window (padding counts as −∞).
class MaxPool2d : public Module {
public:
    /// Windows of `kernel`, moved by `stride` (the kernel if not given), over the input padded by `padding`; throws
    /// value_error for a zero kernel or stride, or padding more than half the kernel (as PyTorch).
    explicit MaxPool2d(Size2 kernel, std::optional<Size2> stride = std::nullopt, Size2 padding = 0);
    /// max_pool2d(x, kernel, stride, padding).
    Tensor forward(const Tensor& x) override;
    /// "MaxPool2d(2x2)".
    std::string to_string() const override;
    /// PyTorch-style settings for operator<<: "kernel_size=2, stride=2, padding=0".
    std::string extra_repr() const override;
    /// The window.
    const PoolWindow& window() const { return window_; }

private:
    PoolWindow window_;
};

/// avg_pool2d over (N, C, H, W): the mean of each window (padded zeros count, as PyTorch's default).
class AvgPool2d : public Module {
public:
    /// Windows as MaxPool2d's.
    explicit AvgPool2d(Size2 kernel, std::optional<Size2> stride = std::nullopt, Size2 padding = 0);
    /// avg_pool2d(x, kernel, stride, padding).
    Tensor forward(const Tensor& x) override;
    /// "AvgPool2d(2x2)".
    std::string to_string() const override;
    /// PyTorch-style settings for operator<<: "kernel_size=2, stride=2, padding=0".
    std::string extra_repr() const override;
    /// The window.
    const PoolWindow& window() const { return window_; }

private:
    PoolWindow window_;
};

}  // namespace adg::nn
