// Indexing and the small tools a libtorch or JAX user reaches for first: x[i], select, item(i, j), arange, linspace,
// eye, the *_like family, argmax/argmin, min, var, std, method forms and in-place arithmetic. References are naive
// loops and hand-computed cases written here; gradients of select, min, var and std are also checked for every op in
// the op lists (tests/test_ops.cpp, list "index").

#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include <adgraph/adgraph.hpp>

using namespace adg;

namespace {

// x of `shape` with element i = i * scale + offset (row-major), in float64.
Tensor counting(const Shape& shape, double scale = 1.0, double offset = 0.0, Dtype dtype = f64) {
    std::vector<double> v(numel(shape));
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(i) * scale + offset;
    return Tensor::from(v, shape, dtype);
}

}  // namespace

TEST_CASE("x[i] and select take one entry along an axis, and are differentiable") {
    const Tensor x = counting({2, 3, 4});
    // select(x, 1, j)[a][b] = x[a][j][b]: compared with the row-major offsets directly.
    for (long j : {0L, 2L, -1L}) {
        const Tensor s = select(x, 1, j);
        REQUIRE(s.shape() == Shape{2, 4});
        const long jj = j < 0 ? j + 3 : j;
        for (std::size_t a = 0; a < 2; ++a) {
            for (std::size_t b = 0; b < 4; ++b) {
                CHECK(s.item(a, b) == static_cast<double>(a * 12 + static_cast<std::size_t>(jj) * 4 + b));
            }
        }
    }
    CHECK(x[1].shape() == Shape{3, 4});
    CHECK(x[1][2][3].dim() == 0);
    CHECK(x[1][2][3].item() == 23.0);
    CHECK(x[-1][0][-1].item() == 15.0);
    CHECK(x.select(2, 1).shape() == Shape{2, 3});
    // The gradient of y = Σ w ⊙ x[1] puts w in row 1 and zeros elsewhere.
    const Tensor m = counting({3, 2}).requires_grad();
    const Tensor w = Tensor::from({5.0, 7.0}, f64);
    sum(m[1] * w).backward();
    for (std::size_t i = 0; i < 6; ++i) CHECK(m.grad().value().flat(i) == (i == 2 ? 5.0 : i == 3 ? 7.0 : 0.0));
    CHECK_THROWS_WITH_AS(x[2], "select: index 2 is out of range for axis 0 of shape (2,3,4); valid: -2..1",
                         value_error);
    CHECK_THROWS_AS(select(x, 3, 0), value_error);
    CHECK_THROWS_WITH_AS(select(Tensor::zeros({0, 2}), 0, 0),
                         "select: index 0 is out of range for axis 0 of shape (0,2); none is valid: the axis is empty",
                         value_error);
}

TEST_CASE("item(i, j) reads one element by its indices") {
    const Tensor x = counting({2, 3}, 0.5, 1.0, f32);
    for (std::size_t i = 0; i < 2; ++i) {
        for (std::size_t j = 0; j < 3; ++j) CHECK(x.item(i, j) == x.value().flat(i * 3 + j));
    }
    CHECK(x.item(-1, -3) == x.value().flat(3));
    CHECK(Tensor::scalar(4.0).item() == 4.0);
    CHECK_THROWS_WITH_AS(x.item(1), "item: 1 index given for a tensor of shape (2,3); give one index per axis (2)",
                         shape_error);
    CHECK_THROWS_WITH_AS(x.item(0, 3), "item: index 3 is out of range for axis 1 of shape (2,3); valid: -3..2",
                         value_error);
}

