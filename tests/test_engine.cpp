// The graph engine: shared nodes, leaf accumulation, NoGrad, detach, retained vs released graphs, very long
// chains, and freeing (live node counts) including after an exception inside a sweep.

#include <doctest/doctest.h>

#include <cmath>

#include <adgraph/adgraph.hpp>
#include <adgraph/autodiff/op.hpp>

#include "explode_op.hpp"

using namespace adg;

namespace {

std::vector<double> values(const Tensor& t) {
    std::vector<double> v;
    for (std::size_t i = 0; i < t.size(); ++i) v.push_back(t.value().flat(i));
    return v;
}

using testing::Explode;

}  // namespace

TEST_CASE("diamond: an interior node with two consumers sums its cotangents") {
    const Tensor x = Tensor::from({0.3, -0.7}, f64).requires_grad();
    const Tensor a = x * 2.0;                // interior node
    const Tensor y = sum(exp(a) * tanh(a));  // a feeds exp and tanh
    y.backward();
    for (std::size_t i = 0; i < 2; ++i) {
        const double av = 2 * x.value().flat(i), t = std::tanh(av);
        const double want = 2 * (std::exp(av) * t + std::exp(av) * (1 - t * t));
        CHECK(x.grad().value().flat(i) == doctest::Approx(want).epsilon(1e-12));
    }
    // The same node used twice by one op.
    const Tensor z = Tensor::from({1.5}, f64).requires_grad();
    sum(z * z).backward();
    CHECK(z.grad().item() == doctest::Approx(3.0));
}

TEST_CASE("leaves accumulate grad across backward calls, and zero_grad forgets it") {
    const Tensor x = Tensor::from({1.0, 2.0}, f64).requires_grad();
    sum(x * x).backward();
    sum(x * 3.0).backward();
    CHECK(values(x.grad()) == std::vector<double>{2 * 1.0 + 3, 2 * 2.0 + 3});
    x.zero_grad();
    CHECK_FALSE(x.has_grad());
    sum(x).backward();
    CHECK(values(x.grad()) == std::vector<double>{1, 1});
}

TEST_CASE("NoGrad records nothing, and recording resumes after the scope") {
    const Tensor x = Tensor::from({1.0, 2.0}).requires_grad();
    Tensor y;
    {
        NoGrad guard;
        CHECK_FALSE(grad_enabled());
        y = tanh(x) * 2.0;
        CHECK_FALSE(y.needs_grad());
        CHECK(y.is_leaf());
    }
    CHECK(grad_enabled());
    const Tensor z = tanh(x);
    CHECK(z.needs_grad());
    CHECK(std::string(z.op_name()) == "tanh");
    // Nothing requires grad: nothing is recorded either.
    const Tensor c = Tensor::from({1.0}) * 3.0;
    CHECK(c.is_leaf());
}

TEST_CASE("detach cuts the graph and shares the value") {
    const Tensor x = Tensor::from({0.5, 1.5}, f64).requires_grad();
    const Tensor y = x * x;
    const Tensor d = y.detach();
    CHECK(d.is_leaf());
    CHECK_FALSE(d.needs_grad());
    CHECK(d.value().same_buffer(y.value()));
    sum(d * x).backward();  // d is a constant: grad = d
    CHECK(values(x.grad()) == values(d));
}

TEST_CASE("retained graphs sweep again, released graphs raise graph_error naming the remedy") {
    const Tensor x = Tensor::from({0.5, -1.0}, f64).requires_grad();
    const Tensor y = sum(tanh(x) * x);
    y.backward(BackwardOptions{true, false});
    const auto once = values(x.grad());
    y.backward();  // allowed: the graph was retained; this sweep releases it
    for (std::size_t i = 0; i < 2; ++i) CHECK(x.grad().value().flat(i) == doctest::Approx(2 * once[i]));
    CHECK_THROWS_WITH_AS(y.backward(), doctest::Contains("retain_graph = true"), graph_error);
    // A forward sweep over the released graph fails the same way.
    CHECK_THROWS_AS(forward_sweep({x}, {Tensor::ones({1, 2}, f64)}, {y}), graph_error);
}

TEST_CASE("a backward without retain frees interior nodes even while the output is held") {
    const long base = live_node_count();
    const Tensor x = Tensor::from({0.5, -1.0}).requires_grad();
    const Tensor y = sum(exp(sin(tanh(x))));
    CHECK(live_node_count() > base + 3);
    y.backward();
    // x, its grad and y remain; the interior nodes are gone.
    CHECK(live_node_count() == base + 3);
}

TEST_CASE("no live nodes remain after a graph goes out of scope") {
    const long base = live_node_count();
    {
        const Tensor x = Tensor::from({0.5, -1.0, 2.0}).requires_grad();
        Tensor h = x;
        for (int i = 0; i < 50; ++i) h = tanh(h) * 1.1 + x;
        sum(h).backward(BackwardOptions{true, false});
        CHECK(live_node_count() > base + 100);
    }
    CHECK(live_node_count() == base);
}

TEST_CASE("a chain of 10^6 nodes builds, sweeps both ways and frees without recursion") {
    const long base = live_node_count();
    {
        const Tensor x = Tensor::scalar(1.0, f64).requires_grad();
        Tensor t = x;
        constexpr int n = 1000000;
        const double c = 1.0 + 1e-7;
        for (int i = 0; i < n; ++i) t = t * c;
        CHECK(live_node_count() >= base + n);
        const Tensor tangent = forward_sweep({x}, {Tensor::ones({1}, f64)}, {t})[0];
        CHECK(tangent.item() == doctest::Approx(std::pow(c, n)).epsilon(1e-9));
        t.backward();
        CHECK(x.grad().item() == doctest::Approx(std::pow(c, n)).epsilon(1e-9));
    }
    CHECK(live_node_count() == base);
    {
        // Freed without any sweep: destruction alone must not recurse.
        Tensor t = Tensor::scalar(0.5).requires_grad();
        for (int i = 0; i < 1000000; ++i) t = sin(t);
    }
    CHECK(live_node_count() == base);
}

