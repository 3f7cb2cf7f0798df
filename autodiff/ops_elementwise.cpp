// Elementwise unary ops: each states its value and its derivative d = dy/dx; the Elementwise kind derives
// jvp = d ⊙ ẋ and vjp = d ⊙ ȳ. Linear ones (neg, ·c, /c, cast) state their transpose instead.

#include <adgraph/autodiff/internal/op_samples.hpp>

namespace adg {

namespace {

// d/dx eˣ = eˣ = y
struct Exp {
    static constexpr Elementwise kind{};
    static constexpr const char* name = "exp";
    template <class E>
    auto f(const E& x) const {
        return xt::exp(x);
    }
    template <class X>
    auto d(const X&, const X& y) const {
        return y;
    }
};

// d/dx log x = 1 / x
struct Log {
    static constexpr Elementwise kind = Elementwise().domain(0.2, 3.0);
    static constexpr const char* name = "log";
    template <class E>
    auto f(const E& x) const {
        return xt::log(x);
    }
    template <class X>
    auto d(const X& x, const X&) const {
        return lit(x, 1.0) / x;
    }
};

// d/dx √x = 1 / (2√x) = 0.5 / y
struct Sqrt {
    static constexpr Elementwise kind = Elementwise().domain(0.2, 3.0);
    static constexpr const char* name = "sqrt";
    template <class E>
    auto f(const E& x) const {
        return xt::sqrt(x);
    }
    template <class X>
    auto d(const X&, const X& y) const {
        return lit(y, 0.5) / y;
    }
};

// d/dx |x| = sign(x)
struct Abs {
    static constexpr Elementwise kind = Elementwise().constant_d().domain(-2.0, 2.0, {0.0});
    static constexpr const char* name = "abs";
    template <class E>
    auto f(const E& x) const {
        return xt::abs(x);
    }
    template <class X>
    auto d(const X& x, const X&) const {
        return xt::where(x > 0, lit(x, 1.0), xt::where(x < 0, lit(x, -1.0), lit(x, 0.0)));
    }
};

// d/dx sign(x) = 0 (away from 0, where it jumps)
struct Sign {
    static constexpr Elementwise kind = Elementwise().constant_d().domain(-2.0, 2.0, {0.0});
    static constexpr const char* name = "sign";
    template <class E>
    auto f(const E& x) const {
        using T = typename E::value_type;
        return xt::where(x > T(0), T(1), xt::where(x < T(0), T(-1), x));  // ±0 and NaN pass through, as torch.sign
    }
    template <class X>
    auto d(const X& x, const X&) const {
        return xt::zeros_like(x);
    }
};

// d/dx x² = 2x
struct Square {
    static constexpr Elementwise kind{};
    static constexpr const char* name = "square";
    template <class E>
    auto f(const E& x) const {
        return x * x;
    }
    template <class X>
    auto d(const X& x, const X&) const {
        return x * lit(x, 2.0);
    }
};

// d/dx xᵖ = p·xᵖ⁻¹
struct Pow {
    static constexpr Elementwise kind = Elementwise().domain(0.2, 2.0).example(3.0).example(0.5).example(-1.5);
    static constexpr const char* name = "pow";
    double p = 2.0;
    template <class E>
    auto f(const E& x) const {
        return xt::pow(x, static_cast<typename E::value_type>(p));
    }
    template <class X>
    auto d(const X& x, const X&) const {
        return pow(x, lit(x, p - 1.0)) * lit(x, p);
    }
};

// d/dx sin x = cos x
struct Sin {
    static constexpr Elementwise kind{};
    static constexpr const char* name = "sin";
    template <class E>
    auto f(const E& x) const {
        return xt::sin(x);
    }
    template <class X>
    auto d(const X& x, const X&) const {
        return cos(x);
    }
};

// d/dx cos x = -sin x
struct Cos {
    static constexpr Elementwise kind{};
    static constexpr const char* name = "cos";
    template <class E>
    auto f(const E& x) const {
        return xt::cos(x);
    }
    template <class X>
    auto d(const X& x, const X&) const {
        return -sin(x);
    }
};

// d/dx tanh x = 1 - y²
struct Tanh {
    static constexpr Elementwise kind{};
    static constexpr const char* name = "tanh";
    template <class E>
    auto f(const E& x) const {
        return xt::tanh(x);
    }
    template <class X>
    auto d(const X&, const X& y) const {
        return lit(y, 1.0) - square(y);
    }
};

// d/dx σ(x) = y (1 - y)
struct Sigmoid {
    static constexpr Elementwise kind{};
    static constexpr const char* name = "sigmoid";
    template <class E>
    auto f(const E& x) const {
        using T = typename E::value_type;
        return T(1) / (T(1) + xt::exp(-x));
    }
    template <class X>
    auto d(const X&, const X& y) const {
        return y * (lit(y, 1.0) - y);
    }
};

// d/dx max(x, 0) = [x > 0]
struct Relu {
    static constexpr Elementwise kind = Elementwise().constant_d().domain(-2.0, 2.0, {0.0});
    static constexpr const char* name = "relu";
    template <class E>
    auto f(const E& x) const {
        using T = typename E::value_type;
        return xt::where(x < T(0), T(0), x);  // a NaN passes through (xt::maximum's SIMD form would give 0)
    }
    template <class X>
    auto d(const X& x, const X&) const {
        return xt::where(x > 0, lit(x, 1.0), lit(x, 0.0));
    }
};

// d/dx leaky_relu(x) = 1 for x > 0, slope otherwise
struct LeakyRelu {
    static constexpr Elementwise kind = Elementwise().constant_d().domain(-2.0, 2.0, {0.0}).example(0.1);
    static constexpr const char* name = "leaky_relu";
    double slope = 0.01;
    template <class E>
    auto f(const E& x) const {
        using T = typename E::value_type;
        return xt::where(x > T(0), x, x * static_cast<T>(slope));
    }
    template <class X>
    auto d(const X& x, const X&) const {
        return xt::where(x > 0, lit(x, 1.0), lit(x, slope));
    }
};

// d/dx atan x = 1 / (1 + x²)
struct Atan {
    static constexpr Elementwise kind{};
    static constexpr const char* name = "atan";
    template <class E>
    auto f(const E& x) const {
        return xt::atan(x);
    }
    template <class X>
    auto d(const X& x, const X&) const {
        return lit(x, 1.0) / (lit(x, 1.0) + x * x);
    }
};

// d/dx log(1 + eˣ) = σ(x); the value is max(x, 0) + log1p(e^-|x|) so large |x| never overflows
struct Softplus {
    static constexpr Elementwise kind{};
    static constexpr const char* name = "softplus";
    template <class E>
    auto f(const E& x) const {
        using T = typename E::value_type;
        return xt::maximum(x, T(0)) + xt::log1p(xt::exp(-xt::abs(x)));
    }
    Tensor d(const Tensor& x, const Tensor&) const { return sigmoid(x); }
};

// d/dx clamp(x, lo, hi) = [lo < x < hi]
struct Clamp {
    static constexpr Elementwise kind = Elementwise().constant_d().domain(-2.0, 2.0, {-0.5, 0.8}).example(-0.5, 0.8);
    static constexpr const char* name = "clamp";
    double lo = -1.0, hi = 1.0;
    static Clamp checked(double lo, double hi) {
        if (!(lo <= hi)) {
            throw value_error("clamp: lo = " + number_str(lo) + " is above hi = " + number_str(hi) + "; pass lo <= hi");
        }
        return Clamp{lo, hi};
    }
    template <class E>
    auto f(const E& x) const {
        using T = typename E::value_type;
        return xt::clip(x, static_cast<T>(lo), static_cast<T>(hi));
    }
    template <class X>
    auto d(const X& x, const X&) const {
        return xt::where(x > lo && x < hi, lit(x, 1.0), lit(x, 0.0));
    }
};

// d/dx c / x = -c / x² = -y / x
struct RDivScalar {
    static constexpr Elementwise kind = Elementwise().domain(-2.0, 2.0, {0.0}, 0.3).example(1.5);
    static constexpr const char* name = "rdiv_scalar";
    double c = 1.0;
    template <class E>
    auto f(const E& x) const {
        using T = typename E::value_type;
        return static_cast<T>(c) / x;
    }
    template <class X>
    auto d(const X& x, const X& y) const {
        return -y / x;
    }
};

// x + c: affine, d = 1, so tangents and cotangents pass unchanged
struct AddScalar {
    static constexpr Custom kind = Custom().pointwise();
    static constexpr const char* name = "add_scalar";
    double c = 0.0;
    Array forward(const Array& x) const {
        return map(
            x, [this](const auto& a) { return a + static_cast<typename std::decay_t<decltype(a)>::value_type>(c); });
    }
    Tensor jvp(const std::vector<Tensor>&, const Tensor&, const std::vector<Tensor>& t) const { return t[0]; }
    Tensor vjp(const std::vector<Tensor>&, const Tensor&, const Tensor& ct, std::size_t) const { return ct; }
    static std::vector<OpSample> samples(Generator& gen) { return unary_samples(AddScalar{1.25}, {}, gen); }
};

// -x: linear, its own transpose
struct Neg {
    static constexpr LinearMap kind = LinearMap().pointwise();
    static constexpr const char* name = "neg";
    Array forward(const Array& x) const {
        return map(x, [](const auto& a) { return -a; });
    }
    Tensor transpose(const Tensor& ct) const { return neg(ct); }
    static std::vector<OpSample> samples(Generator& gen) { return unary_samples(Neg{}, {}, gen); }
};

// c·x: linear, its own transpose
struct MulScalar {
    static constexpr LinearMap kind = LinearMap().self_adjoint();
    static constexpr const char* name = "mul_scalar";
    double c = 1.0;
    template <class E>
    auto f(const E& x) const {
        return x * lit(x, c);
    }
    static std::vector<OpSample> samples(Generator& gen) { return unary_samples(MulScalar{-1.75}, {}, gen); }
};

// x / c: linear, its own transpose
struct DivScalar {
    static constexpr LinearMap kind = LinearMap().self_adjoint();
    static constexpr const char* name = "div_scalar";
    double c = 1.0;
    template <class E>
    auto f(const E& x) const {
        return x / lit(x, c);
    }
    static std::vector<OpSample> samples(Generator& gen) { return unary_samples(DivScalar{3.0}, {}, gen); }
};

// dtype conversion: linear; the transpose converts back
struct Cast {
    static constexpr LinearMap kind = LinearMap().pointwise();
    static constexpr const char* name = "cast";
    Dtype from = Dtype::f64, to = Dtype::f64;
    Array forward(const Array& x) const { return x.to(to); }
    Tensor transpose(const Tensor& ct) const { return apply(Cast{to, from}, ct); }
    // Central differences need float64 on both sides, so the listed sample converts to the input's own dtype;
    // test_ops checks float32 <-> float64 conversions separately.
    static std::vector<OpSample> samples(Generator& gen) {
        std::vector<OpSample> out;
        for (const auto& s : unary_sample_shapes()) {
            out.push_back({"cast " + shape_str(s), {sample_tensor(s, {}, gen)}, [](const std::vector<Tensor>& xs) {
                               return apply(Cast{xs[0].dtype(), xs[0].dtype()}, xs[0]);
                           }});
        }
        return out;
    }
};

}  // namespace

#define ADG_OP_FUNCTIONS  // the public functions of the op table
#include <adgraph/autodiff/ops_elementwise.def>

Tensor operator-(const Tensor& x) { return neg(x, Site{}); }
Tensor operator+(const Tensor& x, double c) { return apply(AddScalar{c}, x); }
Tensor operator+(double c, const Tensor& x) { return apply(AddScalar{c}, x); }
Tensor operator-(const Tensor& x, double c) { return apply(AddScalar{-c}, x); }
Tensor operator-(double c, const Tensor& x) { return apply(AddScalar{c}, neg(x, Site{})); }
Tensor operator*(const Tensor& x, double c) { return apply(MulScalar{c}, x); }
Tensor operator*(double c, const Tensor& x) { return apply(MulScalar{c}, x); }
Tensor operator/(const Tensor& x, double c) { return apply(DivScalar{c}, x); }
Tensor operator/(double c, const Tensor& x) { return apply(RDivScalar{c}, x); }

const OpList& elementwise_ops() {
    static const OpList list = {
#define ADG_OP_LIST  // the entries of the op table
#include <adgraph/autodiff/ops_elementwise.def>
    };
    return list;
}

}  // namespace adg
