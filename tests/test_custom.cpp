// Custom differentiable functions: one rule set works in both modes; the checks catch rules that disagree.

#include <doctest/doctest.h>

#include <cmath>

#include <adgraph/adgraph.hpp>

using namespace adg;

namespace {

// log(1 + eˣ) written stably, with its derivative σ(x) as the JVP only.
CustomFunction softplus_jvp_only() {
    CustomFunction f;
    f.name = "my_softplus";
    f.forward = [](const std::vector<Tensor>& x) {
        return maximum(x[0], zeros_like(x[0])) + log(1.0 + exp(-abs(x[0])));
    };
    f.jvp = [](const std::vector<Tensor>& x, const Tensor&, const std::vector<Tensor>& t) {
        return sigmoid(x[0]) * t[0];
    };
    return f;
}

}  // namespace

TEST_CASE("a custom function with only a JVP works in both modes and under second order") {
    const CustomFunction f = softplus_jvp_only();
    Generator gen(3);
    const Tensor x = Tensor::from({{-3.0, 0.5, 2.0}, {40.0, -40.0, 0.1}}, f64);
    const CheckResult r = check_function(f, {x}, gen);
    CHECK_MESSAGE(r.ok, r.message);
    const Tensor g = grad([&](const Tensor& v) { return sum(call(f, {v})); })(x);
    for (std::size_t i = 0; i < 6; ++i) {
        CHECK(g.value().flat(i) == doctest::Approx(1.0 / (1.0 + std::exp(-x.value().flat(i)))));
    }
    // Matches the built-in softplus, values and second derivatives.
    const auto mine = [&](const Tensor& v) { return sum(call(f, {v})); };
    const auto builtin = [](const Tensor& v) { return sum(softplus(v)); };
    const Tensor v = Tensor::from({{1.0, 0.0, -1.0}, {0.5, 0.5, 0.5}}, f64);
    const Tensor h1 = hvp(mine, x, v), h2 = hvp(builtin, x, v);
    for (std::size_t i = 0; i < 6; ++i) CHECK(h1.value().flat(i) == doctest::Approx(h2.value().flat(i)));
}

TEST_CASE("a custom function with a JVP and a wrong VJP fails the dot test, and errors name it") {
    CustomFunction f = softplus_jvp_only();
    f.vjp = [](const std::vector<Tensor>& x, const Tensor&, const Tensor& ct, std::size_t) {
        return sigmoid(x[0]) * ct * 1.01;  // 1 % off
    };
    Generator gen(4);
    const CheckResult r = check_function(f, {Tensor::from({0.3, -0.7}, f64)}, gen);
    CHECK_FALSE(r.ok);
    f.vjp = [](const std::vector<Tensor>&, const Tensor&, const Tensor&, std::size_t) -> Tensor {
        throw value_error("not implemented");
    };
    const Tensor x = Tensor::from({0.3}, f64).requires_grad();
    const Tensor y = sum(call(f, {x}));
    CHECK_THROWS_WITH_AS(y.backward(), doctest::Contains("in the VJP rule of 'my_softplus' (backward)"), value_error);
    CustomFunction incomplete;
    incomplete.name = "half";
    CHECK_THROWS_WITH_AS(call(incomplete, {x}), doctest::Contains("custom function 'half': needs a forward and a jvp"),
                         value_error);
}

namespace {

// softplus whose JVP is computed off the graph: right values in forward mode, but nothing reverse mode can transpose.
CustomFunction softplus_off_graph() {
    CustomFunction f = softplus_jvp_only();
    f.name = "off_graph";
    f.jvp = [](const std::vector<Tensor>& x, const Tensor&, const std::vector<Tensor>& t) {
        NoGrad off;
        return sigmoid(x[0]) * t[0];
    };
    return f;
}

}  // namespace

TEST_CASE("a custom function whose JVP is computed off the graph is refused by reverse mode, naming it") {
    const CustomFunction f = softplus_off_graph();
    const Tensor x = Tensor::from({0.3, -0.7}, f64).requires_grad();
    const Tensor y = sum(call(f, {x}));
    // Without the check this backward() ran and left x.grad() at zero.
    CHECK_THROWS_WITH_AS(y.backward(),
                         "in the VJP rule of 'off_graph' (backward): the JVP of custom function 'off_graph' does not "
                         "depend on the tangent of input 0 as recorded (it was computed off the graph: from raw arrays "
                         "or under NoGrad), so reverse mode cannot transpose it and would give zero gradients; write "
                         "the JVP with adgraph ops on t, or give the function a vjp",
                         graph_error);
    CHECK_FALSE(x.has_grad());
    const Fn total = [&](const Tensor& v) { return sum(call(f, {v})); };
    CHECK_THROWS_WITH_AS(grad(total)(x.detach()), doctest::Contains("custom function 'off_graph'"), graph_error);
    const auto pulled = vjp([&](const Tensor& v) { return call(f, {v}); }, x.detach());
    CHECK_THROWS_WITH_AS(pulled.second(Tensor::ones({2}, f64)), doctest::Contains("'off_graph'"), graph_error);
    // Forward mode uses the JVP as it is, and its values are right: σ(x)·v.
    const Tensor v = Tensor::from({1.0, 2.0}, f64);
    const Tensor jv = jvp([&](const Tensor& z) { return call(f, {z}); }, x.detach(), v).second;
    for (std::size_t i = 0; i < 2; ++i) {
        CHECK(jv.value().flat(i) == doctest::Approx(v.value().flat(i) / (1.0 + std::exp(-x.value().flat(i)))));
    }
    // check_function reports it as a failed check instead of raising.
    Generator gen(8);
    const CheckResult r = check_function(f, {x.detach()}, gen);
    CHECK_FALSE(r.ok);
    CHECK(r.message.find("does not depend on the tangent of input 0") != std::string::npos);
}

TEST_CASE("a custom function whose JVP is zero for an input it ignores still runs backward") {
    // first(a, b) = a; the JVP returns a materialised zero when only b has a tangent (not computed off the graph:
    // it is the right tangent, and its transpose is zero).
    CustomFunction f;
    f.name = "first";
    f.forward = [](const std::vector<Tensor>& x) { return x[0] * 1.0; };
    f.jvp = [](const std::vector<Tensor>& x, const Tensor&, const std::vector<Tensor>& t) {
        if (t[0].defined()) return t[0];
        return Tensor::zeros(batched_shape(t[1].shape()[0], x[0].shape()), x[0].dtype());
    };
    const Tensor a = Tensor::from({1.0, 2.0}, f64).requires_grad(), b = Tensor::from({3.0, 4.0}, f64).requires_grad();
    sum(call(f, {a, b}) * Tensor::from({5.0, 7.0}, f64)).backward();
    CHECK(a.grad().value().flat(0) == 5.0);
    CHECK(a.grad().value().flat(1) == 7.0);
    CHECK(b.grad().value().flat(0) == 0.0);
    CHECK(b.grad().value().flat(1) == 0.0);
    Generator gen(9);
    const CheckResult r = check_function(f, {a.detach(), b.detach()}, gen);
    CHECK_MESSAGE(r.ok, r.message);
}
