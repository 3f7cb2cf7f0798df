// gru_gates, the GRU cell's fused gates: its value against loops over PyTorch's equations, its eager reverse rule
// (one kernel over the kept gates) against the same rule composed of ops (what a recorded sweep runs). Gradcheck in
// both modes, the dot test, batched directions and second order come with its entry in the op table.

#include <doctest/doctest.h>

#include <adgraph/adgraph.hpp>

#include <cmath>

#include "tensor_checks.hpp"

using namespace adg;
using adg::testing::check_close;

namespace {

double sig(double a) { return 1.0 / (1.0 + std::exp(-a)); }

}  // namespace

TEST_CASE("gru_gates equals the GRU equations written as loops (float64, 1e-12) and its float32 value is close") {
    const std::size_t B = 3, H = 4;
    Generator gen(8);
    const Tensor gi = Tensor::uniform({B, 3 * H}, -2.0, 2.0, gen, f64);
    const Tensor gh = Tensor::uniform({B, 3 * H}, -2.0, 2.0, gen, f64);
    const Tensor h = Tensor::uniform({B, H}, -1.0, 1.0, gen, f64);
    const Tensor y = gru_gates(gi, gh, h);
    REQUIRE(y.shape() == Shape{B, H});
    const auto& i = gi.value().get<double>();
    const auto& g = gh.value().get<double>();
    const auto& v = h.value().get<double>();
    xt::xarray<double> want = xt::xarray<double>::from_shape({B, H});
    for (std::size_t b = 0; b < B; ++b) {
        for (std::size_t e = 0; e < H; ++e) {
            const double r = sig(i(b, e) + g(b, e));
            const double z = sig(i(b, H + e) + g(b, H + e));
            const double n = std::tanh(i(b, 2 * H + e) + r * g(b, 2 * H + e));
            want(b, e) = (1 - z) * n + z * v(b, e);
        }
    }
    check_close(y, Tensor(want), 1e-12);
    const Tensor y32 = gru_gates(cast(gi, f32), cast(gh, f32), cast(h, f32));
    CHECK(y32.dtype() == f32);
    check_close(cast(y32, f64), Tensor(want), 1e-6);
}

TEST_CASE("gru_gates' eager reverse rule equals its rule composed of ops, for every input and k directions") {
    const std::size_t B = 2, H = 3;
    for (Dtype d : {f64, f32}) {
        CAPTURE(std::string(dtype_name(d)));
        Generator gen(21);
        const Tensor gi = Tensor::uniform({B, 3 * H}, -2.0, 2.0, gen, d).requires_grad();
        const Tensor gh = Tensor::uniform({B, 3 * H}, -2.0, 2.0, gen, d).requires_grad();
        const Tensor h = Tensor::uniform({B, H}, -1.0, 1.0, gen, d).requires_grad();
        const Tensor y = gru_gates(gi, gh, h);
        const Tensor seed = Tensor::uniform({3, B, H}, -1.0, 1.0, gen, d);
        // create_graph runs the rule as ops; without it the sweep runs the kernel.
        const auto recorded = reverse_sweep({y}, {seed}, {gi, gh, h}, {true, true});
        const auto eager = reverse_sweep({y}, {seed}, {gi, gh, h}, {true, false});
        for (std::size_t j = 0; j < 3; ++j) {
            CAPTURE(j);
            check_close(eager[j], recorded[j].detach(), d == f64 ? 1e-14 : 1e-6);
        }
    }
}

TEST_CASE("a GRU step written with gru_gates has the gradients of the same step written with slices") {
    const std::size_t B = 2, I = 3, H = 4;
    Generator gen(5);
    const double c = 1.0 / std::sqrt(double(H));
    const Tensor wi = Tensor::uniform({3 * H, I}, -c, c, gen, f64).requires_grad();
    const Tensor wh = Tensor::uniform({3 * H, H}, -c, c, gen, f64).requires_grad();
    const Tensor bi = Tensor::uniform({3 * H}, -c, c, gen, f64).requires_grad();
    const Tensor bh = Tensor::uniform({3 * H}, -c, c, gen, f64).requires_grad();
    const Tensor x = Tensor::uniform({B, I}, -1.0, 1.0, gen, f64);
    const Tensor h0 = Tensor::uniform({B, H}, -1.0, 1.0, gen, f64);
    const auto step = [&](bool fused) {
        Tensor h = h0;
        for (int t = 0; t < 3; ++t) {
            const Tensor gi = linear(x, wi, bi), gh = linear(h, wh, bh);
            if (fused) {
                h = gru_gates(gi, gh, h);
                continue;
            }
            const Tensor rz = sigmoid(slice(gi, 1, 0, 2 * H) + slice(gh, 1, 0, 2 * H));
            const Tensor n = tanh(slice(gi, 1, 2 * H, 3 * H) + slice(rz, 1, 0, H) * slice(gh, 1, 2 * H, 3 * H));
            h = n + slice(rz, 1, H, 2 * H) * (h - n);
        }
        return sum(h * h);
    };
    const Tensor loss_a = step(false);
    const auto ga = reverse_sweep({loss_a}, {Tensor::ones({1}, f64)}, {wi, wh, bi, bh});
    const Tensor loss_b = step(true);
    const auto gb = reverse_sweep({loss_b}, {Tensor::ones({1}, f64)}, {wi, wh, bi, bh});
    check_close(loss_b, loss_a, 1e-13);
    for (std::size_t j = 0; j < 4; ++j) check_close(gb[j], ga[j], 1e-13);
}
