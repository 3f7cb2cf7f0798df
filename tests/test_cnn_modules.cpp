// nn/ CNN modules: Conv2d, MaxPool2d, AvgPool2d, BatchNorm1d/2d, Flatten and Residual against naive loops written
// here, buffers (train vs eval, checkpoints), and the layer-list model specs (plan vs built model, errors).

#include <doctest/doctest.h>

#include "temp_dir.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include <adgraph/adgraph.hpp>
#include <adgraph/nn/batch_norm.hpp>
#include <adgraph/nn/checkpoint.hpp>
#include <adgraph/nn/conv.hpp>
#include <adgraph/nn/flatten.hpp>
#include <adgraph/nn/linear.hpp>
#include <adgraph/nn/model_spec.hpp>
#include <adgraph/nn/pool.hpp>
#include <adgraph/nn/residual.hpp>

using namespace adg;
using namespace adg::nn;
using adg::testing::TempDir;
using doctest::Contains;

namespace {

std::vector<double> values(const Tensor& t) {
    std::vector<double> v(t.size());
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = t.value().flat(i);
    return v;
}

// A tensor of `shape` with distinct, irregular values (no ties, so max pooling has one maximum per window).
Tensor ramp(const Shape& shape, Dtype dtype = f64, double scale = 1.0) {
    std::size_t n = 1;
    for (auto d : shape) n *= d;
    std::vector<double> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = scale * std::sin(1.3 * static_cast<double>(i) + 0.4) * (1 + 0.01 * i);
    return Tensor::from(v, shape, dtype);
}

void check_close(const std::vector<double>& got, const std::vector<double>& want, double tol) {
    REQUIRE(got.size() == want.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
        INFO("element " << i);
        CHECK(got[i] == doctest::Approx(want[i]).epsilon(tol).scale(1.0));
    }
}

// Cross-correlation by its definition: out[n,o,i,j] = b[o] + Σ_c,p,q x[n,c,i·s+p−pad, j·s+q−pad]·w[o,c,p,q].
std::vector<double> naive_conv(const Tensor& x, const Tensor& w, const Tensor& b, std::size_t s, std::size_t pad) {
    const auto N = x.shape()[0], C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
    const auto O = w.shape()[0], K = w.shape()[2];
    const std::size_t Ho = (H + 2 * pad - K) / s + 1, Wo = (W + 2 * pad - K) / s + 1;
    const auto xv = values(x), wv = values(w), bv = values(b);
    std::vector<double> out(N * O * Ho * Wo);
    for (std::size_t n = 0; n < N; ++n)
        for (std::size_t o = 0; o < O; ++o)
            for (std::size_t i = 0; i < Ho; ++i)
                for (std::size_t j = 0; j < Wo; ++j) {
                    double acc = bv[o];
                    for (std::size_t c = 0; c < C; ++c)
                        for (std::size_t p = 0; p < K; ++p)
                            for (std::size_t q = 0; q < K; ++q) {
                                const long r = static_cast<long>(i * s + p) - static_cast<long>(pad);
                                const long t = static_cast<long>(j * s + q) - static_cast<long>(pad);
                                if (r < 0 || t < 0 || r >= static_cast<long>(H) || t >= static_cast<long>(W)) continue;
                                acc += xv[((n * C + c) * H + r) * W + t] * wv[((o * C + c) * K + p) * K + q];
                            }
                    out[((n * O + o) * Ho + i) * Wo + j] = acc;
                }
    return out;
}

// Max or mean of each window (padding: −∞ for max, zeros counted for the mean, as PyTorch's defaults).
std::vector<double> naive_pool(const Tensor& x, bool max, std::size_t k, std::size_t s, std::size_t pad) {
    const auto N = x.shape()[0], C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
    const std::size_t Ho = (H + 2 * pad - k) / s + 1, Wo = (W + 2 * pad - k) / s + 1;
    const auto xv = values(x);
    std::vector<double> out;
    for (std::size_t nc = 0; nc < N * C; ++nc)
        for (std::size_t i = 0; i < Ho; ++i)
            for (std::size_t j = 0; j < Wo; ++j) {
                double m = -std::numeric_limits<double>::infinity(), sum = 0;
                for (std::size_t p = 0; p < k; ++p)
                    for (std::size_t q = 0; q < k; ++q) {
                        const long r = static_cast<long>(i * s + p) - static_cast<long>(pad);
                        const long t = static_cast<long>(j * s + q) - static_cast<long>(pad);
                        if (r < 0 || t < 0 || r >= static_cast<long>(H) || t >= static_cast<long>(W)) continue;
                        const double v = xv[(nc * H + r) * W + t];
                        m = std::max(m, v);
                        sum += v;
                    }
                out.push_back(max ? m : sum / static_cast<double>(k * k));
            }
    return out;
}

// Per channel (axis 1) of x (N, C, ...): mean and biased variance over all other axes.
void channel_stats(const Tensor& x, std::vector<double>& mean, std::vector<double>& var) {
    const auto N = x.shape()[0], C = x.shape()[1];
    const std::size_t inner = x.size() / (N * C);
    const auto xv = values(x);
    mean.assign(C, 0);
    var.assign(C, 0);
    for (std::size_t c = 0; c < C; ++c) {
        for (std::size_t n = 0; n < N; ++n)
            for (std::size_t i = 0; i < inner; ++i) mean[c] += xv[(n * C + c) * inner + i];
        mean[c] /= static_cast<double>(N * inner);
        for (std::size_t n = 0; n < N; ++n)
            for (std::size_t i = 0; i < inner; ++i) var[c] += std::pow(xv[(n * C + c) * inner + i] - mean[c], 2);
        var[c] /= static_cast<double>(N * inner);
    }
}

// (x − mean)/√(var + eps)·γ + β per channel.
std::vector<double> normalised(const Tensor& x, const std::vector<double>& mean, const std::vector<double>& var,
                               const std::vector<double>& gamma, const std::vector<double>& beta, double eps) {
    const auto N = x.shape()[0], C = x.shape()[1];
    const std::size_t inner = x.size() / (N * C);
    auto out = values(x);
    for (std::size_t n = 0; n < N; ++n)
        for (std::size_t c = 0; c < C; ++c)
            for (std::size_t i = 0; i < inner; ++i) {
                double& v = out[(n * C + c) * inner + i];
                v = (v - mean[c]) / std::sqrt(var[c] + eps) * gamma[c] + beta[c];
            }
    return out;
}

}  // namespace

