#pragma once
/// \file Function transforms: grad, jvp, vjp, jacfwd, jacrev. Each records f once and sweeps that graph.
/// They nest: when an input already requires grad (an outer transform is tracking it), the sweep is recorded
/// (create_graph), so e.g. jvp of grad gives Hessian-vector products.

#include <functional>
#include <utility>

#include <adgraph/autodiff/op_list.hpp>
#include <adgraph/autodiff/tensor.hpp>

namespace adg {

/// A function of one tensor.
using Fn = std::function<Tensor(const Tensor&)>;

/// Reverse-mode pullback u ↦ Jᵀu of a function recorded by vjp(); callable many times.
class Pullback {
public:
    /// Jᵀ·u for u of the output's shape.
    Tensor operator()(const Tensor& u) const;
    /// Jᵀ·U for a batch U of shape (k, output shape): one sweep, result (k, input shape).
    Tensor batched(const Tensor& us) const;

private:
    friend std::pair<Tensor, Pullback> vjp(const Fn& f, const Tensor& x);
    Tensor x_, y_;
    bool outer_ = false;
};

/// Forward mode: (f(x), J·v), one forward sweep.
std::pair<Tensor, Tensor> jvp(const Fn& f, const Tensor& x, const Tensor& v);
/// Forward mode for several inputs: (f(xs), Σ Jᵢ·vᵢ).
std::pair<Tensor, Tensor> jvp(const MultiFn& f, const std::vector<Tensor>& xs, const std::vector<Tensor>& vs);
/// Reverse mode: (f(x), pullback u ↦ Jᵀ·u).
std::pair<Tensor, Pullback> vjp(const Fn& f, const Tensor& x);
/// Reverse mode for several inputs: (f(xs), [J₀ᵀ·u, J₁ᵀ·u, ...]).
std::pair<Tensor, std::vector<Tensor>> vjp(const MultiFn& f, const std::vector<Tensor>& xs, const Tensor& u);
/// ∇f for f with a one-element output, by one reverse sweep.
Fn grad(Fn f);

/// Limits for Jacobians.
struct JacobianOptions {
    /// Directions per sweep; 0 chooses all at once unless the batch would pass about 2^26 elements.
    std::size_t chunk = 0;
};

/// x ↦ ∂f/∂x of shape (f(x).shape..., x.shape...), by forward sweeps with basis tangents (one batched sweep).
Fn jacfwd(Fn f, JacobianOptions options = {});
/// x ↦ ∂f/∂x of shape (f(x).shape..., x.shape...), by reverse sweeps with basis cotangents (one batched sweep).
Fn jacrev(Fn f, JacobianOptions options = {});

namespace detail {
/// jvp on the recorded path only (trace f, one forward sweep), for callers that know f records itself (a nested
/// transform such as hvp's grad(f)), where the eager attempt would stop at once and restart here.
std::pair<Tensor, Tensor> recorded_jvp(const MultiFn& f, const std::vector<Tensor>& xs, const std::vector<Tensor>& vs);
}  // namespace detail

}  // namespace adg
