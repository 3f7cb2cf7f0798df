// The transforms: grad, jvp, vjp, jacfwd, jacrev, and their nesting (Hessian-vector products).

#include <doctest/doctest.h>

#include <cmath>

#include <adgraph/adgraph.hpp>

#include "tensor_checks.hpp"

using namespace adg;
using adg::testing::check_close;

namespace {

// The diagonal of an (n, n) matrix.
Tensor diagonal(const Tensor& m) {
    const std::size_t n = m.shape()[0];
    std::vector<double> d;
    for (std::size_t i = 0; i < n; ++i) d.push_back(m.value().flat(i * n + i));
    return Tensor::from(d, {n}, m.dtype());
}

struct Mlp {
    Tensor w1, b1, w2;
    Tensor operator()(const Tensor& x) const { return log_softmax(linear(tanh(linear(x, w1, b1)), w2)); }
};

Mlp make_mlp(Generator& gen, std::size_t in, std::size_t hidden, std::size_t out) {
    return {Tensor::uniform({hidden, in}, -0.5, 0.5, gen, f64), Tensor::uniform({hidden}, -0.5, 0.5, gen, f64),
            Tensor::uniform({out, hidden}, -0.5, 0.5, gen, f64)};
}

}  // namespace

TEST_CASE("grad equals the analytic gradient") {
    const Tensor x = Tensor::from({0.5, -1.0, 2.0}, f64);
    const Tensor g = grad([](const Tensor& v) { return sum(tanh(v) * v); })(x);
    for (std::size_t i = 0; i < 3; ++i) {
        const double v = x.value().flat(i), t = std::tanh(v);
        CHECK(g.value().flat(i) == doctest::Approx(t + v * (1 - t * t)).epsilon(1e-14));
    }
    CHECK_FALSE(g.needs_grad());
}

TEST_CASE("jacfwd and jacrev agree, also when chunked") {
    Generator gen(3);
    const Mlp f = make_mlp(gen, 5, 7, 4);
    const Tensor x = Tensor::uniform({5}, -1, 1, gen, f64);
    const Tensor jf = jacfwd(f)(x), jr = jacrev(f)(x);
    CHECK(jf.shape() == Shape{4, 5});
    check_close(jf, jr);
    check_close(jacfwd(f, JacobianOptions{2})(x), jf);
    check_close(jacrev(f, JacobianOptions{3})(x), jr);
    // A matrix input and output: shapes concatenate.
    const auto g = [](const Tensor& m) { return softmax(m, -1) * 2.0; };
    const Tensor m = Tensor::uniform({2, 3}, -1, 1, gen, f64);
    const Tensor gf = jacfwd(g)(m), gr = jacrev(g)(m);
    CHECK(gf.shape() == Shape{2, 3, 2, 3});
    check_close(gf, gr);
}

TEST_CASE("jvp is J·v and vjp is Jᵀ·u") {
    Generator gen(4);
    const Mlp f = make_mlp(gen, 3, 6, 2);
    const Tensor x = Tensor::uniform({3}, -1, 1, gen, f64);
    const Tensor v = Tensor::uniform({3}, -1, 1, gen, f64);
    const Tensor u = Tensor::uniform({2}, -1, 1, gen, f64);
    const Tensor J = jacrev(f)(x);
    const auto [y, jv] = jvp(f, x, v);
    check_close(y, f(x));
    check_close(jv, matmul(J, v));
    const auto [y2, pull] = vjp(f, x);
    check_close(pull(u), matmul(u, J));
    check_close(pull(u), pull(u));  // the pullback can be called again
    const Tensor us = stack({u, u * 2.0});
    const Tensor batch = pull.batched(us);
    check_close(slice(batch, 0, 1, 2), reshape(pull(u * 2.0), {1, 3}));
}

