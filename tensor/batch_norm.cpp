#include <adgraph/tensor/batch_norm.hpp>

#include <cmath>
#include <vector>

#include <adgraph/tensor/error.hpp>
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
        // Two passes in double (the mean, then the squares about it), not E[x²] − E[x]², which cancels.
        std::vector<double> sum(k.c, 0.0), mu(k.c), sq(k.c, 0.0);
        for (std::size_t n = 0; n < k.n; ++n) {
            for (std::size_t c = 0; c < k.c; ++c) {
                const T* p = px + (n * k.c + c) * k.s;
                double s = 0;
                for (std::size_t e = 0; e < k.s; ++e) s += static_cast<double>(p[e]);
                sum[c] += s;
            }
        }
        for (std::size_t c = 0; c < k.c; ++c) mu[c] = sum[c] / k.count();
        for (std::size_t n = 0; n < k.n; ++n) {
            for (std::size_t c = 0; c < k.c; ++c) {
                const T* p = px + (n * k.c + c) * k.s;
                const double m = mu[c];
                double s = 0;
                for (std::size_t e = 0; e < k.s; ++e)
                    s += (static_cast<double>(p[e]) - m) * (static_cast<double>(p[e]) - m);
                sq[c] += s;
            }
        }
        for (std::size_t c = 0; c < k.c; ++c) {
            const double v = sq[c] / k.count();
            mean.data()[c] = static_cast<T>(mu[c]);
            var.data()[c] = static_cast<T>(v);
            invstd.data()[c] = static_cast<T>(1.0 / std::sqrt(v + eps));
        }
        T* py = y.data();
        for (std::size_t n = 0; n < k.n; ++n) {
            for (std::size_t c = 0; c < k.c; ++c) {
                const std::size_t at = (n * k.c + c) * k.s;
                const T m = mean.data()[c], r = invstd.data()[c], gc = g[c], bc = b[c];
                for (std::size_t e = 0; e < k.s; ++e) py[at + e] = (px[at + e] - m) * r * gc + bc;
            }
        }
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
        std::vector<double> s1(k.c), s2(k.c);
        std::vector<T> m1(k.c), m2(k.c), coef(k.c);
        for (std::size_t l = 0; l < dirs; ++l) {
            const T* tl = pt ? pt + l * k.size() : nullptr;
            T* ol = out.data() + l * k.size();
            std::fill(s1.begin(), s1.end(), 0.0);
            std::fill(s2.begin(), s2.end(), 0.0);
            if (tl) {
                for (std::size_t n = 0; n < k.n; ++n) {
                    for (std::size_t c = 0; c < k.c; ++c) {
                        const std::size_t at = (n * k.c + c) * k.s;
                        const T m = mean[c], r = invstd[c];
                        double u = 0, v = 0;
                        for (std::size_t e = 0; e < k.s; ++e) {
                            const T te = tl[at + e];
                            u += static_cast<double>(te);
                            v += static_cast<double>(te * ((px[at + e] - m) * r));
                        }
                        s1[c] += u;
                        s2[c] += v;
                    }
                }
            }
            for (std::size_t c = 0; c < k.c; ++c) {
                m1[c] = static_cast<T>(s1[c] / k.count());
                m2[c] = static_cast<T>(s2[c] / k.count());
                coef[c] = g[c] * invstd[c];
            }
            for (std::size_t n = 0; n < k.n; ++n) {
                for (std::size_t c = 0; c < k.c; ++c) {
                    const std::size_t at = (n * k.c + c) * k.s;
                    const T m = mean[c], r = invstd[c], a1 = m1[c], a2 = m2[c], co = coef[c];
                    const T dgc = dg ? dg[l * k.c + c] : T(0), dbc = db ? db[l * k.c + c] : T(0);
                    if (tl) {
                        for (std::size_t e = 0; e < k.s; ++e) {
                            const T xh = (px[at + e] - m) * r;
                            ol[at + e] = co * (tl[at + e] - a1 - xh * a2) + dgc * xh + dbc;
                        }
                    } else {
                        for (std::size_t e = 0; e < k.s; ++e) ol[at + e] = dgc * ((px[at + e] - m) * r) + dbc;
                    }
                }
            }
        }
        return Array(std::move(out));
    });
}

std::pair<Array, Array> batch_norm_channel_sums(const Array& x, const BatchStats& stats, const Array& t) {
    const Core k = core_of(x.shape());
    const std::size_t dirs = directions(t, x.shape(), "batch_norm");
    const Shape out_shape = with_channels(lead_of(t, x.shape()), k.c);
    return x.visit([&](const auto& a) {
        using T = typename std::decay_t<decltype(a)>::value_type;
        const T* px = a.data();
        const T* mean = stats.mean.get<T>().data();
        const T* invstd = stats.invstd.get<T>().data();
        const T* pt = t.get<T>().data();
        xt::xarray<T> sxh = new_xarray<T>(out_shape, "batch_norm"), st = new_xarray<T>(out_shape, "batch_norm");
        std::vector<double> s1(k.c), s2(k.c);
        for (std::size_t l = 0; l < dirs; ++l) {
            const T* tl = pt + l * k.size();
            std::fill(s1.begin(), s1.end(), 0.0);
            std::fill(s2.begin(), s2.end(), 0.0);
            for (std::size_t n = 0; n < k.n; ++n) {
                for (std::size_t c = 0; c < k.c; ++c) {
                    const std::size_t at = (n * k.c + c) * k.s;
                    const T m = mean[c], r = invstd[c];
                    double u = 0, v = 0;
                    for (std::size_t e = 0; e < k.s; ++e) {
                        const T te = tl[at + e];
                        u += static_cast<double>(te);
                        v += static_cast<double>(te * ((px[at + e] - m) * r));
                    }
                    s1[c] += u;
                    s2[c] += v;
                }
            }
            for (std::size_t c = 0; c < k.c; ++c) {
                sxh.data()[l * k.c + c] = static_cast<T>(s2[c]);
                st.data()[l * k.c + c] = static_cast<T>(s1[c]);
            }
        }
        return std::make_pair(Array(std::move(sxh)), Array(std::move(st)));
    });
}

}  // namespace adg::kernels
