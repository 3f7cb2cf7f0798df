// Eager forward mode: a pure jvp(f, x, v) carries tangents along while f runs (nothing recorded) and gives
// bitwise what the forward sweep over the recorded graph gives; f runs once, even when it nests a transform.

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <future>

#include <adgraph/adgraph.hpp>

#include "explode_op.hpp"

using namespace adg;

namespace {

std::vector<Tensor> as_dtype(const std::vector<Tensor>& xs, Dtype d) {
    std::vector<Tensor> out;
    for (const auto& x : xs) out.push_back(Tensor(x.value().to(d)));
    return out;
}

bool same_bits(const Tensor& a, const Tensor& b) {
    if (a.shape() != b.shape() || a.dtype() != b.dtype()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (a.value().flat(i) != b.value().flat(i)) return false;
    }
    return true;
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

TEST_CASE("eager jvp records nothing while f runs") {
    const Tensor x = Tensor::from({0.3, -0.7}, f64), v = Tensor::from({1.0, 2.0}, f64);
    bool leaves_only = true;
    const auto [y, t] = jvp(
        [&](const Tensor& a) {
            const Tensor h = tanh(a) * a;
            leaves_only &= h.is_leaf() && !h.needs_grad();
            return sum(h);
        },
        x, v);
    CHECK(leaves_only);
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

TEST_CASE("eager jvp falls back to the recorded path when f records: nested transforms, parameters") {
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

TEST_CASE("eager jvp runs f once: a captured parameter stays eager, a nested transform restarts before any work") {
    const Tensor x = Tensor::from({0.4, -1.1}, f64), v = Tensor::from({1.0, 0.5}, f64);
    const Tensor w = Tensor::from({2.0, 3.0}, f64).requires_grad();
    int calls = 0;
    const auto [y, t] = jvp(
        [&](const Tensor& a) {
            ++calls;
            return tanh(a * w);
        },
        x, v);
    CHECK(calls == 1);
    const Tensor d = 1.0 - square(tanh(x * w.detach()));
    const Tensor want = d * w.detach() * v;
    for (std::size_t i = 0; i < 2; ++i)
        CHECK(t.value().flat(i) == doctest::Approx(want.value().flat(i)).epsilon(1e-15));
    // hvp = jvp(grad(g)): grad asks for recording before it calls g, so g itself runs once (on the recorded path).
    calls = 0;
    const Tensor hv = jvp(grad([&](const Tensor& a) {
                              ++calls;
                              return sum(a * a * a);
                          }),
                          x, v)
                          .second;
    CHECK(calls == 1);
    CHECK(hv.value().flat(0) == doctest::Approx(6 * 0.4 * 1.0).epsilon(1e-14));
}

TEST_CASE("eager jvp: f that runs its ops on another thread gets the recorded path's tangent, not zero") {
    const Tensor x = Tensor::from({0.4, -1.1}, f64), v = Tensor::from({1.0, 0.5}, f64);
    const auto [y, t] =
        jvp([](const Tensor& a) { return std::async(std::launch::async, [&a] { return tanh(a) * a; }).get(); }, x, v);
    const Tensor want = ((1.0 - square(tanh(x))) * x + tanh(x)) * v;
    for (std::size_t i = 0; i < 2; ++i)
        CHECK(t.value().flat(i) == doctest::Approx(want.value().flat(i)).epsilon(1e-14));
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
