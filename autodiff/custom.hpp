#pragma once
/// \file Custom differentiable functions: a forward and one rule set, working in both modes.
///
/// Give `jvp` (required) and optionally `vjp`. Without `vjp`, the reverse rule is derived by transposing the JVP:
/// the JVP is linear in the tangent and written with adgraph ops, so its transpose is a reverse sweep over it
/// (what JAX does for custom_jvp). Tangents and cotangents carry a leading axis of k directions, shape
/// (k, shape...): write rules with broadcasting ops (`d * t`, not loops over elements).

#include <functional>
#include <string>
#include <vector>

#include <adgraph/autodiff/check.hpp>
#include <adgraph/autodiff/tensor.hpp>

namespace adg {

/// A user-defined op.
struct CustomFunction {
    /// Name shown in errors and graphs.
    std::string name;
    /// The value from the inputs' values (run without recording).
    std::function<Tensor(const std::vector<Tensor>& x)> forward;
    /// Tangent of the output, (k, y.shape), from input tangents t (undefined = zero), each (k, x[i].shape).
    std::function<Tensor(const std::vector<Tensor>& x, const Tensor& y, const std::vector<Tensor>& t)> jvp;
    /// Optional: cotangent of input i, (k, x[i].shape), from the output's cotangent ct, (k, y.shape).
    std::function<Tensor(const std::vector<Tensor>& x, const Tensor& y, const Tensor& ct, std::size_t i)> vjp;
};

/// Applies `f` to `xs`, recording it like a built-in op (throws value_error if `f` has no forward or jvp).
Tensor call(const CustomFunction& f, const std::vector<Tensor>& xs);

/// Checks `f` at `xs` (float64): gradcheck of both modes and the dot test ⟨u, J·v⟩ = ⟨Jᵀ·u, v⟩, which catches a
/// `vjp` that disagrees with the `jvp`.
CheckResult check_function(const CustomFunction& f, const std::vector<Tensor>& xs, Generator& gen);

}  // namespace adg
