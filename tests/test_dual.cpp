// Eager forward mode: a pure jvp(f, x, v) carries tangents along while f runs (nothing recorded) and gives
// bitwise what the forward sweep over the recorded graph gives; f runs exactly once, whatever it does.

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <future>

#include <adgraph/adgraph.hpp>

#include "tensor_checks.hpp"

#include "explode_op.hpp"

using namespace adg;
using adg::testing::same_bits;

namespace {

std::vector<Tensor> as_dtype(const std::vector<Tensor>& xs, Dtype d) {
    std::vector<Tensor> out;
    for (const auto& x : xs) out.push_back(Tensor(x.value().to(d)));
    return out;
}

// The forward sweep over f recorded on fresh leaves.
Tensor swept(const MultiFn& f, const std::vector<Tensor>& xs, const std::vector<Tensor>& vs) {
    std::vector<Tensor> leaves, seeds;
    for (std::size_t i = 0; i < xs.size(); ++i) {
        leaves.push_back(xs[i].detach().requires_grad());
        seeds.push_back(reshape(vs[i], batched_shape(1, vs[i].shape())));
    }
    const Tensor y = f(leaves);
    if (!y.needs_grad()) return Tensor::zeros(y.shape(), y.dtype());
    NoGrad off;
    const Tensor t = forward_sweep(leaves, seeds, {y})[0];
    return reshape(t, y.shape());
}

}  // namespace

TEST_CASE("eager jvp equals the forward sweep over the recorded graph, bitwise, for every listed op") {
    Generator gen(11);
    for (const auto& op : all_ops()) {
        for (const auto& s : op.samples(gen)) {
            for (const Dtype d : {f64, f32}) {
                CAPTURE(s.label);
                CAPTURE(dtype_name(d));
                const std::vector<Tensor> xs = as_dtype(s.inputs, d);
                std::vector<Tensor> vs;
                for (const auto& x : xs) vs.push_back(Tensor::uniform(x.shape(), -1, 1, gen, d));
                const long before = live_node_count();
                const auto [y, t] = jvp(s.fn, xs, vs);
                CHECK(y.is_leaf());
                CHECK_FALSE(y.needs_grad());
                CHECK(same_bits(t, swept(s.fn, xs, vs)));
                CHECK(live_node_count() == before + 2);  // y and t
            }
        }
    }
}

TEST_CASE("eager jvp computes the tangent while f runs and keeps nothing of f's graph") {
    const Tensor x = Tensor::from({0.3, -0.7}, f64), v = Tensor::from({1.0, 2.0}, f64);
    const long before = live_node_count();
    const auto [y, t] = jvp([&](const Tensor& a) { return sum(tanh(a) * a); }, x, v);
    CHECK(live_node_count() == before + 2);  // y and t: f's intermediates died with the call
    CHECK(y.is_leaf());
    CHECK(t.is_leaf());
    // d/dx Σ tanh(x)·x = (1 - tanh²x)·x + tanh x
    double want = 0;
    for (std::size_t i = 0; i < 2; ++i) {
        const double a = x.value().flat(i), th = std::tanh(a);
        want += ((1 - th * th) * a + th) * v.value().flat(i);
    }
    CHECK(t.item() == doctest::Approx(want).epsilon(1e-14));
}

TEST_CASE("eager jvp: identity, constants, NoGrad inside f, one tensor passed twice") {
    const Tensor x = Tensor::from({0.5, 2.0}, f64), v = Tensor::from({1.0, -3.0}, f64);
    CHECK(same_bits(jvp([](const Tensor& a) { return a; }, x, v).second, v));
    CHECK(same_bits(jvp([](const Tensor&) { return Tensor::ones({3}, f64); }, x, v).second, Tensor::zeros({3}, f64)));
    const auto no_grad_part = [](const Tensor& a) {
        Tensor c;
        {
            NoGrad off;
            c = a * 3.0;  // a constant: no tangent flows through it
        }
        return a * 2.0 + c;
    };
    CHECK(same_bits(jvp(no_grad_part, x, v).second, v * 2.0));
    const Tensor w = Tensor::from({4.0, 5.0}, f64);
    const auto [y, t] = jvp([](const std::vector<Tensor>& xs) { return xs[0] * xs[1]; }, {x, x}, {v, w});
    CHECK(same_bits(t, v * x + x * w));
}

