#include <adgraph/tensor/pool2d.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <new>
#include <type_traits>

#include <adgraph/tensor/error.hpp>
#include <adgraph/tensor/parallel.hpp>
#include <adgraph/tensor/size.hpp>

namespace adg::kernels {

namespace {

// The number of (H, W) planes of `s`, after checking that it ends in (h, w); `op` names the caller.
std::size_t planes_of(const Shape& s, std::size_t h, std::size_t w, const char* op) {
    if (s.size() < 2 || s[s.size() - 2] != h || s.back() != w) {
        throw shape_error(std::string(op) + ": shape " + shape_str(s) + " does not end in the (" + std::to_string(h) +
                          ", " + std::to_string(w) + ") plane the pooling was set up for");
    }
    std::size_t n = 1;
    for (std::size_t i = 0; i + 2 < s.size(); ++i) n *= s[i];
    return n;
}

Shape with_plane(Shape s, std::size_t h, std::size_t w) {
    s[s.size() - 2] = h;
    s[s.size() - 1] = w;
    return s;
}

// The rows (or columns) [lo, hi) of the input that window `o` covers, the padding left out.
struct Span {
    std::size_t lo, hi;
};
Span span(std::size_t o, std::size_t stride, std::size_t pad, std::size_t k, std::size_t n) {
    const std::size_t start = o * stride;  // in padded coordinates
    const std::size_t lo = start < pad ? 0 : start - pad;
    const std::size_t hi = std::min(start + k, n + pad) - pad;
    return {lo, std::max(lo, hi)};
}

// take ? a : b for take 0 or 1, without a branch.
template <class T>
T select(std::size_t take, T a, T b) {
    using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
    Bits x, y;
    std::memcpy(&x, &a, sizeof(T));
    std::memcpy(&y, &b, sizeof(T));
    const Bits mask = Bits(0) - static_cast<Bits>(take);
    const Bits r = (x & mask) | (y & ~mask);
    T out;
    std::memcpy(&out, &r, sizeof(T));
    return out;
}

// The spans of the `count` windows along one axis.
std::vector<Span> spans(std::size_t count, std::size_t stride, std::size_t pad, std::size_t k, std::size_t n) {
    std::vector<Span> out(count);
    for (std::size_t o = 0; o < count; ++o) out[o] = span(o, stride, pad, k, n);
    return out;
}

// argmax's entries for the planes of `x` (the planes of one value: no direction axis in front).
std::size_t argmax_planes(const Argmax& argmax, const Pool2d& g, std::size_t planes, const char* op) {
    const std::size_t per_plane = g.oh * g.ow;
    const std::size_t p = per_plane == 0 ? 0 : argmax.size() / per_plane;
    if (p == 0 ? planes != 0 : planes % p != 0) {
        throw shape_error(std::string(op) + ": " + std::to_string(planes) + " planes do not repeat the " +
                          std::to_string(p) + " planes the max pool was recorded for");
    }
    return p;
}

// The common case, 2×2 windows at stride 2 without padding: input rows 2i and 2i + 1 give output row i in one
// branch-free loop that g++ vectorises (-fopt-info-vec: stride-2 loads, compares, mask blends). The window is
// reduced as a tree, max(max(a, b), max(c, d)), with the generic loop's rule at each step; that picks the same
// element as its row-major scan (the first NaN, else the first maximum), since each pair keeps its earlier element
// on a tie and NaN. The comparisons' flags are integers as wide as T (select's mask); the 8-byte position is formed
// once per output. It replaces four passes over the row, each blending 8-byte positions: bench_cnn's max_pool2d forward
// at 1 thread, portable release build, machine shared: pool1 (128,32,28,28) 13.4 -> 1.8-6 ms, pool2 11.9 -> 1.3 ms.
// float64 stays scalar (g++ 12 does not vectorise it) but branch-free. With -march=native on AVX-512, g++ picks
// 16-float vectors that a row of 14 or 7 outputs never fills: 256-bit vectors measured 2.2 ms against 4.8 (pool1).
#if defined(__GNUC__) && !defined(__clang__) && (defined(__x86_64__) || defined(__i386__))
#define ADG_POOL_VECTOR_WIDTH __attribute__((target("prefer-vector-width=256")))
#else
#define ADG_POOL_VECTOR_WIDTH
#endif
template <class T>
ADG_POOL_VECTOR_WIDTH void max_pool_2x2(const T* src, T* dst, std::size_t* idx, std::size_t w, std::size_t oh,
                                        std::size_t ow) {
    using K = std::conditional_t<sizeof(T) == 8, std::uint64_t, std::uint32_t>;
    for (std::size_t i = 0; i < oh; ++i) {
        const T* __restrict r0 = src + 2 * i * w;
        const T* __restrict r1 = r0 + w;
        T* __restrict vals = dst + i * ow;
        std::size_t* __restrict pos = idx + i * ow;
        const std::size_t base = 2 * i * w;
        for (std::size_t j = 0; j < ow; ++j) {
            const T a = r0[2 * j], b = r0[2 * j + 1], c = r1[2 * j], d = r1[2 * j + 1];
            const K top = !(b <= a) & (a == a), bottom = !(d <= c) & (c == c);
            const T m0 = select(top, b, a), m1 = select(bottom, d, c);
            const K down = !(m1 <= m0) & (m0 == m0);
            vals[j] = select(down, m1, m0);
            // k = 2·row + column of the maximum in the window; k in K (not size_t) keeps the loop vectorised.
            const K k = down ? 2 + bottom : top;
            pos[j] = base + 2 * j + (k & 1) + (k >> 1) * w;
        }
    }
}

}  // namespace

Array max_pool2d(const Array& x, const Pool2d& g, Argmax& argmax) {
    const std::size_t planes = planes_of(x.shape(), g.h, g.w, "max_pool2d");
    const std::size_t per_plane = g.oh * g.ow;
    // The indices are 8 bytes, as float64 elements are: the same checked size.
    checked_bytes({planes, g.oh, g.ow}, f64, "max_pool2d");
    try {
        argmax.assign(planes * per_plane, 0);
    } catch (const std::bad_alloc&) {
        throw_out_of_memory({planes, g.oh, g.ow}, f64, "max_pool2d");
    }
    const std::vector<Span> rows = spans(g.oh, g.sh, g.ph, g.kh, g.h), cols = spans(g.ow, g.sw, g.pw, g.kw, g.w);
    // Kernel column b reads input column j·sw + b − pw of window j: the windows [jlo[b], jhi[b]) have it inside.
    std::vector<std::size_t> jlo(g.kw), jhi(g.kw);
    for (std::size_t b = 0; b < g.kw; ++b) {
        jlo[b] = b >= g.pw ? 0 : (g.pw - b + g.sw - 1) / g.sw;
        jhi[b] = std::min(g.ow, g.w + g.pw < b + 1 ? 0 : (g.w + g.pw - b - 1) / g.sw + 1);
    }
    return x.visit([&](const auto& a) {
        using T = typename std::decay_t<decltype(a)>::value_type;
        xt::xarray<T> r = new_xarray<T>(with_plane(x.shape(), g.oh, g.ow), "max_pool2d");
        // Planes in parallel: each writes only its own outputs and indices.
        const bool two_by_two = g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2 && g.ph == 0 && g.pw == 0;
        parallel_rows(planes, g.h * g.w, [&](std::size_t p) {
            const T* src = a.data() + p * g.h * g.w;
            T* dst = r.data() + p * g.oh * g.ow;
            std::size_t* idx = argmax.data() + p * g.oh * g.ow;
            if (two_by_two) return max_pool_2x2(src, dst, idx, g.w, g.oh, g.ow);
            for (const Span& rs : rows) {
                // A row of windows at once, visiting each window's elements in row-major order (u, then b), so
                // the inner loop runs along the windows with few live values and no data-dependent branch.
                for (std::size_t j = 0; j < g.ow; ++j) {
                    idx[j] = rs.lo * g.w + cols[j].lo;  // the first element: padding (−∞) never wins
                    dst[j] = src[idx[j]];
                }
                for (std::size_t u = rs.lo; u < rs.hi; ++u) {
                    for (std::size_t b = 0; b < g.kw; ++b) {
                        // Locals and restrict: the stores to the row buffers must not make the bounds reload.
                        const std::size_t base = u * g.w + b - g.pw;  // + j·sw: wraps below 0 only for j < jlo
                        const std::size_t lo = jlo[b], hi = jhi[b], step = g.sw;
                        const T* __restrict in = src;
                        T* __restrict vals = dst;
                        std::size_t* __restrict pos = idx;
                        for (std::size_t j = lo; j < hi; ++j) {
                            const std::size_t at = base + j * step;
                            const T e = in[at], v = vals[j];
                            // Strictly greater: a tie keeps the first; a NaN (not <= anything) takes over unless
                            // the window's maximum is NaN already.
                            // The selection on integer masks: g++ turns a ?: on floats into a branch, which
                            // random data mispredicts half the time (3x slower).
                            const std::size_t take = static_cast<std::size_t>(!(e <= v) & (v == v));
                            vals[j] = select(take, e, v);
                            pos[j] = (at & (0 - take)) | (pos[j] & (take - 1));
                        }
                    }
                }
                dst += g.ow;
                idx += g.ow;
            }
        });
        return Array(std::move(r));
    });
}

Array pool_gather(const Array& x, const Pool2d& g, const Argmax& argmax) {
    const std::size_t planes = planes_of(x.shape(), g.h, g.w, "max_pool2d gather");
    const std::size_t p0 = argmax_planes(argmax, g, planes, "max_pool2d gather");
    const std::size_t per_plane = g.oh * g.ow;
    return x.visit([&](const auto& a) {
        using T = typename std::decay_t<decltype(a)>::value_type;
        xt::xarray<T> r = new_xarray<T>(with_plane(x.shape(), g.oh, g.ow), "max_pool2d gather");
        parallel_rows(planes, g.h * g.w, [&](std::size_t p) {
            const T* src = a.data() + p * g.h * g.w;
            T* dst = r.data() + p * per_plane;
            const std::size_t* idx = argmax.data() + (p % p0) * per_plane;
            for (std::size_t o = 0; o < per_plane; ++o) dst[o] = src[idx[o]];
        });
        return Array(std::move(r));
    });
}

Array pool_scatter(const Array& y, const Pool2d& g, const Argmax& argmax) {
    const std::size_t planes = planes_of(y.shape(), g.oh, g.ow, "max_pool2d scatter");
    const std::size_t p0 = argmax_planes(argmax, g, planes, "max_pool2d scatter");
    const std::size_t per_plane = g.oh * g.ow;
    return y.visit([&](const auto& a) {
        using T = typename std::decay_t<decltype(a)>::value_type;
        xt::xarray<T> r = new_xarray<T>(with_plane(y.shape(), g.h, g.w), "max_pool2d scatter");
        parallel_rows(planes, g.h * g.w, [&](std::size_t p) {
            const T* src = a.data() + p * per_plane;
            T* dst = r.data() + p * g.h * g.w;
            std::fill(dst, dst + g.h * g.w, T(0));  // zeroed here, while the plane is in cache
            const std::size_t* idx = argmax.data() + (p % p0) * per_plane;
            for (std::size_t o = 0; o < per_plane; ++o) dst[idx[o]] += src[o];
        });
        return Array(std::move(r));
    });
}

Array avg_pool2d(const Array& x, const Pool2d& g) {
    const std::size_t planes = planes_of(x.shape(), g.h, g.w, "avg_pool2d");
    return x.visit([&](const auto& a) {
        using T = typename std::decay_t<decltype(a)>::value_type;
        xt::xarray<T> r = new_xarray<T>(with_plane(x.shape(), g.oh, g.ow), "avg_pool2d");
        const T div = static_cast<T>(g.kh * g.kw);
        parallel_rows(planes, g.h * g.w, [&](std::size_t p) {
            const T* src = a.data() + p * g.h * g.w;
            T* dst = r.data() + p * g.oh * g.ow;
            for (std::size_t i = 0; i < g.oh; ++i) {
                const Span rs = span(i, g.sh, g.ph, g.kh, g.h);
                for (std::size_t j = 0; j < g.ow; ++j, ++dst) {
                    const Span cs = span(j, g.sw, g.pw, g.kw, g.w);
                    T s = 0;
                    for (std::size_t u = rs.lo; u < rs.hi; ++u) {
                        for (std::size_t c = cs.lo; c < cs.hi; ++c) s += src[u * g.w + c];
                    }
                    *dst = s / div;
                }
            }
        });
        return Array(std::move(r));
    });
}

Array avg_pool2d_transpose(const Array& y, const Pool2d& g) {
    const std::size_t planes = planes_of(y.shape(), g.oh, g.ow, "avg_pool2d transpose");
    return y.visit([&](const auto& a) {
        using T = typename std::decay_t<decltype(a)>::value_type;
        xt::xarray<T> r = new_xarray<T>(with_plane(y.shape(), g.h, g.w), "avg_pool2d transpose");
        const T div = static_cast<T>(g.kh * g.kw);
        parallel_rows(planes, g.h * g.w, [&](std::size_t p) {
            const T* src = a.data() + p * g.oh * g.ow;
            T* dst = r.data() + p * g.h * g.w;
            std::fill(dst, dst + g.h * g.w, T(0));
            for (std::size_t i = 0; i < g.oh; ++i) {
                const Span rs = span(i, g.sh, g.ph, g.kh, g.h);
                for (std::size_t j = 0; j < g.ow; ++j, ++src) {
                    const Span cs = span(j, g.sw, g.pw, g.kw, g.w);
                    const T v = *src / div;
                    for (std::size_t u = rs.lo; u < rs.hi; ++u) {
                        for (std::size_t c = cs.lo; c < cs.hi; ++c) dst[u * g.w + c] += v;
                    }
                }
            }
        });
        return Array(std::move(r));
    });
}

}  // namespace adg::kernels
