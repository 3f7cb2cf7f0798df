// Jacobians that know their structure: diagonal for elementwise graphs, blocks for per-sample functions over a
// batch, dense otherwise; the mode follows n and m unless forced; dense() equals jacfwd.

#include <doctest/doctest.h>

#include <adgraph/adgraph.hpp>

using namespace adg;

namespace {

void check_equal(const Tensor& a, const Tensor& b) {
    REQUIRE(a.shape() == b.shape());
    for (std::size_t i = 0; i < a.size(); ++i) {
        CHECK(a.value().flat(i) == doctest::Approx(b.value().flat(i)).epsilon(1e-12).scale(1.0));
    }
}

}  // namespace

TEST_CASE("an activation chain has a diagonal Jacobian, from one sweep") {
    const auto f = [](const Tensor& x) { return tanh(sin(x) * 2.0) + sigmoid(x) * x - 0.5; };
    Generator gen(1);
    const Tensor x = Tensor::uniform({4, 5}, -2, 2, gen, f64);
    for (Mode m : {Mode::automatic, Mode::forward, Mode::reverse}) {
        const Jacobian J = jacobian(f, x, m);
        CHECK(J.structure == Structure::diagonal);
        CHECK(J.directions == 1);
        CHECK(J.values.shape() == x.shape());
        CHECK(J.why.find("diagonal") == 0);
        check_equal(J.dense(), jacfwd(f)(x));
    }
}

TEST_CASE("a per-sample MLP over a batch has a block-diagonal Jacobian") {
    Generator gen(2);
    const Tensor w1 = Tensor::uniform({6, 3}, -1, 1, gen, f64), b1 = Tensor::uniform({6}, -1, 1, gen, f64);
    const Tensor w2 = Tensor::uniform({2, 6}, -1, 1, gen, f64);
    const auto f = [&](const Tensor& x) { return log_softmax(linear(tanh(linear(x, w1, b1)), w2), -1); };
    const Tensor x = Tensor::uniform({5, 3}, -1, 1, gen, f64);
    const Jacobian J = jacobian(f, x);
    CHECK(J.structure == Structure::blocks);
    CHECK(J.mode == Mode::reverse);  // 2 outputs per row < 3 inputs per row
    CHECK(J.directions == 2);
    CHECK(J.values.shape() == Shape{5, 2, 3});
    check_equal(J.dense(), jacrev(f)(x));
    const Jacobian Jf = jacobian(f, x, Mode::forward);
    CHECK(Jf.directions == 3);
    check_equal(Jf.values, J.values);
    CHECK(J.why ==
          "blocks: row i of y depends only on row i of x through all 4 ops, so 2 reverse directions (outputs per row) "
          "give all 5 blocks of 2x3 (a dense Jacobian needs 10)");
}

TEST_CASE("mixing rows gives a dense Jacobian, mode by n and m, and the explanation says why") {
    Generator gen(3);
    const Tensor W = Tensor::uniform({2, 6}, -1, 1, gen, f64);
    const auto few_outputs = [&](const Tensor& x) { return tanh(matmul(W, x)); };  // R^6 -> R^2
    const Tensor x = Tensor::uniform({6}, -1, 1, gen, f64);
    const Jacobian J = jacobian(few_outputs, x);
    CHECK(J.structure == Structure::dense);
    CHECK(J.mode == Mode::reverse);
    CHECK(J.why == "dense: n = 6 inputs, m = 2 outputs; reverse mode needs 2 directions, forward 6");
    check_equal(J.values, jacfwd(few_outputs)(x));
    const auto many_outputs = [](const Tensor& x) { return stack({x * 2.0, sin(x), x * x}); };  // R^2 -> R^6
    const Jacobian K = jacobian(many_outputs, Tensor::from({0.3, -0.4}, f64));
    CHECK(K.mode == Mode::forward);
    const Jacobian forced = jacobian(many_outputs, Tensor::from({0.3, -0.4}, f64), Mode::Reverse);
    CHECK(forced.mode == Mode::reverse);
    CHECK(forced.why.find("(mode forced)") != std::string::npos);
    check_equal(forced.values, K.values);
    // softmax over a whole vector couples every element.
    CHECK(jacobian([](const Tensor& v) { return softmax(v); }, x).structure == Structure::dense);
}

TEST_CASE("jacobian runs f exactly once per call, in every mode") {
    const Tensor x = Tensor::from({0.5, -1.5, 2.0}, f64);
    int calls = 0;
    const auto f = [&](const Tensor& a) {
        ++calls;
        return sin(a) * a;
    };
    for (Mode m : {Mode::automatic, Mode::forward, Mode::reverse}) {
        CAPTURE(mode_name(m));
        calls = 0;
        const Jacobian J = jacobian(f, x, m);
        CHECK(calls == 1);
        // d/dx sin(x)·x = cos(x)·x + sin(x), elementwise (a diagonal Jacobian, stored in x's shape)
        check_equal(J.values, cos(x) * x + sin(x));
    }
    // A dense Jacobian (softmax mixes every element) is swept on the recorded graph too, not by running f again.
    const auto g = [&](const Tensor& a) {
        ++calls;
        return softmax(a * 2.0, -1);
    };
    const Tensor s = softmax(x * 2.0, -1);
    for (Mode m : {Mode::automatic, Mode::forward, Mode::reverse}) {
        CAPTURE(mode_name(m));
        calls = 0;
        const Jacobian J = jacobian(g, x, m);
        CHECK(calls == 1);
        CHECK(J.structure == Structure::dense);
        // ∂sᵢ/∂xⱼ = 2·sᵢ·(δᵢⱼ - sⱼ)
        for (std::size_t i = 0; i < 3; ++i) {
            for (std::size_t j = 0; j < 3; ++j) {
                const double si = s.value().flat(i), sj = s.value().flat(j);
                CHECK(J.values.value().flat(i * 3 + j) ==
                      doctest::Approx(2 * si * ((i == j ? 1.0 : 0.0) - sj)).epsilon(1e-13));
            }
        }
    }
}
