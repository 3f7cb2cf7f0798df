#pragma once
/// \file Eager forward mode: while a pure jvp(f, x, v) runs f, every op computes its tangent right after its
/// value (dual numbers), so no sweep follows. Engine use: apply() calls dual_propagate.

#include <functional>
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

/// Called when a tensor starts to require grad. Nothing to do: an eager jvp records f as it runs (its inputs
/// require grad), so a nested transform or a new leaf inside f needs no restart. Kept for the caller in tensor.cpp.
inline void dual_fallback() {}

/// (f(xs), Σ Jᵢ·vᵢ) with f run exactly once: f is recorded on fresh leaves while every op also computes its tangent
/// right away. The tangent of f's result is handed back without a sweep, unless some op ran on another thread
/// meanwhile (whose tangent nobody computed): then one forward sweep over the recording gives it.
std::pair<Tensor, Tensor> eager_jvp(const MultiFn& f, const std::vector<Tensor>& xs, const std::vector<Tensor>& vs);

}  // namespace adg::detail
