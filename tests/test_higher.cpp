// Second order for every op in the op lists (float64): Hessian-vector products forward over reverse vs central
// differences of the gradient vs reverse over reverse, and symmetric Hessians; plus hvp, hessian, linearize.

#include <doctest/doctest.h>

#include <cmath>

#include <adgraph/adgraph.hpp>

using namespace adg;

namespace {

double max_abs_diff(const Tensor& a, const Tensor& b, double& scale) {
    double d = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        d = std::max(d, std::abs(a.value().flat(i) - b.value().flat(i)));
        scale = std::max(scale, std::abs(b.value().flat(i)));
    }
    return d;
}

// Runs the second-order checks on input i of a sample, the other inputs held fixed.
void check_second_order(const OpSample& s, std::size_t i, Generator& gen) {
    std::vector<Tensor> xs = s.inputs;
    const Tensor y = s.fn(xs);
    const Tensor w(normal(y.shape(), 0, 1, f64, gen));
    const Fn g = [&](const Tensor& z) {
        std::vector<Tensor> args = xs;
        args[i] = z;
        return sum(s.fn(args) * w);
    };
    const Tensor& x = xs[i];
    const Tensor v(normal(x.shape(), 0, 1, f64, gen));
    const Tensor fwd_over_rev = hvp(g, x, v);
    const Tensor rev_over_rev = grad([&](const Tensor& z) { return sum(grad(g)(z) * v); })(x);
    const double eps = 1e-5;
    const Tensor fd = (grad(g)(x + v * eps) - grad(g)(x - v * eps)) / (2 * eps);
    double scale = 0;
    const double modes = max_abs_diff(fwd_over_rev, rev_over_rev, scale);
    CHECK_MESSAGE(modes <= 1e-10 * (1 + scale), "forward-over-reverse vs reverse-over-reverse differ by " << modes);
    for (std::size_t e = 0; e < x.size(); ++e) {
        const double a = fwd_over_rev.value().flat(e), n = fd.value().flat(e);
        CHECK_MESSAGE(std::abs(a - n) <= 1e-5 + 1e-3 * std::abs(n),
                      "hvp element " << e << ": " << a << " vs central differences " << n);
    }
    if (x.size() <= 6) {
        const Tensor H = hessian(g)(x);
        const std::size_t n = x.size();
        for (std::size_t a = 0; a < n; ++a) {
            for (std::size_t b = 0; b < a; ++b) {
                const double hab = H.value().flat(a * n + b), hba = H.value().flat(b * n + a);
                CHECK_MESSAGE(std::abs(hab - hba) <= 1e-10 * (1 + std::abs(hab)),
                              "Hessian not symmetric at (" << a << "," << b << "): " << hab << " vs " << hba);
            }
        }
    }
}

}  // namespace

TEST_CASE("second order: every op, forward-over-reverse = reverse-over-reverse = differences of the gradient") {
    Generator gen(2024);
    for (const auto& op : all_ops()) {
        for (const auto& s : op.samples(gen)) {
            for (std::size_t i = 0; i < s.inputs.size(); ++i) {
                CAPTURE(s.label);
                CAPTURE(i);
                check_second_order(s, i, gen);
            }
        }
    }
}

TEST_CASE("hessian of a quadratic form is the symmetric matrix, hvp its product") {
    const Tensor A = Tensor::from({{2.0, 1.0, 0.0}, {1.0, 3.0, -1.0}, {0.0, -1.0, 4.0}}, f64);
    const auto f = [&](const Tensor& x) { return 0.5 * sum(x * matmul(A, x)); };
    const Tensor x = Tensor::from({0.3, -0.2, 0.9}, f64);
    const Tensor H = hessian(f)(x);
    for (std::size_t i = 0; i < 9; ++i) CHECK(H.value().flat(i) == doctest::Approx(A.value().flat(i)).epsilon(1e-14));
    const Tensor hv = hvp(f, x, Tensor::from({1.0, 0.0, 0.0}, f64));
    CHECK(hv.value().flat(1) == doctest::Approx(1.0));
}

TEST_CASE("linearize records once and gives J·v for any v") {
    const auto f = [](const Tensor& x) { return sin(x) * x; };
    const Tensor x = Tensor::from({0.5, 1.5}, f64);
    const auto [y, lin] = linearize(f, x);
    CHECK(y.value().flat(0) == doctest::Approx(std::sin(0.5) * 0.5));
    const long nodes = live_node_count();
    for (double a : {1.0, -2.0}) {
        const Tensor jv = lin(Tensor::from({a, 0.0}, f64));
        CHECK(jv.value().flat(0) == doctest::Approx(a * (std::cos(0.5) * 0.5 + std::sin(0.5))));
        CHECK(jv.value().flat(1) == 0.0);
    }
    CHECK(live_node_count() == nodes);  // no new graph per call
    CHECK_THROWS_WITH_AS(lin(Tensor::from({1.0}, f64)), doctest::Contains("linearize: the tangent must be float64 (2)"),
                         shape_error);
}

