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
