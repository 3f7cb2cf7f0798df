#pragma once
/// \file 2-D convolution kernels on (N, C, H, W) arrays: im2col + GEMM for the convolution, its transpose (the
/// input gradient) and the weight correlation (the weight gradient), float32 and float64, split over adgraph's
/// threads by samples. Leading axes before (N, C, H, W) and before the weight's (O, C/groups, kh, kw) broadcast
/// (numpy rules, as matmul's batch axes do), so one call serves a primal value and a batch of k directions.

#include <cstddef>

#include <adgraph/tensor/array.hpp>

namespace adg::kernels {

/// Stride, padding and dilation along (height, width), and the channel groups, all as PyTorch's conv2d takes them.
struct ConvParams {
    /// Step between output positions.
    std::size_t stride_h = 1, stride_w = 1;
    /// Zeros added on each side.
    std::size_t pad_h = 0, pad_w = 0;
    /// Spacing between kernel taps.
    std::size_t dil_h = 1, dil_w = 1;
    /// Channel groups: input channel block g meets only output channel block g.
    std::size_t groups = 1;
};

/// The largest stride, padding and dilation the kernels take (2^31): positions then stay far inside the index range.
constexpr std::size_t max_conv_step = std::size_t{1} << 31;

/// Throws value_error naming `op` unless stride, dilation and groups are at least 1 and stride, padding and dilation
/// at most max_conv_step.
void check_conv_params(const ConvParams& p, const char* op);

/// The output length along one axis: (in + 2·pad − dil·(k − 1) − 1) / stride + 1; 0 when the dilated kernel does
/// not fit the padded input (sizes computed without wrapping around).
std::size_t conv_out_size(std::size_t in, std::size_t k, std::size_t stride, std::size_t pad, std::size_t dil);

/// y = x ⋆ w (+ bias): x (Lx..., N, C, H, W), w (Lw..., O, C/groups, kh, kw), bias (O) or nullptr (only with a 4-D
/// w) → (L..., N, O, Ho, Wo), L the broadcast of Lx and Lw. Throws shape_error/dtype_error naming "conv2d".
Array conv2d(const Array& x, const Array& w, const Array* bias, const ConvParams& p);

/// The transposed convolution (adjoint of conv2d in x): g (Lg..., N, O, Ho, Wo), w (Lw..., O, C/groups, kh, kw)
/// → (L..., N, C, h, w) for an input of spatial size (h, w).
Array conv2d_transpose(const Array& g, const Array& w, const ConvParams& p, std::size_t h, std::size_t w_size);

/// The weight correlation (adjoint of conv2d in w): Σₙ gₙ ⋆ xₙ for x (Lx..., N, C, H, W), g (Lg..., N, O, Ho, Wo)
/// → (L..., O, C/groups, kh, kw).
Array conv2d_weight(const Array& x, const Array& g, const ConvParams& p, std::size_t kh, std::size_t kw);

/// The bias gradient Σ over every axis but the channel axis of `core` (shape (..., N, O, Ho, Wo), channels at −3):
/// g (lead..., core...) → (lead..., O), keeping the leading (direction) axes before `core`.
Array conv2d_bias_grad(const Array& g, const Shape& core);

}  // namespace adg::kernels