TEST_CASE("arange, linspace and eye follow torch's values") {
    const Tensor a = arange(5);
    CHECK(a.dtype() == f32);
    REQUIRE(a.shape() == Shape{5});
    for (std::size_t i = 0; i < 5; ++i) CHECK(a.item(i) == static_cast<double>(i));
    // ⌈(1 − 0) / 0.3⌉ = 4 values: 0, 0.3, 0.6, 0.9 (computed in double, as start + i·step).
    const Tensor b = arange(0.0, 1.0, 0.3, f64);
    REQUIRE(b.shape() == Shape{4});
    for (std::size_t i = 0; i < 4; ++i) CHECK(b.item(i) == 0.0 + static_cast<double>(i) * 0.3);
    const Tensor c = arange(3.0, -1.0, -1.5, f64);  // 3, 1.5, 0
    REQUIRE(c.shape() == Shape{3});
    CHECK(c.item(2) == 0.0);
    CHECK(arange(2.0, 2.0).size() == 0);
    CHECK_THROWS_WITH_AS(arange(0.0, 1.0, 0.0),
                         "arange: start 0, end 1 and step 0 must be finite, with a non-zero step", value_error);
    CHECK_THROWS_WITH_AS(arange(0.0, -1.0),
                         "arange: a step of 1 never reaches end -1 from start 0; give the step the sign of end - start",
                         value_error);

    // linspace: both ends exact, evenly spaced in between.
    const Tensor l = linspace(-1.0, 1.0, 5, f64);
    const double want[] = {-1.0, -0.5, 0.0, 0.5, 1.0};
    for (std::size_t i = 0; i < 5; ++i) CHECK(l.item(i) == want[i]);
    const Tensor l3 = linspace(0.1, 0.7, 7, f32);
    CHECK(l3.item(0) == static_cast<double>(0.1f));
    CHECK(l3.item(6) == static_cast<double>(0.7f));
    for (std::size_t i = 0; i < 7; ++i) CHECK(l3.item(i) == doctest::Approx(0.1 + 0.1 * static_cast<double>(i)));
    CHECK(linspace(2.0, 3.0, 1).item(0) == 2.0);
    CHECK(linspace(2.0, 3.0, 0).size() == 0);

    const Tensor e = eye(2, 3, f64);
    REQUIRE(e.shape() == Shape{2, 3});
    for (std::size_t i = 0; i < 2; ++i) {
        for (std::size_t j = 0; j < 3; ++j) CHECK(e.item(i, j) == (i == j ? 1.0 : 0.0));
    }
    CHECK(sum(eye(4)).item() == 4.0);
    CHECK_FALSE(eye(3).needs_grad());
}

TEST_CASE("the *_like family takes shape and dtype from its argument") {
    const Tensor x = Tensor::zeros({2, 3}, f64).requires_grad();
    const Tensor f = full_like(x, 2.5);
    CHECK(f.shape() == x.shape());
    CHECK(f.dtype() == f64);
    CHECK_FALSE(f.needs_grad());
    CHECK(sum(f).item() == 15.0);
    // A like-draw is the draw Tensor::uniform / Tensor::normal make from the same generator state.
    Generator g1(7), g2(7);
    const Tensor u = rand_like(x, g1), u_ref = Tensor::uniform({2, 3}, 0.0, 1.0, g2, f64);
    const Tensor n = randn_like(x, g1), n_ref = Tensor::normal({2, 3}, 0.0, 1.0, g2, f64);
    const Tensor v = uniform_like(x, -2.0, -1.0, g1), v_ref = Tensor::uniform({2, 3}, -2.0, -1.0, g2, f64);
    const Tensor w = normal_like(x, 3.0, 0.5, g1), w_ref = Tensor::normal({2, 3}, 3.0, 0.5, g2, f64);
    for (std::size_t i = 0; i < 6; ++i) {
        CHECK(u.value().flat(i) == u_ref.value().flat(i));
        CHECK(n.value().flat(i) == n_ref.value().flat(i));
        CHECK(v.value().flat(i) == v_ref.value().flat(i));
        CHECK(w.value().flat(i) == w_ref.value().flat(i));
        CHECK(u.value().flat(i) >= 0.0);
        CHECK(u.value().flat(i) < 1.0);
        CHECK(v.value().flat(i) >= -2.0);
        CHECK(v.value().flat(i) < -1.0);
    }
}

TEST_CASE("argmax and argmin return exact indices in the input's dtype, as constants") {
    // Against a naive scan: first of ties, NaN counts as the extreme (torch and numpy).
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const Tensor x = Tensor::from({{3.0, 1.0, 3.0, -2.0}, {0.0, 5.0, -2.0, -2.0}, {1.0, nan, 7.0, -9.0}}, f64);
    const Tensor am1 = argmax(x, 1), an1 = argmin(x, 1);
    REQUIRE(am1.shape() == Shape{3});
    CHECK(am1.dtype() == f64);
    const double max_row[] = {0, 1, 1}, min_row[] = {3, 2, 1};
    for (std::size_t r = 0; r < 3; ++r) {
        CHECK(am1.item(r) == max_row[r]);
        CHECK(an1.item(r) == min_row[r]);
    }
    const Tensor am0 = argmax(x, 0, true);
    REQUIRE(am0.shape() == Shape{1, 4});
    const double max_col[] = {0, 2, 2, 0};  // column 3: tied -2s, the first wins
    for (std::size_t c = 0; c < 4; ++c) CHECK(am0.item(0, c) == max_col[c]);
    CHECK(argmax(x).item() == 9.0);  // flattened: the first NaN
    const Tensor y = Tensor::from({{3.0, 1.0}, {8.0, 8.0}}).requires_grad();
    CHECK(argmax(y).item() == 2.0);
    CHECK(argmin(y).item() == 1.0);
    CHECK(argmax(y, std::nullopt, true).shape() == Shape{1, 1});
    CHECK(argmax(y).dtype() == f32);
    CHECK_FALSE(argmax(y, 1).needs_grad());
    CHECK(y.argmax(-1).item(1) == 0.0);
    CHECK_THROWS_WITH_AS(argmax(Tensor::zeros({2, 0}), 1),
                         "argmax: axis 1 of shape (2,0) is empty, so it has no maximum to index; give a non-empty axis",
                         value_error);
    // float32 counts integers exactly up to 2^24 + 1 entries; an axis of length 2^24 + 2 (an empty tensor suffices)
    // is refused, a float64 one is not.
    const std::size_t too_long = (std::size_t{1} << 24) + 2;
    CHECK_THROWS_WITH_AS(argmin(Tensor::zeros({0, too_long}), 1),
                         "argmin: axis 1 of shape (0,16777218) has 16777218 entries, more than float32 indices count "
                         "exactly (16777217); cast the input to float64 first (cast(x, adg::f64))",
                         value_error);
    CHECK(argmin(Tensor::zeros({0, too_long}, f64), 1).shape() == Shape{0});
}

