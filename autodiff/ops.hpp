#pragma once
/// \file The differentiable ops users call. Each records a graph node when grad mode is on and an input requires
/// grad; each has a JVP and a VJP rule (see the op files, e.g. ops_elementwise.cpp).

#include <optional>
#include <vector>

#include <adgraph/autodiff/anomaly.hpp>
#include <adgraph/autodiff/tensor.hpp>

namespace adg {

// ---- elementwise unary -------------------------------------------------------------------------------------

/// -x.
Tensor neg(const Tensor& x, Site site = Site::here());
/// eˣ.
Tensor exp(const Tensor& x, Site site = Site::here());
/// Natural logarithm.
Tensor log(const Tensor& x, Site site = Site::here());
/// √x.
Tensor sqrt(const Tensor& x, Site site = Site::here());
/// |x| (derivative sign(x), 0 at 0).
Tensor abs(const Tensor& x, Site site = Site::here());
/// x².
Tensor square(const Tensor& x, Site site = Site::here());
/// xᵖ for a scalar exponent p.
Tensor pow(const Tensor& x, double p, Site site = Site::here());
/// sin x.
Tensor sin(const Tensor& x, Site site = Site::here());
/// cos x.
Tensor cos(const Tensor& x, Site site = Site::here());
/// tanh x.
Tensor tanh(const Tensor& x, Site site = Site::here());
/// 1 / (1 + e⁻ˣ).
Tensor sigmoid(const Tensor& x, Site site = Site::here());
/// max(x, 0) (derivative 0 at 0).
Tensor relu(const Tensor& x, Site site = Site::here());
/// x for x > 0, slope·x otherwise.
Tensor leaky_relu(const Tensor& x, double slope = 0.01, Site site = Site::here());
/// log(1 + eˣ), computed without overflow.
Tensor softplus(const Tensor& x, Site site = Site::here());
/// x limited to [lo, hi] (derivative 1 strictly inside, 0 elsewhere).
Tensor clamp(const Tensor& x, double lo, double hi, Site site = Site::here());
/// The tensor converted to `dtype` (gradients are converted back).
Tensor cast(const Tensor& x, Dtype dtype, Site site = Site::here());

// ---- binary with numpy broadcasting, and tensor∘scalar forms ---------------------------------------------------

/// a + b.
Tensor add(const Tensor& a, const Tensor& b, Site site = Site::here());
/// a - b.
Tensor sub(const Tensor& a, const Tensor& b, Site site = Site::here());
/// a · b elementwise.
Tensor mul(const Tensor& a, const Tensor& b, Site site = Site::here());
/// a / b elementwise.
Tensor div(const Tensor& a, const Tensor& b, Site site = Site::here());
/// Elementwise maximum; at ties (a = b) each operand gets half the gradient, as in PyTorch and JAX (so results
/// compare with theirs, and maximum(x, x) has derivative 1 like x itself).
Tensor maximum(const Tensor& a, const Tensor& b, Site site = Site::here());
/// Elementwise minimum; at ties each operand gets half the gradient, as for maximum.
Tensor minimum(const Tensor& a, const Tensor& b, Site site = Site::here());
/// a where cond ≠ 0, else b (cond is a constant mask; no gradient flows to it).
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b, Site site = Site::here());

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

/// Sum over `axes` (all if empty); `keepdims` keeps them with size 1.
Tensor sum(const Tensor& x, const Axes& axes = {}, bool keepdims = false, Site site = Site::here());
/// Mean over `axes` (all if empty); NaN where there is nothing to average (an axis of length 0), as in numpy.
Tensor mean(const Tensor& x, const Axes& axes = {}, bool keepdims = false, Site site = Site::here());
/// Maximum over `axes` (all if empty); tied maxima share the gradient equally.
Tensor max(const Tensor& x, const Axes& axes = {}, bool keepdims = false, Site site = Site::here());
/// log Σ exp over `axes` (all if empty), shifted by the maximum so it never overflows.
Tensor logsumexp(const Tensor& x, const Axes& axes = {}, bool keepdims = false, Site site = Site::here());
/// exp(x) / Σ exp(x) along `axis`, stable for large |x|.
Tensor softmax(const Tensor& x, long axis = -1, Site site = Site::here());
/// x - logsumexp(x) along `axis`, stable for large |x|.
Tensor log_softmax(const Tensor& x, long axis = -1, Site site = Site::here());

// ---- shape and indexing (all linear) ---------------------------------------------------------------------------

