// Indexing and small reductions. select is a composition of slice and reshape (linear, so nothing to derive);
// argmax and argmin are constants; min is −max(−x); var is a composition of ops; std is √ of var with its
// derivative taken as 0 where std is 0.

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include <adgraph/autodiff/internal/op_samples.hpp>
#include <adgraph/tensor/kernels.hpp>
#include <adgraph/tensor/size.hpp>

namespace adg {

namespace {

// std from the variance v: y = √v, ẏ = h ⊙ v̇, v̄ = h ⊙ ȳ with h = 1 / (2y) where y ≠ 0 and 0 where y = 0
// (PyTorch's choice: a constant slice has std 0 and gradient 0, not the NaN of √′(0) · 0)
struct StdOfVar {
    static constexpr Custom kind{};
    static constexpr const char* name = "std";
    Locality locality(const std::vector<Shape>&, const Shape&, const std::vector<char>&) const {
        return Locality::elementwise;
    }
    Array forward(const Array& v) const {
        return map(v, [](const auto& a) { return xt::sqrt(a); });
    }
    Tensor jvp(const std::vector<Tensor>&, const Tensor& y, const std::vector<Tensor>& t) const {
        return half_inverse(y) * t[0];
    }
    Tensor vjp(const std::vector<Tensor>&, const Tensor& y, const Tensor& ct, std::size_t) const {
        return half_inverse(y) * ct;
    }
    static std::vector<OpSample> samples(Generator& gen) { return unary_samples(StdOfVar{}, {0.2, 2.0}, gen); }

private:
    // 1 / (2y) where y ≠ 0, else 0, written with ops (so create_graph differentiates it) and never dividing by 0.
    static Tensor half_inverse(const Tensor& y) {
        const Tensor nonzero(map(y.value(), [](const auto& a) { return xt::where(xt::equal(a, 0.0), 0.0, 1.0); }));
        const Tensor one = Tensor::scalar(1.0, y.dtype()), zero = Tensor::scalar(0.0, y.dtype());
        return where(nonzero, 0.5 / where(nonzero, y, one), zero);
    }
};

// argmax (want_max) or argmin over `axis` (all elements, flattened, if none), as indices in x's dtype.
Tensor arg_extreme(const Tensor& x, std::optional<long> axis, bool keepdims, bool want_max, const char* op) {
    const Array& v = x.value();
    const Shape& s = v.shape();
    std::size_t outer = 1, n = v.size(), inner = 1;
    Shape out;
    std::string what = "the tensor of shape " + shape_str(s);
    if (axis) {
        const std::size_t ax = normalize_axis(*axis, v.dim(), op);
        n = s[ax];
        for (std::size_t d = 0; d < ax; ++d) outer *= s[d];
        for (std::size_t d = ax + 1; d < s.size(); ++d) inner *= s[d];
        out = s;
        if (keepdims) {
            out[ax] = 1;
        } else {
            out.erase(out.begin() + static_cast<long>(ax));
        }
        what = "axis " + std::to_string(*axis) + " of shape " + shape_str(s);
    } else if (keepdims) {
        out.assign(s.size(), 1);
    }
    if (n == 0) {
        throw value_error(std::string(op) + ": " + what + " is empty, so it has no " +
                          (want_max ? "maximum" : "minimum") + " to index; give a non-empty axis");
    }
    // float32 holds every integer up to 2²⁴ exactly, so indices 0..2²⁴ (an axis of 2²⁴ + 1 entries).
    constexpr std::size_t exact_f32 = (std::size_t{1} << 24) + 1;
    if (v.dtype() == Dtype::f32 && n > exact_f32) {
        throw value_error(std::string(op) + ": " + what + " has " + std::to_string(n) +
                          " entries, more than float32 indices count exactly (16777217); cast the input to float64 "
                          "first (cast(x, adg::f64))");
    }
    Array r = Array::empty(out, v.dtype(), op);
    r.visit_mut([&](auto& res) {
        using T = typename std::decay_t<decltype(res)>::value_type;
        const T* a = v.get<T>().data();
        T* o = res.data();
        for (std::size_t i = 0; i < outer; ++i) {
            for (std::size_t k = 0; k < inner; ++k) {
                const T* p = a + i * n * inner + k;
                std::size_t best = 0;
                // The first of tied extremes wins; the first NaN wins outright (as in torch and numpy).
                for (std::size_t j = 1; j < n && !std::isnan(p[best * inner]); ++j) {
                    const T c = p[j * inner], b = p[best * inner];
                    if (std::isnan(c) || (want_max ? c > b : c < b)) best = j;
                }
                o[i * inner + k] = static_cast<T>(best);
            }
        }
    });
    return Tensor(std::move(r));
}

OpSample composite(std::string label, std::vector<Tensor> inputs, MultiFn fn) {
    return {std::move(label), std::move(inputs), std::move(fn)};
}

Tensor selected(const Tensor& x, long axis, long index) {
    const std::size_t ax = normalize_axis(axis, x.dim(), "select");
    const long n = static_cast<long>(x.shape()[ax]);
    if (index < -n || index >= n) {
        throw value_error("select: index " + std::to_string(index) + " is out of range for axis " +
                          std::to_string(axis) + " of shape " + shape_str(x.shape()) + "; " +
                          (n > 0 ? "valid: " + std::to_string(-n) + ".." + std::to_string(n - 1)
                                 : std::string("none is valid: the axis is empty")));
    }
    const auto i = static_cast<std::size_t>(index < 0 ? index + n : index);
    Shape out = x.shape();
    out.erase(out.begin() + static_cast<long>(ax));
    return reshape(slice(x, static_cast<long>(ax), i, i + 1), out);
}

// −max(−x): max's rule, so tied minima share the gradient and a NaN wins, as there.
Tensor minimum_over(const Tensor& x, const Axes& axes, bool keepdims) {
    for (auto ax : normalize_axes(axes, x.dim(), "min")) {
        if (x.shape()[ax] == 0) {
            throw value_error("min: cannot reduce over the empty axis " + std::to_string(ax) + " of shape " +
                              shape_str(x.shape()) + "; a minimum needs at least one element per slice");
        }
    }
    return neg(max(neg(x), axes, keepdims));
}

Tensor variance(const Tensor& x, const Axes& axes, double correction, bool keepdims) {
    std::size_t count = 1;
    for (auto p : normalize_axes(axes, x.dim(), "var")) count *= x.shape()[p];
    const Tensor squares = sum(square(x - mean(x, axes, true)), axes, keepdims);
    const double divisor = std::max(0.0, static_cast<double>(count) - correction);
    // As torch: a divisor of 0 gives NaN (0/0) or +inf, made by multiplying (the sanitizer build traps on x / 0).
    if (divisor == 0.0) return squares * std::numeric_limits<double>::infinity();
    return squares / divisor;
}

}  // namespace

#define ADG_OP_FUNCTIONS  // the public functions of the op table
#include <adgraph/autodiff/ops_index.def>

const OpList& index_ops() {
    static const OpList list = [] {
        OpList l = {
#define ADG_OP_LIST  // the entries of the op table
#include <adgraph/autodiff/ops_index.def>
        };
        l.push_back(
            {"select", [](Generator& g) {
                 return std::vector<OpSample>{
                     composite("select axis 0 index 1 (2,3)", {sample_tensor({2, 3}, {}, g)},
                               [](auto& x) { return select(x[0], 0, 1); }),
                     composite("select axis -1 index -1 (2,3,2)", {sample_tensor({2, 3, 2}, {}, g)},
                               [](auto& x) { return select(x[0], -1, -1); }),
                     composite("x[2] of (3): a 0-d tensor", {sample_tensor({3}, {}, g)},
                               [](auto& x) { return x[0][2]; }),
                     composite("x[1][0] of (2,3)", {sample_tensor({2, 3}, {}, g)}, [](auto& x) { return x[0][1][0]; })};
             }});
        l.push_back(
            {"min (public)", [](Generator& g) {
                 return std::vector<OpSample>{
                     composite("min all (2,3)", {distinct_tensor({2, 3}, g)}, [](auto& x) { return min(x[0]); }),
                     composite("min axis 1 keepdims (2,3)", {distinct_tensor({2, 3}, g)},
                               [](auto& x) { return min(x[0], {1}, true); })};
             }});
        l.push_back(
            {"var", [](Generator& g) {
                 return std::vector<OpSample>{
                     composite("var all (2,3)", {sample_tensor({2, 3}, {}, g)}, [](auto& x) { return var(x[0]); }),
                     composite("var axis 1 correction 0 (2,3)", {sample_tensor({2, 3}, {}, g)},
                               [](auto& x) { return var(x[0], {1}, 0.0); }),
                     composite("var axes 0,2 keepdims (2,3,2)", {sample_tensor({2, 3, 2}, {}, g)}, [](auto& x) {
                         return var(x[0], {0, 2}, true, true);
                     })};
             }});
        l.push_back(
            {"std (public)", [](Generator& g) {
                 return std::vector<OpSample>{
                     composite("std all (2,3)", {sample_tensor({2, 3}, {}, g)}, [](auto& x) { return std(x[0]); }),
                     composite("std axis 0 biased (2,3)", {sample_tensor({2, 3}, {}, g)},
                               [](auto& x) { return std(x[0], {0}, false); })};
             }});
        return l;
    }();
    return list;
}

}  // namespace adg
