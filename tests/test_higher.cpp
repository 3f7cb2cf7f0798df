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