TEST_CASE("cnn modules: Conv2d draws PyTorch's default bounds and computes the cross-correlation") {
    Generator gen(3);
    Conv2d conv(3, 8, 3, gen, 1, 1);
    CHECK(conv.to_string() == "Conv2d(3 -> 8, 3x3, padding 1, bias)");
    CHECK(conv.weight().shape() == Shape{8, 3, 3, 3});
    CHECK(conv.bias().shape() == Shape{8});
    CHECK(conv.named_parameters().size() == 2);
    CHECK(conv.named_buffers().empty());
    // kaiming-uniform with a = √5 has the bound gain·√(3/fan_in) = √(1/3)·√(3/fan_in) = 1/√fan_in, fan_in = 27.
    const double c = 1.0 / std::sqrt(27.0);
    double hi = 0;
    for (double v : values(conv.weight())) {
        CHECK(std::abs(v) <= c);
        hi = std::max(hi, std::abs(v));
    }
    CHECK(hi > 0.8 * c);  // spread over the range, not a narrower one
    double bias_hi = 0;
    for (double v : values(conv.bias())) {
        CHECK(std::abs(v) <= c);
        bias_hi = std::max(bias_hi, std::abs(v));
    }
    CHECK(bias_hi > 0);  // drawn, not zeros
    // Initialisation other than the default scales the bound as for Linear (He: √(6/fan_in)).
    Generator gen2(3);
    Conv2d he(3, 8, 3, gen2, 1, 1, 1, 1, true, Init::he);
    for (double v : values(he.weight())) CHECK(std::abs(v) <= std::sqrt(6.0 / 27.0));

    const Tensor x = ramp({2, 3, 5, 6}, f32);
    check_close(values(conv(x)), naive_conv(x, conv.weight(), conv.bias(), 1, 1), 1e-5);
    Generator gen3(4);
    Conv2d strided(3, 4, 3, gen3, 2, 0);
    CHECK(strided.to_string() == "Conv2d(3 -> 4, 3x3, stride 2, bias)");
    const Tensor y = strided(x);
    CHECK(y.shape() == Shape{2, 4, 2, 2});
    check_close(values(y), naive_conv(x, strided.weight(), strided.bias(), 2, 0), 1e-5);
    // The gradient of the weight flows (the layer trains).
    sum(y).backward();
    CHECK(strided.weight().has_grad());
}

