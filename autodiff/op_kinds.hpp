#pragma once
/// \file Writing an op, and the kinds that derive its rules from a little maths.
///
/// An op is a struct with `name`, its kind as `static constexpr <Kind> kind = ...;`, and what its kind does not
/// derive: `forward(const Array&...)` (leading axes beyond the op's own are kept: that is how one op applies to a
/// batch of k tangents), `jvp(in, out, t)` and `vjp(in, out, ct, i)`. Kinds derive rules: Elementwise from
/// `d(x, y)`, Binary from `da`/`db`, LinearMap from `transpose`; Custom derives nothing. An op may still define any
/// rule itself, which then wins. An op whose input cotangents share work (batch_norm's x̄, γ̄ and β̄ all need the
/// per-channel sums Σȳ and Σȳ·x̂) may define `vjp_all(in, out, ct, wanted)` instead of `vjp`: one call returns the
/// cotangent of every input i with wanted[i] (undefined for the others), like PyTorch's backward formulas with an
/// output mask. Rules use adgraph ops, so a sweep with create_graph is itself recorded.
///
/// Settings of a kind are calls on its value, e.g. `static constexpr Elementwise kind =
/// Elementwise().domain(0.2, 3.0);`: a misspelt setting does not compile.

#include <algorithm>
#include <initializer_list>
#include <type_traits>
#include <utility>

#include <adgraph/autodiff/op.hpp>
#include <adgraph/tensor/elementwise.hpp>

namespace adg {

/// `c` in the element type of `x`: a double for a Tensor (whose scalar ops take double), T for an xtensor
/// expression over T, so that a literal in a generic derivative never turns a float kernel into a double one.
template <class X>
auto lit(const X&, double c) {
    if constexpr (std::is_same_v<X, Tensor>) {
        return c;
    } else {
        return static_cast<typename X::value_type>(c);
    }
}

namespace detail {

/// Where the op tests draw an operand: U(lo, hi), kept `margin` away from each of up to four kinks. Set through
/// a kind's settings (or as `{lo, hi}` in a sample); op files never name the type.
struct SampleRange {
    double lo = -2.0, hi = 2.0;
    double kinks[4] = {};
    std::size_t kink_count = 0;
    double margin = 0.05;
    /// The range [lo, hi] with `kinks` (at most four) avoided by `margin`.
    static constexpr SampleRange of(double lo, double hi, std::initializer_list<double> kinks, double margin) {
        SampleRange r;
        r.lo = lo;
        r.hi = hi;
        r.margin = margin;
        if (kinks.size() > 4) throw "a sample range takes at most four kinks";  // a compile error in a constant
        for (double k : kinks) r.kinks[r.kink_count++] = k;
        return r;
    }
};

}  // namespace detail

/// `op.f(x)` mapped over the array x (the forward of pointwise kinds).
template <class Op>
Array map_f(const Op& op, const Array& x) {
    return map(x, [&op](const auto& a) { return op.f(a); });
}

/// Elementwise unary op: the op gives `f(expr)` (an xtensor expression) and `d(x, y)`, the derivative dy/dx;
/// derived: jvp = d ⊙ ẋ, vjp = d ⊙ ȳ. Written as a template (`template <class X> auto d(const X& x, const X& y)`,
/// literals through `lit`), one `d` serves both Tensors (recorded under create_graph) and array views: with
/// recording off, d ⊙ ẋ is then one fused pass with the same values. Settings: `.constant_d()` for a piecewise-
/// constant derivative (a mask, only ever evaluated on views), `.domain(lo, hi, {kinks}, margin)` where the tests
/// sample x, `.example(p)` / `.example(p, q)` parameter values to test the op with (`Op{p}`, `Op{p, q}`).
struct Elementwise {
    bool is_constant_d = false;
    detail::SampleRange range{};
    double examples[4][2] = {};
    std::size_t example_count = 0, example_arity = 0;

