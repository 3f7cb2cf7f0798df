#pragma once
/// \file Writing an op: OpNode, apply(), and the kinds that derive rules from a little maths.
///
/// An op is a struct with `name`, `using kind = ...;`, and what its kind does not derive: `forward(const
/// Array&...)` (leading axes beyond the op's own are kept: that is how one op applies to a batch of k tangents),
/// `jvp(in, out, t)` and `vjp(in, out, ct, i)`. Kinds derive rules: Elementwise from `d(x, y)`, Binary from
/// `da`/`db`, LinearMap from `transpose`; an op may still define any member itself, which then wins.
/// An op whose input cotangents share work (batch_norm's x̄, γ̄ and β̄ all need the per-channel sums Σȳ and Σȳ·x̂)
/// may define `vjp_all(in, out, ct, wanted)` instead of `vjp`: one call returns the cotangent of every input i with
/// wanted[i] (undefined for the others), like PyTorch's backward formulas with an output mask. The reverse sweep
/// calls it once per node for the inputs it needs; `vjp(i)` is derived from it (wanted = {i}).
/// Rules use adgraph ops, so a sweep with create_graph is itself recorded.

#include <type_traits>
#include <utility>

#include <adgraph/autodiff/dual.hpp>
#include <adgraph/autodiff/grad_mode.hpp>
#include <adgraph/autodiff/in_place.hpp>
#include <adgraph/autodiff/node.hpp>
#include <adgraph/autodiff/op_list.hpp>
#include <adgraph/autodiff/op_traits.hpp>
#include <adgraph/autodiff/ops.hpp>
#include <adgraph/tensor/elementwise.hpp>
#include <adgraph/tensor/pool.hpp>

