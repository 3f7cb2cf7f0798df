// batch_norm against the formula written out here in float64 (values and gradients, both modes), running
// statistics after two steps against hand-computed values, evaluation leaving them alone, float32 against float64,
// locality (evaluation per sample, training not) and every input error.

#include <doctest/doctest.h>

#include <cmath>

#include <adgraph/adgraph.hpp>

using namespace adg;

namespace {

// x (N, C) or (N, C, H, W) as [channel][values of that channel], and the flat index of each value.
struct ByChannel {
    std::vector<std::vector<double>> v;
    std::vector<std::vector<std::size_t>> at;
};

ByChannel by_channel(const Tensor& x) {
    const std::size_t n = x.shape()[0], c = x.shape()[1], hw = x.size() / (n * c);
    ByChannel b{std::vector<std::vector<double>>(c), std::vector<std::vector<std::size_t>>(c)};
    for (std::size_t s = 0; s < n; ++s) {
        for (std::size_t ch = 0; ch < c; ++ch) {
            for (std::size_t e = 0; e < hw; ++e) {
                const std::size_t i = (s * c + ch) * hw + e;
                b.v[ch].push_back(x.value().flat(i));
                b.at[ch].push_back(i);
            }
        }
    }
    return b;
}

double mean_of(const std::vector<double>& v) {
    double s = 0;
    for (double e : v) s += e;
    return s / static_cast<double>(v.size());
}

double biased_var(const std::vector<double>& v) {
    const double m = mean_of(v);
    double s = 0;
    for (double e : v) s += (e - m) * (e - m);
    return s / static_cast<double>(v.size());
}

void check_close(double a, double b, double tol) { CHECK(a == doctest::Approx(b).epsilon(tol).scale(1.0)); }

const Shape shapes[] = {{5, 3}, {3, 2, 3, 2}};

}  // namespace

TEST_CASE("batch_norm training: values and gradients equal the formula in float64") {
    Generator gen(21);
    for (const Shape& s : shapes) {
        CAPTURE(shape_str(s));
        const std::size_t c = s[1];
        const double eps = 1e-5;
        const Tensor x = Tensor::uniform(s, -2, 3, gen, f64).requires_grad();
        const Tensor w = Tensor::uniform({c}, 0.5, 2, gen, f64).requires_grad();
        const Tensor b = Tensor::uniform({c}, -1, 1, gen, f64).requires_grad();
        const Tensor y = batch_norm(x, Tensor(), Tensor(), w, b, true, 0.1, eps);
        REQUIRE(y.shape() == s);
        const Tensor seed = Tensor::uniform(s, -1, 1, gen, f64);
        y.backward(seed);
        const ByChannel xs = by_channel(x);
        for (std::size_t ch = 0; ch < c; ++ch) {
            const double mu = mean_of(xs.v[ch]), sd = std::sqrt(biased_var(xs.v[ch]) + eps);
            const double g = w.value().flat(ch), beta = b.value().flat(ch);
            const std::size_t m = xs.v[ch].size();
            // x̂, ȳ and their means per channel.
            std::vector<double> xhat(m), ybar(m);
            double mean_ybar = 0, mean_ybar_xhat = 0, gw = 0, gb = 0;
            for (std::size_t e = 0; e < m; ++e) {
                xhat[e] = (xs.v[ch][e] - mu) / sd;
                ybar[e] = seed.value().flat(xs.at[ch][e]);
                mean_ybar += ybar[e] / static_cast<double>(m);
                mean_ybar_xhat += ybar[e] * xhat[e] / static_cast<double>(m);
                gw += ybar[e] * xhat[e];
                gb += ybar[e];
                check_close(y.value().flat(xs.at[ch][e]), g * xhat[e] + beta, 1e-12);
            }
            // x̄ = γ/σ · (ȳ − mean ȳ − x̂ · mean(ȳ x̂)): the gradient through the mean and the variance.
            for (std::size_t e = 0; e < m; ++e) {
                const double expected = g / sd * (ybar[e] - mean_ybar - xhat[e] * mean_ybar_xhat);
                check_close(x.grad().value().flat(xs.at[ch][e]), expected, 1e-12);
            }
            check_close(w.grad().value().flat(ch), gw, 1e-12);
            check_close(b.grad().value().flat(ch), gb, 1e-12);
        }
    }
}

