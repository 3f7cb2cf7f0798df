// Recurrent cells as fused ops: a GRU step written with existing ops is six slices and eight elementwise ops, each
// a pass over (batch, hidden) and a node, plus their rules and the padded cotangents of the slices; in a training
// step of 28 such steps those were 40 % of the time beside the GEMMs (bench_gru, perf). As one op the forward is one
// pass that also keeps the gates, and the eager reverse rule one pass over them.

#include <memory>

#include <adgraph/autodiff/internal/op_samples.hpp>

namespace adg {

namespace {

// The gates of one application, made by forward and read by the eager rules (a fresh object per call of
// gru_gates, as batch_norm's statistics): rz = [r | z] (batch, 2·hidden) and n (batch, hidden).
struct GruWorkspace {
    Array rz, n;
};

// σ(a) as the sigmoid op computes it.
template <class E>
auto sigmoid_of(const E& a) {
    using T = typename E::value_type;
    return T(1) / (T(1) + xt::exp(-a));
}

// One row of the eager reverse rule below: gi's cotangent [ā_r | ā_z | ā_n] into `o` from the gates r, z, n, gh_n,
// h and ȳ (all `H` long). Separate restrict-qualified blocks, so that the loop vectorises.
template <class T>
void gru_gates_row_vjp(std::size_t H, const T* __restrict r, const T* __restrict z, const T* __restrict n,
                       const T* __restrict ghn, const T* __restrict h, const T* __restrict ct, T* __restrict o) {
    T* __restrict o_r = o;
    T* __restrict o_z = o + H;
    T* __restrict o_n = o + 2 * H;
    for (std::size_t e = 0; e < H; ++e) {
        const T an = (T(1) - n[e] * n[e]) * (T(1) - z[e]) * ct[e];
        o_n[e] = an;
        o_r[e] = r[e] * (T(1) - r[e]) * ghn[e] * an;
        o_z[e] = z[e] * (T(1) - z[e]) * (h[e] - n[e]) * ct[e];
    }
}

// gh's cotangent from gi's row `gi` (3·H): the same r and z blocks, the n block times r.
template <class T>
void gru_gates_row_gh(std::size_t H, const T* __restrict r, const T* __restrict gi, T* __restrict o) {
    for (std::size_t e = 0; e < 2 * H; ++e) o[e] = gi[e];
    for (std::size_t e = 0; e < H; ++e) o[2 * H + e] = r[e] * gi[2 * H + e];
}

// With r = σ(a_r), a_r = gi_r + gh_r; z = σ(a_z), a_z = gi_z + gh_z; n = tanh(a_n), a_n = gi_n + r ⊙ gh_n;
// y = n + z ⊙ (h − n):
//   ẏ = (1 − z) ⊙ ṅ + (h − n) ⊙ ż + z ⊙ ḣ, with ṙ = r(1 − r) ⊙ ȧ_r, ż = z(1 − z) ⊙ ȧ_z,
//   ṅ = (1 − n²) ⊙ (ġi_n + ṙ ⊙ gh_n + r ⊙ ġh_n);
//   ā_n = (1 − n²) ⊙ (1 − z) ⊙ ȳ, ā_r = r(1 − r) ⊙ gh_n ⊙ ā_n, ā_z = z(1 − z) ⊙ (h − n) ⊙ ȳ,
//   ḡi = [ā_r | ā_z | ā_n], ḡh = [ā_r | ā_z | r ⊙ ā_n], h̄ = z ⊙ ȳ.
struct GruGates {
    static constexpr Custom kind{};
    static constexpr const char* name = "gru_gates";
    Locality locality(const std::vector<Shape>&, const Shape&, const std::vector<char>&) const {
        return Locality::rows;
    }
    std::shared_ptr<GruWorkspace> work = std::make_shared<GruWorkspace>();