TEST_CASE("cnn modules: Conv2d refuses bad sizes and inputs, naming the layer") {
    Generator gen(0);
    CHECK_THROWS_WITH_AS(Conv2d(0, 4, 3, gen), "Conv2d(0 -> 4, 3x3): channels and kernel sizes must be positive",
                         value_error);
    CHECK_THROWS_WITH_AS(Conv2d(3, 4, 3, gen, 0), "Conv2d(3 -> 4, 3x3): stride and dilation must be positive",
                         value_error);
    CHECK_THROWS_WITH_AS(Conv2d(3, 4, 3, gen, 1, 0, 1, 2),
                         "Conv2d(3 -> 4, 3x3): groups 2 must divide both channel counts; pass groups = 1", value_error);
    Conv2d conv(3, 4, 3, gen);
    CHECK_THROWS_WITH_AS(conv(Tensor::zeros({2, 1, 5, 5})),
                         "Conv2d(3 -> 4, 3x3, bias): input shape (2,1,5,5) is not (N, 3, H, W); pass a batch of "
                         "3-channel images",
                         shape_error);
}

TEST_CASE("cnn modules: MaxPool2d and AvgPool2d take the max and mean of each window") {
    const Tensor x = ramp({2, 3, 6, 7});
    MaxPool2d max2(2);
    CHECK(max2.to_string() == "MaxPool2d(2x2)");
    CHECK(max2(x).shape() == Shape{2, 3, 3, 3});
    check_close(values(max2(x)), naive_pool(x, true, 2, 2, 0), 1e-12);
    MaxPool2d max3(3, Size2(2), 1);
    CHECK(max3.to_string() == "MaxPool2d(3x3, stride 2x2, padding 1x1)");
    check_close(values(max3(x)), naive_pool(x, true, 3, 2, 1), 1e-12);
    AvgPool2d avg2(2);
    CHECK(avg2.to_string() == "AvgPool2d(2x2)");
    check_close(values(avg2(x)), naive_pool(x, false, 2, 2, 0), 1e-12);
    AvgPool2d avg3(3, Size2(1), 1);
    check_close(values(avg3(x)), naive_pool(x, false, 3, 1, 1), 1e-12);
    CHECK_THROWS_WITH_AS(
        MaxPool2d(0), "MaxPool2d(0x0): kernel and stride must be positive (got kernel 0x0, stride 0x0)", value_error);
    CHECK_THROWS_WITH_AS(AvgPool2d(2, std::nullopt, 2),
                         "AvgPool2d(2x2): padding 2x2 is more than half the kernel; pass padding at most 1x1",
                         value_error);
}