TEST_CASE("batch_norm evaluation: the running statistics' affine map, values and gradients, stats untouched") {
    Generator gen(22);
    for (const Shape& s : shapes) {
        CAPTURE(shape_str(s));
        const std::size_t c = s[1];
        const double eps = 1e-3;
        const Tensor x = Tensor::uniform(s, -2, 3, gen, f64).requires_grad();
        const Tensor rm = Tensor::uniform({c}, -1, 1, gen, f64), rv = Tensor::uniform({c}, 0.5, 2, gen, f64);
        const Tensor w = Tensor::uniform({c}, 0.5, 2, gen, f64).requires_grad();
        const Tensor b = Tensor::uniform({c}, -1, 1, gen, f64).requires_grad();
        const Array rm0 = rm.value().clone(), rv0 = rv.value().clone();
        const Tensor y = batch_norm(x, rm, rv, w, b, false, 0.1, eps);
        const Tensor seed = Tensor::uniform(s, -1, 1, gen, f64);
        y.backward(seed);
        const ByChannel xs = by_channel(x);
        for (std::size_t ch = 0; ch < c; ++ch) {
            const double sd = std::sqrt(rv.value().flat(ch) + eps), g = w.value().flat(ch);
            double gw = 0, gb = 0;
            for (std::size_t e = 0; e < xs.v[ch].size(); ++e) {
                const std::size_t i = xs.at[ch][e];
                const double xhat = (xs.v[ch][e] - rm.value().flat(ch)) / sd;
                check_close(y.value().flat(i), g * xhat + b.value().flat(ch), 1e-12);
                check_close(x.grad().value().flat(i), seed.value().flat(i) * g / sd, 1e-12);
                gw += seed.value().flat(i) * xhat;
                gb += seed.value().flat(i);
            }
            check_close(w.grad().value().flat(ch), gw, 1e-12);
            check_close(b.grad().value().flat(ch), gb, 1e-12);
            CHECK(rm.value().flat(ch) == rm0.flat(ch));
            CHECK(rv.value().flat(ch) == rv0.flat(ch));
        }
    }
}

TEST_CASE("batch_norm: running statistics after two training steps (momentum 0.1, unbiased variance)") {
    for (Dtype d : {f64, f32}) {
        const double tol = d == f64 ? 1e-15 : 1e-6;
        const Tensor rm = Tensor::zeros({1}, d), rv = Tensor::ones({1}, d);
        // Step 1: values 1, 3: mean 2, biased variance 1 (normalising), unbiased 2 (running).
        const Tensor y1 = batch_norm(Tensor::from({1.0, 3.0}, {2, 1}, d), rm, rv, Tensor(), Tensor(), true);
        check_close(y1.value().flat(0), -1 / std::sqrt(1 + 1e-5), tol);
        check_close(y1.value().flat(1), 1 / std::sqrt(1 + 1e-5), tol);
        check_close(rm.item(), 0.9 * 0 + 0.1 * 2, tol);  // 0.2
        check_close(rv.item(), 0.9 * 1 + 0.1 * 2, tol);  // 1.1
        // Step 2: values 0, 4, 8: mean 4, unbiased variance (16 + 0 + 16) / 2 = 16.
        batch_norm(Tensor::from({0.0, 4.0, 8.0}, {3, 1}, d), rm, rv, Tensor(), Tensor(), true);
        check_close(rm.item(), 0.58, tol);  // 0.9·0.2 + 0.1·4
        check_close(rv.item(), 2.59, tol);  // 0.9·1.1 + 0.1·16
    }
    // An image batch with momentum 0.5: channel statistics over N, H and W.
    const Tensor x = Tensor::from({1.0, 2.0, 10.0, 10.0, 3.0, 6.0, 20.0, 30.0}, {2, 2, 1, 2}, f64);
    const Tensor rm = Tensor::from({1.0, -1.0}, f64), rv = Tensor::from({2.0, 4.0}, f64);
    batch_norm(x, rm, rv, Tensor(), Tensor(), true, 0.5);
    // Channel 0: 1, 2, 3, 6: mean 3, unbiased variance (4 + 1 + 0 + 9) / 3. Channel 1: 10, 10, 20, 30: mean 17.5,
    // unbiased variance (56.25 + 56.25 + 6.25 + 156.25) / 3.
    check_close(rm.value().flat(0), 0.5 * 1 + 0.5 * 3, 1e-15);
    check_close(rm.value().flat(1), 0.5 * -1 + 0.5 * 17.5, 1e-15);
    check_close(rv.value().flat(0), 0.5 * 2 + 0.5 * 14.0 / 3, 1e-15);
    check_close(rv.value().flat(1), 0.5 * 4 + 0.5 * 275.0 / 3, 1e-15);
}