namespace adg {

/// Kinds an op can declare with `using kind = ...;`; each derives what the op does not define itself.
struct Elementwise;
struct Binary;
struct LinearMap;
/// The op defines forward, jvp and vjp itself.
struct Custom {};

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

/// What running and differentiating Op means: the op's own member if it has one, else its kind's derivation.
template <class Op>
struct OpRules {
    using Kind = typename Op::kind;
    template <class... A>
    static Array forward(const Op& op, const A&... xs) {
        if constexpr (detail::has_forward<Op>::value) {
            return op.forward(xs...);
        } else {
            return Kind::forward(op, xs...);
        }
    }
    static Tensor jvp(const Op& op, const std::vector<Tensor>& in, const Tensor& out, const std::vector<Tensor>& t) {
        if constexpr (detail::has_jvp<Op>::value) {
            return op.jvp(in, out, t);
        } else {
            return Kind::jvp(op, in, out, t);
        }
    }
    static_assert(!(detail::has_vjp<Op>::value && detail::has_vjp_all<Op>::value),
                  "an op defines vjp or vjp_all, not both");
    // The op's own VJP rule: vjp or vjp_all.
    static constexpr bool own_vjp = detail::has_vjp<Op>::value || detail::has_vjp_all<Op>::value;
    static Tensor vjp(const Op& op, const std::vector<Tensor>& in, const Tensor& out, const Tensor& ct, std::size_t i) {
        if constexpr (detail::has_vjp<Op>::value) {
            return op.vjp(in, out, ct, i);
        } else if constexpr (detail::has_vjp_all<Op>::value) {
            std::vector<char> wanted(in.size(), 0);
            wanted.at(i) = 1;
            std::vector<Tensor> all = op.vjp_all(in, out, ct, wanted);
            return i < all.size() ? std::move(all[i]) : Tensor();
        } else {
            return Kind::vjp(op, in, out, ct, i);
        }
    }
    // vjp() given up the cotangent: the kind's derived rule may reuse its buffer; an op's own vjp is just called.
    static Tensor vjp_reusing(const Op& op, const std::vector<Tensor>& in, const Tensor& out, Tensor ct,
                              std::size_t i) {
        if constexpr (detail::kind_vjp_reusing<Kind, Op>::value && !own_vjp) {
            return Kind::vjp_reusing(op, in, out, std::move(ct), i);
        } else {
            return vjp(op, in, out, ct, i);
        }
    }
    // Rules for sparse-row directions: the op's own, else its kind's (derived from the same maths as the kind's
    // dense rule, so only while the op keeps that rule), else none: undefined, and the sweep makes them dense.
    static Directions jvp_sparse(const Op& op, const std::vector<Tensor>& in, const Tensor& out,
                                 const std::vector<Directions>& t) {
        if constexpr (detail::has_jvp_sparse<Op>::value) {
            return op.jvp_sparse(in, out, t);
        } else if constexpr (detail::kind_jvp_sparse<Kind, Op>::value && !detail::has_jvp<Op>::value) {
            return Kind::jvp_sparse(op, in, out, t);
        } else {
            (void)op, (void)in, (void)out, (void)t;
            return {};
        }
    }
    static Directions vjp_sparse(const Op& op, const std::vector<Tensor>& in, const Tensor& out, const Directions& ct,
                                 std::size_t i) {
        if constexpr (detail::has_vjp_sparse<Op>::value) {
            return op.vjp_sparse(in, out, ct, i);
        } else if constexpr (detail::kind_vjp_sparse<Kind, Op>::value && !own_vjp) {
            return Kind::vjp_sparse(op, in, out, ct, i);
        } else {
            (void)op, (void)in, (void)out, (void)ct, (void)i;
            return {};
        }
    }
    static Locality locality(const Op& op, const std::vector<Shape>& in, const Shape& out,
                             const std::vector<char>& varies) {
        if constexpr (detail::has_locality<Op>::value) {
            return op.locality(in, out, varies);
        } else if constexpr (detail::has_pointwise<Op>::value) {
            return Locality::elementwise;
        } else if constexpr (std::is_same_v<Kind, Custom> || std::is_same_v<Kind, LinearMap>) {
            return Locality::none;
        } else {
            return Kind::locality(in, out, varies);
        }
    }
    static std::vector<OpSample> samples(Generator& gen) {
        if constexpr (detail::has_samples<Op>::value) {
            return Op::samples(gen);
        } else {
            return Kind::template samples<Op>(gen);
        }
    }
};

/// The name of `op` (its display_name() if it has one).
template <class Op>
const char* op_name(const Op& op) {
    if constexpr (detail::has_display_name<Op>::value) {
        return op.display_name();
    } else {
        (void)op;
        return Op::name;
    }
}

/// The graph node of one application of `Op` (holds the op's parameters).
template <class Op>
class OpNode final : public Node {
public:
    /// Records `op` producing `value` from `inputs`.
    OpNode(Op op, Array value, std::vector<std::shared_ptr<Node>> inputs)
        : Node(std::move(value), std::move(inputs)), op_(std::move(op)) {}
    /// The op's name (an op whose name is chosen at run time, like a custom function, gives display_name()).
    const char* name() const override { return op_name(op_); }
    /// Always true.
    bool has_op() const override { return true; }
    /// The op's JVP rule.
    Tensor jvp(const std::vector<Tensor>& in, const Tensor& out, const std::vector<Tensor>& t) const override {
        return OpRules<Op>::jvp(op_, in, out, t);
    }
    /// The op's VJP rule.
    Tensor vjp(const std::vector<Tensor>& in, const Tensor& out, const Tensor& ct, std::size_t i) const override {
        return OpRules<Op>::vjp(op_, in, out, ct, i);
    }
    /// True if the op defines vjp_all (the sweep then asks it once for all the inputs it needs).
    bool has_vjp_all() const override { return detail::has_vjp_all<Op>::value; }
    /// The op's joint VJP rule (its vjp_all, else Node's vjp per wanted input).
    std::vector<Tensor> vjp_all(const std::vector<Tensor>& in, const Tensor& out, const Tensor& ct,
                                const std::vector<char>& wanted) const override {
        if constexpr (detail::has_vjp_all<Op>::value) {
            return op_.vjp_all(in, out, ct, wanted);
        } else {
            return Node::vjp_all(in, out, ct, wanted);
        }
    }
    /// The op's VJP rule, reusing the cotangent's buffer when its kind can.
    Tensor vjp_reusing(const std::vector<Tensor>& in, const Tensor& out, Tensor ct, std::size_t i) const override {
        return OpRules<Op>::vjp_reusing(op_, in, out, std::move(ct), i);
    }
    /// The op's JVP rule for sparse-row tangents (undefined if it has none).
    Directions jvp_sparse(const std::vector<Tensor>& in, const Tensor& out,
                          const std::vector<Directions>& t) const override {
        return OpRules<Op>::jvp_sparse(op_, in, out, t);
    }
    /// The op's VJP rule for a sparse-row cotangent (undefined if it has none).
    Directions vjp_sparse(const std::vector<Tensor>& in, const Tensor& out, const Directions& ct,
                          std::size_t i) const override {
        return OpRules<Op>::vjp_sparse(op_, in, out, ct, i);
    }
    /// The op's locality (its own `locality(in, out, varies)`, else its kind's, else none).
    Locality locality(const std::vector<char>& varies) const override {
        std::vector<Shape> in;
        for (const auto& n : inputs()) in.push_back(n->value().shape());
        return OpRules<Op>::locality(op_, in, value().shape(), varies);
    }

private:
    Op op_;
};

namespace detail {

// Inside an eager jvp: gives `out` its tangent. An op that recorded because f captured a tensor requiring grad
// (a module's parameter) still gets one: the jvp hands back plain tensors either way, so the recorded path would
// compute the same tangent from a second run of f.
template <class Op>
void dual_step(const Op& op, const std::vector<Tensor>& in, const Tensor& out) {
    dual_propagate(op_name(op), in, out,
                   [&](const std::vector<Tensor>& t) { return OpRules<Op>::jvp(op, in, out, t); });
}

}  // namespace detail

/// Computes `op` on the inputs' values; records a node if grad mode is on and some input requires grad.
template <class Op, class... Ts>
Tensor apply(const Op& op, const Ts&... xs) {
    static_assert((std::is_same_v<Ts, Tensor> && ...), "apply takes Tensors");
    Array y = OpRules<Op>::forward(op, xs.value()...);
    if (anomaly_enabled()) check_anomaly(y, op_name(op), "output", CallSite::current());
    const bool record = grad_enabled() && (xs.needs_grad() || ...);
    const Tensor out =
        record ? Tensor(make_pooled<OpNode<Op>>(op, std::move(y), std::vector<std::shared_ptr<Node>>{xs.node()...}))
               : Tensor(std::move(y));
    if (detail::dual_active()) detail::dual_step(op, {xs...}, out);
    return out;
}

/// apply() for ops taking a list of inputs (`forward(const std::vector<Array>&)`).
template <class Op>
Tensor apply_list(const Op& op, const std::vector<Tensor>& xs) {
    std::vector<Array> values;
    bool record = false;
    for (const auto& x : xs) {
        values.push_back(x.value());
        record |= x.needs_grad();
    }
    Array y = op.forward(values);
    if (anomaly_enabled()) check_anomaly(y, op_name(op), "output", CallSite::current());
    record &= grad_enabled();
    Tensor out;
    if (record) {
        std::vector<std::shared_ptr<Node>> nodes;
        for (const auto& x : xs) nodes.push_back(x.node());
        out = Tensor(make_pooled<OpNode<Op>>(op, std::move(y), std::move(nodes)));
    } else {
        out = Tensor(std::move(y));
    }
    if (detail::dual_active()) detail::dual_step(op, xs, out);
    return out;
}

/// Where test samples of an operand are drawn: U(lo, hi), kept `margin` away from each kink.
struct Domain {
    double lo = -2.0, hi = 2.0;
    std::vector<double> kinks = {};
    double margin = 0.05;
};

/// A float64 tensor of `shape` drawn from `d`.
Tensor sample_tensor(const Shape& shape, const Domain& d, Generator& gen);

/// Shapes every unary op is sampled at: {}, {3}, {2,3}.
const std::vector<Shape>& unary_sample_shapes();
/// Shape pairs every binary op is sampled at, broadcast pairs included.
const std::vector<std::pair<Shape, Shape>>& binary_sample_shapes();

/// An OpInfo for `Op` (its name and samples).
template <class Op>
OpInfo op_info() {
    return OpInfo{Op::name, [](Generator& gen) { return OpRules<Op>::samples(gen); }};
}

/// The list of `Ops...`.
template <class... Ops>
OpList op_list() {
    return OpList{op_info<Ops>()...};
}

/// Samples of a one-input op at unary_sample_shapes().
template <class Op>
std::vector<OpSample> unary_samples(const Op& op, const Domain& domain, Generator& gen) {
    std::vector<OpSample> out;
    for (const auto& s : unary_sample_shapes()) {
        out.push_back({std::string(Op::name) + " " + shape_str(s),
                       {sample_tensor(s, domain, gen)},
                       [op](const std::vector<Tensor>& xs) { return apply(op, xs[0]); }});
    }
    return out;
}

/// Elementwise unary op: the op gives `f(expr)` (an xtensor expression) and `d(x, y)`, the derivative dy/dx;
/// derived: jvp = d ⊙ ẋ, vjp = d ⊙ ȳ. Written as a template (`template <class X> auto d(const X& x, const X& y)`,
/// literals through `lit`), one `d` serves both Tensors (recorded under create_graph) and array views: with
/// recording off, d ⊙ ẋ is then one fused pass with the same values. A piecewise-constant derivative (a mask)
/// sets `static constexpr bool constant_d = true` and is only ever evaluated on views. Optional:
/// `static Domain domain()`, `static std::vector<Op> examples()` (parameter choices to test).
struct Elementwise {
    static Locality locality(const std::vector<Shape>&, const Shape&, const std::vector<char>&) {
        return Locality::elementwise;
    }
    template <class Op>
    static Array forward(const Op& op, const Array& x) {
        return map(x, [&op](const auto& a) { return op.f(a); });
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
                map_rows_in_place<1>(times_d_kernel(op), ct.node()->value_mut(), x[0].value(), y.value())) {
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
        if constexpr (detail::constant_d<Op>::value) {
            return Tensor(
                map_rows<0>([&op](const auto& xv, const auto& yv) { return op.d(xv, yv); }, x.value(), y.value()));
        } else {
            return op.d(x, y);
        }
    }
    // Sparse rows stay sparse: direction r of d ⊙ ẋ is d's row index[r] times ẋ's values[r] (likewise for ȳ).
    template <class Op>
    static Directions jvp_sparse(const Op& op, const std::vector<Tensor>& x, const Tensor& y,
                                 const std::vector<Directions>& t) {
        if (!t[0].sparse()) return {};
        return t[0].with_values(t[0].gather(d_of(op, x[0], y)) * t[0].values());
    }
    template <class Op>
    static Directions vjp_sparse(const Op& op, const std::vector<Tensor>& x, const Tensor& y, const Directions& ct,
                                 std::size_t) {
        if (!ct.sparse()) return {};
        return ct.with_values(ct.gather(d_of(op, x[0], y)) * ct.values());
    }
    template <class Op>
    static std::vector<OpSample> samples(Generator& gen) {
        Domain domain;
        if constexpr (detail::has_domain<Op>::value) domain = Op::domain();
        std::vector<Op> examples{Op{}};
        if constexpr (detail::has_examples<Op>::value) examples = Op::examples();
        std::vector<OpSample> out;
        for (const Op& op : examples) {
            for (auto& s : unary_samples(op, domain, gen)) out.push_back(std::move(s));
        }
        return out;
    }
};

/// Binary op with numpy broadcasting: the op gives `f(a, b)` and the partials `da(a, b, y)`, `db(a, b, y)`;
/// derived: tangents aligned to the output, ẏ = ∂a ⊙ ȧ + ∂b ⊙ ḃ, and x̄ᵢ = sum_to(∂ᵢ ⊙ ȳ, shape of xᵢ).
/// Optional: `static Domain domain_b()` (denominators), `static double separation()` (min |a - b|, for kinks
/// at a = b).
struct Binary {
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
                return fused_jvp(op, x, y, t);
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
                const Array &a = x[0].value(), &b = x[1].value(), &yv = y.value();
                Array g = i == 0 ? map_rows<1>([&op](const auto& s, const auto& p, const auto& q,
                                                     const auto& r) { return op.da(p, q, r) * s; },
                                               ct.value(), a, b, yv)
                                 : map_rows<1>([&op](const auto& s, const auto& p, const auto& q,
                                                     const auto& r) { return op.db(p, q, r) * s; },
                                               ct.value(), a, b, yv);
                return Tensor(std::move(g).reshaped(batched_shape(ct.shape()[0], x[i].shape())));
            }
        }
        Tensor g = partial(op, x, y, i) * ct;
        return sum_to_core(g, Shape(g.shape().begin() + 1, g.shape().end()), x[i].shape());
    }
    template <class Op>
    static std::vector<OpSample> samples(Generator& gen) {
        Domain db;
        if constexpr (detail::has_domain_b<Op>::value) db = Op::domain_b();
        double gap = 0.0;
        if constexpr (detail::has_separation<Op>::value) gap = Op::separation();
        std::vector<OpSample> out;
        for (const auto& [sa, sb] : binary_sample_shapes()) {
            Tensor a, b;
            do {
                a = sample_tensor(sa, {}, gen);
                b = sample_tensor(sb, db, gen);
            } while (gap > 0 && !separated(a, b, gap));
            out.push_back({std::string(Op::name) + " " + shape_str(sa) + "·" + shape_str(sb),
                           {a, b},
                           [](const std::vector<Tensor>& xs) { return apply(Op{}, xs[0], xs[1]); }});
        }
        return out;
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
    // ẏ = ∂a ⊙ ȧ + ∂b ⊙ ḃ in one pass (recording off, operands laid out as the output), shaped (k, y.shape).
    template <class Op>
    static Tensor fused_jvp(const Op& op, const std::vector<Tensor>& x, const Tensor& y, const std::vector<Tensor>& t) {
        const Array &a = x[0].value(), &b = x[1].value(), &yv = y.value();
        Array r;
        if (t[0].defined() && t[1].defined()) {
            r = map_rows<2>([&op](const auto& ta, const auto& tb, const auto& p, const auto& q,
                                  const auto& q2) { return op.da(p, q, q2) * ta + op.db(p, q, q2) * tb; },
                            t[0].value(), t[1].value(), a, b, yv);
        } else if (t[0].defined()) {
            r = map_rows<1>(
                [&op](const auto& s, const auto& p, const auto& q, const auto& q2) { return op.da(p, q, q2) * s; },
                t[0].value(), a, b, yv);
        } else {
            r = map_rows<1>(
                [&op](const auto& s, const auto& p, const auto& q, const auto& q2) { return op.db(p, q, q2) * s; },
                t[1].value(), a, b, yv);
        }
        const std::size_t k = (t[0].defined() ? t[0] : t[1]).shape()[0];
        return Tensor(std::move(r).reshaped(batched_shape(k, y.shape())));
    }
    template <class Op>
    static Tensor partial(const Op& op, const std::vector<Tensor>& x, const Tensor& y, std::size_t i) {
        return i == 0 ? op.da(x[0], x[1], y) : op.db(x[0], x[1], y);
    }
    static bool separated(const Tensor& a, const Tensor& b, double gap);
};

