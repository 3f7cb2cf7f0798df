#pragma once
/// \file Function transforms: grad, jvp, vjp, jacfwd, jacrev. Each records f once and sweeps that graph.
/// They nest: when an input already requires grad (an outer transform is tracking it), the sweep is recorded
/// (create_graph), so e.g. jvp of grad gives Hessian-vector products.

#include <cstddef>
#include <functional>
#include <type_traits>
#include <utility>
#include <vector>

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

/// Which arguments of f(x0, x1, ...) a transform differentiates (JAX's argnums); results follow this order.
struct Argnums {
    /// Argument positions, counted from 0.
    std::vector<long> positions;
};

/// argnums(0, 2): differentiate with respect to f's first and third arguments, e.g. grad(f, argnums(0, 2))(x, W, b).
template <class... I>
Argnums argnums(I... positions) {
    static_assert((std::is_integral_v<I> && ...), "argnums takes argument positions (integers)");
    return Argnums{{static_cast<long>(positions)...}};
}

namespace detail {

/// The positions of `a` after checking them against a call whose arguments are tensors where `is_tensor` says:
/// in range, each once, at least one, each a tensor. Errors are value_errors naming the transform `who`.
std::vector<std::size_t> checked_argnums(const char* who, const Argnums& a, const std::vector<bool>& is_tensor);

/// f(xs) and ∂f/∂xs[i] for each i in `which` (f with a one-element output), by one reverse sweep.
std::pair<Tensor, std::vector<Tensor>> value_and_grad_at(const MultiFn& f, const std::vector<Tensor>& xs,
                                                         const std::vector<std::size_t>& which, const char* who);

/// ∂f/∂xs[i], shape (f(xs).shape..., xs[i].shape...), for each i in `which`: forward sweeps with basis tangents
/// of each chosen input, or reverse sweeps with basis cotangents (one set of sweeps for all chosen inputs).
std::vector<Tensor> jacobians_at(const MultiFn& f, const std::vector<Tensor>& xs, const std::vector<std::size_t>& which,
                                 bool forward, const JacobianOptions& options);

/// The Jacobians of `y` with respect to the recorded `inputs` (tensors requiring grad), as jacobians_at does after
/// tracing; `outer` records the sweeps (an outer transform tracks the inputs); `retain` keeps the graph for later
/// sweeps (the last reverse sweep releases it otherwise).
std::vector<Tensor> jacobians_of(const std::vector<Tensor>& inputs, const Tensor& y, bool forward,
                                 const JacobianOptions& options, bool outer, bool retain = false);

template <class T>
constexpr bool is_tensor_v = std::is_same_v<std::decay_t<T>, Tensor>;

// Argument i of the call: the transform's tensor (a leaf it traces) at a tensor position, else the caller's value.
template <class T>
decltype(auto) argument(const std::vector<Tensor>& xs, std::size_t i, const T& given) {
    if constexpr (is_tensor_v<T>) {
        return static_cast<const Tensor&>(xs[i]);
    } else {
        (void)xs;
        (void)i;
        return (given);
    }
}

template <class F, class... Ts, std::size_t... I>
Tensor call_at(const F& f, const std::vector<Tensor>& xs, std::index_sequence<I...>, const Ts&... args) {
    return f(argument(xs, I, args)...);
}

/// Runs `run(g, xs, which)` for one call f(args...): g is f over the call's tensors (other arguments fixed), xs the
/// tensors at their positions (undefined elsewhere), which the checked argnums.
template <class F, class Run, class... Ts>
decltype(auto) with_argnums(const char* who, const F& f, const Argnums& a, Run&& run, const Ts&... args) {
    std::vector<Tensor> xs;
    std::vector<bool> is_tensor;
    const auto add = [&](const auto& arg) {
        if constexpr (is_tensor_v<decltype(arg)>) {
            xs.push_back(arg);
            is_tensor.push_back(true);
        } else {
            xs.emplace_back();
            is_tensor.push_back(false);
        }
    };
    (add(args), ...);
    const std::vector<std::size_t> which = checked_argnums(who, a, is_tensor);
    const MultiFn g = [&](const std::vector<Tensor>& ts) {
        return call_at(f, ts, std::index_sequence_for<Ts...>{}, args...);
    };
    return run(g, xs, which);
}

template <class I>
using if_integral = std::enable_if_t<std::is_integral_v<I>, int>;

}  // namespace detail

