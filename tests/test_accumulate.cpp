// Eager reverse sweeps add a cotangent into the one already accumulated for the same input when they hold the only
// handle to its buffer (in place, no new array), and a slice's rule adds its cotangent into its block of that
// accumulation instead of padding it with zeros: both must give bitwise the values of the allocating sum, and must
// never write into a cotangent anyone else holds.

#include <doctest/doctest.h>

#include <adgraph/adgraph.hpp>

#include <adgraph/autodiff/node.hpp>
#include "tensor_checks.hpp"

using namespace adg;
using adg::testing::same_bits;

namespace {

Tensor fresh_copy(const Tensor& t) { return Tensor(t.value().clone()); }

}  // namespace

TEST_CASE("vjp_add gives acc + vjp bitwise for every op that has it, and declines what does not fit") {
    Generator gen(91);
    std::size_t added = 0;
    for (const auto& op : all_ops()) {
        for (const auto& s : op.samples(gen)) {
            for (Dtype d : {f64, f32}) {
                for (std::size_t k : {1, 3}) {
                    CAPTURE(s.label);
                    CAPTURE(std::string(dtype_name(d)));
                    CAPTURE(k);
                    std::vector<Tensor> xs;
                    for (const auto& x : s.inputs) xs.push_back(Tensor(x.value().to(d)).requires_grad());
                    const Tensor y = s.fn(xs);
                    if (!y.needs_grad() || !y.node()->has_op()) continue;
                    const Node& node = *y.node();
                    std::vector<Tensor> in;
                    for (const auto& e : node.inputs()) in.emplace_back(e);
                    const Tensor ct = Tensor::uniform(batched_shape(k, y.shape()), -1.0, 1.0, gen, d);
                    NoGrad off;
                    for (std::size_t i = 0; i < in.size(); ++i) {
                        CAPTURE(i);
                        const Tensor acc0 = Tensor::uniform(batched_shape(k, in[i].shape()), -1.0, 1.0, gen, d);
                        Tensor acc = fresh_copy(acc0);
                        const Node* before = acc.node().get();
                        if (!node.vjp_add(in, y, ct, i, acc)) {
                            CHECK(same_bits(acc, acc0));  // declined: untouched
                            continue;
                        }
                        ++added;
                        CHECK(acc.node().get() == before);
                        CHECK(same_bits(acc, acc0 + node.vjp(in, y, ct, i)));
                        // A cotangent of another shape (one more direction) is declined and left as it is.
                        const Tensor other = Tensor::uniform(batched_shape(k + 1, in[i].shape()), -1.0, 1.0, gen, d);
                        Tensor wrong = fresh_copy(other);
                        CHECK_FALSE(node.vjp_add(in, y, ct, i, wrong));
                        CHECK(same_bits(wrong, other));
                    }
                }
            }
        }
    }
    CHECK(added > 0);
}

TEST_CASE("backward through overlapping slices and fan-out equals the recorded sweep bitwise and leaves seeds alone") {
    for (Dtype d : {f32, f64}) {
        CAPTURE(std::string(dtype_name(d)));
        Generator gen(13);
        const Tensor x = Tensor::uniform({4, 6}, -1.0, 1.0, gen, d).requires_grad();
        // x feeds three column blocks (two overlapping), a row block and itself; each block feeds two ops.
        const auto f = [](const Tensor& v) {
            const Tensor a = slice(v, 1, 0, 4), b = slice(v, 1, 2, 6), c = slice(v, 1, 4, 6), r = slice(v, 0, 1, 3);
            return sum(tanh(a) * a) + sum(sigmoid(b) * exp(b)) + sum(c * c) + sum(r * 0.5) + sum(v * v);
        };
        const Tensor seed = Tensor::from({0.75}, d);
        const Tensor seed_copy = fresh_copy(seed);
        const Tensor y = f(x);
        // create_graph records the sweep and so takes neither in-place path: the allocating sums.
        const Tensor want = reverse_sweep({y}, {seed}, {x}, {true, true})[0];
        const Tensor eager = reverse_sweep({y}, {seed}, {x}, {true, false})[0];
        CHECK(same_bits(eager, want));
        f(x).backward(reshape(seed, {}));
        CHECK(same_bits(x.grad(), reshape(want, {4, 6})));
        CHECK(same_bits(seed, seed_copy));
    }
}

TEST_CASE("a cotangent delivered to the caller is never added into afterwards") {
    Generator gen(3);
    const Tensor x = Tensor::uniform({3, 4}, -1.0, 1.0, gen, f32).requires_grad();
    const Tensor h = tanh(x);
    // h's cotangent is delivered, then h's rule passes it on to x, which also gets a second contribution.
    const Tensor y = sum(slice(h, 1, 0, 2) * 2.0) + sum(slice(h, 1, 1, 4)) + sum(x * 3.0);
    const auto got = reverse_sweep({y}, {Tensor::from({1.0}, f32)}, {h, x}, {true, false});
    const Tensor h_ct = fresh_copy(got[0]);
    const auto again = reverse_sweep({y}, {Tensor::from({1.0}, f32)}, {h}, {true, false});
    CHECK(same_bits(again[0], h_ct));
    CHECK(same_bits(got[0], h_ct));
    // Column 1 of h is in both slices: 2 + 1; columns 0 and 2..3 in one each.
    const auto& ct = got[0].value().get<float>();
    CHECK(ct(0, 0, 0) == 2.0f);
    CHECK(ct(0, 0, 1) == 3.0f);
    CHECK(ct(0, 2, 3) == 1.0f);
}
