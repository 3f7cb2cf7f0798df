// Errors name the op the user called: an op a public function records internally (sum's reshape, mean's division)
// is reported as "'sum' (its internal 'reshape')", and an op called directly as itself.

#include <doctest/doctest.h>

#include <string>

#include <adgraph/adgraph.hpp>
#include <adgraph/autodiff/node.hpp>

using namespace adg;

namespace {

// The message of the graph_error a second backward() raises.
std::string second_backward_error(const Tensor& y) {
    y.backward();
    try {
        y.backward();
    } catch (const graph_error& e) {
        return e.what();
    }
    return "no error";
}

const std::string released_tail =
    " was released by an earlier reverse sweep; pass retain_graph = true to the first backward()/sweep to sweep it "
    "again, or recompute the forward pass (to use the value as a constant, detach() it)";

}  // namespace

TEST_CASE("a released graph is named by the user's op: sum, mean, logsumexp and a direct op") {
    const Tensor w = Tensor::from({1.0, -2.0, 0.5}, f64).requires_grad();
    CHECK(second_backward_error(sum(w * w)) ==
          "backward: the graph through 'sum' (its internal 'reshape')" + released_tail);
    CHECK(second_backward_error(mean(w * w)) ==
          "backward: the graph through 'mean' (its internal 'div_scalar')" + released_tail);
    CHECK(second_backward_error(logsumexp(w)) ==
          "backward: the graph through 'logsumexp' (its internal 'reshape')" + released_tail);
    // With keepdims sum's last op is its sum_to; an op that is what the user called is named once.
    CHECK(second_backward_error(sum(exp(w), {0}, true)) ==
          "backward: the graph through 'sum' (its internal 'sum_to')" + released_tail);
    const Tensor x = Tensor::from({{1.0, 2.0}, {3.0, 4.0}}, f64).requires_grad();
    const Tensor y = matmul(x, x);
    y.backward(Tensor::ones({2, 2}, f64));
    try {
        y.backward(Tensor::ones({2, 2}, f64));
        FAIL("no error");
    } catch (const graph_error& e) {
        CHECK(std::string(e.what()) == "backward: the graph through 'matmul'" + released_tail);
    }
}

TEST_CASE("anomaly mode names the user's op around the internal op that made the NaN") {
    DetectAnomaly on;
    const Tensor empty = Tensor::zeros({0}, f64).requires_grad();
    try {
        (void)mean(empty);
        FAIL("no error");
    } catch (const value_error& e) {
        const std::string m = e.what();
        CHECK(m.rfind("anomaly: 'mean' (its internal 'mul_scalar') produced NaN in its output", 0) == 0);
        CHECK(m.find("test_op_names.cpp:") != std::string::npos);
    }
}

TEST_CASE("an operator is named by the op it calls, and a nested public call does not rename the outer one") {
    const Tensor w = Tensor::from({1.0, 2.0}, f64).requires_grad();
    const Tensor p = w * w;
    CHECK(p.node()->label() == "'mul'");
    // global_avg_pool2d is mean over H and W, itself sum and a division: the user's op is the outermost.
    const Tensor img = Tensor::ones({1, 1, 2, 2}, f64).requires_grad();
    const Tensor g = global_avg_pool2d(img);
    CHECK(g.node()->label() == "'global_avg_pool2d' (its internal 'div_scalar')");
    CHECK(std::string(g.node()->site().op) == "global_avg_pool2d");
}