    // Plain loops for the sums and products (vectorised by the compiler) and the sigmoid and tanh ops' own kernels
    // over whole arrays for the gates.
    Array forward(const Array& gi, const Array& gh, const Array& h) const {
        const std::size_t B = h.shape()[0], H = h.shape()[1];
        return h.visit([&](const auto& hv) {
            using T = typename std::decay_t<decltype(hv)>::value_type;
            const T *pi = gi.get<T>().data(), *ph = gh.get<T>().data(), *pv = hv.data();
            auto a = new_xarray<T>(Shape{B, 2 * H}, name);
            for (std::size_t b = 0; b < B; ++b) {
                const T* __restrict i = pi + b * 3 * H;
                const T* __restrict g = ph + b * 3 * H;
                T* __restrict o = a.data() + b * 2 * H;
                for (std::size_t e = 0; e < 2 * H; ++e) o[e] = i[e] + g[e];
            }
            work->rz = map(Array(std::move(a)), [](const auto& v) { return sigmoid_of(v); });
            const T* pr = work->rz.template get<T>().data();
            auto an = new_xarray<T>(Shape{B, H}, name);
            for (std::size_t b = 0; b < B; ++b) {
                const T* __restrict i = pi + b * 3 * H + 2 * H;
                const T* __restrict g = ph + b * 3 * H + 2 * H;
                const T* __restrict r = pr + b * 2 * H;
                T* __restrict o = an.data() + b * H;
                for (std::size_t e = 0; e < H; ++e) o[e] = i[e] + r[e] * g[e];
            }
            work->n = map(Array(std::move(an)), [](const auto& v) { return xt::tanh(v); });
            const T* pn = work->n.template get<T>().data();
            auto y = new_xarray<T>(h.shape(), name);
            for (std::size_t b = 0; b < B; ++b) {
                const T* __restrict z = pr + b * 2 * H + H;
                const T* __restrict n = pn + b * H;
                const T* __restrict v = pv + b * H;
                T* __restrict o = y.data() + b * H;
                for (std::size_t e = 0; e < H; ++e) o[e] = n[e] + z[e] * (v[e] - n[e]);
            }
            return Array(std::move(y));
        });
    }

    // Array kernels when nothing is recorded and no anomaly check wants to see each op; ops otherwise.
    static bool eager() { return !grad_enabled() && !anomaly_enabled(); }

    // r, z, n and gh_n with ops (recorded when the rules are).
    struct Parts {
        Tensor r, z, n, ghn;
    };
    static Parts parts(const std::vector<Tensor>& x) {
        const std::size_t H = x[2].shape()[1];
        const Tensor rz = sigmoid(slice(x[0], -1, 0, 2 * H) + slice(x[1], -1, 0, 2 * H));
        Parts p;
        p.r = slice(rz, -1, 0, H);
        p.z = slice(rz, -1, H, 2 * H);
        p.ghn = slice(x[1], -1, 2 * H, 3 * H);
        p.n = tanh(slice(x[0], -1, 2 * H, 3 * H) + p.r * p.ghn);
        return p;
    }

    Tensor jvp(const std::vector<Tensor>& x, const Tensor&, const std::vector<Tensor>& t) const {
        const std::size_t H = x[2].shape()[1];
        const Parts p = parts(x);
        Tensor ar, az, an;  // ȧ_r, ȧ_z and the tangent of gi_n + r ⊙ gh_n without ṙ's term
        const auto add = [](Tensor& acc, const Tensor& term) { acc = acc.defined() ? acc + term : term; };
        for (std::size_t j : {0, 1}) {
            if (!t[j].defined()) continue;
            add(ar, slice(t[j], -1, 0, H));
            add(az, slice(t[j], -1, H, 2 * H));
        }
        if (t[0].defined()) add(an, slice(t[0], -1, 2 * H, 3 * H));
        if (t[1].defined()) add(an, p.r * slice(t[1], -1, 2 * H, 3 * H));
        if (ar.defined()) add(an, p.r * (1.0 - p.r) * ar * p.ghn);
        Tensor out;
        if (an.defined()) add(out, (1.0 - p.z) * (1.0 - square(p.n)) * an);
        if (az.defined()) add(out, p.z * (1.0 - p.z) * az * (x[2] - p.n));
        if (t[2].defined()) add(out, p.z * t[2]);
        return out;
    }

    std::vector<Tensor> vjp_all(const std::vector<Tensor>& x, const Tensor&, const Tensor& ct,
                                const std::vector<char>& wanted) const {
        std::vector<Tensor> g(3);
        if (eager() && work->n.shape() == x[2].shape() && ct.dtype() == x[2].dtype()) {
            eager_vjp(x, ct, wanted, g);
            return g;
        }
        const Parts p = parts(x);
        const Tensor an = (1.0 - square(p.n)) * (1.0 - p.z) * ct;
        const Tensor ar = p.r * (1.0 - p.r) * p.ghn * an;
        const Tensor az = p.z * (1.0 - p.z) * (x[2] - p.n) * ct;
        if (wanted[0]) g[0] = concat({ar, az, an}, -1);
        if (wanted[1]) g[1] = concat({ar, az, p.r * an}, -1);
        if (wanted[2]) g[2] = p.z * ct;
        return g;
    }

