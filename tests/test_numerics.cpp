// Numerics: the softmax family and cross-entropy stay finite for huge logits, and NaN inputs propagate to values
// (never masked to a number) unless anomaly mode is on, which stops at the op that produced the NaN.

#include <doctest/doctest.h>

#include <cfenv>
#include <cmath>
#include <functional>
#include <limits>
#include <type_traits>

#include <adgraph/adgraph.hpp>
#include <adgraph/autodiff/op_list.hpp>

using namespace adg;
using doctest::Contains;

namespace {

constexpr double nan_v = std::numeric_limits<double>::quiet_NaN();

bool all_finite(const Array& a) {
    for (std::size_t i = 0; i < a.size(); ++i)
        if (!std::isfinite(a.flat(i))) return false;
    return true;
}

bool any_nan(const Array& a) {
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::isnan(a.flat(i))) return true;
    return false;
}

// Sets the first element of a fresh copy of `a` to NaN.
Array poisoned(const Array& a) {
    Array b = a.clone();
    b.visit_mut([](auto& x) { x.flat(0) = static_cast<typename std::decay_t<decltype(x)>::value_type>(nan_v); });
    return b;
}

// Logits of ±1e4 in every row arrangement: a dominant entry, ties at the top, and all entries huge.
Tensor huge_logits(Dtype dtype) {
    return Tensor::from({{1e4, -1e4, 0.0}, {-1e4, -1e4, -1e4}, {1e4, 1e4, -1e4}, {1e4, 1e4, 1e4}}, dtype);
}

}  // namespace

TEST_CASE("numerics: log_softmax, softmax, logsumexp and cross-entropy are finite for logits of ±1e4") {
    for (const Dtype dtype : {f32, f64}) {
        CAPTURE(std::string(dtype_name(dtype)));
        const Tensor x = huge_logits(dtype).requires_grad();
        const Tensor ls = log_softmax(x, -1);
        CHECK(all_finite(ls.value()));
        // The dominant entry gets log-probability 0 and the others -1e4 (up to rounding), not -inf or NaN.
        CHECK(ls.value().flat(0) == doctest::Approx(0.0));
        CHECK(ls.value().flat(1) == doctest::Approx(-2e4));
        CHECK(ls.value().flat(3) == doctest::Approx(-std::log(3.0)));
        CHECK(all_finite(softmax(x, -1).value()));
        CHECK(all_finite(logsumexp(x, {-1}).value()));

        const Tensor loss = nn::cross_entropy(x, {1, 0, 2, 1});
        CHECK(std::isfinite(loss.item()));
        loss.backward();
        CHECK(all_finite(x.grad().value()));
        // Row 0 predicts class 0 with certainty but the label is 1: d loss / d logit = (p - onehot) / rows.
        CHECK(x.grad().value().flat(0) == doctest::Approx(0.25));
        CHECK(x.grad().value().flat(1) == doctest::Approx(-0.25));

        // Forward mode over the same functions is finite too.
        const Tensor v = Tensor::ones(x.shape(), dtype);
        const auto [value, tangent] = jvp([](const Tensor& t) { return log_softmax(t, -1); }, x.detach(), v);
        CHECK(all_finite(value.value()));
        CHECK(all_finite(tangent.value()));
    }
}

TEST_CASE("numerics: a NaN in any input of an elementwise, binary, reduction or matmul op reaches its value") {
    // Shape ops only move values (a slice may drop the NaN) and where() selects by design, so they are left out.
    std::vector<const OpList*> lists{&elementwise_ops(), &binary_ops(), &reduction_ops(), &matmul_ops()};
    Generator gen(11);
    int checked = 0;
    for (const OpList* list : lists) {
        for (const OpInfo& op : *list) {
            if (op.name == "where") continue;
            for (const OpSample& s : op.samples(gen)) {
                for (std::size_t i = 0; i < s.inputs.size(); ++i) {
                    CAPTURE(s.label);
                    CAPTURE(i);
                    std::vector<Tensor> in = s.inputs;
                    in[i] = Tensor(poisoned(s.inputs[i].value()));
                    const Tensor y = s.fn(in);
                    CHECK_MESSAGE(any_nan(y.value()), "the NaN was masked");
                    ++checked;
                }
            }
        }
    }
    CHECK(checked > 40);
}

TEST_CASE("numerics: NaN flows through a whole training step to the loss and the gradients") {
    Generator gen(3);
    auto model = nn::Sequential::mlp("4-8-3", gen, {"relu", 0.0});
    const Tensor x(poisoned(Tensor::uniform({5, 4}, -1, 1, gen).value()));
    const Tensor loss = nn::cross_entropy((*model)(x), {0, 1, 2, 0, 1});
    CHECK(std::isnan(loss.item()));
    loss.backward();
    CHECK(any_nan(model->named_parameters().front().second.grad().value()));
}

