#pragma once
/// \file Higher-order transforms, all built from the first-order ones by nesting (rules are written with ops, so
/// a recorded sweep can be swept again).

#include <functional>
#include <utility>

#include <adgraph/autodiff/functional.hpp>

namespace adg {

/// H(x)·v for f with a one-element output: forward over reverse (a forward sweep over the recorded reverse
/// sweep of grad(f)).
Tensor hvp(const Fn& f, const Tensor& x, const Tensor& v);

/// x ↦ ∂²f/∂x², shape (x.shape..., x.shape...): forward over reverse with the n basis directions in one sweep.
Fn hessian(Fn f, JacobianOptions options = {});

/// f(x) and v ↦ J(x)·v, reusable: f is recorded once and each call is one forward sweep over that graph.
std::pair<Tensor, Fn> linearize(const Fn& f, const Tensor& x);

}  // namespace adg
