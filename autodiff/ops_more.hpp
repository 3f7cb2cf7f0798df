#pragma once
/// \file Indexing and the small reductions a libtorch or JAX user reaches for first: select (x[i]), argmax/argmin,
/// min, var and std (ops in ops_index.cpp). To be folded into ops.hpp.

#include <optional>

#include <adgraph/autodiff/anomaly.hpp>
#include <adgraph/autodiff/op_list.hpp>
#include <adgraph/autodiff/tensor.hpp>

namespace adg {

/// Entry `index` along `axis`, that axis removed (libtorch's `x.select(axis, index)`; `x[i]` is select(x, 0, i)).
/// Negative indices count from the end. Linear (a slice and a reshape), so it is differentiable in both modes.
/// Throws value_error for an axis or index out of range.
Tensor select(const Tensor& x, long axis, long index, Site site = Site::here());

/// Index of the maximum over `axis` (over all elements, flattened, if none), as torch.argmax and jnp.argmax: the
/// first of tied maxima, a NaN counting as the maximum. The indices come back in x's dtype (adgraph has no integer
/// tensors) and are exact: throws value_error for a float32 input whose axis has more than 2²⁴ + 1 entries
/// (cast it to float64 first), and for an empty axis. A constant: it never requires grad.
Tensor argmax(const Tensor& x, std::optional<long> axis = std::nullopt, bool keepdims = false,
              Site site = Site::here());
/// Index of the minimum, as argmax (the first of tied minima; a NaN counts as the minimum, as in torch.argmin).
Tensor argmin(const Tensor& x, std::optional<long> axis = std::nullopt, bool keepdims = false,
              Site site = Site::here());

/// Minimum over `axes` (all if empty); tied minima share the gradient equally (as max); a NaN is the minimum.
Tensor min(const Tensor& x, const Axes& axes = {}, bool keepdims = false, Site site = Site::here());

/// Variance over `axes` (all if empty): Σ (x − mean)² / max(0, N − correction), N the number of elements reduced,
/// as torch.var (correction 1, the unbiased estimate, by default; jnp.var's ddof is the same number, default 0).
/// A divisor of 0 gives NaN (or +inf), as in torch. Give the correction as a double: `var(x, {1}, 0.0)`.
Tensor var(const Tensor& x, const Axes& axes, double correction, bool keepdims = false, Site site = Site::here());
/// Variance with libtorch's `unbiased` flag: correction 1 if true (the default), 0 if false.
Tensor var(const Tensor& x, const Axes& axes = {}, bool unbiased = true, bool keepdims = false,
           Site site = Site::here());
/// √var over `axes` (arguments as var). Its derivative 1/(2·std) · ∂var is taken as 0 where std is 0 (a constant
/// slice), as PyTorch does, rather than the NaN that differentiating √ at 0 would give. Call it `adg::std(x)` (as
/// `torch::std`) or `x.std()`: under `using namespace adg`, a bare `std(x)` is ambiguous with namespace std.
Tensor std(const Tensor& x, const Axes& axes, double correction, bool keepdims = false, Site site = Site::here());
/// std with libtorch's `unbiased` flag.
Tensor std(const Tensor& x, const Axes& axes = {}, bool unbiased = true, bool keepdims = false,
           Site site = Site::here());

}  // namespace adg
