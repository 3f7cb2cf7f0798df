#pragma once
/// \file Eager forward mode: while a pure jvp(f, x, v) runs f, every op computes its tangent right after its
/// value (dual numbers), so no graph is recorded and no sweep follows. Engine use: apply() calls dual_propagate.

#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include <adgraph/autodiff/grad_mode.hpp>
#include <adgraph/autodiff/op_list.hpp>
#include <adgraph/autodiff/tensor.hpp>

namespace adg::detail {

/// True while an eager jvp runs f on this thread and grad mode is on (NoGrad inside f stops tangents, as it
/// stops recording). On a thread without one while an eager jvp runs elsewhere, counts the op as foreign: that
/// jvp then takes the recorded path, since the op may be part of f run on another thread.
bool dual_active();

/// Collects the tangents of `in` into `t` (undefined = zero, shape (1, x.shape)); false if none has one.
bool dual_tangents(const std::vector<Tensor>& in, std::vector<Tensor>& t);

/// Stores `r` as the tangent of `out` (made by op `name`) after checking its shape and dtype.
void dual_set(const char* name, const Tensor& out, Tensor r);

/// Inside a catch block: rethrows the current exception naming op `name`'s JVP rule.
[[noreturn]] void dual_rethrow(const char* name);

/// Gives `out` (just computed by op `name` from `in`) its tangent `rule(t)`, run without recording, from the
/// inputs' tangents `t`. Nothing happens if no input has a tangent.
template <class Rule>
void dual_propagate(const char* name, const std::vector<Tensor>& in, const Tensor& out, Rule&& rule) {
    std::vector<Tensor> t;
    if (!dual_tangents(in, t)) return;
    Tensor r;
    try {
        NoGrad off;
        r = rule(t);
    } catch (...) {
        dual_rethrow(name);
    }
    dual_set(name, out, std::move(r));
}

/// Thrown by dual_fallback() to stop f; eager_jvp catches it (not an std::exception, so `catch (const
/// std::exception&)` in f lets it pass).
struct DualRestart {};

/// Marks the running eager jvp as unable to finish eagerly, since f started recording (a nested transform, or a
/// tensor made to require grad inside f), which the recorded path handles; throws DualRestart to stop f. Does
/// nothing outside an eager jvp.
void dual_fallback();

/// (f(xs), Σ Jᵢ·vᵢ) computed eagerly, or nothing if f needed the recorded path (see dual_fallback).
std::optional<std::pair<Tensor, Tensor>> eager_jvp(const MultiFn& f, const std::vector<Tensor>& xs,
                                                   const std::vector<Tensor>& vs);

}  // namespace adg::detail