    /// This kind with a piecewise-constant derivative.
    constexpr Elementwise constant_d() const {
        Elementwise k = *this;
        k.is_constant_d = true;
        return k;
    }
    /// This kind with test samples drawn from [lo, hi] off `kinks`.
    constexpr Elementwise domain(double lo, double hi, std::initializer_list<double> kinks = {},
                                 double margin = 0.05) const {
        Elementwise k = *this;
        k.range = detail::SampleRange::of(lo, hi, kinks, margin);
        return k;
    }
    /// This kind with one more tested parameter choice `Op{p}` (or `Op{p, q}`); at most four, of one arity.
    constexpr Elementwise example(double p) const { return with_example(p, 0.0, 1); }
    constexpr Elementwise example(double p, double q) const { return with_example(p, q, 2); }

    static Locality locality(const std::vector<Shape>&, const Shape&, const std::vector<char>&) {
        return Locality::elementwise;
    }
    template <class Op>
    static Array forward(const Op& op, const Array& x) {
        return map_f(op, x);
    }
    template <class Op>
    static Tensor jvp(const Op& op, const std::vector<Tensor>& x, const Tensor& y, const std::vector<Tensor>& t) {
        return times_d(op, x[0], y, t[0]);
    }
    template <class Op>
    static Tensor vjp(const Op& op, const std::vector<Tensor>& x, const Tensor& y, const Tensor& ct, std::size_t) {
        return times_d(op, x[0], y, ct);
    }
    /// Whether a rule may run fused on arrays: nothing is recorded, anomaly mode (which checks every op a rule
    /// runs) is off, and each direction of `batch` gets bitwise the values of the op-by-op rule.
    static bool fuse(const Tensor& batch, const Tensor& x) {
        return !grad_enabled() && !anomaly_enabled() && rows_match_single(batch.value(), x.value());
    }
    /// d(x, y) ⊙ s for a batch s of shape (k, x.shape).
    template <class Op>
    static Tensor times_d(const Op& op, const Tensor& x, const Tensor& y, const Tensor& s) {
        if constexpr (detail::fused_d<Op>::value) {
            if (fuse(s, x)) return Tensor(map_rows<1>(times_d_kernel(op), s.value(), x.value(), y.value()));
        }
        return d_of(op, x, y) * s;
    }
    /// vjp() writing d ⊙ ȳ over ȳ when the fused rule applies and nothing else holds ȳ.
    template <class Op>
    static Tensor vjp_reusing(const Op& op, const std::vector<Tensor>& x, const Tensor& y, Tensor ct, std::size_t) {
        if constexpr (detail::fused_d<Op>::value) {
            if (fuse(ct, x[0]) && sole_owner(ct) &&
                map_rows_in_place<1>(times_d_kernel(op), ct.node()->mutable_value(), x[0].value(), y.value())) {
                return ct;
            }
        }
        return times_d(op, x[0], y, ct);
    }
    /// The fused kernel of times_d on views (s, x, y).
    template <class Op>
    static auto times_d_kernel(const Op& op) {
        return [&op](const auto& sv, const auto& xv, const auto& yv) { return op.d(xv, yv) * sv; };
    }
    /// d(x, y) as a tensor (a constant one for a mask, which is evaluated on the values only).
    template <class Op>
    static Tensor d_of(const Op& op, const Tensor& x, const Tensor& y) {
        if constexpr (Op::kind.is_constant_d) {
            return Tensor(
                map_rows<0>([&op](const auto& xv, const auto& yv) { return op.d(xv, yv); }, x.value(), y.value()));
        } else {
            return op.d(x, y);
        }
    }
    // Sparse rows stay sparse: direction r of d ⊙ ẋ (or d ⊙ ȳ, the same rule) is d's row index[r] times row r.
    template <class Op>
    static Directions jvp_sparse(const Op& op, const std::vector<Tensor>& x, const Tensor& y,
                                 const std::vector<Directions>& t) {
        return times_d_sparse(op, x[0], y, t[0]);
    }
    template <class Op>
    static Directions vjp_sparse(const Op& op, const std::vector<Tensor>& x, const Tensor& y, const Directions& ct,
                                 std::size_t) {
        return times_d_sparse(op, x[0], y, ct);
    }

private:
    template <class Op>
    static Directions times_d_sparse(const Op& op, const Tensor& x, const Tensor& y, const Directions& s) {
        if (!s.sparse()) return {};
        return s.with_values(s.gather(d_of(op, x, y)) * s.values());
    }
    constexpr Elementwise with_example(double p, double q, std::size_t arity) const {
        Elementwise k = *this;
        if (k.example_count == 4) throw "an op takes at most four examples";  // a compile error in a constant
        if (k.example_arity != 0 && k.example_arity != arity) throw "examples of one op take one number of values";
        k.examples[k.example_count][0] = p;
        k.examples[k.example_count][1] = q;
        ++k.example_count;
        k.example_arity = arity;
        return k;
    }
};

/// Binary op with numpy broadcasting: the op gives `f(a, b)` and the partials `da(a, b, y)`, `db(a, b, y)`;
/// derived: tangents aligned to the output, ẏ = ∂a ⊙ ȧ + ∂b ⊙ ḃ, and x̄ᵢ = sum_to(∂ᵢ ⊙ ȳ, shape of xᵢ).
/// Settings: `.domain_b(lo, hi, {kinks}, margin)` where the tests sample b (denominators), `.separation(gap)`
/// (min |a - b| in the tests, for kinks at a = b).
struct Binary {
    detail::SampleRange range_b{};
    double gap = 0.0;