TEST_CASE("several inputs: jvp sums the directions, vjp returns one cotangent per input") {
    const MultiFn f = [](const std::vector<Tensor>& xs) { return sum(xs[0] * exp(xs[1])); };
    const Tensor a = Tensor::from({1.0, 2.0}, f64), b = Tensor::from({0.5, -0.5}, f64);
    const Tensor va = Tensor::from({1.0, 0.0}, f64), vb = Tensor::from({0.0, 1.0}, f64);
    const auto [y, t] = jvp(f, {a, b}, {va, vb});
    CHECK(t.item() == doctest::Approx(std::exp(0.5) + 2.0 * std::exp(-0.5)));
    const auto [y2, gs] = vjp(f, {a, b}, Tensor::scalar(1.0, f64));
    CHECK(gs[0].value().flat(1) == doctest::Approx(std::exp(-0.5)));
    CHECK(gs[1].value().flat(0) == doctest::Approx(1.0 * std::exp(0.5)));
}

TEST_CASE("transforms nest: forward-over-reverse and reverse-over-reverse Hessian-vector products") {
    Generator gen(5);
    const auto f = [](const Tensor& x) { return sum(exp(x) * sin(x)) + square(sum(x * x)); };
    const Tensor x = Tensor::uniform({3}, -1, 1, gen, f64);
    const Tensor v = Tensor::uniform({3}, -1, 1, gen, f64);
    const Tensor hv_fwd = jvp(grad(f), x, v).second;
    const Tensor hv_rev = grad([&](const Tensor& z) { return sum(grad(f)(z) * v); })(x);
    check_close(hv_fwd, hv_rev);
    // Central differences of the gradient along v.
    const double eps = 1e-6;
    const Tensor fd = (grad(f)(x + v * eps) - grad(f)(x - v * eps)) / (2 * eps);
    check_close(hv_fwd, fd, 1e-6);
    // The Hessian by jacfwd of grad is symmetric.
    const Tensor H = jacfwd(grad(f))(x);
    check_close(H, transpose(H));
}

TEST_CASE("transforms work inside NoGrad and leave no graph behind") {
    const long base = live_node_count();
    {
        NoGrad guard;
        const Tensor x = Tensor::from({0.5, -1.0});
        const Tensor g = grad([](const Tensor& v) { return sum(v * v); })(x);
        CHECK(g.value().flat(1) == doctest::Approx(-2.0));
        CHECK_FALSE(g.needs_grad());
    }
    CHECK(live_node_count() == base);
}

TEST_CASE("grad, vjp, jacfwd and jacrev run f exactly once per call, also nested in an eager jvp") {
    // f = Σ sin(x)·x: ∇f = cos(x)·x + sin(x), and the Jacobian of g = sin(x)·x is diag(cos(x)·x + sin(x)).
    const Tensor x = Tensor::from({0.3, -1.2, 2.0}, f64);
    const Tensor d = cos(x) * x + sin(x);
    int calls = 0;
    const auto g = [&](const Tensor& a) {
        ++calls;
        return sin(a) * a;
    };
    const auto f = [&](const Tensor& a) { return sum(g(a)); };
    const auto once = [&](const char* what, auto&& run) {
        CAPTURE(what);
        calls = 0;
        run();
        CHECK(calls == 1);
    };
    once("grad", [&] { check_close(grad(f)(x), d); });
    once("vjp", [&] { check_close(vjp(g, x).second(Tensor::ones({3}, f64)), d); });
    once("vjp of several inputs", [&] {
        const auto [y, gs] = vjp([&](const std::vector<Tensor>& xs) { return g(xs[0]); }, {x}, Tensor::ones({3}, f64));
        check_close(gs[0], d);
    });
    once("jacfwd", [&] { check_close(diagonal(jacfwd(g)(x)), d); });
    once("jacrev", [&] { check_close(diagonal(jacrev(g)(x)), d); });
    once("jacrev chunked", [&] { check_close(diagonal(jacrev(g, JacobianOptions{1})(x)), d); });
    once("jvp", [&] { check_close(jvp(g, x, Tensor::ones({3}, f64)).second, d); });
    // Inside an eager jvp, whose leaves are tracked: the nested transform still calls f once.
    once("grad inside jvp", [&] { jvp(grad(f), x, Tensor::ones({3}, f64)); });
    once("jacrev inside jvp", [&] { jvp([&](const Tensor& a) { return sum(jacrev(g)(a)); }, x, x); });
}
