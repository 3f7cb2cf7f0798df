#pragma once
/// \file Reusing a cotangent's buffer: what an eager reverse sweep does for rules that map its cotangent
/// elementwise, instead of allocating a result and freeing the cotangent (on long chains of small ops the
/// allocator was a fifth of the sweep).

#include <adgraph/autodiff/node.hpp>
#include <adgraph/tensor/elementwise.hpp>

namespace adg {

/// True if `t` can be overwritten without anyone seeing it: this handle is the only one to its node, which is a
/// constant (no op, no requires_grad) whose buffer no other Array shares.
inline bool sole_owner(const Tensor& t) {
    const std::shared_ptr<Node>& n = t.node();
    return n && n.use_count() == 1 && !n->has_op() && !n->needs_grad() && n->value().unique();
}

/// map_rows() writing into `first`'s own buffer, which it also reads as operand 0: bitwise the values map_rows
/// gives (the same kernel over the same, equally aligned, rows), with no allocation. Returns false, touching
/// nothing, if the operands do not fit (dtypes differ or sizes do not match): map_rows then says why.
template <std::size_t B, class F, class... A>
bool map_rows_in_place(F&& f, Array& first, const A&... rest) {
    static_assert(B <= sizeof...(A), "map_rows_in_place: the last array must be core-shaped");
    constexpr std::size_t N = 1 + sizeof...(A);
    const std::array<const Array*, N> all{&first, &rest...};
    for (const Array* a : all) {
        if (a->dtype() != first.dtype()) return false;
    }
    const std::size_t n = all[N - 1]->size();
    const std::size_t total = first.size();
    if (n == 0 || total % n != 0) return false;
    const std::size_t k = total / n;
    for (std::size_t j = 0; j < N; ++j) {
        if (all[j]->size() != (j + 1 <= B ? k * n : n)) return false;
    }
    first.visit_mut([&](auto& out) {
        using T = typename std::decay_t<decltype(out)>::value_type;
        std::array<const T*, N> p{};
        for (std::size_t j = 0; j < N; ++j) p[j] = all[j]->template get<T>().data();
        detail::eval_rows<B, N>(out.data(), p.data(), k, n, f);
    });
    return true;
}

}  // namespace adg