    /// This kind with b sampled from [lo, hi] off `kinks`.
    constexpr Binary domain_b(double lo, double hi, std::initializer_list<double> kinks = {},
                              double margin = 0.05) const {
        Binary k = *this;
        k.range_b = detail::SampleRange::of(lo, hi, kinks, margin);
        return k;
    }
    /// This kind with test operands at least `g` apart elementwise.
    constexpr Binary separation(double g) const {
        Binary k = *this;
        k.gap = g;
        return k;
    }

    /// Elementwise when every varying operand has the output's shape (constants may broadcast); rows when each
    /// varying operand keeps the output's leading axis.
    static Locality locality(const std::vector<Shape>& in, const Shape& out, const std::vector<char>& varies);
    template <class Op>
    static Array forward(const Op& op, const Array& a, const Array& b) {
        return zip(a, b, Op::name, [&op](const auto& x, const auto& y) { return op.f(x, y); });
    }
    template <class Op>
    static Tensor jvp(const Op& op, const std::vector<Tensor>& x, const Tensor& y, const std::vector<Tensor>& t) {
        if constexpr (detail::fused_partials<Op>::value) {
            if (same_layout(x[0], y) && same_layout(x[1], y) && Elementwise::fuse(t[0].defined() ? t[0] : t[1], y)) {
                const Array &a = x[0].value(), &b = x[1].value(), &yv = y.value();
                const Tensor& t1 = t[0].defined() ? t[0] : t[1];
                Array r = !(t[0].defined() && t[1].defined())
                              ? fused_partial(op, t[0].defined() ? 0 : 1, t1.value(), a, b, yv)
                              : map_rows<2>([&op](const auto& ta, const auto& tb, const auto& p, const auto& q,
                                                  const auto& w) { return op.da(p, q, w) * ta + op.db(p, q, w) * tb; },
                                            t[0].value(), t[1].value(), a, b, yv);
                return Tensor(std::move(r).reshaped(batched_shape(t1.shape()[0], y.shape())));
            }
        }
        Tensor r;
        for (std::size_t i = 0; i < 2; ++i) {
            if (!t[i].defined()) continue;
            Tensor term = partial(op, x, y, i) * align_core(t[i], x[i].shape(), y.shape());
            r = r.defined() ? r + term : term;
        }
        return broadcast_to_core(r, Shape(r.shape().begin() + 1, r.shape().end()), y.shape());
    }
    template <class Op>
    static Tensor vjp(const Op& op, const std::vector<Tensor>& x, const Tensor& y, const Tensor& ct, std::size_t i) {
        if constexpr (detail::fused_partials<Op>::value) {
            if (same_layout(x[0], y) && same_layout(x[1], y) && Elementwise::fuse(ct, y)) {
                Array g = fused_partial(op, i, ct.value(), x[0].value(), x[1].value(), y.value());
                return Tensor(std::move(g).reshaped(batched_shape(ct.shape()[0], x[i].shape())));
            }
        }
        Tensor g = partial(op, x, y, i) * ct;
        return sum_to_core(g, Shape(g.shape().begin() + 1, g.shape().end()), x[i].shape());
    }

private:
    // An operand whose elements lie as the output's do: its shape is the output's, or that with leading 1s dropped
    // (a recorded sweep's (1, n...) cotangent times an (n...) value), so one flat pass serves it without a reshape.
    static bool same_layout(const Tensor& x, const Tensor& y) {
        const Shape &s = x.shape(), &o = y.shape();
        if (s.size() > o.size()) return false;
        const std::size_t lead = o.size() - s.size();
        for (std::size_t d = 0; d < lead; ++d) {
            if (o[d] != 1) return false;
        }
        return std::equal(s.begin(), s.end(), o.begin() + static_cast<std::ptrdiff_t>(lead));
    }
    // ∂ᵢ(a, b, y) ⊙ s in one pass over the rows of s (recording off, operands laid out as the output).
    template <class Op>
    static Array fused_partial(const Op& op, std::size_t i, const Array& s, const Array& a, const Array& b,
                               const Array& y) {
        if (i == 0) {
            return map_rows<1>(
                [&op](const auto& v, const auto& p, const auto& q, const auto& r) { return op.da(p, q, r) * v; }, s, a,
                b, y);
        }
        return map_rows<1>(
            [&op](const auto& v, const auto& p, const auto& q, const auto& r) { return op.db(p, q, r) * v; }, s, a, b,
            y);
    }
    template <class Op>
    static Tensor partial(const Op& op, const std::vector<Tensor>& x, const Tensor& y, std::size_t i) {
        return i == 0 ? op.da(x[0], x[1], y) : op.db(x[0], x[1], y);
    }
};

/// LinearMap op (a linear map of its one input: neg, reshape, sum_to, …): the op gives `forward` (keeping leading
/// axes) and `transpose(ct)`, its adjoint written with ops; derived: jvp = the op applied to ẋ, vjp = transpose(ȳ).
/// LinearMap ops give their own `samples`. Settings: `.pointwise()` (output element i depends on input element i
/// only); `.self_adjoint()` for a pointwise op that is its own transpose, which then gives `f(expr)` (as Elementwise
/// ops do) instead of forward and transpose: forward maps f, transpose applies the op, and an eager sweep maps f
/// over ȳ in place.
struct LinearMap {
    bool is_pointwise = false, is_self_adjoint = false;