TEST_CASE("min reduces like max: values against a loop, tied minima share the gradient") {
    const Tensor x = Tensor::from({{2.0, -1.0, 4.0}, {0.5, 0.5, 3.0}}, f64).requires_grad();
    const Tensor m = min(x, {1});
    CHECK(m.item(0) == -1.0);
    CHECK(m.item(1) == 0.5);
    CHECK(min(x).item() == -1.0);
    CHECK(min(x, {0}, true).shape() == Shape{1, 3});
    sum(m).backward();
    const double want[] = {0, 1, 0, 0.5, 0.5, 0};
    for (std::size_t i = 0; i < 6; ++i) CHECK(x.grad().value().flat(i) == want[i]);
    const double nan = std::numeric_limits<double>::quiet_NaN();
    CHECK(std::isnan(min(Tensor::from({1.0, nan, -3.0}, f64)).item()));
    CHECK_THROWS_WITH_AS(
        min(Tensor::zeros({2, 0}), {1}),
        "min: cannot reduce over the empty axis 1 of shape (2,0); a minimum needs at least one element "
        "per slice",
        value_error);
}

TEST_CASE("var and std: torch's correction, keepdims, and std's gradient 0 at 0") {
    // Against a two-pass loop per row.
    const Tensor x = Tensor::from({{1.0, 2.0, 4.0, 7.0}, {-3.0, 0.5, 0.5, 2.0}}, f64);
    for (double correction : {0.0, 1.0, 2.5}) {
        const Tensor v = var(x, {1}, correction);
        const Tensor s = adg::std(x, {1}, correction, true);
        REQUIRE(v.shape() == Shape{2});
        REQUIRE(s.shape() == Shape{2, 1});
        for (std::size_t r = 0; r < 2; ++r) {
            double mean = 0, ss = 0;
            for (std::size_t c = 0; c < 4; ++c) mean += x.item(r, c) / 4;
            for (std::size_t c = 0; c < 4; ++c) ss += (x.item(r, c) - mean) * (x.item(r, c) - mean);
            CHECK(v.item(r) == doctest::Approx(ss / (4 - correction)).epsilon(1e-14));
            CHECK(s.item(r, 0) == doctest::Approx(std::sqrt(ss / (4 - correction))).epsilon(1e-14));
        }
    }
    // Defaults as torch: all elements, unbiased; {1, 2, 4}: mean 7/3, Σ(x − mean)² = 42/9, / 2.
    CHECK(var(Tensor::from({1.0, 2.0, 4.0}, f64)).item() == doctest::Approx(42.0 / 18).epsilon(1e-15));
    CHECK(var(Tensor::from({1.0, 2.0, 4.0}, f64), {}, false).item() == doctest::Approx(42.0 / 27).epsilon(1e-15));
    CHECK(x.var({0}, true, true).shape() == Shape{1, 4});
    // A divisor of 0: NaN for 0/0, +inf otherwise, as in torch.
    CHECK(std::isnan(var(Tensor::from({3.0}, f64)).item()));
    CHECK(std::isinf(var(Tensor::from({1.0, 2.0}, f64), {}, 2.0).item()));
    // d var / dx = 2 (x − mean) / (N − correction); d std / dx = that / (2 std).
    const Tensor y = Tensor::from({1.0, 2.0, 4.0}, f64).requires_grad();
    var(y).backward();
    const double mean = 7.0 / 3;
    for (std::size_t i = 0; i < 3; ++i) CHECK(y.grad().item(i) == doctest::Approx(2 * (y.item(i) - mean) / 2));
    y.zero_grad();
    adg::std(y).backward();
    const double sd = std::sqrt(42.0 / 18);
    for (std::size_t i = 0; i < 3; ++i) CHECK(y.grad().item(i) == doctest::Approx((y.item(i) - mean) / (2 * sd)));
    // A constant slice: std 0, gradient 0 (not NaN) in both modes, and 0 at second order.
    const Tensor c = Tensor::from({2.0, 2.0, 2.0}, f64).requires_grad();
    const Tensor sc = adg::std(c);
    CHECK(sc.item() == 0.0);
    sc.backward();
    for (std::size_t i = 0; i < 3; ++i) CHECK(c.grad().item(i) == 0.0);
    const auto f = [](const Tensor& v) { return adg::std(v); };
    const Tensor t = jvp(f, c.detach(), Tensor::from({1.0, -1.0, 3.0}, f64)).second;
    CHECK(t.item() == 0.0);
    const Tensor h = hvp(f, c.detach(), Tensor::from({1.0, -1.0, 3.0}, f64));
    for (std::size_t i = 0; i < 3; ++i) CHECK(h.item(i) == 0.0);
}

