// Numerics: the softmax family and cross-entropy stay finite for huge logits, and NaN inputs propagate to values
// (never masked to a number) unless anomaly mode is on, which stops at the op that produced the NaN.

#include <doctest/doctest.h>

#include <cmath>
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