TEST_CASE("batch_norm: float32 agrees with float64 in both modes, and without weight and bias") {
    Generator gen(23);
    const Tensor x = Tensor::uniform({4, 3, 2, 2}, -2, 2, gen, f64);
    const Tensor w = Tensor::uniform({3}, 0.5, 2, gen, f64), b = Tensor::uniform({3}, -1, 1, gen, f64);
    const Tensor rm = Tensor::uniform({3}, -1, 1, gen, f64), rv = Tensor::uniform({3}, 0.5, 2, gen, f64);
    for (bool training : {true, false}) {
        for (bool affine : {true, false}) {
            INFO("training ", training, " affine ", affine);
            const auto run = [&](Dtype d) {
                const Tensor wd = affine ? cast(w, d) : Tensor(), bd = affine ? cast(b, d) : Tensor();
                return batch_norm(cast(x, d), training ? Tensor() : cast(rm, d), training ? Tensor() : cast(rv, d), wd,
                                  bd, training);
            };
            const Tensor y64 = run(f64), y32 = run(f32);
            CHECK(y32.dtype() == f32);
            for (std::size_t i = 0; i < y64.size(); ++i) {
                check_close(y32.value().flat(i), y64.value().flat(i), 1e-5);
            }
        }
    }
}

TEST_CASE("batch_norm: evaluation is elementwise in x (a diagonal Jacobian), training mixes the batch") {
    Generator gen(24);
    const Tensor x = Tensor::uniform({4, 3}, -1, 1, gen, f64);
    const Tensor rm = Tensor::uniform({3}, -1, 1, gen, f64), rv = Tensor::uniform({3}, 0.5, 2, gen, f64);
    const Tensor w = Tensor::uniform({3}, 0.5, 2, gen, f64), b = Tensor::uniform({3}, -1, 1, gen, f64);
    const Jacobian E = jacobian([&](const Tensor& t) { return batch_norm(t, rm, rv, w, b, false); }, x);
    // Each output element is an affine function of its own input element: diagonal, so per sample too.
    CHECK(E.structure == Structure::diagonal);
    const Jacobian T = jacobian([&](const Tensor& t) { return batch_norm(t, Tensor(), Tensor(), w, b, true); }, x);
    CHECK(T.structure == Structure::dense);
    // In training, sample 0's output moves with sample 1's input: the Jacobian's off-diagonal block is not zero.
    const Tensor J = T.dense();
    double off = 0;
    for (std::size_t o = 0; o < 3; ++o) {
        for (std::size_t i = 3; i < 6; ++i) off += std::abs(J.value().flat(o * 12 + i));
    }
    CHECK(off > 1e-3);
}

