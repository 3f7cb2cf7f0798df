// Elementwise unary ops: each states its value and its derivative d = dy/dx; the Elementwise kind derives
// jvp = d ⊙ ẋ and vjp = d ⊙ ȳ. Linear ones (neg, ·c, /c, cast) state their transpose instead.

#include <adgraph/autodiff/op.hpp>

namespace adg {

namespace {

// d/dx eˣ = eˣ = y
struct Exp {
    using kind = Elementwise;
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
    using kind = Elementwise;
    static constexpr const char* name = "log";
    template <class E>
    auto f(const E& x) const {
        return xt::log(x);
    }
    template <class X>
    auto d(const X& x, const X&) const {
        return lit(x, 1.0) / x;
    }
    static Domain domain() { return {0.2, 3.0}; }
};

// d/dx √x = 1 / (2√x) = 0.5 / y
struct Sqrt {
    using kind = Elementwise;
    static constexpr const char* name = "sqrt";
    template <class E>
    auto f(const E& x) const {
        return xt::sqrt(x);
    }
    template <class X>
    auto d(const X&, const X& y) const {
        return lit(y, 0.5) / y;
    }
    static Domain domain() { return {0.2, 3.0}; }
};

// d/dx |x| = sign(x)
struct Abs {
    using kind = Elementwise;
    static constexpr const char* name = "abs";
    template <class E>
    auto f(const E& x) const {
        return xt::abs(x);
    }
    static constexpr bool constant_d = true;
    template <class X>
    auto d(const X& x, const X&) const {
        return xt::where(x > 0, lit(x, 1.0), xt::where(x < 0, lit(x, -1.0), lit(x, 0.0)));
    }
    static Domain domain() { return {-2.0, 2.0, {0.0}}; }
};

// d/dx x² = 2x
struct Square {
    using kind = Elementwise;
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
    using kind = Elementwise;
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
    static Domain domain() { return {0.2, 2.0}; }
    static std::vector<Pow> examples() { return {Pow{3.0}, Pow{0.5}, Pow{-1.5}}; }
};

// d/dx sin x = cos x
struct Sin {
    using kind = Elementwise;
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
    using kind = Elementwise;
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
    using kind = Elementwise;
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
    using kind = Elementwise;
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
    using kind = Elementwise;
    static constexpr const char* name = "relu";
    template <class E>
    auto f(const E& x) const {
        using T = typename E::value_type;
        return xt::where(x < T(0), T(0), x);  // a NaN passes through (xt::maximum's SIMD form would give 0)
    }
    static constexpr bool constant_d = true;
    template <class X>
    auto d(const X& x, const X&) const {
        return xt::where(x > 0, lit(x, 1.0), lit(x, 0.0));
    }
    static Domain domain() { return {-2.0, 2.0, {0.0}}; }
};

// d/dx leaky_relu(x) = 1 for x > 0, slope otherwise
struct LeakyRelu {
    using kind = Elementwise;
    static constexpr const char* name = "leaky_relu";
    double slope = 0.01;
    template <class E>
    auto f(const E& x) const {
        using T = typename E::value_type;
        return xt::where(x > T(0), x, x * static_cast<T>(slope));
    }
    static constexpr bool constant_d = true;
    template <class X>
    auto d(const X& x, const X&) const {
        return xt::where(x > 0, lit(x, 1.0), lit(x, slope));
    }
    static Domain domain() { return {-2.0, 2.0, {0.0}}; }
    static std::vector<LeakyRelu> examples() { return {LeakyRelu{0.1}}; }
};

// d/dx log(1 + eˣ) = σ(x); the value is max(x, 0) + log1p(e^-|x|) so large |x| never overflows
struct Softplus {
    using kind = Elementwise;
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
    using kind = Elementwise;
    static constexpr const char* name = "clamp";
    double lo = -1.0, hi = 1.0;
    template <class E>
    auto f(const E& x) const {
        using T = typename E::value_type;
        return xt::clip(x, static_cast<T>(lo), static_cast<T>(hi));
    }
    static constexpr bool constant_d = true;
    template <class X>
    auto d(const X& x, const X&) const {
        return xt::where(x > lo && x < hi, lit(x, 1.0), lit(x, 0.0));
    }
    static Domain domain() { return {-2.0, 2.0, {-0.5, 0.8}}; }
    static std::vector<Clamp> examples() { return {Clamp{-0.5, 0.8}}; }
};

// d/dx c / x = -c / x² = -y / x
struct RDivScalar {
    using kind = Elementwise;
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
    static Domain domain() { return {-2.0, 2.0, {0.0}, 0.3}; }
    static std::vector<RDivScalar> examples() { return {RDivScalar{1.5}}; }
};

// x + c: affine, d = 1, so tangents and cotangents pass unchanged
struct AddScalar {
    using kind = Custom;
    static constexpr const char* name = "add_scalar";
    static constexpr bool pointwise = true;  // element i of the output depends on element i only
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
    using kind = LinearMap;
    static constexpr const char* name = "neg";
    static constexpr bool pointwise = true;  // element i of the output depends on element i only
    Array forward(const Array& x) const {
        return map(x, [](const auto& a) { return -a; });
    }
    Tensor transpose(const Tensor& ct) const { return neg(ct); }
    static std::vector<OpSample> samples(Generator& gen) { return unary_samples(Neg{}, {}, gen); }
};

// c·x: linear, its own transpose
struct MulScalar {
    using kind = LinearMap;
    static constexpr const char* name = "mul_scalar";
    static constexpr bool pointwise = true;  // element i of the output depends on element i only
    static constexpr bool self_adjoint = true;
    double c = 1.0;
    template <class E>
    auto f(const E& x) const {
        return x * lit(x, c);
    }
    static std::vector<OpSample> samples(Generator& gen) { return unary_samples(MulScalar{-1.75}, {}, gen); }
};

// x / c: linear, its own transpose
struct DivScalar {
    using kind = LinearMap;
    static constexpr const char* name = "div_scalar";
    static constexpr bool pointwise = true;  // element i of the output depends on element i only
    static constexpr bool self_adjoint = true;
    double c = 1.0;
    template <class E>
    auto f(const E& x) const {
        return x / lit(x, c);
    }
    static std::vector<OpSample> samples(Generator& gen) { return unary_samples(DivScalar{3.0}, {}, gen); }
};

// dtype conversion: linear; the transpose converts back
struct Cast {
    using kind = LinearMap;
    static constexpr const char* name = "cast";
    static constexpr bool pointwise = true;  // element i of the output depends on element i only
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

Tensor neg(const Tensor& x, Site site) {
    CallSite call(site);
    return apply(Neg{}, x);
}
Tensor exp(const Tensor& x, Site site) {
    CallSite call(site);
    return apply(Exp{}, x);
}
Tensor log(const Tensor& x, Site site) {
    CallSite call(site);
    return apply(Log{}, x);
}
Tensor sqrt(const Tensor& x, Site site) {
    CallSite call(site);
    return apply(Sqrt{}, x);
}
Tensor abs(const Tensor& x, Site site) {
    CallSite call(site);
    return apply(Abs{}, x);
}
Tensor square(const Tensor& x, Site site) {
    CallSite call(site);
    return apply(Square{}, x);
}
Tensor pow(const Tensor& x, double p, Site site) {
    CallSite call(site);
    return apply(Pow{p}, x);
}
Tensor sin(const Tensor& x, Site site) {
    CallSite call(site);
    return apply(Sin{}, x);
}
Tensor cos(const Tensor& x, Site site) {
    CallSite call(site);
    return apply(Cos{}, x);
}
Tensor tanh(const Tensor& x, Site site) {
    CallSite call(site);
    return apply(Tanh{}, x);
}
Tensor sigmoid(const Tensor& x, Site site) {
    CallSite call(site);
    return apply(Sigmoid{}, x);
}
Tensor relu(const Tensor& x, Site site) {
    CallSite call(site);
    return apply(Relu{}, x);
}
Tensor leaky_relu(const Tensor& x, double slope, Site site) {
    CallSite call(site);
    return apply(LeakyRelu{slope}, x);
}
Tensor softplus(const Tensor& x, Site site) {
    CallSite call(site);
    return apply(Softplus{}, x);
}

Tensor clamp(const Tensor& x, double lo, double hi, Site site) {
    CallSite call(site);
    if (!(lo <= hi)) {
        throw value_error("clamp: lo = " + number_str(lo) + " is above hi = " + number_str(hi) + "; pass lo <= hi");
    }
    return apply(Clamp{lo, hi}, x);
}

Tensor cast(const Tensor& x, Dtype dtype, Site site) {
    CallSite call(site);
    if (x.dtype() == dtype) return x;
    return apply(Cast{x.dtype(), dtype}, x);
}

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
    static const OpList list = op_list<Neg, Exp, Log, Sqrt, Abs, Square, Pow, Sin, Cos, Tanh, Sigmoid, Relu, LeakyRelu,
                                       Softplus, Clamp, RDivScalar, AddScalar, MulScalar, DivScalar, Cast>();
    return list;
}

}  // namespace adg