TEST_CASE("eager jvp of f that records: nested transforms, parameters") {
    const Tensor x = Tensor::from({0.4, -1.1}, f64), v = Tensor::from({1.0, 0.5}, f64);
    // forward over forward: d/dx (cos x · v) · v = -sin x · v²
    const auto inner = [&v](const Tensor& a) { return jvp([](const Tensor& b) { return sin(b); }, a, v).second; };
    const Tensor second = jvp(inner, x, v).second;
    for (std::size_t i = 0; i < 2; ++i) {
        const double vi = v.value().flat(i);
        CHECK(second.value().flat(i) == doctest::Approx(-std::sin(x.value().flat(i)) * vi * vi).epsilon(1e-14));
    }
    // forward over reverse: Hessian-vector product of Σ x³ is 6·x·v
    const Tensor hv = jvp(grad([](const Tensor& a) { return sum(a * a * a); }), x, v).second;
    for (std::size_t i = 0; i < 2; ++i) {
        CHECK(hv.value().flat(i) == doctest::Approx(6 * x.value().flat(i) * v.value().flat(i)).epsilon(1e-14));
    }
    // a parameter that requires grad: recorded as before, its grad untouched
    const Tensor w = Tensor::from({2.0, 3.0}, f64).requires_grad();
    const auto [y, t] = jvp([&w](const Tensor& a) { return a * w; }, x, v);
    CHECK(same_bits(t, v * w.detach()));
    CHECK_FALSE(w.has_grad());
    CHECK_FALSE(y.needs_grad());
}

TEST_CASE("eager jvp runs f exactly once: parameters, nested transforms after a side effect, new leaves, threads") {
    const Tensor x = Tensor::from({0.4, -1.1}, f64), v = Tensor::from({1.0, 0.5}, f64);
    const Tensor w = Tensor::from({2.0, 3.0}, f64).requires_grad();
    const auto check_close = [](const Tensor& got, const Tensor& want) {
        REQUIRE(got.shape() == want.shape());
        for (std::size_t i = 0; i < got.size(); ++i)
            CHECK(got.value().flat(i) == doctest::Approx(want.value().flat(i)).epsilon(1e-14));
    };
    int calls = 0;
    // A captured parameter that requires grad.
    Tensor t = jvp(
                   [&](const Tensor& a) {
                       ++calls;
                       return tanh(a * w);
                   },
                   x, v)
                   .second;
    CHECK(calls == 1);
    check_close(t, (1.0 - square(tanh(x * w.detach()))) * w.detach() * v);
    CHECK_FALSE(w.has_grad());
    // A side effect, then a nested transform (hvp written as jvp of grad inside f): Σ x³ has H·v = 6·x·v.
    calls = 0;
    int inner_calls = 0;
    const auto cube = [&](const Tensor& a) {
        ++inner_calls;
        return sum(a * a * a);
    };
    t = jvp(
            [&](const Tensor& a) {
                ++calls;
                return grad(cube)(a) * 2.0;
            },
            x, v)
            .second;
    CHECK(calls == 1);
    CHECK(inner_calls == 1);
    check_close(t, 12.0 * x * v);
    // jvp of grad directly (f = grad(cube)), and forward over forward after a side effect.
    inner_calls = 0;
    check_close(jvp(grad(cube), x, v).second, 6.0 * x * v);
    CHECK(inner_calls == 1);
    calls = 0;
    t = jvp(
            [&](const Tensor& a) {
                ++calls;
                return jvp([](const Tensor& b) { return sin(b); }, a, v).second;  // cos a · v
            },
            x, v)
            .second;
    CHECK(calls == 1);
    check_close(t, -1.0 * sin(x) * v * v);
    // f that makes a leaf of its own and differentiates through it: no tangent flows through detach, the rest of
    // f still carries one.
    calls = 0;
    t = jvp(
            [&](const Tensor& a) {
                ++calls;
                const Tensor c = a.detach().requires_grad();
                const Tensor g = grad([](const Tensor& z) { return sum(z * z); })(c);  // 2·c, constant in a
                return a * a + g;
            },
            x, v)
            .second;
    CHECK(calls == 1);
    check_close(t, 2.0 * x * v);
    // f whose ops run on another thread: their tangents come from one sweep over the recording, not a rerun.
    calls = 0;
    t = jvp(
            [&](const Tensor& a) {
                ++calls;
                return std::async(std::launch::async, [&a] { return tanh(a) * a; }).get();
            },
            x, v)
            .second;
    CHECK(calls == 1);
    check_close(t, ((1.0 - square(tanh(x))) * x + tanh(x)) * v);
}

