#pragma once
/// \file Array kernels of batch normalisation in training mode, for x of core shape (N, C) or (N, C, H, W), channels
/// on axis 1 of the core. Tangents and cotangents may carry leading direction axes in front of the core; each
/// direction is handled on its own. Sums run in double.

#include <utility>

#include <adgraph/tensor/array.hpp>

namespace adg::kernels {

/// The per-channel statistics of a batch: mean μ and r = 1/√(σ² + ε) in x's dtype (what every kernel below
/// normalises with, x̂ = (x − μ)·r), and the biased variance σ² (for a running update).
struct BatchStats {
    /// μ per channel, shape (C).
    Array mean;
    /// 1/√(σ² + ε) per channel, shape (C).
    Array invstd;
    /// σ² per channel (biased), shape (C).
    Array var;
};

/// y = γ·x̂ + β with the batch's statistics, which are returned in `stats`; γ and β of shape (C).
Array batch_norm_forward(const Array& x, const Array& gamma, const Array& beta, double eps, BatchStats& stats);

/// γ·r·(t − mean t − x̂·mean(t·x̂)) (means per direction and channel over N, H, W) for t of shape (lead..., core),
/// plus dgamma·x̂ + dbeta when given (each (lead..., C)); `t` may be null when only those are given, `lead` then
/// being their leading shape. The JVP of batch_norm in training, and with t = ȳ its VJP for x.
Array batch_norm_project(const Array& x, const BatchStats& stats, const Array& gamma, const Array* t,
                         const Array* dgamma, const Array* dbeta, const Shape& lead);

/// The VJPs of batch_norm in training for a cotangent t of shape (lead..., core).
struct BatchNormGrads {
    /// x̄ = γ·r·(t − mean t − x̂·mean(t·x̂)), shape (lead..., core); empty unless asked for.
    Array x;
    /// γ̄ = Σ t·x̂ per direction and channel over N, H, W, shape (lead..., C).
    Array gamma;
    /// β̄ = Σ t, shape (lead..., C).
    Array beta;
};

/// All three VJPs of batch_norm in training in two passes over (x, t): the per-channel sums (which are γ̄ and β̄),
/// then x̄ from them when `want_x`.
BatchNormGrads batch_norm_backward(const Array& x, const BatchStats& stats, const Array& gamma, const Array& t,
                                   bool want_x);

/// y = x·scale[c] + shift[c] (no shift if null) for x of shape (lead..., N, C, spatial...) whose last `core_rank`
/// axes are the batch's (N, C) or (N, C, H, W); scale and shift of shape (C). Evaluation-mode batch_norm.
Array channel_affine(const Array& x, const Array& scale, const Array* shift, std::size_t core_rank);

}  // namespace adg::kernels
