#include <adgraph/tensor/pool2d.hpp>

#include <algorithm>
#include <cmath>
#include <new>

#include <adgraph/tensor/error.hpp>
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

template <class T>
xt::xarray<T> zeros(const Shape& s, const char* op) {
    xt::xarray<T> r = new_xarray<T>(s, op);
    std::fill(r.data(), r.data() + r.size(), T(0));
    return r;
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
    return x.visit([&](const auto& a) {
        using T = typename std::decay_t<decltype(a)>::value_type;
        xt::xarray<T> r = new_xarray<T>(with_plane(x.shape(), g.oh, g.ow), "max_pool2d");
        const T* src = a.data();
        T* dst = r.data();
        std::size_t* idx = argmax.data();
        for (std::size_t p = 0; p < planes; ++p, src += g.h * g.w) {
            for (std::size_t i = 0; i < g.oh; ++i) {
                const Span rs = span(i, g.sh, g.ph, g.kh, g.h);
                for (std::size_t j = 0; j < g.ow; ++j, ++dst, ++idx) {
                    const Span cs = span(j, g.sw, g.pw, g.kw, g.w);
                    // Start from the window's first element: padding (−∞) never wins.
                    std::size_t best = rs.lo * g.w + cs.lo;
                    T v = src[best];
                    for (std::size_t u = rs.lo; u < rs.hi; ++u) {
                        for (std::size_t c = cs.lo; c < cs.hi; ++c) {
                            const T e = src[u * g.w + c];
                            // Strictly greater: a tie keeps the first; a NaN takes over and then stays.
                            if (!std::isnan(v) && (e > v || std::isnan(e))) {
                                v = e;
                                best = u * g.w + c;
                            }
                        }
                    }
                    *dst = v;
                    *idx = best;
                }
            }
        }
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
        const T* src = a.data();
        T* dst = r.data();
        for (std::size_t p = 0; p < planes; ++p, src += g.h * g.w, dst += per_plane) {
            const std::size_t* idx = argmax.data() + (p % p0) * per_plane;
            for (std::size_t o = 0; o < per_plane; ++o) dst[o] = src[idx[o]];
        }
        return Array(std::move(r));
    });
}

Array pool_scatter(const Array& y, const Pool2d& g, const Argmax& argmax) {
    const std::size_t planes = planes_of(y.shape(), g.oh, g.ow, "max_pool2d scatter");
    const std::size_t p0 = argmax_planes(argmax, g, planes, "max_pool2d scatter");
    const std::size_t per_plane = g.oh * g.ow;
    return y.visit([&](const auto& a) {
        using T = typename std::decay_t<decltype(a)>::value_type;
        xt::xarray<T> r = zeros<T>(with_plane(y.shape(), g.h, g.w), "max_pool2d scatter");
        const T* src = a.data();
        T* dst = r.data();
        for (std::size_t p = 0; p < planes; ++p, src += per_plane, dst += g.h * g.w) {
            const std::size_t* idx = argmax.data() + (p % p0) * per_plane;
            for (std::size_t o = 0; o < per_plane; ++o) dst[idx[o]] += src[o];
        }
        return Array(std::move(r));
    });
}

Array avg_pool2d(const Array& x, const Pool2d& g) {
    const std::size_t planes = planes_of(x.shape(), g.h, g.w, "avg_pool2d");
    return x.visit([&](const auto& a) {
        using T = typename std::decay_t<decltype(a)>::value_type;
        xt::xarray<T> r = new_xarray<T>(with_plane(x.shape(), g.oh, g.ow), "avg_pool2d");
        const T div = static_cast<T>(g.kh * g.kw);
        const T* src = a.data();
        T* dst = r.data();
        for (std::size_t p = 0; p < planes; ++p, src += g.h * g.w) {
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
        }
        return Array(std::move(r));
    });
}

Array avg_pool2d_transpose(const Array& y, const Pool2d& g) {
    const std::size_t planes = planes_of(y.shape(), g.oh, g.ow, "avg_pool2d transpose");
    return y.visit([&](const auto& a) {
        using T = typename std::decay_t<decltype(a)>::value_type;
        xt::xarray<T> r = zeros<T>(with_plane(y.shape(), g.h, g.w), "avg_pool2d transpose");
        const T div = static_cast<T>(g.kh * g.kw);
        const T* src = a.data();
        T* dst = r.data();
        for (std::size_t p = 0; p < planes; ++p, dst += g.h * g.w) {
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
        }
        return Array(std::move(r));
    });
}

}  // namespace adg::kernels