TEST_CASE("numerics: anomaly mode names the op whose value became NaN") {
    const Tensor x = Tensor::from({1.0, nan_v, 2.0}, f64).requires_grad();
    {
        DetectAnomaly on;
        CHECK_THROWS_WITH_AS(tanh(x * 2.0), Contains("anomaly: 'mul_scalar' produced NaN"), value_error);
    }
    // Off again: the NaN simply propagates.
    CHECK(any_nan(tanh(x * 2.0).value()));
}

// ---- the softmax family in float32 at the scale of ±1e4 (issue 21, case 12) --------------------------------------

namespace {

// Within float32's own rounding of `want` (a float64 result): a few ulps relative, 1e-6 absolute near 0. Forming a
// result near 0 from a sum rounded at 1e4 (log s + max) misses by ~2e-4.
bool close_f32(double got, double want) { return std::abs(got - want) <= 1e-6 * std::max(1.0, std::abs(want)); }

void check_close_f32(const Tensor& got, const Tensor& want, const char* what) {
    CAPTURE(what);
    REQUIRE(got.shape() == want.shape());
    for (std::size_t i = 0; i < want.value().size(); ++i) {
        CAPTURE(i);
        CAPTURE(got.value().flat(i));
        CAPTURE(want.value().flat(i));
        CHECK(close_f32(got.value().flat(i), want.value().flat(i)));
    }
}

// Values 0.5, -0.25, 1, ... of `shape`: a direction or cotangent that weights every entry differently.
Tensor ramp(const Shape& shape, Dtype dtype) {
    std::vector<double> v(numel(shape));
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = 0.5 + 0.75 * static_cast<double>(i % 4) - (i % 2 ? 1.5 : 0.0);
    return Tensor::from(v, shape, dtype);
}

// f at logits exactly representable in float32: large (±1e4) rows, rows of mixed scales and a small row. The value,
// J·v (forward mode) and Jᵀ·u (reverse mode) in float32 agree with float64 to float32's rounding.
void check_f32_matches_f64(const std::function<Tensor(const Tensor&)>& f) {
    const std::vector<double> logits = {1e4, 1e4 - 1, 1e4 - 3, -1e4,     -1e4 + 0.5, -1e4 - 2,
                                        1e4, 1e4 - 2, -1e4,    -1e4 + 3, 2.5,        -1e4,
                                        2.5, -1.0,    0.5,     1e4 - 1,  1e4,        1e4 - 0.25};
    const Shape shape{6, 3};
    const Tensor x64 = Tensor::from(logits, shape, f64), x32 = Tensor::from(logits, shape, f32);
    check_close_f32(f(x32), f(x64), "value");
    const auto [y64, t64] = jvp(f, x64, ramp(shape, f64));
    const auto [y32, t32] = jvp(f, x32, ramp(shape, f32));
    check_close_f32(t32, t64, "forward-mode tangent");
    auto [z64, pull64] = vjp(f, x64);
    auto [z32, pull32] = vjp(f, x32);
    check_close_f32(pull32(ramp(z32.shape(), f32)), pull64(ramp(z64.shape(), f64)), "reverse-mode cotangent");
}

}  // namespace

TEST_CASE("numerics: log_softmax of float32 logits near ±1e4 keeps float32 precision (x - m - log s)") {
    // The reported case: log_softmax([1e4, 1e4-1])[0] = -log(1 + e^-1) = -0.31326, was -0.31348 in float32.
    const Tensor y = log_softmax(Tensor::from({1e4, 1e4 - 1}, f32));
    CHECK(close_f32(y.value().flat(0), -std::log1p(std::exp(-1.0))));
    check_f32_matches_f64([](const Tensor& x) { return log_softmax(x, -1); });
}

TEST_CASE("numerics: softmax of float32 logits near ±1e4 keeps float32 precision") {
    check_f32_matches_f64([](const Tensor& x) { return softmax(x, -1); });
}

TEST_CASE("numerics: logsumexp's gradient at float32 logits near ±1e4 keeps float32 precision") {
    check_f32_matches_f64([](const Tensor& x) { return logsumexp(x, {-1}); });
    check_f32_matches_f64([](const Tensor& x) { return logsumexp(x, {}); });
}

TEST_CASE("numerics: softmax_cross_entropy's value and gradient at float32 logits near ±1e4 keep float32 precision") {
    // A loss near 0 beside logits of 1e4: (log s + m) - x rounded log s + m at 1e4 and gave 0.31348 for 0.31326.
    for (const bool mean : {true, false}) {
        const Tensor loss = softmax_cross_entropy(Tensor::from({{1e4, 1e4 - 1}, {-1e4 - 1, -1e4}}, f32), {0, 1}, mean);
        CHECK(close_f32(loss.item(), (mean ? 1.0 : 2.0) * std::log1p(std::exp(-1.0))));
    }
    const std::vector<std::size_t> labels = {0, 2, 1, 2, 1, 0};
    check_f32_matches_f64([&](const Tensor& x) { return softmax_cross_entropy(x, labels, true); });
    check_f32_matches_f64([&](const Tensor& x) { return softmax_cross_entropy(x, labels, false); });
}

