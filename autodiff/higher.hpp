#pragma once
/// \file Higher-order transforms, all built from the first-order ones by nesting (rules are written with ops, so
/// a recorded sweep can be swept again).

#include <functional>
#include <utility>
#include <vector>

#include <adgraph/autodiff/functional.hpp>

namespace adg {

/// H(x)·v for f with a one-element output: forward over reverse (a forward sweep over the recorded reverse
/// sweep of grad(f)).
Tensor hvp(const Fn& f, const Tensor& x, const Tensor& v);

/// x ↦ ∂²f/∂x², shape (x.shape..., x.shape...): forward over reverse with the n basis directions in one sweep.
Fn hessian(Fn f, JacobianOptions options = {});

namespace detail {
/// Blocks H[a][b] = ∂²f/∂x_i∂x_j, shape (x_i.shape..., x_j.shape...), for i = which[a] and j = which[b] (f with a
/// one-element output): one reverse sweep recorded for all gradients, then forward sweeps with basis tangents of
/// each chosen input over it (forward over reverse, as hessian(f)).
std::vector<std::vector<Tensor>> hessian_at(const MultiFn& f, const std::vector<Tensor>& xs,
                                            const std::vector<std::size_t>& which, const JacobianOptions& options);
}  // namespace detail

/// (x0, x1, ...) ↦ blocks H[a][b] = ∂²f/∂x_i∂x_j for i, j in argnums (positions a, b of argnums), shape
/// (x_i.shape..., x_j.shape...); H[b][a] is H[a][b] transposed. JAX's hessian(f, argnums=(i, j)).
template <class F>
auto hessian(F f, Argnums a, JacobianOptions options = {}) {
    return [f = std::move(f), a = std::move(a), options](const auto&... args) {
        return detail::with_argnums(
            "hessian", f, a,
            [&options](const MultiFn& g, const std::vector<Tensor>& xs, const std::vector<std::size_t>& which) {
                return detail::hessian_at(g, xs, which, options);
            },
            args...);
    };
}
/// (x0, x1, ...) ↦ ∂²f/∂x_argnum², shape (x.shape..., x.shape...).
template <class F, class I, detail::if_integral<I> = 0>
auto hessian(F f, I argnum, JacobianOptions options = {}) {
    return [g = hessian(std::move(f), argnums(argnum), options)](const auto&... args) { return g(args...)[0][0]; };
}

/// f(x) and v ↦ J(x)·v, reusable: f is recorded once and each call is one forward sweep over that graph.
std::pair<Tensor, Fn> linearize(const Fn& f, const Tensor& x);

}  // namespace adg