/// The argnums forms: f takes several arguments (tensors, and other values passed through as constants), and the
/// transform differentiates with respect to the chosen ones, one result per position, in argnums' order (JAX's
/// argnums). A single integer position gives one result, as JAX's argnums=1 does.

/// (x0, x1, ...) ↦ [∂f/∂x_i for i in argnums], for f with a one-element output: one reverse sweep.
template <class F>
auto grad(F f, Argnums a) {
    return [f = std::move(f), a = std::move(a)](const auto&... args) {
        return detail::with_argnums(
            "grad", f, a,
            [](const MultiFn& g, const std::vector<Tensor>& xs, const std::vector<std::size_t>& which) {
                return detail::value_and_grad_at(g, xs, which, "grad").second;
            },
            args...);
    };
}
/// (x0, x1, ...) ↦ ∂f/∂x_argnum.
template <class F, class I, detail::if_integral<I> = 0>
auto grad(F f, I argnum) {
    return [g = grad(std::move(f), argnums(argnum))](const auto&... args) { return g(args...)[0]; };
}

/// x ↦ (f(x), ∇f(x)) for f with a one-element output, by one reverse sweep.
std::function<std::pair<Tensor, Tensor>(const Tensor&)> value_and_grad(Fn f);
/// (x0, x1, ...) ↦ (f(x0, x1, ...), [∂f/∂x_i for i in argnums]): one run of f, one reverse sweep.
template <class F>
auto value_and_grad(F f, Argnums a) {
    return [f = std::move(f), a = std::move(a)](const auto&... args) {
        return detail::with_argnums(
            "value_and_grad", f, a,
            [](const MultiFn& g, const std::vector<Tensor>& xs, const std::vector<std::size_t>& which) {
                return detail::value_and_grad_at(g, xs, which, "value_and_grad");
            },
            args...);
    };
}
/// (x0, x1, ...) ↦ (f(x0, x1, ...), ∂f/∂x_argnum).
template <class F, class I, detail::if_integral<I> = 0>
auto value_and_grad(F f, I argnum) {
    return [g = value_and_grad(std::move(f), argnums(argnum))](const auto&... args) {
        auto r = g(args...);
        return std::make_pair(std::move(r.first), std::move(r.second[0]));
    };
}

/// (x0, x1, ...) ↦ [∂f/∂x_i for i in argnums], each (f.shape..., x_i.shape...): forward sweeps with basis tangents.
template <class F>
auto jacfwd(F f, Argnums a, JacobianOptions options = {}) {
    return [f = std::move(f), a = std::move(a), options](const auto&... args) {
        return detail::with_argnums(
            "jacfwd", f, a,
            [&options](const MultiFn& g, const std::vector<Tensor>& xs, const std::vector<std::size_t>& which) {
                return detail::jacobians_at(g, xs, which, true, options);
            },
            args...);
    };
}
/// (x0, x1, ...) ↦ ∂f/∂x_argnum by forward sweeps.
template <class F, class I, detail::if_integral<I> = 0>
auto jacfwd(F f, I argnum, JacobianOptions options = {}) {
    return [g = jacfwd(std::move(f), argnums(argnum), options)](const auto&... args) { return g(args...)[0]; };
}

/// (x0, x1, ...) ↦ [∂f/∂x_i for i in argnums], each (f.shape..., x_i.shape...): reverse sweeps with basis
/// cotangents, one set of sweeps for all chosen inputs.
template <class F>
auto jacrev(F f, Argnums a, JacobianOptions options = {}) {
    return [f = std::move(f), a = std::move(a), options](const auto&... args) {
        return detail::with_argnums(
            "jacrev", f, a,
            [&options](const MultiFn& g, const std::vector<Tensor>& xs, const std::vector<std::size_t>& which) {
                return detail::jacobians_at(g, xs, which, false, options);
            },
            args...);
    };
}
/// (x0, x1, ...) ↦ ∂f/∂x_argnum by reverse sweeps.
template <class F, class I, detail::if_integral<I> = 0>
auto jacrev(F f, I argnum, JacobianOptions options = {}) {
    return [g = jacrev(std::move(f), argnums(argnum), options)](const auto&... args) { return g(args...)[0]; };
}

namespace detail {
/// jvp on the recorded path only (trace f, one forward sweep), for callers that know f records itself (a nested
/// transform such as hvp's grad(f)), where eager tangents would only repeat that one sweep's work.
std::pair<Tensor, Tensor> recorded_jvp(const MultiFn& f, const std::vector<Tensor>& xs, const std::vector<Tensor>& vs);
}  // namespace detail

}  // namespace adg
