#pragma once
/// \file The differentiable ops users call. Each records a graph node when grad mode is on and an input requires
/// grad; each has a JVP and a VJP rule (see the op files, e.g. ops_elementwise.cpp). The public functions are
/// declared by the op tables (ops_*.def, one documented line per op; op_def.hpp says how): each takes a last
/// argument `Site site = Site::here()`, the caller's file and line, which anomaly mode and errors report.

#include <optional>
#include <vector>

#include <adgraph/autodiff/anomaly.hpp>
#include <adgraph/autodiff/tensor.hpp>

namespace adg {

// ---- elementwise unary -------------------------------------------------------------------------------------

#include <adgraph/autodiff/ops_elementwise.def>

// ---- binary with numpy broadcasting, and tensor∘scalar forms ---------------------------------------------------

#include <adgraph/autodiff/ops_binary.def>

/// a + b.
Tensor operator+(const Tensor& a, const Tensor& b);
/// a - b.
Tensor operator-(const Tensor& a, const Tensor& b);
/// a · b elementwise.
Tensor operator*(const Tensor& a, const Tensor& b);
/// a / b elementwise.
Tensor operator/(const Tensor& a, const Tensor& b);
/// -x.
Tensor operator-(const Tensor& x);
/// x + c.
Tensor operator+(const Tensor& x, double c);
/// c + x.
Tensor operator+(double c, const Tensor& x);
/// x - c.
Tensor operator-(const Tensor& x, double c);
/// c - x.
Tensor operator-(double c, const Tensor& x);
/// x · c.
Tensor operator*(const Tensor& x, double c);
/// c · x.
Tensor operator*(double c, const Tensor& x);
/// x / c.
Tensor operator/(const Tensor& x, double c);
/// c / x.
Tensor operator/(double c, const Tensor& x);

// ---- reductions ------------------------------------------------------------------------------------------------

#include <adgraph/autodiff/ops_reduce.def>

// ---- shape and indexing (all linear) ---------------------------------------------------------------------------

#include <adgraph/autodiff/ops_shape.def>

// ---- indexing and small reductions -----------------------------------------------------------------------------

#include <adgraph/autodiff/ops_index.def>

// ---- linear algebra --------------------------------------------------------------------------------------------

#include <adgraph/autodiff/ops_matmul.def>

// ---- convolution, pooling and normalisation: images are (N, C, H, W) -------------------------------------------

/// A (height, width) pair; one number means both.
struct Size2 {
    /// Along the height axis (2 of an image).
    std::size_t h;
    /// Along the width axis (3 of an image).
    std::size_t w;
    /// Both equal to `n`.
    Size2(std::size_t n)
        : h(n), w(n) {}  // NOLINT(google-explicit-constructor): `stride = 2` reads as it does in libtorch
    /// (h, w).
    Size2(std::size_t h_, std::size_t w_) : h(h_), w(w_) {}
};

#include <adgraph/autodiff/ops_conv.def>
#include <adgraph/autodiff/ops_norm.def>
#include <adgraph/autodiff/ops_pool.def>

// ---- recurrent cells -------------------------------------------------------------------------------------------

#include <adgraph/autodiff/ops_rnn.def>

// ---- losses ----------------------------------------------------------------------------------------------------

#include <adgraph/autodiff/ops_loss.def>

// ---- for writing rules: shape ops on the trailing axes, keeping any leading (direction) axes -------------------

/// (lead..., from) → (lead..., to) with equal element counts.
Tensor reshape_core(const Tensor& x, const Shape& from, const Shape& to);
/// (lead..., from) → (lead..., to) with `from` broadcast to `to`.
Tensor broadcast_to_core(const Tensor& x, const Shape& from, const Shape& to);
/// (lead..., from) → (lead..., to), summing what broadcast_to_core would have repeated.
Tensor sum_to_core(const Tensor& x, const Shape& from, const Shape& to);
/// A batch of tangents (k, in) reshaped to (k, 1, ..., 1, in) so it broadcasts against an output of shape `out`.
Tensor align_core(const Tensor& t, const Shape& in, const Shape& out);

}  // namespace adg

#undef ADG_OP
#undef ADG_FN
#undef ADG_LISTED
#undef ADG_UNARY
#undef ADG_BINARY
#undef ADG_DEFAULT
