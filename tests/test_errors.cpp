// The error contract: typed exceptions whose messages name the op, the shapes or dtypes at fault and the remedy.

#include <doctest/doctest.h>

#include <adgraph/adgraph.hpp>

using namespace adg;
using doctest::Contains;

TEST_CASE("binary ops: shapes that do not broadcast") {
    const Tensor a = Tensor::zeros({2, 3}), b = Tensor::zeros({4, 3});
    CHECK_THROWS_WITH_AS(a + b,
                         Contains("add: shapes (2,3) and (4,3) cannot be broadcast together (axis -2: 2 vs 4); "
                                  "sizes must be equal or 1"),
                         shape_error);
    CHECK_THROWS_WITH_AS(mul(a, Tensor::zeros({2})), Contains("mul: shapes (2,3) and (2) cannot be broadcast"),
                         shape_error);
}

TEST_CASE("matmul: inner dimensions differ") {
    CHECK_THROWS_WITH_AS(matmul(Tensor::zeros({2, 3}), Tensor::zeros({4, 5})),
                         Contains("matmul: shapes (2,3) and (4,5) cannot be multiplied: inner dimensions 3 != 4"),
                         shape_error);
    CHECK_THROWS_WITH_AS(linear(Tensor::zeros({2, 3}), Tensor::zeros({4, 5}), Tensor::zeros({4})),
                         Contains("linear: input (2,3) and weight (4,5) do not fit"), shape_error);
}

TEST_CASE("mixed dtypes") {
    CHECK_THROWS_WITH_AS(Tensor::zeros({3}, f32) * Tensor::zeros({3}, f64),
                         Contains("mul: operands have different dtypes float32 (3) and float64 (3); convert one"),
                         dtype_error);
    CHECK_THROWS_WITH_AS(matmul(Tensor::zeros({2, 2}, f64), Tensor::zeros({2, 2}, f32)),
                         Contains("matmul: operands have different dtypes float64 (2,2) and float32 (2,2)"),
                         dtype_error);
}

TEST_CASE("backward: seeds and non-scalar outputs") {
    const Tensor x = Tensor::zeros({2, 3}).requires_grad();
    const Tensor y = x * 2.0;
    CHECK_THROWS_WITH_AS(y.backward(),
                         Contains("backward: the output has shape (2,3); backward() without a seed needs a "
                                  "one-element output"),
                         graph_error);
    CHECK_THROWS_WITH_AS(y.backward(Tensor::ones({3})),
                         Contains("backward: seed 0 has shape (3) but its tensor has shape (2,3)"), shape_error);
    CHECK_THROWS_WITH_AS(y.backward(Tensor::ones({2, 3}, f64)),
                         Contains("backward: seed 0 is float64 but its tensor is float32"), dtype_error);
    CHECK_THROWS_WITH_AS(reverse_sweep({y}, {Tensor::ones({2, 3})}, {x}),
                         Contains("reverse_sweep: seed 0 has shape (2,3) but its tensor has shape (2,3); a batch of k "
                                  "directions needs shape (k,2,3)"),
                         shape_error);
    CHECK_THROWS_WITH_AS(Tensor::zeros({1}).backward(), Contains("backward: output 0 does not require grad"),
                         graph_error);
}

TEST_CASE("backward on a released graph") {
    const Tensor x = Tensor::from({1.0, 2.0}).requires_grad();
    const Tensor y = sum(tanh(x));
    y.backward();
    CHECK_THROWS_WITH_AS(
        y.backward(),
        Contains("backward: the graph through 'sum' (its internal 'reshape') was released by an earlier reverse sweep; "
                 "pass retain_graph = true"),
        graph_error);
}

TEST_CASE("graph misuse") {
    const Tensor x = Tensor::from({1.0}).requires_grad();
    const Tensor y = x * 2.0;
    CHECK_THROWS_WITH_AS(y.requires_grad(),
                         Contains("requires_grad: only leaf tensors can be marked, but this one was made by "
                                  "'mul_scalar'; use detach().requires_grad()"),
                         graph_error);
    CHECK_THROWS_WITH_AS(x.grad(), Contains("grad: no gradient has been accumulated in this leaf yet; call backward()"),
                         graph_error);
    CHECK_THROWS_WITH_AS(Tensor().value(), Contains("value: the tensor is undefined"), graph_error);
}