TEST_CASE("batch_norm: bad inputs are typed errors naming the op, the shapes and the remedy") {
    const Tensor x = Tensor::zeros({2, 4, 5, 5});
    const Tensor c4 = Tensor::ones({4});
    CHECK_THROWS_WITH_AS(batch_norm(Tensor::zeros({2, 3, 4}), Tensor(), Tensor(), Tensor(), Tensor(), true),
                         "batch_norm: input (2,3,4) is neither (N, C) nor (N, C, H, W); channels must be on axis 1",
                         shape_error);
    CHECK_THROWS_WITH_AS(batch_norm(x, c4, c4, Tensor::ones({3}), c4, false),
                         "batch_norm: weight (3) does not fit x (2,4,5,5) with 4 channels; running_mean, running_var, "
                         "weight and bias must each be (4)",
                         shape_error);
    CHECK_THROWS_WITH_AS(batch_norm(x, Tensor::zeros({4, 1}), c4, c4, c4, true),
                         "batch_norm: running_mean (4,1) does not fit x (2,4,5,5) with 4 channels; running_mean, "
                         "running_var, weight and bias must each be (4)",
                         shape_error);
    CHECK_THROWS_WITH_AS(batch_norm(Tensor::zeros({1, 3}), Tensor(), Tensor(), Tensor(), Tensor(), true),
                         "batch_norm: training needs more than 1 value per channel, but x (1,3) has 1; use a batch of "
                         "at least 2 samples (or evaluation mode)",
                         value_error);
    CHECK_THROWS_WITH_AS(batch_norm(Tensor::zeros({1, 3, 1, 1}), Tensor(), Tensor(), Tensor(), Tensor(), true),
                         "batch_norm: training needs more than 1 value per channel, but x (1,3,1,1) has 1; use a "
                         "batch of at least 2 samples (or evaluation mode)",
                         value_error);
    // One sample of a 2x2 image is 4 values per channel: fine in training, as in PyTorch.
    CHECK(batch_norm(Tensor::ones({1, 3, 2, 2}), Tensor(), Tensor(), Tensor(), Tensor(), true).shape() ==
          Shape{1, 3, 2, 2});
    // And one sample is fine in evaluation.
    CHECK(batch_norm(Tensor::ones({1, 4}), c4, c4, Tensor(), Tensor(), false).shape() == Shape{1, 4});
    CHECK_THROWS_WITH_AS(batch_norm(x, c4, Tensor(), c4, c4, false),
                         "batch_norm: evaluation mode normalises with running_mean and running_var, but running_var "
                         "is undefined; pass both (or use training mode)",
                         value_error);
    CHECK_THROWS_WITH_AS(batch_norm(x, c4, c4, Tensor::ones({4}, f64), c4, false),
                         "batch_norm: operands have different dtypes float32 (2,4,5,5) and float64 (4); convert one "
                         "with cast(x, adg::f32) or cast(x, adg::f64)",
                         dtype_error);
    // A failed call changes no running statistic.
    const Tensor rm = Tensor::zeros({4}), rv = Tensor::ones({4});
    CHECK_THROWS_AS(batch_norm(x, rm, rv, Tensor::ones({4}, f64), c4, true), dtype_error);
    CHECK(rm.value().flat(0) == 0.0);
    CHECK(rv.value().flat(0) == 1.0);
}

TEST_CASE("batch_norm training: repeated and partial backward sweeps over one graph give the same gradients") {
    // The rules for x, γ and β share their per-channel sums of ȳ; sweeping again (same or another seed, some inputs
    // only) must give what one sweep gives.
    Generator gen(25);
    const Tensor x = Tensor::uniform({3, 2, 2, 3}, -1, 1, gen, f64).requires_grad();
    const Tensor w = Tensor::uniform({2}, 0.5, 2, gen, f64).requires_grad();
    const Tensor b = Tensor::uniform({2}, -1, 1, gen, f64).requires_grad();
    const Tensor y = batch_norm(x, Tensor(), Tensor(), w, b, true);
    const Tensor s1 = Tensor::uniform(y.shape(), -1, 1, gen, f64), s2 = Tensor::uniform(y.shape(), -1, 1, gen, f64);
    const auto once = [&](const Tensor& seed, const std::vector<Tensor>& inputs) {
        SweepOptions keep;
        keep.retain_graph = true;
        return reverse_sweep({y}, {reshape(seed, batched_shape(1, seed.shape()))}, inputs, keep);
    };
    const auto g1 = once(s1, {x, w, b}), g2 = once(s2, {x, w, b});
    const auto g1_again = once(s1, {x, w, b});
    const auto g2_w = once(s2, {w});
    const auto g1_bx = once(s1, {b, x});
    for (std::size_t i = 0; i < 3; ++i) {
        for (std::size_t e = 0; e < g1[i].size(); ++e) CHECK(g1_again[i].value().flat(e) == g1[i].value().flat(e));
    }
    for (std::size_t e = 0; e < 2; ++e) CHECK(g2_w[0].value().flat(e) == g2[1].value().flat(e));
    for (std::size_t e = 0; e < 2; ++e) CHECK(g1_bx[0].value().flat(e) == g1[2].value().flat(e));
    for (std::size_t e = 0; e < x.size(); ++e) CHECK(g1_bx[1].value().flat(e) == g1[0].value().flat(e));
    // .backward accumulates: twice with one seed is twice the gradient.
    y.backward(s1, {true, false});
    y.backward(s1, {true, false});
    for (std::size_t e = 0; e < 2; ++e) CHECK(w.grad().value().flat(e) == doctest::Approx(2 * g1[1].value().flat(e)));
}
