// Recurrent layers in model specs: rows, rnn<h>[x<n>], gru<h>[x<n>] and last plan PyTorch's parameter names and
// shapes and build exactly what they plan; Rows and LastStep against loops written here; misfits name the layer.

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <adgraph/adgraph.hpp>
#include <adgraph/nn/model_spec.hpp>
#include <adgraph/nn/sequence.hpp>

using namespace adg;
using namespace adg::nn;

namespace {

// A tensor of `shape` with distinct values.
Tensor ramp(const Shape& shape, Dtype dtype = f64) {
    std::size_t n = 1;
    for (auto d : shape) n *= d;
    std::vector<double> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = std::sin(0.7 * static_cast<double>(i) + 0.2) + 0.001 * i;
    return Tensor::from(v, shape, dtype);
}

// The names and shapes PyTorch's nn.Sequential(..., nn.GRU(input, hidden, layers), ...) gives its module `index`
// (gates 3) or nn.RNN's (gates 1), written out from PyTorch's documented layout.
std::vector<ParameterShape> torch_recurrent(std::size_t index, std::size_t input, std::size_t hidden,
                                            std::size_t layers, std::size_t gates) {
    std::vector<ParameterShape> out;
    for (std::size_t k = 0; k < layers; ++k) {
        const std::string p = std::to_string(index) + ".", l = "_l" + std::to_string(k);
        out.push_back({p + "weight_ih" + l, f32, {gates * hidden, k == 0 ? input : hidden}});
        out.push_back({p + "weight_hh" + l, f32, {gates * hidden, hidden}});
        out.push_back({p + "bias_ih" + l, f32, {gates * hidden}});
        out.push_back({p + "bias_hh" + l, f32, {gates * hidden}});
    }
    return out;
}

void check_same(const std::vector<ParameterShape>& got, const std::vector<ParameterShape>& want) {
    REQUIRE(got.size() == want.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
        INFO(want[i].name);
        CHECK(got[i].name == want[i].name);
        CHECK(got[i].shape == want[i].shape);
        CHECK(got[i].dtype == want[i].dtype);
        CHECK(got[i].buffer == want[i].buffer);
    }
}

}  // namespace

TEST_CASE("model spec rnn: the gru preset plans rows, a GRU of 128, its last step and a linear head") {
    CHECK(preset_layers("gru") == "rows,gru128,last,linear10");
    CHECK_FALSE(is_mlp_spec("gru"));
    CHECK_FALSE(is_mlp_spec("gru128"));
    const ModelPlan plan = plan_model("gru");
    CHECK_FALSE(plan.mlp);
    CHECK(plan.input == Shape{1, 28, 28});
    CHECK(plan.output == Shape{10});
    std::vector<ParameterShape> want = torch_recurrent(1, 28, 128, 1, 3);
    want.push_back({"3.weight", f32, {10, 128}});
    want.push_back({"3.bias", f32, {10}});
    check_same(plan.tensors, want);
    // A GRU keeps about 3·hidden·2 gate values per step and sample for the backward pass: 28 steps of 128.
    CHECK(plan.activation_values >= 28u * 3 * 128 * 2);
    // Twice the steps (a 56-row image) keep about twice the values: the estimate grows with the sequence.
    const ModelPlan longer = plan_model("gru", {}, {1, 56, 28});
    CHECK(longer.activation_values > plan.activation_values + 28u * 3 * 128 * 2);
}

TEST_CASE("model spec rnn: stacked layers, RNNs and many channels plan PyTorch's names and shapes") {
    {
        // rows of a (3, 5, 7) image: 5 steps of 3·7 = 21 features.
        const ModelPlan plan = plan_model("rows,gru16x2,last,linear4", {}, {3, 5, 7});
        std::vector<ParameterShape> want = torch_recurrent(1, 21, 16, 2, 3);
        want.push_back({"3.weight", f32, {4, 16}});
        want.push_back({"3.bias", f32, {4}});
        check_same(plan.tensors, want);
        CHECK(plan.output == Shape{4});
    }
    {
        MlpOptions options;
        options.dtype = f64;
        const ModelPlan plan = plan_model("conv2k3p1,relu,rows,rnn8,tanh,rnn6x3,last,linear10", options);
        std::vector<ParameterShape> want{{"0.weight", f64, {2, 1, 3, 3}}, {"0.bias", f64, {2}}};
        for (auto p : torch_recurrent(3, 56, 8, 1, 1)) want.push_back({p.name, f64, p.shape});
        for (auto p : torch_recurrent(5, 8, 6, 3, 1)) want.push_back({p.name, f64, p.shape});
        want.push_back({"7.weight", f64, {10, 6}});
        want.push_back({"7.bias", f64, {10}});
        check_same(plan.tensors, want);
    }
    // flatten joins a sequence's steps; a residual block may wrap a recurrent layer that keeps the width.
    CHECK(plan_model("rows,gru8,flatten,linear10").tensors.at(4).shape == Shape{10, 28 * 8});
    CHECK(plan_model("rows,res(gru28),last,linear10").tensors.at(0).name == "1.inner.0.weight_ih_l0");
}

