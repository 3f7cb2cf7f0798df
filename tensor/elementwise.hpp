#pragma once
/// \file map / zip: evaluate an xtensor expression over one or two Arrays into a new Array.
/// Included by op implementation files (it pulls in xtensor's math headers).

#include <algorithm>
#include <array>
#include <utility>

#include <xtensor/xadapt.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xnoalias.hpp>

#include <adgraph/tensor/array.hpp>
#include <adgraph/tensor/parallel.hpp>

namespace adg {

namespace detail {

// A non-owning 1-D view; the pointer is passed as a prvalue so the adaptor stores it by value.
template <class T>
auto flat_view(T* p, std::size_t n) {
    return xt::adapt(static_cast<T*>(p), n, xt::no_ownership(), std::array<std::size_t, 1>{n});
}

// True when `small` (leading 1s ignored) equals the trailing axes of `big`: `small` repeats over rows of `big`.
inline bool is_row_suffix(const Shape& small, const Shape& big) {
    std::size_t s = 0;
    while (s < small.size() && small[s] == 1) ++s;
    const std::size_t n = small.size() - s;
    if (n > big.size()) return false;
    return std::equal(small.begin() + static_cast<long>(s), small.end(), big.end() - static_cast<long>(n));
}

// Parts of a flat range start on SIMD alignment boundaries (buffers are aligned), so each part evaluates exactly
// as the same elements do in one pass: xtensor computes an unaligned head in scalar code.
template <class T>
constexpr std::size_t simd_elements() {
    return std::max<std::size_t>(XTENSOR_DEFAULT_ALIGNMENT / sizeof(T), 1);
}

// Calls g(begin, end) over parts of the flat range [0, n), in parallel when it is long.
template <class T, class G>
void for_flat(std::size_t n, G&& g) {
    parallel_for(n, parallel_grain, simd_elements<T>(), g);
}

}  // namespace detail

/// `f(x)` evaluated elementwise into a new Array of x's dtype; `f` maps an xtensor expression to one.
template <class F>
Array map(const Array& x, F&& f) {
    return x.visit([&](const auto& a) {
        using T = typename std::decay_t<decltype(a)>::value_type;
        auto r = new_xarray<T>(a.shape(), "map");
        detail::for_flat<T>(r.size(), [&](std::size_t i0, std::size_t i1) {
            auto rv = detail::flat_view(r.data() + i0, i1 - i0);
            xt::noalias(rv) = f(detail::flat_view(a.data() + i0, i1 - i0));
        });
        return Array(std::move(r));
    });
}

/// `f(a, b)` with numpy broadcasting into a new Array; throws shape_error / dtype_error naming `op`.
/// Same-size operands and operands repeated over rows (bias, batched directions) take contiguous paths:
/// xtensor's generic broadcasting path is several times slower (see docs/design.md).
template <class F>
Array zip(const Array& a, const Array& b, const char* op, F&& f) {
    check_same_dtype(a, b, op);
    const Shape out = broadcast_shape(a.shape(), b.shape(), op);
    return a.visit([&](const auto& x) {
        using T = typename std::decay_t<decltype(x)>::value_type;
        const auto& y = b.get<T>();
        auto r = new_xarray<T>(out, op);
        const std::size_t n = r.size(), nx = x.size(), ny = y.size();
        using detail::flat_view;
        if (n == 0) return Array(std::move(r));
        if (nx == n && ny == n) {
            detail::for_flat<T>(n, [&](std::size_t i0, std::size_t i1) {
                auto rv = flat_view(r.data() + i0, i1 - i0);
                xt::noalias(rv) = f(flat_view(x.data() + i0, i1 - i0), flat_view(y.data() + i0, i1 - i0));
            });
        } else if (nx == n && ny == 1) {
            detail::for_flat<T>(n, [&](std::size_t i0, std::size_t i1) {
                auto rv = flat_view(r.data() + i0, i1 - i0);
                xt::noalias(rv) = f(flat_view(x.data() + i0, i1 - i0), xt::xscalar<T>(y.data()[0]));
            });
        } else if (ny == n && nx == 1) {
            detail::for_flat<T>(n, [&](std::size_t i0, std::size_t i1) {
                auto rv = flat_view(r.data() + i0, i1 - i0);
                xt::noalias(rv) = f(xt::xscalar<T>(x.data()[0]), flat_view(y.data() + i0, i1 - i0));
            });
        } else if (nx == n && detail::is_row_suffix(y.shape(), out)) {
            const auto yv = flat_view(y.data(), ny);
            parallel_rows(n / ny, ny, [&](std::size_t row) {
                auto rv = flat_view(r.data() + row * ny, ny);
                xt::noalias(rv) = f(flat_view(x.data() + row * ny, ny), yv);
            });
        } else if (ny == n && detail::is_row_suffix(x.shape(), out)) {
            const auto xv = flat_view(x.data(), nx);
            parallel_rows(n / nx, nx, [&](std::size_t row) {
                auto rv = flat_view(r.data() + row * nx, nx);
                xt::noalias(rv) = f(xv, flat_view(y.data() + row * nx, nx));
            });
        } else {
            xt::noalias(r) = f(x, y);
        }
        return Array(std::move(r));
    });
}

namespace detail {

// Assigns f(views...) to `out` in one full-expression, so views that f's expression refers to outlive it. Batch
// operands (the first B) start at row_offset + at, the others at `at`.
template <std::size_t B, class T, class F, std::size_t... Is>
void assign_rows(T* out, const T* const* p, std::size_t row_offset, std::size_t at, std::size_t n, F& f,
                 std::index_sequence<Is...>) {
    auto rv = flat_view(out, n);
    xt::noalias(rv) = f(flat_view(p[Is] + (Is < B ? row_offset : 0) + at, n)...);
}

// Evaluates map_rows' k rows of n elements into `out` (which may be operand 0's own buffer): one row in aligned
// parts, several rows whole rows per part.
template <std::size_t B, std::size_t N, class T, class F>
void eval_rows(T* out, const T* const* p, std::size_t k, std::size_t n, F& f) {
    constexpr auto all_operands = std::make_index_sequence<N>{};
    if (k == 1) {
        for_flat<T>(
            n, [&](std::size_t i0, std::size_t i1) { assign_rows<B>(out + i0, p, 0, i0, i1 - i0, f, all_operands); });
    } else {
        parallel_rows(k, n, [&](std::size_t i) { assign_rows<B>(out + i * n, p, i * n, 0, n, f, all_operands); });
    }
}

}  // namespace detail

/// True when map_rows over `batch` (k rows of `core`'s size) gives each row bitwise what one evaluation over
/// `core` gives: k = 1, or rows spanning whole SIMD alignments. (xtensor evaluates the unaligned head of an
/// output in scalar code, and xsimd's transcendental functions may differ from the scalar ones in the last bit.)
inline bool rows_match_single(const Array& batch, const Array& core) {
    const std::size_t n = core.size();
    if (n == 0 || batch.size() == n) return true;
    const std::size_t bytes = n * (batch.dtype() == Dtype::f32 ? sizeof(float) : sizeof(double));
    return bytes % std::max<std::size_t>(XTENSOR_DEFAULT_ALIGNMENT, 1) == 0;
}

/// `f(views...)` evaluated into a new Array shaped like `first`, all operands of one dtype. The first `B`
/// arrays are batches (k, core...), the others have the core shape and are reused for each of the k rows (the
/// last one gives the core size). One pass, one allocation: this is how rules fuse when nothing is recorded.
template <std::size_t B, class F, class... A>
Array map_rows(F&& f, const Array& first, const A&... rest) {
    static_assert(B <= sizeof...(A), "map_rows: the last array must be core-shaped");
    return first.visit([&](const auto& a0) {
        using T = typename std::decay_t<decltype(a0)>::value_type;
        constexpr std::size_t N = 1 + sizeof...(A);
        const std::array<const Array*, N> all{&first, &rest...};
        const std::size_t n = all[N - 1]->size();
        auto r = new_xarray<T>(a0.shape(), "map_rows");
        if (r.size() == 0) return Array(std::move(r));
        const std::size_t k = r.size() / n;
        std::array<const T*, N> p{};
        for (std::size_t j = 0; j < N; ++j) {
            const std::size_t want = j + 1 <= B ? k * n : n;
            if (all[j]->size() != want) {
                throw shape_error("map_rows: operand " + std::to_string(j) + " has shape " +
                                  shape_str(all[j]->shape()) + " where " + std::to_string(want) +
                                  " elements were expected");
            }
            p[j] = all[j]->template get<T>().data();
        }
        detail::eval_rows<B, N>(r.data(), p.data(), k, n, f);
        return Array(std::move(r));
    });
}

}  // namespace adg