TEST_CASE("shape ops: bad arguments") {
    const Tensor x = Tensor::zeros({2, 3});
    CHECK_THROWS_WITH_AS(reshape(x, {4, 2}),
                         Contains("reshape: cannot reshape (2,3) (6 elements) to (4,2) (8 elements)"), shape_error);
    CHECK_THROWS_WITH_AS(sum(x, {2}), Contains("sum: axis 2 is out of range for a tensor of rank 2 (valid: -2 .. 1)"),
                         value_error);
    CHECK_THROWS_WITH_AS(slice(x, 1, 2, 5), Contains("slice: range [2, 5) does not fit axis 1 of size 3"), value_error);
    CHECK_THROWS_WITH_AS(index_select(x, 0, {0, 2}),
                         Contains("index_select: index 2 is out of range for axis 0 of size 2"), value_error);
    CHECK_THROWS_WITH_AS(one_hot({1, 3}, 3), Contains("one_hot: label 3 at position 1 is out of range for 3 classes"),
                         value_error);
    CHECK_THROWS_WITH_AS(broadcast_to(x, {3, 3}), Contains("broadcast_to: shape (2,3) cannot be broadcast to (3,3)"),
                         shape_error);
    CHECK_THROWS_WITH_AS(concat({x, Tensor::zeros({2, 2})}, 0),
                         Contains("concat: shapes (2,3) and (2,2) differ outside axis 0"), shape_error);
    CHECK_THROWS_WITH_AS(permute(x, {0, 0}), Contains("permute: the permutation must list each of the 2 axes"),
                         value_error);
}

TEST_CASE("transforms: mismatched tangents and outputs") {
    const auto f = [](const Tensor& v) { return v * 2.0; };
    CHECK_THROWS_WITH_AS(jvp(f, Tensor::zeros({3}), Tensor::zeros({2})),
                         Contains("jvp: the tangent has shape (2) but must match the shape (3)"), shape_error);
    CHECK_THROWS_WITH_AS(grad(f)(Tensor::zeros({3})),
                         Contains("grad: the function returned shape (3) but grad needs a one-element output"),
                         shape_error);
    const MultiFn g = [&](const std::vector<Tensor>& v) { return f(v[0]); };
    CHECK_THROWS_WITH_AS(gradcheck(g, {Tensor::zeros({3}, f32)}), Contains("central differences need float64 inputs"),
                         dtype_error);
}

TEST_CASE("sizes that overflow or do not fit are errors, not memory corruption") {
    CHECK_THROWS_WITH_AS(Tensor::zeros({std::size_t{1} << 32, std::size_t{1} << 32}),
                         Contains("has more elements than a size_t can count"), shape_error);
    CHECK_THROWS_WITH_AS(pad(Tensor::from({1.0, 2.0, 3.0}), 0, static_cast<std::size_t>(-2), 5),
                         Contains("pad: 3 entries at offset"), value_error);
    CHECK_THROWS_WITH_AS(index_add(Tensor::zeros({0, 2}), 1, {0, 7}, 3),
                         Contains("index_add: index 7 is out of range for size 3"), value_error);
    CHECK_THROWS_WITH_AS(log_softmax(Tensor::zeros({2, 0}), -1),
                         Contains("log_softmax: cannot reduce over the empty axis 1 of shape (2,0)"), value_error);
}

TEST_CASE("empty axes: matmul with a zero inner dimension and Jacobians of empty inputs") {
    const Tensor a = Tensor::zeros({2, 2, 0}), b = Tensor::zeros({0, 4}).requires_grad();
    sum(matmul(a, b)).backward();
    CHECK(b.grad().shape() == Shape{0, 4});
    const Tensor J = jacfwd([](const Tensor& x) { return x * 2.0; })(Tensor::zeros({0}));
    CHECK(J.shape() == Shape{0, 0});
}
