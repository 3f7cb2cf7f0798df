// Eager reverse sweeps hand a one-input rule the only handle to its cotangent, and elementwise rules then write
// their result over it: the values must be bitwise those of the rule that allocates, and a cotangent anyone else
// still holds (a seed, a delivered result) must never change.

#include <doctest/doctest.h>

#include <adgraph/adgraph.hpp>

#include <adgraph/autodiff/node.hpp>
#include "tensor_checks.hpp"

using namespace adg;
using adg::testing::same_bits;

namespace {

Tensor fresh_copy(const Tensor& t) { return Tensor(t.value().clone()); }

}  // namespace

TEST_CASE("vjp_reusing gives bitwise vjp's values for every one-input op, and reuses only what it may") {
    Generator gen(77);
    std::size_t reused = 0;
    for (const auto& op : all_ops()) {
        for (const auto& s : op.samples(gen)) {
            if (s.inputs.size() != 1) continue;
            for (Dtype d : {f64, f32}) {
                for (std::size_t k : {1, 3}) {
                    CAPTURE(s.label);
                    CAPTURE(std::string(dtype_name(d)));
                    CAPTURE(k);
                    const Tensor x = Tensor(s.inputs[0].value().to(d)).requires_grad();
                    const Tensor y = s.fn({x});
                    if (!y.needs_grad() || y.node()->inputs().size() != 1) continue;
                    const Node& node = *y.node();
                    const std::vector<Tensor> in{Tensor(node.inputs()[0])};
                    const Tensor ct = Tensor::uniform(batched_shape(k, y.shape()), -1.0, 1.0, gen, d);
                    NoGrad off;
                    const Tensor want = node.vjp(in, y, ct, 0);

                    Tensor owned = fresh_copy(ct);
                    const Node* before = owned.node().get();
                    const Tensor got = node.vjp_reusing(in, y, std::move(owned), 0);
                    CHECK(same_bits(got, want));
                    reused += got.node().get() == before;
                    const bool expect = k == 1 && y.size() > 0 && d == f32 &&
                                        (op.name == "tanh" || op.name == "mul_scalar" || op.name == "div_scalar");
                    if (expect) CHECK(got.node().get() == before);

                    const Tensor held = fresh_copy(ct);
                    Tensor shared = held;
                    const Tensor got2 = node.vjp_reusing(in, y, std::move(shared), 0);
                    CHECK(same_bits(got2, want));
                    CHECK(same_bits(held, ct));

                    // A buffer shared with another Array (detach() shares it) is not overwritten either.
                    const Tensor base = fresh_copy(ct);
                    const Tensor got3 = node.vjp_reusing(in, y, base.detach(), 0);
                    CHECK(same_bits(got3, want));
                    CHECK(same_bits(base, ct));
                }
            }
        }
    }
    CHECK(reused > 0);
}

TEST_CASE("vjp_reusing does not reuse while recording or in anomaly mode") {
    const Tensor x = Tensor::from({0.25, -0.5}, f32).requires_grad();
    for (const Tensor& y : {tanh(x), x * 0.5}) {
        const std::vector<Tensor> in{x};
        {
            Tensor owned = Tensor::ones({1, 2}, f32);
            const Node* before = owned.node().get();
            const Tensor g = y.node()->vjp_reusing(in, y, std::move(owned), 0);
            CHECK(g.node().get() != before);
        }
        {
            NoGrad off;
            DetectAnomaly on;
            Tensor owned = Tensor::ones({1, 2}, f32);
            const Node* before = owned.node().get();
            CHECK(y.node()->vjp_reusing(in, y, std::move(owned), 0).node().get() != before);
        }
    }
}

TEST_CASE("backward over chains of one-input ops equals a sweep that delivers every cotangent, bitwise") {
    for (Dtype d : {f32, f64}) {
        for (const Shape& shape : {Shape{}, Shape{1}, Shape{5}, Shape{1024}, Shape{3, 7}}) {
            CAPTURE(std::string(dtype_name(d)));
            CAPTURE(shape_str(shape));
            Generator gen(5);
            const Tensor x = Tensor::uniform(shape, -1.0, 1.0, gen, d).requires_grad();
            std::vector<Tensor> hs{x};
            Tensor h = x;
            for (int i = 0; i < 12; ++i) {
                switch (i % 6) {
                    case 0:
                        h = tanh(h);
                        break;
                    case 1:
                        h = h * 0.99;
                        break;
                    case 2:
                        h = sigmoid(h);
                        break;
                    case 3:
                        h = h / 1.5;
                        break;
                    case 4:
                        h = exp(h);
                        break;
                    default:
                        h = -h;
                        break;
                }
                hs.push_back(h);
            }
            const Tensor seed = Tensor::uniform(shape, -1.0, 1.0, gen, d);
            const Tensor seed_copy = fresh_copy(seed);
            // Every cotangent delivered to the caller, so none is the sweep's alone.
            const auto all = reverse_sweep({h}, {reshape(seed, batched_shape(1, shape))}, hs, {true, false});
            // Each intermediate alone: its cotangent is delivered, then used by its rule; the delivered copy stays.
            for (std::size_t i = 1; i + 1 < hs.size(); ++i) {
                const auto one = reverse_sweep({h}, {reshape(seed, batched_shape(1, shape))}, {hs[i]}, {true, false});
                CHECK(same_bits(one[0], all[i]));
            }
            h.backward(seed);
            CHECK(same_bits(x.grad(), reshape(all[0], shape)));
            CHECK(same_bits(seed, seed_copy));
        }
    }
}
