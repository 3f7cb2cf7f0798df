#pragma once
/// \file The op framework: OpRules (an op's own member, else its kind's derivation), OpNode (the graph node of one
/// application) and apply(). How to write an op, and the kinds that derive rules from a little maths, are in
/// op_kinds.hpp.

#include <type_traits>
#include <utility>
#include <vector>

#include <adgraph/autodiff/dual.hpp>
#include <adgraph/autodiff/grad_mode.hpp>
#include <adgraph/autodiff/in_place.hpp>
#include <adgraph/autodiff/node.hpp>
#include <adgraph/autodiff/op_traits.hpp>
#include <adgraph/autodiff/ops.hpp>
#include <adgraph/tensor/pool.hpp>

namespace adg {

/// The kind of an op that defines forward, jvp and vjp itself: `static constexpr Custom kind{};`, or
/// `static constexpr Custom kind = Custom().pointwise();` when output element i depends on input element i only.
struct Custom {
    /// True if the op is pointwise (its locality is then elementwise).
    bool is_pointwise = false;
    /// This kind, marked pointwise.
    constexpr Custom pointwise() const {
        Custom k = *this;
        k.is_pointwise = true;
        return k;
    }
};

/// The type of Op's kind (the type of its `static constexpr ... kind` member).
template <class Op>
using kind_of = std::decay_t<decltype(Op::kind)>;

/// What running and differentiating Op means: the op's own member if it has one, else its kind's derivation.
template <class Op>
struct OpRules {
    using Kind = kind_of<Op>;
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
    // vjp() added into `acc`: a linear op's transpose_add, while the op keeps its kind's rule (vjp = transpose).
    static bool vjp_add(const Op& op, const Tensor& ct, Tensor& acc) {
        if constexpr (detail::has_transpose_add<Op>::value && !own_vjp) {
            return op.transpose_add(ct, acc.node()->mutable_value());
        } else {
            (void)op, (void)ct, (void)acc;
            return false;
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
        } else if constexpr (detail::kind_locality<Kind>::value) {
            return Kind::locality(in, out, varies);
        } else {
            return Op::kind.is_pointwise ? Locality::elementwise : Locality::none;
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
    /// The op's VJP rule added into `acc` in place, when it has such a form.
    bool vjp_add(const std::vector<Tensor>&, const Tensor&, const Tensor& ct, std::size_t, Tensor& acc) const override {
        return OpRules<Op>::vjp_add(op_, ct, acc);
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

// The one path of apply(): checks `y` in anomaly mode, records a node when `record` (some input needs grad) and
// grad mode is on, and inside an eager jvp gives the output its tangent. `nodes()` and `inputs()` build the input
// edges and tensors only when they are needed. An op that recorded because f captured a tensor requiring grad (a
// module's parameter) still gets its tangent: the jvp hands back plain tensors either way, so the recorded path
// would compute the same tangent from a second run of f.
template <class Op, class Nodes, class Inputs>
Tensor finish_apply(const Op& op, Array y, bool record, Nodes&& nodes, Inputs&& inputs) {
    if (anomaly_enabled()) check_anomaly(y, op_name(op), "output", CallSite::current());
    const Tensor out =
        record && grad_enabled() ? Tensor(make_pooled<OpNode<Op>>(op, std::move(y), nodes())) : Tensor(std::move(y));
    if (dual_active()) {
        const std::vector<Tensor>& in = inputs();
        dual_propagate(op_name(op), in, out,
                       [&](const std::vector<Tensor>& t) { return OpRules<Op>::jvp(op, in, out, t); });
    }
    return out;
}

}  // namespace detail

/// Computes `op` on the inputs' values; records a node if grad mode is on and some input requires grad.
template <class Op, class... Ts>
Tensor apply(const Op& op, const Ts&... xs) {
    static_assert((std::is_same_v<Ts, Tensor> && ...), "apply takes Tensors");
    return detail::finish_apply(
        op, OpRules<Op>::forward(op, xs.value()...), (xs.needs_grad() || ...),
        [&] { return std::vector<std::shared_ptr<Node>>{xs.node()...}; }, [&] { return std::vector<Tensor>{xs...}; });
}

/// apply() for ops taking a list of inputs (`forward(const std::vector<Array>&)`): the same path. (Not an overload
/// of apply: a call apply(op, vector) would also find std::apply by argument-dependent lookup, and take it.)
template <class Op>
Tensor apply_list(const Op& op, const std::vector<Tensor>& xs) {
    std::vector<Array> values;
    bool record = false;
    for (const auto& x : xs) {
        values.push_back(x.value());
        record |= x.needs_grad();
    }
    return detail::finish_apply(
        op, OpRules<Op>::forward(op, values), record,
        [&] {
            std::vector<std::shared_ptr<Node>> nodes;
            for (const auto& x : xs) nodes.push_back(x.node());
            return nodes;
        },
        [&]() -> const std::vector<Tensor>& { return xs; });
}

}  // namespace adg