    // The rule above as one pass over the kept gates per direction.
    void eager_vjp(const std::vector<Tensor>& x, const Tensor& ct, const std::vector<char>& wanted,
                   std::vector<Tensor>& g) const {
        const Shape& hs = x[2].shape();
        const std::size_t B = hs[0], H = hs[1], k = ct.shape()[0];
        ct.value().visit([&](const auto& cv) {
            using T = typename std::decay_t<decltype(cv)>::value_type;
            const T *prz = work->rz.get<T>().data(), *pn = work->n.get<T>().data();
            const T *pgh = x[1].value().get<T>().data(), *pv = x[2].value().get<T>().data();
            const Shape gshape{k, B, 3 * H};
            xt::xarray<T> di = new_xarray<T>(gshape, name);
            xt::xarray<T> dh = wanted[1] ? new_xarray<T>(gshape, name) : xt::xarray<T>();
            xt::xarray<T> dx = wanted[2] ? new_xarray<T>(Shape{k, B, H}, name) : xt::xarray<T>();
            for (std::size_t d = 0; d < k; ++d) {
                for (std::size_t b = 0; b < B; ++b) {
                    const std::size_t rb = d * B + b;
                    const T* __restrict r = prz + b * 2 * H;
                    const T* __restrict z = r + H;
                    const T* __restrict n = pn + b * H;
                    const T* __restrict ghn = pgh + b * 3 * H + 2 * H;
                    const T* __restrict v = pv + b * H;
                    const T* __restrict c = cv.data() + rb * H;
                    gru_gates_row_vjp(H, r, z, n, ghn, v, c, di.data() + rb * 3 * H);
                    if (wanted[1]) gru_gates_row_gh(H, r, di.data() + rb * 3 * H, dh.data() + rb * 3 * H);
                    if (wanted[2]) {
                        T* __restrict ox = dx.data() + rb * H;
                        for (std::size_t e = 0; e < H; ++e) ox[e] = z[e] * c[e];
                    }
                }
            }
            if (wanted[0]) g[0] = Tensor(std::move(di));
            if (wanted[1]) g[1] = Tensor(std::move(dh));
            if (wanted[2]) g[2] = Tensor(std::move(dx));
        });
    }

    static std::vector<OpSample> samples(Generator& gen) {
        std::vector<OpSample> out;
        for (const auto& [b, h] : std::vector<std::pair<std::size_t, std::size_t>>{{2, 2}, {3, 1}}) {
            out.push_back({std::string(name) + " batch " + std::to_string(b) + " hidden " + std::to_string(h),
                           {sample_tensor({b, 3 * h}, {-2.0, 2.0}, gen), sample_tensor({b, 3 * h}, {-2.0, 2.0}, gen),
                            sample_tensor({b, h}, {-1.0, 1.0}, gen)},
                           [](const std::vector<Tensor>& xs) { return gru_gates(xs[0], xs[1], xs[2]); }});
        }
        return out;
    }
};

Tensor gru_gated(const Tensor& gi, const Tensor& gh, const Tensor& h) {
    const bool fit = h.dim() == 2 && gi.dim() == 2 && gh.dim() == 2 && gi.shape() == gh.shape() &&
                     gi.shape()[0] == h.shape()[0] && gi.shape()[1] == 3 * h.shape()[1];
    if (!fit) {
        throw shape_error("gru_gates: gi " + shape_str(gi.shape()) + ", gh " + shape_str(gh.shape()) + " and h " +
                          shape_str(h.shape()) +
                          " do not fit; pass gi and gh of shape (batch, 3·hidden) and h of shape (batch, hidden)");
    }
    check_same_dtype(gi.value(), gh.value(), "gru_gates");
    check_same_dtype(gi.value(), h.value(), "gru_gates");
    return apply(GruGates{}, gi, gh, h);
}

}  // namespace

#define ADG_OP_FUNCTIONS  // the public functions of the op table
#include <adgraph/autodiff/ops_rnn.def>

const OpList& rnn_ops() {
    static const OpList list = {
#define ADG_OP_LIST  // the entries of the op table
#include <adgraph/autodiff/ops_rnn.def>
    };
    return list;
}

}  // namespace adg
