#include <adgraph/tensor/batch_norm.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include <adgraph/tensor/error.hpp>
#include <adgraph/tensor/parallel.hpp>
#include <adgraph/tensor/size.hpp>

namespace adg::kernels {

namespace {

// x's core viewed as (N, C, S), S the product of the spatial axes (1 for (N, C)).
struct Core {
    std::size_t n = 0, c = 0, s = 1;
    std::size_t size() const { return n * c * s; }
    // Values per channel.
    double count() const { return static_cast<double>(n * s); }
};

Core core_of(const Shape& x) {
    Core k;
    k.n = x.at(0);
    k.c = x.at(1);
    for (std::size_t i = 2; i < x.size(); ++i) k.s *= x[i];
    return k;
}

// The number of directions of `t` (its elements over the core's) after checking that it ends in the core shape.
std::size_t directions(const Array& t, const Shape& core, const char* op) {
    const Shape& s = t.shape();
    if (s.size() < core.size() || !std::equal(core.begin(), core.end(), s.end() - static_cast<long>(core.size()))) {
        throw shape_error(std::string(op) + ": shape " + shape_str(s) + " does not end in the batch's shape " +
                          shape_str(core));
    }
    std::size_t k = 1;
    for (std::size_t i = 0; i + core.size() < s.size(); ++i) k *= s[i];
    return k;
}

Shape lead_of(const Array& t, const Shape& core) {
    return Shape(t.shape().begin(), t.shape().end() - static_cast<long>(core.size()));
}

Shape with_channels(Shape lead, std::size_t c) {
    lead.push_back(c);
    return lead;
}

// Calls f(l, c) for every direction l < dirs and channel c < k.c, in parallel over those pairs when the batch is
// large. Each pair reads and writes only its own channel, in the same order whatever the split, so results do not
// depend on the thread count; one channel's values (N·H·W of them) stay in cache across its passes.
template <class F>
void per_channel(std::size_t dirs, const Core& k, F&& f) {
    const std::size_t per = std::max<std::size_t>(k.n * k.s, 1);
    parallel_for(dirs * k.c, (parallel_grain + per - 1) / per, 1, [&](std::size_t begin, std::size_t end) {
        for (std::size_t p = begin; p < end; ++p) f(p / k.c, p % k.c);
    });
}

// Sums of f(e) over e < n in `lanes` independent double accumulators, added up at the end: one running sum waits
// for each addition (4 cycles) and cannot be vectorised without reordering, which -ffast-math is not there to do;
// fixed lanes vectorise and keep the order (and the result) the same on every run and thread count.
constexpr std::size_t lanes = 8;
template <class F>
void accumulate(std::size_t n, double (&acc)[lanes], F&& f) {
    std::size_t e = 0;
    for (; e + lanes <= n; e += lanes) {
        for (std::size_t j = 0; j < lanes; ++j) acc[j] += f(e + j);
    }
    for (; e < n; ++e) acc[e % lanes] += f(e);
}
double total(const double (&acc)[lanes]) {
    double s = 0;
    for (double a : acc) s += a;
    return s;
}

// Σ t and Σ t·x̂ over channel c of one direction (t and x at the same core offsets).
template <class T>
std::pair<double, double> sums(const T* t, const T* x, const Core& k, std::size_t c, T m, T r) {
    double u[lanes] = {}, v[lanes] = {};
    for (std::size_t n = 0; n < k.n; ++n) {
        const std::size_t at = (n * k.c + c) * k.s;
        const T* tn = t + at;
        const T* xn = x + at;
        accumulate(k.s, u, [&](std::size_t e) { return static_cast<double>(tn[e]); });
        accumulate(k.s, v, [&](std::size_t e) { return static_cast<double>(tn[e] * ((xn[e] - m) * r)); });
    }
    return {total(u), total(v)};
}

}  // namespace

Array batch_norm_forward(const Array& x, const Array& gamma, const Array& beta, double eps, BatchStats& stats) {
    const Core k = core_of(x.shape());
    return x.visit([&](const auto& a) {
        using T = typename std::decay_t<decltype(a)>::value_type;
        const T* px = a.data();
        const T* g = gamma.get<T>().data();
        const T* b = beta.get<T>().data();
        xt::xarray<T> y = new_xarray<T>(x.shape(), "batch_norm");
        xt::xarray<T> mean = new_xarray<T>({k.c}, "batch_norm"), invstd = new_xarray<T>({k.c}, "batch_norm"),
                      var = new_xarray<T>({k.c}, "batch_norm");
        T* py = y.data();
        per_channel(1, k, [&](std::size_t, std::size_t c) {
            // Two passes in double (the mean, then the squares about it), not E[x²] − E[x]², which cancels.
            double s[lanes] = {}, sq[lanes] = {};
            for (std::size_t n = 0; n < k.n; ++n) {
                const T* p = px + (n * k.c + c) * k.s;
                accumulate(k.s, s, [p](std::size_t e) { return static_cast<double>(p[e]); });
            }
            const double mu = total(s) / k.count();
            for (std::size_t n = 0; n < k.n; ++n) {
                const T* p = px + (n * k.c + c) * k.s;
                accumulate(k.s, sq, [p, mu](std::size_t e) {
                    const double d = static_cast<double>(p[e]) - mu;
                    return d * d;
                });
            }
            const double v = total(sq) / k.count();
            const T m = static_cast<T>(mu), r = static_cast<T>(1.0 / std::sqrt(v + eps)), gc = g[c], bc = b[c];
            mean.data()[c] = m;
            var.data()[c] = static_cast<T>(v);
            invstd.data()[c] = r;
            for (std::size_t n = 0; n < k.n; ++n) {
                const std::size_t at = (n * k.c + c) * k.s;
                for (std::size_t e = 0; e < k.s; ++e) py[at + e] = (px[at + e] - m) * r * gc + bc;
            }
        });
        stats = BatchStats{Array(std::move(mean)), Array(std::move(invstd)), Array(std::move(var))};
        return Array(std::move(y));
    });
}

Array batch_norm_project(const Array& x, const BatchStats& stats, const Array& gamma, const Array* t,
                         const Array* dgamma, const Array* dbeta, const Shape& lead) {
    const Core k = core_of(x.shape());
    std::size_t dirs = 1;
    for (auto d : lead) dirs *= d;
    if (t != nullptr && directions(*t, x.shape(), "batch_norm") != dirs) {
        throw shape_error("batch_norm: tangent " + shape_str(t->shape()) + " does not have the leading shape " +
                          shape_str(lead));
    }
    return x.visit([&](const auto& a) {
        using T = typename std::decay_t<decltype(a)>::value_type;
        const T* px = a.data();
        const T* mean = stats.mean.get<T>().data();
        const T* invstd = stats.invstd.get<T>().data();
        const T* g = gamma.get<T>().data();
        const T* pt = t ? t->get<T>().data() : nullptr;
        const T* dg = dgamma ? dgamma->get<T>().data() : nullptr;
        const T* db = dbeta ? dbeta->get<T>().data() : nullptr;
        xt::xarray<T> out = new_xarray<T>(concat_shapes(lead, x.shape()), "batch_norm");
        T* po = out.data();
        per_channel(dirs, k, [&](std::size_t l, std::size_t c) {
            const T* tl = pt ? pt + l * k.size() : nullptr;
            T* ol = po + l * k.size();
            const T m = mean[c], r = invstd[c], co = g[c] * r;
            const T dgc = dg ? dg[l * k.c + c] : T(0), dbc = db ? db[l * k.c + c] : T(0);
            if (tl) {
                const auto [u, v] = sums(tl, px, k, c, m, r);
                const T a1 = static_cast<T>(u / k.count()), a2 = static_cast<T>(v / k.count());
                for (std::size_t n = 0; n < k.n; ++n) {
                    const std::size_t at = (n * k.c + c) * k.s;
                    for (std::size_t e = 0; e < k.s; ++e) {
                        const T xh = (px[at + e] - m) * r;
                        ol[at + e] = co * (tl[at + e] - a1 - xh * a2) + dgc * xh + dbc;
                    }
                }
            } else {
                for (std::size_t n = 0; n < k.n; ++n) {
                    const std::size_t at = (n * k.c + c) * k.s;
                    for (std::size_t e = 0; e < k.s; ++e) ol[at + e] = dgc * ((px[at + e] - m) * r) + dbc;
                }
            }
        });
        return Array(std::move(out));
    });
}

BatchNormGrads batch_norm_backward(const Array& x, const BatchStats& stats, const Array& gamma, const Array& t,
                                   bool want_x) {
    const Core k = core_of(x.shape());
    const std::size_t dirs = directions(t, x.shape(), "batch_norm");
    const Shape out_shape = with_channels(lead_of(t, x.shape()), k.c);
    return x.visit([&](const auto& a) {
        using T = typename std::decay_t<decltype(a)>::value_type;
        const T* px = a.data();
        const T* mean = stats.mean.get<T>().data();
        const T* invstd = stats.invstd.get<T>().data();
        const T* g = gamma.get<T>().data();
        const T* pt = t.get<T>().data();
        xt::xarray<T> sxh = new_xarray<T>(out_shape, "batch_norm"), st = new_xarray<T>(out_shape, "batch_norm");
        xt::xarray<T> dx = want_x ? new_xarray<T>(t.shape(), "batch_norm") : xt::xarray<T>();
        T* pd = want_x ? dx.data() : nullptr;
        per_channel(dirs, k, [&](std::size_t l, std::size_t c) {
            const T* tl = pt + l * k.size();
            const T m = mean[c], r = invstd[c];
            const auto [u, v] = sums(tl, px, k, c, m, r);
            sxh.data()[l * k.c + c] = static_cast<T>(v);
            st.data()[l * k.c + c] = static_cast<T>(u);
            if (!pd) return;
            // The same arithmetic as batch_norm_project with t = ȳ, so x̄ does not depend on which rule made it.
            const T a1 = static_cast<T>(u / k.count()), a2 = static_cast<T>(v / k.count()), co = g[c] * r;
            T* dl = pd + l * k.size();
            for (std::size_t n = 0; n < k.n; ++n) {
                const std::size_t at = (n * k.c + c) * k.s;
                for (std::size_t e = 0; e < k.s; ++e) {
                    const T xh = (px[at + e] - m) * r;
                    dl[at + e] = co * (tl[at + e] - a1 - xh * a2);
                }
            }
        });
        return BatchNormGrads{want_x ? Array(std::move(dx)) : Array(), Array(std::move(sxh)), Array(std::move(st))};
    });
}

Array channel_affine(const Array& x, const Array& scale, const Array* shift, std::size_t core_rank) {
    const Shape& xs = x.shape();
    if (core_rank < 2 || xs.size() < core_rank) {
        throw shape_error("batch_norm: shape " + shape_str(xs) + " has no (N, C) batch in its last " +
                          std::to_string(core_rank) + " axes");
    }
    const std::size_t c = xs[xs.size() - core_rank + 1];
    std::size_t inner = 1;
    for (std::size_t i = xs.size() - core_rank + 2; i < xs.size(); ++i) inner *= xs[i];
    const std::size_t planes = inner == 0 ? 0 : x.size() / inner;
    return x.visit([&](const auto& a) {
        using T = typename std::decay_t<decltype(a)>::value_type;
        const T* px = a.data();
        const T* sc = scale.get<T>().data();
        const T* sh = shift ? shift->get<T>().data() : nullptr;
        xt::xarray<T> y = new_xarray<T>(xs, "batch_norm");
        T* py = y.data();
        parallel_rows(planes, inner, [&](std::size_t p) {
            const std::size_t ch = p % c, at = p * inner;
            const T m = sc[ch], b = sh ? sh[ch] : T(0);
            for (std::size_t e = 0; e < inner; ++e) py[at + e] = px[at + e] * m + b;
        });
        return Array(std::move(y));
    });
}

}  // namespace adg::kernels