TEST_CASE("method forms give the free functions' results") {
    Generator gen(11);
    const Tensor x = Tensor::uniform({2, 3}, 0.5, 2.0, gen, f64);
    const Tensor w = Tensor::uniform({3, 2}, -1.0, 1.0, gen, f64);
    const auto same = [](const Tensor& a, const Tensor& b) {
        REQUIRE(a.shape() == b.shape());
        for (std::size_t i = 0; i < a.size(); ++i) CHECK(a.value().flat(i) == b.value().flat(i));
    };
    same(x.sum(), sum(x));
    same(x.sum({1}, true), sum(x, {1}, true));
    same(x.mean({0}), mean(x, {0}));
    same(x.max({1}), max(x, {1}));
    same(x.min(), min(x));
    same(x.logsumexp({1}), logsumexp(x, {1}));
    same(x.var({1}), var(x, {1}));
    same(x.std({}, 0.0), adg::std(x, {}, 0.0));
    same(x.argmin(0), argmin(x, 0));
    same(x.softmax(), softmax(x));
    same(x.log_softmax(0), log_softmax(x, 0));
    same(x.neg(), neg(x));
    same(x.exp(), exp(x));
    same(x.log(), log(x));
    same(x.sqrt(), sqrt(x));
    same(x.abs(), abs(x));
    same(x.square(), square(x));
    same(x.pow(1.5), pow(x, 1.5));
    same(x.sin(), sin(x));
    same(x.cos(), cos(x));
    same(x.tanh(), tanh(x));
    same(x.sigmoid(), sigmoid(x));
    same(x.relu(), relu(x));
    same(x.leaky_relu(0.2), leaky_relu(x, 0.2));
    same(x.softplus(), softplus(x));
    same(x.clamp(0.7, 1.2), clamp(x, 0.7, 1.2));
    same(x.to(f32), cast(x, f32));
    same(x.maximum(full_like(x, 1.0)), maximum(x, full_like(x, 1.0)));
    same(x.minimum(full_like(x, 1.0)), minimum(x, full_like(x, 1.0)));
    same(x.matmul(w), matmul(x, w));
    same(x.reshape({3, 2}), reshape(x, {3, 2}));
    same(x.permute({1, 0}), permute(x, {1, 0}));
    same(x.transpose(), transpose(x));
    same(x.broadcast_to({4, 2, 3}), broadcast_to(x, {4, 2, 3}));
    same(x.slice(1, 1, 3), slice(x, 1, 1, 3));
    same(x.index_select(1, {2, 0}), index_select(x, 1, {2, 0}));
    // A method records like its free function.
    const Tensor p = x.detach().requires_grad();
    p.exp().sum().backward();
    same(p.grad(), exp(x));
}