TEST_CASE("model spec rnn: what is built has exactly the planned parameters and maps images to classes") {
    for (const std::string spec : {"gru", "rows,gru8x2,last,linear10", "rows,rnn5,relu,gru4,last,linear10",
                                   "conv2k3p1,rows,rnn3x2,dropout,last,linear10", "rows,res(gru28),last,linear10"}) {
        INFO(spec);
        const ModelPlan plan = plan_model(spec);
        Generator gen(3);
        auto net = build_model(spec, gen);
        std::vector<ParameterShape> built;
        for (const auto& [name, p] : net->named_parameters()) built.push_back({name, p.dtype(), p.shape()});
        check_same(built, plan.tensors);
        CHECK((*net)(ramp({3, 1, 28, 28}, f32)).shape() == Shape{3, 10});
    }
    Generator gen(1);
    CHECK(build_model("gru", gen)->to_string() ==
          "Sequential(Rows(), GRU(28 -> 128, layers 1, bias), LastStep(), Linear(128 -> 10, bias))");
}

TEST_CASE("model spec rnn: Rows reads image rows as steps, LastStep keeps the last step, gradients included") {
    const std::size_t N = 2, C = 3, H = 4, W = 5;
    const Tensor x = ramp({N, C, H, W}).requires_grad(true);
    Rows rows;
    const Tensor seq = rows(x);
    REQUIRE(seq.shape() == Shape{N, H, C * W});
    // Step h of sample n is row h of every channel, the channels side by side.
    for (std::size_t n = 0; n < N; ++n)
        for (std::size_t h = 0; h < H; ++h)
            for (std::size_t c = 0; c < C; ++c)
                for (std::size_t w = 0; w < W; ++w) {
                    CHECK(seq.value().flat((n * H + h) * C * W + c * W + w) ==
                          x.value().flat(((n * C + c) * H + h) * W + w));
                }
    LastStep last;
    const Tensor y = last(seq);
    REQUIRE(y.shape() == Shape{N, C * W});
    for (std::size_t n = 0; n < N; ++n)
        for (std::size_t f = 0; f < C * W; ++f) {
            CHECK(y.value().flat(n * C * W + f) == seq.value().flat((n * H + H - 1) * C * W + f));
        }
    // d sum(last(rows(x))) / dx is 1 on the last row of every channel, 0 elsewhere.
    sum(y).backward();
    for (std::size_t i = 0; i < x.size(); ++i) {
        const std::size_t h = (i / W) % H;
        CHECK(x.grad().value().flat(i) == (h == H - 1 ? 1.0 : 0.0));
    }
    CHECK_THROWS_AS(rows(ramp({2, 3, 4})), shape_error);
    CHECK_THROWS_AS(last(ramp({2, 3})), shape_error);
    CHECK_THROWS_AS(last(Tensor::zeros({2, 0, 3})), shape_error);
}

TEST_CASE("model spec rnn: recurrent layers given the wrong kind of sample name the layer and the remedy") {
    const std::string allowed = std::string("; ") + layer_spec_grammar;
    const auto fails = [&](const std::string& spec, const std::string& why) {
        CHECK_THROWS_WITH_AS(plan_model(spec), ("model spec '" + spec + "': " + why + allowed).c_str(), value_error);
    };
    fails("gru16,last,linear10",
          "layer 'gru16' gets images (1,28,28): a recurrent layer takes sequences (T,F); put rows before it to read "
          "images as sequences of rows");
    fails("flatten,rnn16,last,linear10",
          "layer 'rnn16' gets features (784): a recurrent layer takes sequences (T,F); put rows before it to read "
          "images as sequences of rows");
    fails("rows,last,rows,linear10",
          "layer 'rows' gets features (28): rows reads images (C,H,W) as sequences of their H rows; put it before "
          "flatten and the recurrent layers");
    fails("last,linear10",
          "layer 'last' gets images (1,28,28): last takes sequences (T,F); put it after a recurrent "
          "layer");
    fails("rows,gru8,linear10",
          "layer 'linear10' gets sequences (28,8): a linear layer takes features; put last (or flatten) before it");
    fails("rows,bn,gru8,last,linear10",
          "layer 'bn' gets sequences (28,28): batch norm takes images (C,H,W) or features; put it before rows or "
          "after last");
    fails("rows,conv8k3,last,linear10",
          "layer 'conv8k3' gets sequences (28,28): a convolution takes images (C,H,W); put it before rows");
    fails("rows,gru8", "the model ends in sequences (28,8), not features; end it with last and linear<classes>");
    fails("rows,gru0,last,linear10", "layer 'gru0': hidden size must be positive");
    fails("rows,rnn,last,linear10", "layer 'rnn' lacks its hidden size");
    fails("rows,gru8x0,last,linear10", "layer 'gru8x0': number of layers must be positive");
    fails("rows,gru8x,last,linear10", "layer 'gru8x' lacks its number of layers");
    fails("rows,gru8k3,last,linear10", "layer 'gru8k3' has 'k3' left over");
    fails("rowz,gru8,last,linear10", "unknown layer 'rowz'");
    fails("rows,rnn8x1001,last,linear10", "layer 'rnn8x1001': number of layers is too large (max 1000)");
    CHECK(plan_model("rows,rnn2x1000,last,linear10").tensors.size() == 4 * 1000 + 2);
}
