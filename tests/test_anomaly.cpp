// Anomaly mode: NaN/Inf in an op's output, tangent or cotangent is an error naming the op, the sweep and the
// line where the op was created; off (the default), NaN propagates untouched.

#include <doctest/doctest.h>

#include <cmath>

#include <adgraph/adgraph.hpp>

using namespace adg;
using doctest::Contains;

namespace {

std::string here(int line) { return std::string("test_anomaly.cpp:") + std::to_string(line); }

}  // namespace

TEST_CASE("anomaly off: NaN propagates, nothing is masked") {
    const Tensor y = log(Tensor::from({-1.0, 1.0}, f64));
    CHECK(std::isnan(y.value().flat(0)));
    CHECK(y.value().flat(1) == 0.0);
    CHECK_FALSE(anomaly_enabled());
}

TEST_CASE("anomaly: a NaN output names the op and the caller's line") {
    DetectAnomaly on;
    const Tensor x = Tensor::from({-1.0, 1.0}, f64);
    const int line = __LINE__ + 1;
    const auto f = [&] { return log(x); };
    CHECK_THROWS_WITH_AS(f(), Contains("anomaly: 'log' produced NaN in its output at element 0 of shape (2)"),
                         value_error);
    CHECK_THROWS_WITH_AS(f(), Contains(here(line).c_str()), value_error);
    // Ops a public function composes report the user's line too.
    const auto g = [&] { return mean(Tensor::from({1e308, 1e308}, f64) * Tensor::scalar(10.0, f64)); };
    CHECK_THROWS_WITH_AS(g(), Contains("produced Inf"), value_error);
    const Tensor big = Tensor::from({1e308}, f64);
    const int line3 = __LINE__ + 1;
    const auto h = [&] { return mul(big, big); };
    CHECK_THROWS_WITH_AS(h(), Contains(here(line3).c_str()), value_error);
    // An operator cannot take a call site; the message says so and names the function that can.
    CHECK_THROWS_WITH_AS(big * big, Contains("an operator such as * or +"), value_error);
}

TEST_CASE("anomaly: Inf inside a sweep names the op whose rule made it, the sweep and where the op was created") {
    const Tensor x = Tensor::from({0.0, 1.0}, f64).requires_grad();
    Tensor y;
    const int line = __LINE__ + 1;
    const auto make = [&] { return sum(sqrt(x)); };
    y = make();
    {
        DetectAnomaly on;
        CHECK_THROWS_WITH_AS(y.backward(BackwardOptions{true, false}),
                             Contains("in the VJP rule of 'sqrt' (backward): anomaly: 'rdiv_scalar' produced Inf"),
                             value_error);
        CHECK_THROWS_WITH_AS(y.backward(BackwardOptions{true, false}), Contains(here(line).c_str()), value_error);
        CHECK_THROWS_WITH_AS(forward_sweep({x}, {Tensor::ones({1, 2}, f64)}, {y}),
                             Contains("in the JVP rule of 'sqrt' (forward_sweep): anomaly: 'rdiv_scalar' produced Inf"),
                             value_error);
    }
    y.backward();  // without anomaly mode the Inf simply arrives
    CHECK(std::isinf(x.grad().value().flat(0)));
}