TEST_CASE("eager jvp: a failing rule names the op and the transform and leaves no live nodes") {
    const long base = live_node_count();
    {
        const Tensor x = Tensor::from({1.0, 2.0}, f64), v = Tensor::ones({2}, f64);
        CHECK_THROWS_WITH_AS(jvp([](const Tensor& a) { return sum(apply(testing::Explode{}, tanh(a))); }, x, v),
                             doctest::Contains("in the JVP rule of 'explode' (jvp): boom in jvp"), value_error);
        // The eager scope is gone: later ops record as usual.
        const Tensor z = Tensor::from({1.0}, f64).requires_grad();
        CHECK(tanh(z).needs_grad());
    }
    CHECK(live_node_count() == base);
}

TEST_CASE("eager jvp runs f once even when f nests a transform, and matches the recorded path") {
    const Tensor x = Tensor::from({0.4, -1.1, 0.7}, f64), v = Tensor::from({1.0, 0.5, -2.0}, f64);
    const Tensor w = Tensor::from({1.5, -0.5, 2.0}, f64);
    int calls = 0;
    // f's gradient of an inner function, then more ops: the outer jvp differentiates through the inner sweep.
    const MultiFn f = [&](const std::vector<Tensor>& a) {
        ++calls;
        const Tensor g = grad([&w](const Tensor& z) { return sum(tanh(z * w) * z); })(a[0]);
        const Tensor j = jacrev([](const Tensor& z) { return sin(z) * z; })(a[0]);
        return sum(g * a[0]) + sum(matmul(j, a[0]));
    };
    const auto [y, t] = jvp(f, {x}, {v});
    CHECK(calls == 1);
    calls = 0;
    const auto [y2, t2] = detail::recorded_jvp(f, {x}, {v});
    CHECK(calls == 1);
    CHECK(y.item() == doctest::Approx(y2.item()).epsilon(1e-14));
    CHECK(t.item() == doctest::Approx(t2.item()).epsilon(1e-13));
    CHECK_FALSE(t.needs_grad());
    CHECK_FALSE(y.needs_grad());
    // Against central differences of f along v.
    const double h = 1e-6;
    const double fd = (f({x + h * v}).item() - f({x - h * v}).item()) / (2 * h);
    CHECK(t.item() == doctest::Approx(fd).epsilon(1e-7));
}

TEST_CASE("eager jvp runs f once when f makes a leaf that requires grad and sweeps it") {
    const Tensor x = Tensor::from({0.4, -1.1}, f64), v = Tensor::from({1.0, 0.5}, f64);
    int calls = 0;
    const auto [y, t] = jvp(
        [&](const Tensor& a) {
            ++calls;
            const Tensor p = Tensor::from({2.0, 3.0}, f64).requires_grad();
            Tensor loss = sum(p * a * a);
            loss.backward();
            return sum(a * p.grad()) + loss;  // p.grad() = a² is a constant here, as backward() records nothing
        },
        x, v);
    CHECK(calls == 1);
    const Tensor want = x * x * v + Tensor::from({2.0, 3.0}, f64) * x * v * 2.0;
    CHECK(t.item() == doctest::Approx(sum(want).item()).epsilon(1e-14));
}

TEST_CASE("eager jvp keeps no graph: a long chain holds O(1) nodes while f runs") {
    const Tensor x = Tensor::ones({1000}, f64), v = Tensor::ones({1000}, f64);
    long peak = 0;
    const long base = live_node_count();
    jvp(
        [&](const Tensor& a) {
            Tensor h = a;
            for (int i = 0; i < 2000; ++i) {
                h = tanh(h) + a;
                peak = std::max(peak, live_node_count() - base);
            }
            return sum(h);
        },
        x, v);
    // Recording the chain would keep 2 nodes per step (4000); eager forward mode keeps the live values and the
    // tangents its table has not pruned yet (it prunes dead entries when it doubles, from 64 on).
    CHECK(peak < 200);
}

TEST_CASE("eager jvp: work f hands to another thread gets tangents, and f runs once") {
    const Tensor x = Tensor::from({0.4, -1.1}, f64), v = Tensor::from({1.0, 0.5}, f64);
    int calls = 0;
    const auto [y, t] = jvp(
        [&](const Tensor& a) {
            ++calls;
            const Tensor b = exp(a);
            return std::async(std::launch::async, [&] { return sum(tanh(b) * a); }).get();
        },
        x, v);
    CHECK(calls == 1);
    const Tensor e = exp(x);
    const Tensor want = ((1.0 - square(tanh(e))) * e * x + tanh(e)) * v;
    CHECK(t.item() == doctest::Approx(sum(want).item()).epsilon(1e-14));
}