TEST_CASE("cnn modules: BatchNorm2d normalises by batch statistics in training and updates its running buffers") {
    BatchNorm2d bn(3, 0.1, 1e-5, f64);
    CHECK(bn.to_string() == "BatchNorm2d(3)");
    const auto params = bn.named_parameters();
    const auto buffers = bn.named_buffers();
    REQUIRE(params.size() == 2);
    REQUIRE(buffers.size() == 2);
    CHECK(params[0].first == "weight");
    CHECK(params[1].first == "bias");
    CHECK(buffers[0].first == "running_mean");
    CHECK(buffers[1].first == "running_var");
    CHECK(values(bn.weight()) == std::vector<double>{1, 1, 1});
    CHECK(values(bn.bias()) == std::vector<double>{0, 0, 0});
    CHECK(values(bn.running_mean()) == std::vector<double>{0, 0, 0});
    CHECK(values(bn.running_var()) == std::vector<double>{1, 1, 1});
    for (const auto& [name, b] : buffers) CHECK_FALSE(b.needs_grad());
    for (const auto& [name, p] : params) CHECK(p.needs_grad());

    bn.weight().mutable_value() = Array(xt::xarray<double>{2.0, 0.5, -1.0});
    bn.bias().mutable_value() = Array(xt::xarray<double>{0.1, -0.2, 0.3});
    const Tensor x = ramp({4, 3, 2, 3}, f64, 3.0) + 1.5;
    std::vector<double> mean, var;
    channel_stats(x, mean, var);
    check_close(values(bn(x)), normalised(x, mean, var, {2.0, 0.5, -1.0}, {0.1, -0.2, 0.3}, 1e-5), 1e-10);
    // running = 0.9·running + 0.1·batch, the variance unbiased (m = 4·2·3 = 24 values per channel).
    std::vector<double> want_mean(3), want_var(3);
    for (std::size_t c = 0; c < 3; ++c) {
        want_mean[c] = 0.1 * mean[c];
        want_var[c] = 0.9 + 0.1 * var[c] * 24.0 / 23.0;
    }
    check_close(values(bn.running_mean()), want_mean, 1e-12);
    check_close(values(bn.running_var()), want_var, 1e-12);

    // Evaluation uses the running statistics and leaves them as they are.
    bn.eval();
    check_close(values(bn(x)), normalised(x, want_mean, want_var, {2.0, 0.5, -1.0}, {0.1, -0.2, 0.3}, 1e-5), 1e-10);
    check_close(values(bn.running_mean()), want_mean, 1e-12);
    check_close(values(bn.running_var()), want_var, 1e-12);
    bn.train();
    bn(x);
    CHECK(bn.running_mean().value().flat(0) == doctest::Approx(0.9 * want_mean[0] + 0.1 * mean[0]));

    CHECK_THROWS_WITH_AS(bn(Tensor::zeros({4, 2, 2, 2}, f64)),
                         "BatchNorm2d(3): input shape (4,2,2,2) is not (N, 3, H, W); use BatchNorm1d for features or "
                         "a layer of as many channels as the input has",
                         shape_error);
    CHECK_THROWS_WITH_AS(BatchNorm2d(0), "BatchNorm2d(0): the number of channels must be positive", value_error);
    CHECK_THROWS_WITH_AS(BatchNorm1d(4, 1.5), "BatchNorm1d(4): momentum must be in [0, 1] (got 1.5)", value_error);
}

TEST_CASE("cnn modules: BatchNorm1d normalises features (N, C) and its gradient flows to γ and β") {
    BatchNorm1d bn(5, 0.2, 1e-3, f64);
    CHECK(bn.to_string() == "BatchNorm1d(5, momentum 0.2, eps 0.001)");
    const Tensor x = ramp({6, 5}, f64, 2.0);
    std::vector<double> mean, var;
    channel_stats(x, mean, var);
    const Tensor y = bn(x);
    check_close(values(y), normalised(x, mean, var, std::vector<double>(5, 1), std::vector<double>(5, 0), 1e-3), 1e-10);
    for (std::size_t c = 0; c < 5; ++c) {
        CHECK(bn.running_mean().value().flat(c) == doctest::Approx(0.2 * mean[c]));
        CHECK(bn.running_var().value().flat(c) == doctest::Approx(0.8 + 0.2 * var[c] * 6.0 / 5.0));
    }
    // d Σ y / dβ = N per channel.
    sum(y).backward();
    for (double g : values(bn.bias().grad())) CHECK(g == doctest::Approx(6.0));
    CHECK_THROWS_WITH_AS(bn(Tensor::zeros({2, 5, 3}, f64)),
                         "BatchNorm1d(5, momentum 0.2, eps 0.001): input shape (2,5,3) is not (N, 5); use "
                         "BatchNorm2d for images or a layer of as many channels as the input has",
                         shape_error);
}

