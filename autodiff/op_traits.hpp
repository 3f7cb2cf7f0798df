#pragma once
/// \file What an op defines itself, tested at compile time: op.hpp's OpRules take the op's own member where there is
/// one and derive the rest from its kind. Only rules and hooks are detected by name here: each has a correct
/// fallback (the kind's derived rule, or no fast path). Settings that change what is tested or computed
/// (domain, examples, constant_d, self_adjoint, pointwise, ...) are calls on the op's `kind` value (op_kinds.hpp),
/// so a misspelt one is a compile error rather than a silent default.

#include <type_traits>
#include <utility>

#include <adgraph/tensor/elementwise.hpp>

namespace adg {

namespace detail {

// has_<member><Op>: whether Op defines that member itself (then it wins over the kind's derivation).
#define ADG_HAS_MEMBER(member)                \
    template <class Op, class = void>         \
    struct has_##member : std::false_type {}; \
    template <class Op>                       \
    struct has_##member<Op, std::void_t<decltype(&Op::member)>> : std::true_type {};
ADG_HAS_MEMBER(forward)
ADG_HAS_MEMBER(jvp)
ADG_HAS_MEMBER(vjp)
ADG_HAS_MEMBER(vjp_all)
ADG_HAS_MEMBER(samples)
ADG_HAS_MEMBER(display_name)
ADG_HAS_MEMBER(locality)
ADG_HAS_MEMBER(transpose)
#undef ADG_HAS_MEMBER

// Sparse-row rules (directions.hpp): the op's own member, or its kind's template for Op.
template <class Op, class = void>
struct has_jvp_sparse : std::false_type {};
template <class Op>
struct has_jvp_sparse<Op, std::void_t<decltype(&Op::jvp_sparse)>> : std::true_type {};
template <class Op, class = void>
struct has_transpose_add : std::false_type {};
template <class Op>
struct has_transpose_add<Op, std::void_t<decltype(&Op::transpose_add)>> : std::true_type {};
template <class Op, class = void>
struct has_vjp_sparse : std::false_type {};
template <class Op>
struct has_vjp_sparse<Op, std::void_t<decltype(&Op::vjp_sparse)>> : std::true_type {};
template <class Kind, class Op, class = void>
struct kind_jvp_sparse : std::false_type {};
template <class Kind, class Op>
struct kind_jvp_sparse<Kind, Op, std::void_t<decltype(&Kind::template jvp_sparse<Op>)>> : std::true_type {};
template <class Kind, class Op, class = void>
struct kind_vjp_sparse : std::false_type {};
template <class Kind, class Op>
struct kind_vjp_sparse<Kind, Op, std::void_t<decltype(&Kind::template vjp_sparse<Op>)>> : std::true_type {};
template <class Kind, class Op, class = void>
struct kind_vjp_reusing : std::false_type {};
template <class Kind, class Op>
struct kind_vjp_reusing<Kind, Op, std::void_t<decltype(&Kind::template vjp_reusing<Op>)>> : std::true_type {};

// The 1-D view rules see when they are fused (see map_rows).
using FloatView = decltype(flat_view(static_cast<const float*>(nullptr), 0));

// fused_d<Op>: Op's derivative `d(x, y)` is generic (a template), so it also evaluates on array views.
template <class Op, class = void>
struct fused_d : std::false_type {};
template <class Op>
struct fused_d<Op, std::void_t<decltype(std::declval<const Op&>().d(
                       std::declval<const FloatView&>(), std::declval<const FloatView&>()))>> : std::true_type {};

// fused_partials<Op>: Op's partials `da`, `db` are generic, as above.
template <class Op, class = void>
struct fused_partials : std::false_type {};
template <class Op>
struct fused_partials<
    Op, std::void_t<
            decltype(std::declval<const Op&>().da(std::declval<const FloatView&>(), std::declval<const FloatView&>(),
                                                  std::declval<const FloatView&>())),
            decltype(std::declval<const Op&>().db(std::declval<const FloatView&>(), std::declval<const FloatView&>(),
                                                  std::declval<const FloatView&>()))>> : std::true_type {};

// kind_locality<Kind>: the kind derives a locality from the shapes (Elementwise, Binary).
template <class Kind, class = void>
struct kind_locality : std::false_type {};
template <class Kind>
struct kind_locality<Kind, std::void_t<decltype(&Kind::locality)>> : std::true_type {};

}  // namespace detail

}  // namespace adg