TEST_CASE("an exception inside a sweep names the op and leaves no live nodes") {
    const long base = live_node_count();
    {
        const Tensor x = Tensor::from({1.0, 2.0}, f64).requires_grad();
        const Tensor y = sum(apply(Explode{}, tanh(x)) * 2.0);
        const Tensor y2 = sum(apply(Explode{}, tanh(x)) * 2.0);
        CHECK_THROWS_WITH_AS(y.backward(), doctest::Contains("in the VJP rule of 'explode' (backward): boom in vjp"),
                             value_error);
        CHECK_THROWS_WITH_AS(forward_sweep({x}, {Tensor::ones({1, 2}, f64)}, {y2}),
                             doctest::Contains("in the JVP rule of 'explode' (forward_sweep): boom in jvp"),
                             value_error);
    }
    CHECK(live_node_count() == base);
}

TEST_CASE("create_graph records the reverse sweep: grad of grad") {
    const Tensor x = Tensor::from({0.5, -2.0}, f64).requires_grad();
    sum(x * x * x).backward(BackwardOptions{false, true});
    const Tensor g = x.grad();  // 3x², itself differentiable
    CHECK(g.needs_grad());
    x.zero_grad();
    sum(g).backward();
    CHECK(values(x.grad()) == std::vector<double>{6 * 0.5, 6 * -2.0});
}

TEST_CASE("forward and reverse sweeps over one recorded graph give one Jacobian") {
    Generator gen(7);
    const Tensor x = Tensor::uniform({3}, -1, 1, gen, f64).requires_grad();
    const Tensor w = Tensor::uniform({4, 3}, -1, 1, gen, f64);
    const Tensor y = softmax(tanh(matmul(w, x)));
    const Tensor jf = forward_sweep({x}, {Tensor(Array::basis({3}, f64))}, {y})[0];  // (3, 4)
    const Tensor jr =
        reverse_sweep({y}, {Tensor(Array::basis({4}, f64))}, {x}, SweepOptions{true, false})[0];  // (4, 3)
    for (std::size_t i = 0; i < 4; ++i) {
        for (std::size_t j = 0; j < 3; ++j) {
            CHECK(jf.value().flat(j * 4 + i) == doctest::Approx(jr.value().flat(i * 3 + j)).epsilon(1e-12));
        }
    }
}

TEST_CASE("to_dot draws the recorded graph with op names, shapes and torchviz colours") {
    const Tensor w = Tensor::ones({2, 3}).requires_grad();
    const Tensor x = Tensor::ones({3});
    const Tensor y = sum(tanh(matmul(w, x)));
    const std::string dot = to_dot({y}, {"loss"});
    CHECK(dot.rfind("digraph adgraph {", 0) == 0);
    CHECK(dot.find("tanh\\nfloat32 (2)") != std::string::npos);
    CHECK(dot.find("leaf\\nfloat32 (2,3)\", fillcolor=lightblue") != std::string::npos);
    CHECK(dot.find("leaf\\nfloat32 (3)\", fillcolor=lightgrey") != std::string::npos);  // x, a constant
    CHECK(dot.find("loss: reshape\\nfloat32 ()\", fillcolor=darkolivegreen1") != std::string::npos);
    std::size_t edges = 0;
    for (std::size_t p = dot.find("->"); p != std::string::npos; p = dot.find("->", p + 2)) ++edges;
    // w and x -> matmul -> tanh -> sum_to -> reshape: 5 edges.
    CHECK(edges == 5);
    y.backward();
    CHECK(to_dot({y}).find("style=\"filled,dashed\"") != std::string::npos);
}

TEST_CASE("released nodes: an error where a requested input may lie behind them, skipped where none can") {
    const Tensor x = Tensor::from({1.0, 2.0}, f64).requires_grad();
    const Tensor a = x * 3.0;
    sum(a).backward();  // releases a
    const Tensor h = tanh(a);
    const Tensor out = sum(h);
    // x is reachable only through the released a: an error, not a zero gradient.
    CHECK_THROWS_WITH_AS(reverse_sweep({out}, {Tensor::ones({1}, f64)}, {x}, SweepOptions{true, false}),
                         doctest::Contains("released"), graph_error);
    CHECK_THROWS_WITH_AS(reverse_sweep({out}, {Tensor::ones({1}, f64)}, {h, x}, SweepOptions{true, false}),
                         doctest::Contains("released"), graph_error);
    // x also reachable directly: still an error (the path through a would be missing).
    const Tensor both = sum(h * x);
    CHECK_THROWS_AS(reverse_sweep({both}, {Tensor::ones({1}, f64)}, {x}, SweepOptions{true, false}), graph_error);
    // Asking for the released node itself needs nothing behind it.
    const Tensor g = reverse_sweep({sum(a * 2.0)}, {Tensor::ones({1}, f64)}, {a})[0];
    CHECK(g.value().flat(1) == 2.0);
}

TEST_CASE("a backward that throws leaves every grad as it was") {
    const Tensor x1 = Tensor::from({1.0, 2.0}, f64).requires_grad();
    const Tensor x2 = Tensor::from({3.0}, f64).requires_grad();
    const Tensor y = sum(apply(Explode{}, x2)) + sum(x1 * 2.0);
    CHECK_THROWS_AS(y.backward(), value_error);
    CHECK_FALSE(x1.has_grad());
    CHECK_FALSE(x2.has_grad());
}