/// LinearMap op (a linear map of its one input: neg, reshape, sum, …): the op gives `forward` (keeping leading axes) and `transpose(ct)`, its adjoint written with ops;
/// derived: jvp = the op applied to ẋ, vjp = transpose(ȳ). LinearMap ops give their own `samples`. A pointwise op that
/// is its own transpose may instead give `f(expr)` (as Elementwise ops do) and `static constexpr bool
/// self_adjoint = true`: forward maps f, transpose applies the op, and an eager sweep maps f over ȳ in place.
struct LinearMap {
    template <class Op>
    static Array forward(const Op& op, const Array& x) {
        return map(x, [&op](const auto& a) { return op.f(a); });
    }
    template <class Op>
    static Tensor jvp(const Op& op, const std::vector<Tensor>&, const Tensor&, const std::vector<Tensor>& t) {
        return apply(op, t[0]);
    }
    template <class Op>
    static Tensor vjp(const Op& op, const std::vector<Tensor>&, const Tensor&, const Tensor& ct, std::size_t) {
        if constexpr (detail::self_adjoint<Op>::value && !detail::has_transpose<Op>::value) {
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
        if constexpr (detail::self_adjoint<Op>::value && !detail::has_transpose<Op>::value) {
            if (!grad_enabled() && !anomaly_enabled() && sole_owner(ct) &&
                map_rows_in_place<0>([&op](const auto& a) { return op.f(a); }, ct.node()->value_mut())) {
                return ct;
            }
        }
        return vjp(op, in, out, ct, i);
    }
};

}  // namespace adg
