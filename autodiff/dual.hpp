#pragma once
/// \file Eager forward mode: while a pure jvp(f, x, v) runs f, every op computes its tangent right after its
/// value (dual numbers), so no graph is recorded and no sweep follows. Engine use: apply() calls dual_propagate.

#include <functional>
#include <utility>
#include <vector>

#include <adgraph/autodiff/grad_mode.hpp>
#include <adgraph/autodiff/op_list.hpp>
#include <adgraph/autodiff/tensor.hpp>

namespace adg::detail {

class DualScope;

/// The eager jvp whose tangents this op reads, or null: this thread's own while grad mode is on (NoGrad inside f
/// stops tangents, as it stops recording). A thread without one reads those of the eager jvps running elsewhere,
/// since f may hand its work to another thread (whose ops then get tangents too).
bool dual_active();

/// Collects the tangents of `in` into `t` (undefined = zero, shape (1, x.shape)); returns the eager jvp they belong
/// to, or null if none has one.
DualScope* dual_tangents(const std::vector<Tensor>& in, std::vector<Tensor>& t);

/// Stores `r` as the tangent of `out` (made by op `name`) in `scope` after checking its shape and dtype.
void dual_set(DualScope* scope, const char* name, const Tensor& out, Tensor r);

/// Inside a catch block: rethrows the current exception naming op `name`'s JVP rule.
[[noreturn]] void dual_rethrow(const char* name);

/// Gives `out` (just computed by op `name` from `in`) its tangent `rule(t)`, run without recording, from the
/// inputs' tangents `t`. Nothing happens if no input has a tangent.
template <class Rule>
void dual_propagate(const char* name, const std::vector<Tensor>& in, const Tensor& out, Rule&& rule) {
    std::vector<Tensor> t;
    DualScope* scope = dual_tangents(in, t);
    if (!scope) return;
    Tensor r;
    try {
        NoGrad off;
        r = rule(t);
    } catch (...) {
        dual_rethrow(name);
    }
    dual_set(scope, name, out, std::move(r));
}

/// The eager tangent of `x` (shape (1, x.shape)) if an eager jvp running on this thread gives it one, else undefined.
/// A nested transform treats such an input as tracked by an outer transform (see functional.cpp's trace).
Tensor dual_tangent(const Tensor& x);

/// Gives `leaf` the eager tangent `t` in this thread's eager jvp (a nested transform's fresh leaf for an input that
/// has one).
void dual_seed(const Tensor& leaf, Tensor t);

/// (f(xs), Σ Jᵢ·vᵢ) computed eagerly: f runs once, nothing is recorded for the jvp itself.
std::pair<Tensor, Tensor> eager_jvp(const MultiFn& f, const std::vector<Tensor>& xs, const std::vector<Tensor>& vs);

}  // namespace adg::detail