TEST_CASE("cnn modules: Flatten and Residual") {
    Flatten flatten;
    const Tensor x = ramp({2, 3, 4, 5});
    const Tensor f = flatten(x);
    CHECK(f.shape() == Shape{2, 60});
    CHECK(values(f) == values(x));
    CHECK_THROWS_WITH_AS(flatten(Tensor::scalar(1.0)),
                         "Flatten: input shape () has no batch axis; pass a batch (N, ...)", shape_error);

    Generator gen(2);
    auto inner = std::make_shared<Sequential>();
    inner->add(std::make_shared<Conv2d>(3, 3, 3, gen, 1, 1, 1, 1, true, Init::uniform, f64));
    Residual block(inner);
    CHECK(block.to_string() == "Residual(Sequential(Conv2d(3 -> 3, 3x3, padding 1, bias)))");
    CHECK(block.named_parameters()[0].first == "inner.0.weight");
    const Tensor xr = ramp({2, 3, 4, 5}).requires_grad();
    const Tensor y = block(xr);
    std::vector<double> want =
        naive_conv(xr, (*inner).named_parameters()[0].second, (*inner).named_parameters()[1].second, 1, 1);
    const auto xv = values(xr);
    for (std::size_t i = 0; i < want.size(); ++i) want[i] += xv[i];
    check_close(values(y), want, 1e-12);
    // d/dx Σ (x + f(x)) = 1 + d/dx Σ f(x): the skip adds exactly one to the inner module's gradient.
    sum(y).backward();
    const auto with_skip = values(xr.grad());
    const Tensor x2 = ramp({2, 3, 4, 5}).requires_grad();
    sum((*inner)(x2)).backward();
    const auto without = values(x2.grad());
    for (std::size_t i = 0; i < without.size(); ++i) CHECK(with_skip[i] == doctest::Approx(without[i] + 1.0));

    auto widen = std::make_shared<Conv2d>(3, 4, 3, gen, 1, 1, 1, 1, true, Init::uniform, f64);
    Residual bad(widen);
    CHECK_THROWS_WITH_AS(bad(xr),
                         "Residual: the inner module maps (2,3,4,5) to (2,4,4,5), but x + inner(x) needs equal "
                         "shapes; make the block keep channels and size (e.g. 3x3 convolutions with padding 1)",
                         shape_error);
}

TEST_CASE("cnn modules: a checkpoint holds buffers beside parameters and checks them on load") {
    TempDir dir;
    Generator gen(5);
    auto model = build_model("conv4k3p1,bn,relu,maxpool2,flatten,bn,linear10", gen);
    // One training-mode pass moves the running statistics away from their initial 0 and 1.
    model->train();
    (*model)(ramp({3, 1, 28, 28}, f32));
    const std::string path = dir.file("cnn.safetensors");
    save_checkpoint(path, *model, nullptr, {{"model", "conv4k3p1,bn,relu,maxpool2,flatten,bn,linear10"}});
    const SafetensorsFile file = read_checkpoint(path);
    std::size_t stats = 0;
    for (const auto& [name, a] : file.tensors) stats += name.find("running_") != std::string::npos;
    CHECK(stats == 4);

    Generator other(9);
    auto loaded = build_model("conv4k3p1,bn,relu,maxpool2,flatten,bn,linear10", other);
    load_checkpoint(path, *loaded, nullptr);
    const auto a = model->named_buffers(), b = loaded->named_buffers();
    REQUIRE(a.size() == 4);
    REQUIRE(b.size() == 4);
    for (std::size_t i = 0; i < a.size(); ++i) {
        CHECK(a[i].first == b[i].first);
        CHECK(values(a[i].second) == values(b[i].second));
    }
    CHECK(a[0].first == "1.running_mean");
    CHECK(values(a[0].second) != std::vector<double>(4, 0.0));
    // In eval mode both models agree exactly (same parameters and running statistics).
    model->eval();
    loaded->eval();
    const Tensor x = ramp({2, 1, 28, 28}, f32, 0.5);
    CHECK(values((*model)(x)) == values((*loaded)(x)));

    // A buffer of another shape, or a missing one, is refused naming it, and the model is untouched.
    auto wider = build_model("conv4k3p1,bn,relu,maxpool2,flatten,bn,linear10", other);
    NamedArrays tensors;
    for (const auto& [name, p] : model->named_parameters()) tensors.emplace_back(name, p.value());
    for (const auto& [name, t] : model->named_buffers()) {
        if (name == "1.running_var") continue;
        tensors.emplace_back(name, name == "1.running_mean" ? Array::zeros({5}, f32) : t.value());
    }
    save_safetensors(dir.file("bad.safetensors"), tensors, {});
    CHECK_THROWS_WITH_AS(load_checkpoint(dir.file("bad.safetensors"), *wider, nullptr),
                         Contains("tensor '1.running_mean' is float32 (5) but the model's buffer is float32 (4)"),
                         io_error);
    tensors.erase(
        std::remove_if(tensors.begin(), tensors.end(), [](const auto& t) { return t.first == "1.running_mean"; }),
        tensors.end());
    save_safetensors(dir.file("missing.safetensors"), tensors, {});
    CHECK_THROWS_WITH_AS(load_checkpoint(dir.file("missing.safetensors"), *wider, nullptr),
                         Contains("the model's buffer '1.running_mean' (float32 (4), 16 bytes) is missing"), io_error);
    CHECK_THROWS_WITH_AS(
        load_checkpoint(path, *build_model("784-16-10", other), nullptr),
        Contains("tensor '0.weight' is float32 (4,1,3,3) but the model's parameter is float32 (16,784)"), io_error);

    // An MLP's checkpoint has no buffers and loads as before.
    auto mlp = build_model("784-16-10", gen);
    save_checkpoint(dir.file("mlp.safetensors"), *mlp, nullptr, {{"model", "784-16-10"}});
    auto mlp2 = build_model("784-16-10", other);
    load_checkpoint(dir.file("mlp.safetensors"), *mlp2, nullptr);
    CHECK(values(mlp2->named_parameters()[0].second) == values(mlp->named_parameters()[0].second));
}