    /// This kind, marked pointwise.
    constexpr LinearMap pointwise() const {
        LinearMap k = *this;
        k.is_pointwise = true;
        return k;
    }
    /// This kind, marked pointwise and its own transpose.
    constexpr LinearMap self_adjoint() const {
        LinearMap k = pointwise();
        k.is_self_adjoint = true;
        return k;
    }

    template <class Op>
    static Array forward(const Op& op, const Array& x) {
        return map_f(op, x);
    }
    template <class Op>
    static Tensor jvp(const Op& op, const std::vector<Tensor>&, const Tensor&, const std::vector<Tensor>& t) {
        return apply(op, t[0]);
    }
    template <class Op>
    static Tensor vjp(const Op& op, const std::vector<Tensor>&, const Tensor&, const Tensor& ct, std::size_t) {
        if constexpr (Op::kind.is_self_adjoint) {
            static_assert(!detail::has_transpose<Op>::value, "a self-adjoint op is its own transpose");
            return apply(op, ct);
        } else {
            return op.transpose(ct);
        }
    }
    /// vjp() mapping f over ȳ in place for a self-adjoint op, when nothing is recorded or checked and nothing else
    /// holds ȳ (forward's own kernel, so the values are those of apply(op, ȳ)).
    template <class Op>
    static Tensor vjp_reusing(const Op& op, const std::vector<Tensor>& in, const Tensor& out, Tensor ct,
                              std::size_t i) {
        if constexpr (Op::kind.is_self_adjoint) {
            if (!grad_enabled() && !anomaly_enabled() && sole_owner(ct) &&
                map_rows_in_place<0>([&op](const auto& a) { return op.f(a); }, ct.node()->mutable_value())) {
                return ct;
            }
        }
        return vjp(op, in, out, ct, i);
    }
};

}  // namespace adg