TEST_CASE("+=, -=, *=, /= change a tensor that needs no gradient in place") {
    Tensor x = Tensor::from({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}}, f64);
    const Tensor alias = x;  // another handle to the same tensor sees the change, as in libtorch
    const Tensor detached = x.detach();
    const double* before = x.data<double>().data();
    x += Tensor::from({10.0, 20.0, 30.0}, f64);  // broadcasts over rows
    x -= 1.0;
    x *= Tensor::from(std::vector<double>{2.0, 3.0}, {2, 1}, f64);
    x /= 4.0;
    const double want[] = {(1 + 10 - 1) * 2 / 4.0, (2 + 20 - 1) * 2 / 4.0, (3 + 30 - 1) * 2 / 4.0,
                           (4 + 10 - 1) * 3 / 4.0, (5 + 20 - 1) * 3 / 4.0, (6 + 30 - 1) * 3 / 4.0};
    for (std::size_t i = 0; i < 6; ++i) {
        CHECK(x.value().flat(i) == want[i]);
        CHECK(alias.value().flat(i) == want[i]);
        // The detached tensor shared the buffer, so the first change copied it: it keeps its values.
        CHECK(detached.value().flat(i) == static_cast<double>(i + 1));
    }
    CHECK(x.data<double>().data() != before);
    // A buffer nobody shares is changed where it is.
    Tensor y = Tensor::zeros({3}, f32);
    const float* at = y.data<float>().data();
    y += 2.0;
    CHECK(y.data<float>().data() == at);
    CHECK(y.item(2) == 2.0);

    // A leaf requiring grad changes under NoGrad (an optimizer step); graphs recorded from it see the new value.
    Tensor w = Tensor::from({1.0, 2.0}, f64).requires_grad();
    sum(w * w).backward();
    {
        NoGrad off;
        w -= 0.25 * w.grad();
    }
    CHECK(w.item(0) == 0.5);
    CHECK(w.item(1) == 1.0);
    CHECK(w.needs_grad());

    CHECK_THROWS_WITH_AS(w += 1.0,
                         "operator+=: this leaf requires grad and an in-place change is not recorded; change it under "
                         "NoGrad (as an optimizer step does), or change a copy (x.detach()) or compute out of place",
                         graph_error);
    Tensor r = w * 2.0;
    CHECK_THROWS_WITH_AS(
        r *= 2.0,
        "operator*=: this tensor was made by 'mul_scalar' and is part of a recorded graph, whose rules "
        "read its value; compute out of place (x = x + y) or change a new leaf (x = x.detach())",
        graph_error);
    Tensor c = Tensor::zeros({2}, f64);
    CHECK_THROWS_WITH_AS(c -= w,
                         "operator-=: the right operand requires grad and an in-place change is not recorded; compute "
                         "out of place (x = x + y), or pass y.detach(), or run under NoGrad",
                         graph_error);
    CHECK_THROWS_WITH_AS(c /= Tensor::ones({3, 2}, f64),
                         "operator/=: the operand's shape (3,2) does not broadcast to the tensor's shape (2), which an "
                         "in-place change keeps; compute out of place (x = x + y)",
                         shape_error);
    CHECK_THROWS_AS(c += Tensor::ones({2}, f32), dtype_error);
    CHECK(c.item(0) == 0.0);  // nothing changed by the refused calls
    // The remedy the message names works: a detached copy changes, the graph's leaf does not.
    Tensor d = w.detach();
    d += 1.0;
    CHECK(d.item(0) == 1.5);
    CHECK(w.item(0) == 0.5);
}

TEST_CASE("in place inside an eager jvp: a change to a tensor carrying a tangent is refused") {
    // x carries the tangent; x += 1 would change the value without its tangent, so the jvp refuses it.
    const auto f = [](const Tensor& x) {
        Tensor y = x;
        y += 1.0;
        return y * 2.0;
    };
    CHECK_THROWS_WITH_AS(jvp(f, Tensor::from({1.0}, f64), Tensor::from({1.0}, f64)),
                         "operator+=: a running jvp carries a tangent on this tensor or the operand and an in-place "
                         "change would lose it; compute out of place (x = x + y)",
                         graph_error);
    // A tensor without a tangent may change.
    const auto g = [](const Tensor& x) {
        Tensor c = Tensor::from({3.0}, f64);
        c *= 2.0;
        return x * c;
    };
    const auto [gx, gt] = jvp(g, Tensor::from({1.0}, f64), Tensor::from({0.5}, f64));
    CHECK(gx.item() == 6.0);
    CHECK(gt.item() == 3.0);
}

TEST_CASE("Tensor(xt::xarray) adopts a moved-in array and copies an lvalue") {
    xt::xarray<float> a = xt::xarray<float>::from_shape({3});
    a.fill(1.0f);
    const float* p = a.data();
    const Tensor copied(a);
    CHECK(copied.data<float>().data() != p);
    a(0) = 5.0f;
    CHECK(copied.item(0) == 1.0);
    const Tensor adopted(std::move(a));
    CHECK(adopted.data<float>().data() == p);
    CHECK(adopted.item(0) == 5.0);
}
