// Reductions and the softmax family. sum and mean are compositions of linear shape ops; max, logsumexp,
// softmax and log_softmax are fused ops with their own rules (stable for logits of ±1e4).

#include <algorithm>
#include <limits>
#include <numeric>

#include <adgraph/autodiff/internal/op_samples.hpp>
#include <adgraph/tensor/kernels.hpp>

namespace adg {

namespace {

std::vector<std::size_t> positions(const std::vector<long>& neg_axes, std::size_t rank) {
    std::vector<std::size_t> out;
    for (long a : neg_axes) out.push_back(static_cast<std::size_t>(static_cast<long>(rank) + a));
    return out;
}

std::vector<long> negative_axes(const Tensor& x, const Axes& axes, const char* op) {
    std::vector<long> out;
    for (auto p : normalize_axes(axes, x.dim(), op)) out.push_back(negative_axis(static_cast<long>(p), x.dim(), op));
    return out;
}

Shape kept_shape(const Shape& s, const std::vector<long>& neg_axes) {
    return reduced_shape(s, positions(neg_axes, s.size()));
}

// The maximum over `pos` with kept dims where it is finite, else 0: the shift that keeps exp from overflowing
// (a finite shift: all -inf rows stay -inf, and NaN still reaches the result).
Array finite_max(const Array& x, const std::vector<std::size_t>& pos, const char* op) {
    return map(kernels::max_keepdims(x, pos, op), [](const auto& a) {
        using T = typename std::decay_t<decltype(a)>::value_type;
        return xt::where(xt::isfinite(a), a, T(0));
    });
}

// x shifted by its finite maximum m over `pos`, z = x - m, and log s with s = Σ exp(z) (kept dims), so that
// logsumexp(x) = log s + m. Results near 0 (log_softmax, the softmax) are formed from z and log s, never from
// log s + m: that sum is rounded at the scale of the logits (at ±1e4 float32 keeps 3 of its digits after the point).
struct Shifted {
    Array z, log_s, m;
};
Shifted shifted(const Array& x, const std::vector<std::size_t>& pos, const char* op) {
    Array m = finite_max(x, pos, op);
    Array z = zip(x, m, op, [](const auto& a, const auto& b) { return a - b; });
    const Array e = map(z, [](const auto& a) { return xt::exp(a); });
    Array log_s = map(kernels::sum_to(e, m.shape()), [](const auto& a) { return xt::log(a); });
    return {std::move(z), std::move(log_s), std::move(m)};
}

// log Σ exp(x) over `pos` with kept dims.
Array logsumexp_value(const Array& x, const std::vector<std::size_t>& pos, const char* op) {
    const Shifted p = shifted(x, pos, op);
    return zip(p.log_s, p.m, op, [](const auto& a, const auto& b) { return a + b; });
}

template <class Op>
std::vector<OpSample> axes_samples(Generator& gen, bool distinct) {
    const std::vector<std::pair<Shape, std::vector<long>>> cases = {
        {{2, 3}, {-2, -1}}, {{2, 3}, {-1}}, {{2, 3}, {-2}}, {{3}, {-1}}, {{2, 3, 2}, {-3, -1}}};
    std::vector<OpSample> out;
    for (const auto& [s, axes] : cases) {
        Tensor x = distinct ? distinct_tensor(s, gen) : sample_tensor(s, {}, gen);
        out.push_back({std::string(Op::name) + " " + shape_str(s) + " over " + std::to_string(axes.size()) + " axes",
                       {x},
                       [axes = axes](const std::vector<Tensor>& xs) { return apply(Op{axes}, xs[0]); }});
    }
    return out;
}

template <class Op>
std::vector<OpSample> axis_samples(Generator& gen) {
    const std::vector<std::pair<Shape, long>> cases = {{{3}, -1}, {{2, 3}, -1}, {{2, 3}, -2}};
    std::vector<OpSample> out;
    for (const auto& [s, axis] : cases) {
        out.push_back({std::string(Op::name) + " " + shape_str(s) + " axis " + std::to_string(axis),
                       {sample_tensor(s, {}, gen)},
                       [axis = axis](const std::vector<Tensor>& xs) { return apply(Op{axis}, xs[0]); }});
    }
    return out;
}

// max over axes (kept): locally linear, y = Σ w ⊙ x with w = [x = y] / #ties, so ẏ = sum_to(w ⊙ ẋ), x̄ = w ⊙ ȳ
struct Max {
    static constexpr Custom kind{};
    static constexpr const char* name = "max";
    Locality locality(const std::vector<Shape>& in, const Shape&, const std::vector<char>&) const {
        const long rank = static_cast<long>(in[0].size());
        return rank >= 2 && std::find(axes.begin(), axes.end(), -rank) == axes.end() ? Locality::rows : Locality::none;
    }
    std::vector<long> axes;
    Array forward(const Array& x) const { return kernels::max_keepdims(x, positions(axes, x.dim()), name); }
    Tensor jvp(const std::vector<Tensor>& x, const Tensor& y, const std::vector<Tensor>& t) const {
        return sum_to_core(weights(x[0], y) * t[0], x[0].shape(), y.shape());
    }
    Tensor vjp(const std::vector<Tensor>& x, const Tensor& y, const Tensor& ct, std::size_t) const {
        return weights(x[0], y) * broadcast_to_core(ct, y.shape(), x[0].shape());
    }
    static std::vector<OpSample> samples(Generator& gen) { return axes_samples<Max>(gen, true); }

private:
    // Tied maxima share the derivative equally: a constant (it is piecewise constant in x).
    static Tensor weights(const Tensor& x, const Tensor& y) {
        const Array hit = zip(x.value(), y.value(), name,
                              [](const auto& a, const auto& b) { return xt::where(xt::equal(a, b), 1.0, 0.0); });
        const Array count = kernels::sum_to(hit, y.shape());
        return Tensor(zip(hit, count, name, [](const auto& a, const auto& b) { return a / b; }));
    }
};

// logsumexp over axes (kept): ∂y/∂x = s = exp(x - y) (the softmax), so ẏ = sum_to(s ⊙ ẋ), x̄ = s ⊙ ȳ
struct LogSumExp {
    static constexpr Custom kind{};
    static constexpr const char* name = "logsumexp";
    Locality locality(const std::vector<Shape>& in, const Shape&, const std::vector<char>&) const {
        const long rank = static_cast<long>(in[0].size());
        return rank >= 2 && std::find(axes.begin(), axes.end(), -rank) == axes.end() ? Locality::rows : Locality::none;
    }
    std::vector<long> axes;
    Array forward(const Array& x) const { return logsumexp_value(x, positions(axes, x.dim()), name); }
    Tensor jvp(const std::vector<Tensor>& x, const Tensor& y, const std::vector<Tensor>& t) const {
        return sum_to_core(softmax_of(x[0]) * t[0], x[0].shape(), y.shape());
    }
    Tensor vjp(const std::vector<Tensor>& x, const Tensor& y, const Tensor& ct, std::size_t) const {
        return softmax_of(x[0]) * broadcast_to_core(ct, y.shape(), x[0].shape());
    }
    static std::vector<OpSample> samples(Generator& gen) { return axes_samples<LogSumExp>(gen, false); }

private:
    // exp(x - y) would carry y's rounding at the logits' scale; exp(z - logsumexp(z)) with z = x - m (m a constant
    // shift, the finite maximum) is the same function of x, computed from values near 0.
    Tensor softmax_of(const Tensor& x) const {
        const Tensor z = x - Tensor(finite_max(x.value(), positions(axes, x.dim()), name));
        return exp(z - apply(LogSumExp{axes}, z));
    }
};

// softmax along axis: ẏ = y ⊙ (ẋ - Σ y ⊙ ẋ), x̄ = y ⊙ (ȳ - Σ ȳ ⊙ y)
struct Softmax {
    static constexpr Custom kind{};
    static constexpr const char* name = "softmax";
    Locality locality(const std::vector<Shape>& in, const Shape&, const std::vector<char>&) const {
        return in[0].size() >= 2 && axis != -static_cast<long>(in[0].size()) ? Locality::rows : Locality::none;
    }
    long axis = -1;
    Array forward(const Array& x) const {
        const std::vector<std::size_t> pos{static_cast<std::size_t>(static_cast<long>(x.dim()) + axis)};
        const Array m = kernels::max_keepdims(x, pos, name);
        const Array e = zip(x, m, name, [](const auto& a, const auto& b) { return xt::exp(a - b); });
        const Array s = kernels::sum_to(e, m.shape());
        return zip(e, s, name, [](const auto& a, const auto& b) { return a / b; });
    }
    Tensor jvp(const std::vector<Tensor>& x, const Tensor& y, const std::vector<Tensor>& t) const {
        return y * (t[0] - sum_to_core(y * t[0], x[0].shape(), kept_shape(x[0].shape(), {axis})));
    }
    Tensor vjp(const std::vector<Tensor>& x, const Tensor& y, const Tensor& ct, std::size_t) const {
        return y * (ct - sum_to_core(ct * y, x[0].shape(), kept_shape(x[0].shape(), {axis})));
    }
    static std::vector<OpSample> samples(Generator& gen) { return axis_samples<Softmax>(gen); }
};

// log_softmax along axis: with s = exp(y), ẏ = ẋ - Σ s ⊙ ẋ, x̄ = ȳ - s ⊙ Σ ȳ
struct LogSoftmax {
    static constexpr Custom kind{};
    static constexpr const char* name = "log_softmax";
    Locality locality(const std::vector<Shape>& in, const Shape&, const std::vector<char>&) const {
        return in[0].size() >= 2 && axis != -static_cast<long>(in[0].size()) ? Locality::rows : Locality::none;
    }
    long axis = -1;
    Array forward(const Array& x) const {
        const std::vector<std::size_t> pos{static_cast<std::size_t>(static_cast<long>(x.dim()) + axis)};
        const Shifted p = shifted(x, pos, name);
        return zip(p.z, p.log_s, name, [](const auto& a, const auto& b) { return a - b; });
    }
    Tensor jvp(const std::vector<Tensor>& x, const Tensor& y, const std::vector<Tensor>& t) const {
        return t[0] - sum_to_core(exp(y) * t[0], x[0].shape(), kept_shape(x[0].shape(), {axis}));
    }
    Tensor vjp(const std::vector<Tensor>& x, const Tensor& y, const Tensor& ct, std::size_t) const {
        return ct - exp(y) * sum_to_core(ct, x[0].shape(), kept_shape(x[0].shape(), {axis}));
    }
    static std::vector<OpSample> samples(Generator& gen) { return axis_samples<LogSoftmax>(gen); }
};

Tensor drop_axes(const Tensor& r, const Tensor& x, const std::vector<long>& axes, bool keepdims) {
    if (keepdims) return r;
    return reshape_core(r, r.shape(), squeezed_shape(x.shape(), positions(axes, x.dim())));
}

long one_axis(const Tensor& x, long axis, const char* op) {
    if (x.dim() == 0) {
        throw shape_error(std::string(op) + ": needs at least one axis but the input is a scalar; reshape it to (1)");
    }
    return negative_axis(axis, x.dim(), op);
}

// sum over axes: the sum down to the kept shape, then the reduced axes dropped unless keepdims.
Tensor summed(const Tensor& x, const Axes& axes, bool keepdims) {
    const std::vector<long> ax = negative_axes(x, axes, "sum");
    return drop_axes(sum_to_core(x, x.shape(), kept_shape(x.shape(), ax)), x, ax, keepdims);
}

Tensor averaged(const Tensor& x, const Axes& axes, bool keepdims) {
    const std::vector<long> ax = negative_axes(x, axes, "mean");
    std::size_t count = 1;
    for (auto p : positions(ax, x.dim())) count *= x.shape()[p];
    // A mean over no elements is NaN (as in numpy and PyTorch), made without dividing by zero; its gradient
    // with respect to the empty input is empty.
    if (count == 0) return sum(x, axes, keepdims) * std::numeric_limits<double>::quiet_NaN();
    return sum(x, axes, keepdims) / static_cast<double>(count);
}

// A reduction op (Max, LogSumExp) over axes, which it keeps as 1s; they are dropped unless keepdims.
template <class Op>
Tensor reduced(const Tensor& x, const Axes& axes, bool keepdims) {
    const std::vector<long> ax = negative_axes(x, axes, Op::name);
    return drop_axes(apply(Op{ax}, x), x, ax, keepdims);
}

}  // namespace

#define ADG_OP_FUNCTIONS  // the public functions of the op table
#include <adgraph/autodiff/ops_reduce.def>

const OpList& reduction_ops() {
    static const OpList list = {
#define ADG_OP_LIST  // the entries of the op table
#include <adgraph/autodiff/ops_reduce.def>
    };
    return list;
}

}  // namespace adg