TEST_CASE("cnn modules: the cnn preset plans and builds the fixed architecture") {
    CHECK(preset_layers("cnn") ==
          "conv32k3p1,bn,relu,maxpool2,conv64k3p1,bn,relu,maxpool2,flatten,linear128,relu,dropout,linear10");
    CHECK(preset_layers("784-10").empty());
    CHECK(is_mlp_spec("784-256-128-10"));
    CHECK_FALSE(is_mlp_spec("cnn"));
    MlpOptions options;
    options.dropout = 0.3;
    const ModelPlan plan = plan_model("cnn", options);
    CHECK_FALSE(plan.mlp);
    CHECK(plan.input == Shape{1, 28, 28});
    CHECK(plan.output == Shape{10});
    Generator gen(1);
    auto net = build_model("cnn", gen, options);
    CHECK(net->to_string() ==
          "Sequential(Conv2d(1 -> 32, 3x3, padding 1, bias), BatchNorm2d(32), ReLU(), MaxPool2d(2x2), "
          "Conv2d(32 -> 64, 3x3, padding 1, bias), BatchNorm2d(64), ReLU(), MaxPool2d(2x2), Flatten(), "
          "Linear(3136 -> 128, bias), ReLU(), Dropout(p=0.3), Linear(128 -> 10, bias))");
    // conv 32·9 + 32, bn 2·32, conv 64·32·9 + 64, bn 2·64, linear 3136·128 + 128, linear 128·10 + 10.
    CHECK(net->parameter_count() == 320 + 64 + 18496 + 128 + 401536 + 1290);
    // The plan lists exactly the built model's parameters and buffers, by name, dtype and shape.
    std::vector<ParameterShape> built;
    for (const auto& [name, p] : net->named_parameters()) built.push_back({name, p.dtype(), p.shape()});
    for (const auto& [name, b] : net->named_buffers()) built.push_back({name, b.dtype(), b.shape(), true});
    REQUIRE(built.size() == plan.tensors.size());
    for (const ParameterShape& want : plan.tensors) {
        const auto it = std::find_if(built.begin(), built.end(), [&](const ParameterShape& p) {
            return p.name == want.name && p.shape == want.shape && p.dtype == want.dtype && p.buffer == want.buffer;
        });
        CHECK_MESSAGE(it != built.end(), want.name);
    }
    const Tensor y = (*net)(Tensor::zeros({2, 1, 28, 28}));
    CHECK(y.shape() == Shape{2, 10});
    // An MLP spec plans as mlp_parameter_shapes says, with its first size as the input.
    const ModelPlan mlp = plan_model("784-16-10");
    CHECK(mlp.mlp);
    CHECK(mlp.input == Shape{784});
    CHECK(mlp.tensors.size() == 4);
}

