// Binary ops with numpy broadcasting: each states its value and its partials ∂y/∂a, ∂y/∂b; the Binary kind
// aligns tangents to the output and sums cotangents back to each input's shape (sum_to).

#include <adgraph/autodiff/internal/op_samples.hpp>

namespace adg {

namespace {

// A constant mask of the broadcast shape of a and b.
template <class F>
Tensor constant_zip(const Tensor& a, const Tensor& b, const char* op, F&& f) {
    return Tensor(zip(a.value(), b.value(), op, std::forward<F>(f)));
}

// The mask [p > q] + ½[p = q] of the operand p of maximum(p, q), or its complement (the other operand's). A NaN
// compares false both ways, so its mask is 0 and the complement's 1.
Tensor tie_split(const Tensor& p, const Tensor& q, const char* op, bool complement) {
    const double gt = complement ? 0.0 : 1.0, lt = 1.0 - gt;
    return constant_zip(p, q, op, [gt, lt](const auto& u, const auto& v) {
        return xt::where(u > v, gt, xt::where(xt::equal(u, v), 0.5, lt));
    });
}

// ẏ = ±ȧ ± ḃ for the linear ops add and sub (signs sa, sb), broadcast to the output.
Tensor signed_sum(const std::vector<Tensor>& x, const Tensor& y, const std::vector<Tensor>& t, bool negate_b) {
    Tensor r;
    if (t[0].defined()) r = align_core(t[0], x[0].shape(), y.shape());
    if (t[1].defined()) {
        Tensor tb = align_core(t[1], x[1].shape(), y.shape());
        if (!r.defined()) {
            r = negate_b ? -tb : tb;
        } else {
            r = negate_b ? r - tb : r + tb;
        }
    }
    return broadcast_to_core(r, Shape(r.shape().begin() + 1, r.shape().end()), y.shape());
}

// a + b: linear; ẏ = ȧ + ḃ, āᵢ = sum_to(ȳ)
struct Add {
    static constexpr Binary kind{};
    static constexpr const char* name = "add";
    template <class A, class B>
    auto f(const A& a, const B& b) const {
        return a + b;
    }
    Tensor jvp(const std::vector<Tensor>& x, const Tensor& y, const std::vector<Tensor>& t) const {
        return signed_sum(x, y, t, false);
    }
    Tensor vjp(const std::vector<Tensor>& x, const Tensor& y, const Tensor& ct, std::size_t i) const {
        return sum_to_core(ct, y.shape(), x[i].shape());
    }
};

// a - b: linear; ẏ = ȧ - ḃ, ā = sum_to(ȳ), b̄ = -sum_to(ȳ)
struct Sub {
    static constexpr Binary kind{};
    static constexpr const char* name = "sub";
    template <class A, class B>
    auto f(const A& a, const B& b) const {
        return a - b;
    }
    Tensor jvp(const std::vector<Tensor>& x, const Tensor& y, const std::vector<Tensor>& t) const {
        return signed_sum(x, y, t, true);
    }
    Tensor vjp(const std::vector<Tensor>& x, const Tensor& y, const Tensor& ct, std::size_t i) const {
        Tensor g = sum_to_core(ct, y.shape(), x[i].shape());
        return i == 0 ? g : -g;
    }
};

// ∂(a·b)/∂a = b, ∂(a·b)/∂b = a
struct Mul {
    static constexpr Binary kind{};
    static constexpr const char* name = "mul";
    template <class A, class B>
    auto f(const A& a, const B& b) const {
        return a * b;
    }
    template <class X>
    auto da(const X&, const X& b, const X&) const {
        return b;
    }
    template <class X>
    auto db(const X& a, const X&, const X&) const {
        return a;
    }
};

// ∂(a/b)/∂a = 1/b, ∂(a/b)/∂b = -a/b² = -y/b
struct Div {
    static constexpr Binary kind = Binary().domain_b(-2.0, 2.0, {0.0}, 0.3);
    static constexpr const char* name = "div";
    template <class A, class B>
    auto f(const A& a, const B& b) const {
        return a / b;
    }
    template <class X>
    auto da(const X&, const X& b, const X&) const {
        return lit(b, 1.0) / b;
    }
    template <class X>
    auto db(const X&, const X& b, const X& y) const {
        return -y / b;
    }
};

// ∂max(a,b)/∂a = [a > b] + ½[a = b], ∂/∂b = 1 − ∂/∂a (a tie splits the gradient equally, as in PyTorch and JAX)
struct Maximum {
    static constexpr Binary kind = Binary().separation(0.05);
    static constexpr const char* name = "maximum";
    template <class A, class B>
    auto f(const A& a, const B& b) const {
        // Not xt::maximum: its SIMD form returns b when a is NaN; a NaN operand must reach the output.
        return xt::where(a < b || xt::isnan(b), b, a);
    }
    Tensor da(const Tensor& a, const Tensor& b, const Tensor&) const { return tie_split(a, b, name, false); }
    Tensor db(const Tensor& a, const Tensor& b, const Tensor&) const { return tie_split(a, b, name, true); }
};

// ∂min(a,b)/∂a = [a < b] + ½[a = b], ∂/∂b = 1 − ∂/∂a (ties split equally, as in maximum)
struct Minimum {
    static constexpr Binary kind = Binary().separation(0.05);
    static constexpr const char* name = "minimum";
    template <class A, class B>
    auto f(const A& a, const B& b) const {
        return xt::where(b < a || xt::isnan(b), b, a);  // NaN-propagating, as in maximum
    }
    // min(a, b) = −max(−a, −b), so its mask for a is maximum's with the operands swapped.
    Tensor da(const Tensor& a, const Tensor& b, const Tensor&) const { return tie_split(b, a, name, false); }
    Tensor db(const Tensor& a, const Tensor& b, const Tensor&) const { return tie_split(b, a, name, true); }
};

// where(c, a, b): ∂/∂a = [c ≠ 0], ∂/∂b = [c = 0]; the condition is a constant held by the op
struct Where {
    static constexpr Binary kind{};
    static constexpr const char* name = "where";
    Array cond;
    Array forward(const Array& a, const Array& b) const {
        check_same_dtype(a, b, name);
        const Shape out = broadcast_shape(broadcast_shape(cond.shape(), a.shape(), name), b.shape(), name);
        return a.visit([&](const auto& x) {
            using T = typename std::decay_t<decltype(x)>::value_type;
            const auto& y = b.get<T>();
            const Array c_t = cond.to(dtype_of<T>());
            const auto& c = c_t.template get<T>();
            xt::xarray<T> r = new_xarray<T>(out, name);
            xt::noalias(r) = xt::where(xt::not_equal(c, T(0)), x, y);
            return Array(std::move(r));
        });
    }
    Tensor da(const Tensor&, const Tensor&, const Tensor& y) const { return mask(y, false); }
    Tensor db(const Tensor&, const Tensor&, const Tensor& y) const { return mask(y, true); }
    static std::vector<OpSample> samples(Generator& gen) {
        std::vector<OpSample> out;
        for (const auto& [sa, sb] : binary_sample_shapes()) {
            const Shape sc = broadcast_shape(sa, sb);
            Tensor c = sample_tensor(sc, {}, gen);
            Where op{Tensor(map(c.value(), [](const auto& v) { return xt::where(v > 0, 1.0, 0.0); })).value()};
            out.push_back({"where " + shape_str(sa) + "·" + shape_str(sb),
                           {sample_tensor(sa, {}, gen), sample_tensor(sb, {}, gen)},
                           [op](const std::vector<Tensor>& xs) { return apply(op, xs[0], xs[1]); }});
        }
        return out;
    }

private:
    // [c ≠ 0] (or its complement) in the output's dtype.
    Tensor mask(const Tensor& like, bool complement) const {
        const double on = complement ? 0.0 : 1.0, off = 1.0 - on;
        return Tensor(
            map(cond.to(like.dtype()), [on, off](const auto& c) { return xt::where(xt::not_equal(c, 0), on, off); }));
    }
};

}  // namespace

#define ADG_OP_FUNCTIONS  // the public functions of the op table
#include <adgraph/autodiff/ops_binary.def>

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b, Site{}); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b, Site{}); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b, Site{}); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b, Site{}); }

const OpList& binary_ops() {
    static const OpList list = {
#define ADG_OP_LIST  // the entries of the op table
#include <adgraph/autodiff/ops_binary.def>
    };
    return list;
}

}  // namespace adg