/// The same elements under `shape`.
Tensor reshape(const Tensor& x, const Shape& shape, Site site = Site::here());
/// Axes permuted: result axis i is input axis perm[i].
Tensor permute(const Tensor& x, const std::vector<std::size_t>& perm, Site site = Site::here());
/// The last two axes swapped (a matrix transpose).
Tensor transpose(const Tensor& x, Site site = Site::here());
/// Broadcast (numpy rules) to `shape`.
Tensor broadcast_to(const Tensor& x, const Shape& shape, Site site = Site::here());
/// Summed down to `shape`, the adjoint of broadcast_to.
Tensor sum_to(const Tensor& x, const Shape& shape, Site site = Site::here());
/// Entries start..stop-1 along `axis`.
Tensor slice(const Tensor& x, long axis, std::size_t start, std::size_t stop, Site site = Site::here());
/// `x` placed at `start` along `axis` in zeros of length `total` there, the adjoint of slice.
Tensor pad(const Tensor& x, long axis, std::size_t start, std::size_t total, Site site = Site::here());
/// Joined along an existing `axis`.
Tensor concat(const std::vector<Tensor>& xs, long axis = 0, Site site = Site::here());
/// Joined along a new `axis`.
Tensor stack(const std::vector<Tensor>& xs, long axis = 0, Site site = Site::here());
/// Entries `index` along `axis` (rows of a matrix for axis 0); indices may repeat.
Tensor index_select(const Tensor& x, long axis, const std::vector<std::size_t>& index, Site site = Site::here());
/// Zeros of length `size` along `axis` with entry j of `x` added at index[j], the adjoint of index_select.
Tensor index_add(const Tensor& x, long axis, const std::vector<std::size_t>& index, std::size_t size,
                 Site site = Site::here());
/// Zeros of x's shape and dtype (a constant).
Tensor zeros_like(const Tensor& x, Site site = Site::here());
/// Ones of x's shape and dtype (a constant).
Tensor ones_like(const Tensor& x, Site site = Site::here());
/// Rows of the identity: shape (labels.size(), classes); not differentiable.
Tensor one_hot(const std::vector<std::size_t>& labels, std::size_t classes, Dtype dtype = f32,
               Site site = Site::here());

// ---- linear algebra --------------------------------------------------------------------------------------------

/// Matrix product with numpy semantics: 1-D operands are vectors, a leading batch axis broadcasts.
Tensor matmul(const Tensor& a, const Tensor& b, Site site = Site::here());
/// x·Wᵀ + b for x (in) or (batch, in), W (out, in), b (out): one GEMM with the bias folded in.
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b, Site site = Site::here());
/// x·Wᵀ without bias.
Tensor linear(const Tensor& x, const Tensor& w, Site site = Site::here());

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

/// 2-D cross-correlation (PyTorch's conv2d) of x (N, C, H, W) with w (O, C/groups, kh, kw), plus b (O) if defined:
/// output (N, O, Ho, Wo) with Ho = (H + 2·padding.h − dilation.h·(kh − 1) − 1) / stride.h + 1 (likewise Wo).
/// Throws shape_error for x or w not 4-D, b not (O), a (dilated) kernel larger than the padded input, a channel
/// mismatch or groups not dividing C and O; value_error for a zero stride, dilation or groups, or a stride, padding or
/// dilation above 2³¹; dtype_error for mixed dtypes.
Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& b = Tensor(), Size2 stride = 1, Size2 padding = 0,
              Size2 dilation = 1, std::size_t groups = 1, Site site = Site::here());
/// Maximum over each kernel window of x (N, C, H, W) (stride: the kernel if not given; padding counts as −∞).
/// Among tied maxima of a window the first in row-major order takes the gradient.
Tensor max_pool2d(const Tensor& x, Size2 kernel, std::optional<Size2> stride = std::nullopt, Size2 padding = 0,
                  Site site = Site::here());
/// Mean over each kernel window of x (N, C, H, W) (stride: the kernel if not given); padded zeros count in the
/// mean, as PyTorch's default count_include_pad.
Tensor avg_pool2d(const Tensor& x, Size2 kernel, std::optional<Size2> stride = std::nullopt, Size2 padding = 0,
                  Site site = Site::here());
/// Mean over the spatial axes: x (N, C, H, W) → (N, C).
Tensor global_avg_pool2d(const Tensor& x, Site site = Site::here());
/// Batch normalisation of x (N, C) or (N, C, H, W) per channel (axis 1), PyTorch's functional batch_norm:
/// training uses the batch's mean and biased variance (the gradient flows through both) and, when running_mean
/// and running_var are defined, updates them in place with `momentum` (the variance unbiased); evaluation uses
/// running_mean and running_var. weight (γ) and bias (β), each (C), are optional.
Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                  const Tensor& bias, bool training, double momentum = 0.1, double eps = 1e-5,
                  Site site = Site::here());

// ---- losses ----------------------------------------------------------------------------------------------------

/// −log softmax(logits)[label] per row of logits (batch, classes), averaged over rows (`mean`; NaN for an empty
/// batch) or summed: one fused op, stable for large logits. Throws shape_error unless there is one label per row,
/// value_error for a label ≥ classes.
Tensor softmax_cross_entropy(const Tensor& logits, const std::vector<std::size_t>& labels, bool mean = true,
                             Site site = Site::here());

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