TEST_CASE("cnn modules: layer lists with residual blocks, strides and 1-d batch norm plan what they build") {
    for (const std::string spec : {"conv8k3p1,bn,relu,res(conv8k3p1,bn,relu,conv8k3p1),avgpool2,flatten,linear10",
                                   "conv4k5s2,tanh,maxpool3s2p1,flatten,linear20,bn,leaky_relu,dropout0.5,linear10",
                                   "flatten,linear10,sigmoid"}) {
        INFO(spec);
        const ModelPlan plan = plan_model(spec);
        Generator gen(1);
        auto net = build_model(spec, gen);
        std::size_t n = 0;
        for (const auto& [name, p] : net->named_parameters()) {
            CHECK(std::any_of(plan.tensors.begin(), plan.tensors.end(), [&, &name = name, &p = p](const auto& t) {
                return t.name == name && t.shape == p.shape() && !t.buffer;
            }));
            ++n;
        }
        for (const auto& [name, b] : net->named_buffers()) {
            CHECK(std::any_of(plan.tensors.begin(), plan.tensors.end(), [&, &name = name, &b = b](const auto& t) {
                return t.name == name && t.shape == b.shape() && t.buffer;
            }));
            ++n;
        }
        CHECK(n == plan.tensors.size());
        CHECK((*net)(Tensor::zeros({3, 1, 28, 28})).shape() == Shape{3, 10});
    }
    Generator gen(1);
    CHECK(build_model("conv8k3p1,res(conv8k3p1,relu),flatten,linear10", gen)->named_parameters()[2].first ==
          "1.inner.0.weight");
}

TEST_CASE("cnn modules: bad layer lists name the spec, the layer and what is allowed") {
    const std::string allowed = std::string("; ") + layer_spec_grammar;
    const auto fails = [&](const std::string& spec, const std::string& why) {
        CHECK_THROWS_WITH_AS(plan_model(spec), ("model spec '" + spec + "': " + why + allowed).c_str(), value_error);
    };
    fails("conv32k3,foo,linear10", "unknown layer 'foo'");
    fails("conv32,linear10", "layer 'conv32' lacks its kernel size (k<kernel>, e.g. conv32k3p1)");
    fails("conv0k3,flatten,linear10", "layer 'conv0k3': number of output channels must be positive");
    fails("conv8k3x,flatten,linear10", "layer 'conv8k3x' has 'x' left over");
    fails("conv8k3p,flatten,linear10", "layer 'conv8k3p': the padding after 'p' must be a whole number up to 9999999");
    fails("linear12345678", "layer 'linear12345678': number of outputs is too large (max 9999999)");
    fails("conv8k3,,linear10", "empty layer at character 8");
    fails("maxpool2p2,flatten,linear10", "layer 'maxpool2p2': the padding is more than half the window");
    fails("flatten,dropout1.5,linear10",
          "layer 'dropout1.5': the dropout probability must be a number in [0, 1), e.g. dropout0.3");
    fails("linear10", "layer 'linear10' gets images (1,28,28): a linear layer takes features; put flatten before it");
    fails("flatten,conv8k3",
          "layer 'conv8k3' gets features (784): a convolution takes images (C,H,W); put it before "
          "flatten");
    fails("flatten,maxpool2",
          "layer 'maxpool2' gets features (784): pooling takes images (C,H,W); put it before flatten");
    fails("conv8k29,flatten,linear10",
          "layer 'conv8k29' gets images (1,28,28): the kernel is larger than the padded "
          "image; use a smaller kernel or more padding");
    fails("maxpool29,flatten,linear10",
          "layer 'maxpool29' gets images (1,28,28): the window is larger than the padded "
          "image; use a smaller window");
    fails("conv8k3p1,res(conv16k3p1),flatten,linear10",
          "layer 'res(conv16k3p1)' gets images (8,28,28): its layers map it to images (16,28,28), but x + f(x) needs "
          "the same shape; keep channels and size (e.g. conv<C>k3p1 with C the input's channels)");
    fails("conv8k3p1,res(conv8k3p1,flatten,linear10", "unbalanced '(': a res( lacks its ')'");
    fails("conv8k3p1),flatten,linear10", "unbalanced ')' at character 9");
    fails("conv8k3p1", "the model ends in images (8,28,28), not features; end it with flatten and linear<classes>");
}