TEST_CASE("hvp equals jvp of grad bitwise, nests under grad and jvp, and checks its tangent as jvp does") {
    // f = Σ xᵢ⁴: H = diag(12 xᵢ²), so H·v = 12 x² ⊙ v and ∂/∂x Σ (H·v)ᵢ uᵢ = 24 x ⊙ v ⊙ u.
    const auto f = [](const Tensor& x) { return sum(x * x * x * x); };
    const Tensor x = Tensor::from({0.5, -1.5, 2.0}, f64);
    const Tensor v = Tensor::from({1.0, 0.25, -2.0}, f64);
    const Tensor u = Tensor::from({-1.0, 3.0, 0.5}, f64);
    const Tensor hv = hvp(f, x, v);
    const Tensor via_jvp = jvp(grad(f), x, v).second;
    for (std::size_t i = 0; i < 3; ++i) {
        const double xi = x.value().flat(i), vi = v.value().flat(i), ui = u.value().flat(i);
        CHECK(hv.value().flat(i) == via_jvp.value().flat(i));
        CHECK(hv.value().flat(i) == doctest::Approx(12 * xi * xi * vi).epsilon(1e-14));
        const double third = 24 * xi * vi * ui;
        const Tensor by_grad = grad([&](const Tensor& z) { return sum(hvp(f, z, v) * u); })(x);
        CHECK(by_grad.value().flat(i) == doctest::Approx(third).epsilon(1e-14));
        const Tensor e = Tensor::from({i == 0 ? 1.0 : 0.0, i == 1 ? 1.0 : 0.0, i == 2 ? 1.0 : 0.0}, f64);
        const Tensor by_jvp = jvp([&](const Tensor& z) { return sum(hvp(f, z, v) * u); }, x, e).second;
        CHECK(by_jvp.value().flat(0) == doctest::Approx(third).epsilon(1e-14));
    }
    CHECK_THROWS_WITH_AS(hvp(f, x, Tensor::from({1.0, 2.0}, f64)),
                         "jvp: the tangent has shape (2) but must match the shape (3) it pairs with", shape_error);
    CHECK_THROWS_WITH_AS(hvp(f, x, Tensor::from({1.0, 2.0, 3.0}, f32)),
                         "jvp: the tangent is float32 but its partner is float64; convert it with cast(v, adg::f64)",
                         dtype_error);
}

TEST_CASE(
    "binary rules: an operand with the output's shape less leading 1s (a recorded sweep's d · ct) fuses bitwise") {
    // a (2,4) against b (1,2,4), as a recorded reverse sweep multiplies a value by a (1, ...) cotangent. Recording
    // off, the rules take the fused pass; recording on, they run op by op: the values must agree bit for bit.
    Generator gen(7);
    const Tensor a = Tensor(normal({2, 4}, 0, 1, f64, gen)).requires_grad();
    const Tensor b = (Tensor(normal({1, 2, 4}, 0, 1, f64, gen)) + 3.0).detach().requires_grad();
    const Tensor ta(normal({2, 2, 4}, 0, 1, f64, gen)), tb(normal({2, 1, 2, 4}, 0, 1, f64, gen));
    const Tensor ct(normal({2, 1, 2, 4}, 0, 1, f64, gen));
    const std::vector<std::function<Tensor(const Tensor&, const Tensor&)>> ops = {
        [](const Tensor& p, const Tensor& q) { return p * q; }, [](const Tensor& p, const Tensor& q) { return p / q; },
        [](const Tensor& p, const Tensor& q) { return q - p; }, [](const Tensor& p, const Tensor& q) { return q + p; }};
    for (std::size_t o = 0; o < ops.size(); ++o) {
        CAPTURE(o);
        const Tensor y = ops[o](a, b);
        REQUIRE(y.shape() == Shape{1, 2, 4});
        const auto check = [](const Tensor& fused, const Tensor& op_by_op) {
            REQUIRE(fused.shape() == op_by_op.shape());
            for (std::size_t i = 0; i < fused.size(); ++i) CHECK(fused.value().flat(i) == op_by_op.value().flat(i));
        };
        check(forward_sweep({a, b}, {ta, tb}, {y}, {true, false})[0],
              forward_sweep({a, b}, {ta, tb}, {y}, {true, true})[0]);
        check(forward_sweep({a}, {ta}, {y}, {true, false})[0], forward_sweep({a}, {ta}, {y}, {true, true})[0]);
        check(forward_sweep({b}, {tb}, {y}, {true, false})[0], forward_sweep({b}, {tb}, {y}, {true, true})[0]);
        const auto fused = reverse_sweep({y}, {ct}, {a, b}, {true, false});
        const auto op_by_op = reverse_sweep({y}, {ct}, {a, b}, {true, true});
        check(fused[0], op_by_op[0]);
        check(fused[1], op_by_op[1]);
    }
}

TEST_CASE("hvp, hessian and linearize run f exactly once per call") {
    // f = Σ xᵢ⁴: H = diag(12 xᵢ²); g = x³ elementwise has J = diag(3 x²).
    const Tensor x = Tensor::from({0.5, -1.5, 2.0}, f64);
    const Tensor v = Tensor::from({1.0, 0.25, -2.0}, f64);
    int calls = 0;
    const auto f = [&](const Tensor& a) {
        ++calls;
        return sum(a * a * a * a);
    };
    const Tensor hv = hvp(f, x, v);
    CHECK(calls == 1);
    calls = 0;
    const Tensor H = hessian(f)(x);
    CHECK(calls == 1);
    calls = 0;
    const auto [y, lin] = linearize(
        [&](const Tensor& a) {
            ++calls;
            return a * a * a;
        },
        x);
    const Tensor jv = lin(v);
    const Tensor jv2 = lin(v * 2.0);
    CHECK(calls == 1);
    for (std::size_t i = 0; i < 3; ++i) {
        const double xi = x.value().flat(i), vi = v.value().flat(i);
        CHECK(hv.value().flat(i) == doctest::Approx(12 * xi * xi * vi).epsilon(1e-14));
        CHECK(H.value().flat(i * 3 + i) == doctest::Approx(12 * xi * xi).epsilon(1e-14));
        CHECK(jv.value().flat(i) == doctest::Approx(3 * xi * xi * vi).epsilon(1e-14));
        CHECK(jv2.value().flat(i) == doctest::Approx(6 * xi * xi * vi).epsilon(1e-14));
    }
}