// ---- means over nothing (issue 21, case 11) ---------------------------------------------------------------------

namespace {

// Runs `f` and reports whether it raised a floating-point division by zero (x/0) or an invalid operation (0/0).
template <class F>
bool divides_by_zero(F&& f) {
    std::feclearexcept(FE_ALL_EXCEPT);
    f();
    return std::fetestexcept(FE_DIVBYZERO | FE_INVALID) != 0;
}

}  // namespace

TEST_CASE("numerics: a mean over no elements is NaN without dividing by zero, and its gradient is empty") {
    for (const Dtype dtype : {f32, f64}) {
        CAPTURE(std::string(dtype_name(dtype)));
        Tensor m;
        CHECK_FALSE(divides_by_zero([&] { m = mean(Tensor::ones({0}, dtype)); }));
        CHECK(m.shape() == Shape{});
        CHECK(std::isnan(m.item()));
        CHECK(m.dtype() == dtype);

        // Over an axis of length 0: one NaN per remaining entry; an empty result when another axis is empty.
        const Tensor a = mean(Tensor::ones({0, 3}, dtype), {0});
        CHECK(a.shape() == Shape{3});
        CHECK(std::isnan(a.value().flat(2)));
        CHECK(mean(Tensor::ones({3, 0}, dtype), {0}).shape() == Shape{0});
        CHECK(std::isnan(nn::mse_loss(Tensor::ones({0, 2}, dtype), Tensor::ones({0, 2}, dtype)).item()));

        // Reverse mode: an empty gradient. Forward mode: a NaN tangent for the NaN value.
        const Tensor x = Tensor::ones({0, 3}, dtype).requires_grad();
        CHECK_FALSE(divides_by_zero([&] { mean(x).backward(); }));
        CHECK(x.grad().shape() == Shape{0, 3});
        Tensor tangent;
        CHECK_FALSE(divides_by_zero([&] {
            tangent = jvp([](const Tensor& t) { return mean(t, {0}); }, x.detach(), Tensor::ones({0, 3}, dtype)).second;
        }));
        CHECK(tangent.shape() == Shape{3});
        CHECK(std::isnan(tangent.value().flat(0)));
    }
}

TEST_CASE("numerics: cross-entropy over an empty batch is NaN (mean) or 0 (sum) without dividing by zero") {
    for (const Dtype dtype : {f32, f64}) {
        CAPTURE(std::string(dtype_name(dtype)));
        const Tensor x = Tensor::ones({0, 3}, dtype).requires_grad();
        Tensor loss;
        CHECK_FALSE(divides_by_zero([&] { loss = nn::cross_entropy(x, {}); }));
        CHECK(std::isnan(loss.item()));
        CHECK_FALSE(divides_by_zero([&] { loss.backward(); }));
        CHECK(x.grad().shape() == Shape{0, 3});
        CHECK(nn::cross_entropy(x.detach(), {}, nn::Reduction::sum).item() == 0.0);

        Tensor tangent;
        CHECK_FALSE(divides_by_zero([&] {
            tangent =
                jvp([](const Tensor& t) { return nn::cross_entropy(t, {}); }, x.detach(), Tensor::ones({0, 3}, dtype))
                    .second;
        }));
        CHECK(std::isnan(tangent.item()));
    }
}

TEST_CASE("numerics: sign is -1, 0 or 1 by the sign of x, keeps ±0 and NaN (torch.sign), and has derivative 0") {
    constexpr double inf = std::numeric_limits<double>::infinity();
    for (Dtype dtype : {f32, f64}) {
        CAPTURE(dtype_name(dtype));
        const Tensor x = Tensor::from({-inf, -2.5, -1e-30, -0.0, 0.0, 1e-30, 3.0, inf, nan_v}, dtype).requires_grad();
        const Tensor y = sign(x);
        const std::vector<double> expected{-1, -1, -1, -0.0, 0.0, 1, 1, 1};
        for (std::size_t i = 0; i < expected.size(); ++i) {
            CAPTURE(i);
            CHECK(y.value().flat(i) == expected[i]);
            CHECK(std::signbit(y.value().flat(i)) == std::signbit(expected[i]));
        }
        CHECK(std::isnan(y.value().flat(8)));
        sum(y).backward();
        for (std::size_t i = 0; i < 9; ++i) CHECK(x.grad().value().flat(i) == 0.0);
    }
}
