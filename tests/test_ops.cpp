// Every op in every op list, every sample: gradcheck of JVP and VJP (float64), the dot test (float64 and
// float32), and batched directions against stacked single sweeps (bitwise). Listing an op is all it takes.

#include <doctest/doctest.h>

#include <cmath>
#include <set>

#include <adgraph/adgraph.hpp>

using namespace adg;

namespace {

std::vector<Tensor> to_dtype(const std::vector<Tensor>& xs, Dtype d) {
    std::vector<Tensor> out;
    for (const auto& x : xs) out.push_back(Tensor(x.value().to(d)));
    return out;
}

template <class Check>
void for_each_sample(const OpList& list, Check&& check) {
    Generator gen(1234);
    REQUIRE(!list.empty());
    for (const auto& op : list) {
        const auto samples = op.samples(gen);
        REQUIRE_MESSAGE(!samples.empty(), op.name << " has no samples");
        for (const auto& s : samples) {
            CAPTURE(s.label);
            check(s, gen);
        }
    }
}

void check_gradcheck(const OpList& list) {
    for_each_sample(list, [](const OpSample& s, Generator&) {
        const CheckResult j = gradcheck_jvp(s.fn, s.inputs);
        CHECK_MESSAGE(j.ok, j.message);
        const CheckResult v = gradcheck_vjp(s.fn, s.inputs);
        CHECK_MESSAGE(v.ok, v.message);
    });
}

void check_dot(const OpList& list) {
    for_each_sample(list, [](const OpSample& s, Generator& gen) {
        const CheckResult r64 = dot_test(s.fn, s.inputs, gen);
        CHECK_MESSAGE(r64.ok, r64.message);
        const CheckResult r32 = dot_test(s.fn, to_dtype(s.inputs, f32), gen);
        CHECK_MESSAGE(r32.ok, r32.message);
    });
}

void check_batched(const OpList& list) {
    for_each_sample(list, [](const OpSample& s, Generator& gen) {
        const CheckResult r = batched_test(s.fn, s.inputs, gen, 3);
        CHECK_MESSAGE(r.ok, r.message);
        const CheckResult r32 = batched_test(s.fn, to_dtype(s.inputs, f32), gen, 4);
        CHECK_MESSAGE(r32.ok, r32.message);
    });
}

struct Named {
    const char* name;
    const OpList& (*list)();
};

const Named lists[] = {{"elementwise", elementwise_ops},
                       {"binary", binary_ops},
                       {"shape", shape_ops},
                       {"reduction", reduction_ops},
                       {"matmul", matmul_ops},
                       {"loss", loss_ops},
                       {"conv", conv_ops},
                       {"pool", pool_ops},
                       {"norm", norm_ops},
                       {"composite", composite_ops},
                       {"index", index_ops}};

}  // namespace

TEST_CASE("op lists: every op has a unique name and samples") {
    const OpList all = all_ops();
    std::size_t listed = 0;
    for (const auto& l : lists) listed += l.list().size();
    CHECK(all.size() == listed);
    CHECK(elementwise_ops().size() == 20);
    CHECK(shape_ops().size() == 9);
    std::set<std::string> names;
    for (const auto& op : all) CHECK_MESSAGE(names.insert(op.name).second, "listed twice: " << op.name);
}

TEST_CASE("ops: gradcheck of JVP and VJP against central differences (float64)") {
    for (const auto& l : lists) {
        SUBCASE(l.name) { check_gradcheck(l.list()); }
    }
}

TEST_CASE("ops: dot test <u, J v> = <J^T u, v> (float64 rtol 1e-12, float32 rtol 1e-4)") {
    for (const auto& l : lists) {
        SUBCASE(l.name) { check_dot(l.list()); }
    }
}

TEST_CASE("ops: a batch of k directions equals k single sweeps stacked, bitwise") {
    for (const auto& l : lists) {
        SUBCASE(l.name) { check_batched(l.list()); }
    }
}

TEST_CASE("softmax, log_softmax and logsumexp stay finite for logits of ±1e4") {
    for (Dtype d : {f32, f64}) {
        const Tensor x = Tensor::from({{1e4, -1e4, 0.0}, {-1e4, -1e4, -1e4}}, d).requires_grad();
        const Tensor ls = log_softmax(x, -1);
        const Tensor s = softmax(x, -1);
        const Tensor l = logsumexp(x, {-1});
        CHECK(ls.value().flat(0) == doctest::Approx(0.0));
        CHECK(ls.value().flat(1) == doctest::Approx(-2e4));
        CHECK(ls.value().flat(3) == doctest::Approx(-std::log(3.0)));
        CHECK(s.value().flat(0) == doctest::Approx(1.0));
        CHECK(s.value().flat(4) == doctest::Approx(1.0 / 3));
        CHECK(l.value().flat(0) == doctest::Approx(1e4));
        CHECK(l.value().flat(1) == doctest::Approx(-1e4 + std::log(3.0)));
        sum(ls * Tensor::from({{1.0, 0.0, 0.0}, {0.0, 1.0, 0.0}}, d)).backward();
        for (std::size_t i = 0; i < 6; ++i) CHECK(std::isfinite(x.grad().value().flat(i)));
        CHECK(x.grad().value().flat(1) == doctest::Approx(0.0));
        // float32 holds 1e4 to about 1e-3, so the shifted logits carry that error.
        CHECK(x.grad().value().flat(4) == doctest::Approx(1.0 - 1.0 / 3).epsilon(d == f32 ? 1e-4 : 1e-12));
    }
}

TEST_CASE("max: tied maxima share the gradient equally, maximum gives ties to its first argument") {
    const Tensor x = Tensor::from({2.0, 5.0, 5.0, 1.0}, f64).requires_grad();
    max(x).backward();
    CHECK(x.grad().value().flat(1) == 0.5);
    CHECK(x.grad().value().flat(2) == 0.5);
    CHECK(x.grad().value().flat(0) == 0.0);
    const Tensor a = Tensor::from({1.0, 3.0}, f64).requires_grad(), b = Tensor::from({1.0, 2.0}, f64).requires_grad();
    sum(maximum(a, b)).backward();
    CHECK(a.grad().value().flat(0) == 1.0);
    CHECK(b.grad().value().flat(0) == 0.0);
}

TEST_CASE("cast converts values and gradients between float32 and float64") {
    const Tensor x = Tensor::from({0.25, -1.5}, f32).requires_grad();
    const Tensor y = cast(x, f64);
    CHECK(y.dtype() == f64);
    sum(y * y).backward();
    CHECK(x.grad().dtype() == f32);
    CHECK(x.grad().value().flat(1) == -3.0);
    const auto [fx, t] =
        jvp([](const Tensor& v) { return cast(v, f64) * 2.0; }, Tensor::from({1.0}, f32), Tensor::from({0.5}, f32));
    CHECK(t.dtype() == f64);
    CHECK(t.item() == 1.0);
}

TEST_CASE("where routes values and gradients by a constant condition, and one_hot builds rows of the identity") {
    const Tensor c = Tensor::from({1.0, 0.0, 1.0}, f64);
    const Tensor a = Tensor::from({1.0, 2.0, 3.0}, f64).requires_grad(), b = Tensor::scalar(-1.0, f64).requires_grad();
    const Tensor y = where(c, a, b);
    CHECK(y.value().flat(1) == -1.0);
    sum(y).backward();
    CHECK(a.grad().value().flat(1) == 0.0);
    CHECK(b.grad().item() == 1.0);
    const Tensor h = one_hot({2, 0}, 3, f64);
    CHECK(h.shape() == Shape{2, 3});
    CHECK(h.value().flat(2) == 1.0);
    CHECK(h.value().flat(3) == 1.0);
    CHECK(sum(h).item() == 2.0);
}

TEST_CASE("float32 rules agree with float64 rules") {
    // The same samples in float32 give the float64 Jacobians to float32 accuracy.
    Generator gen(99);
    for (const auto& op : all_ops()) {
        for (const auto& s : op.samples(gen)) {
            CAPTURE(s.label);
            const auto xs32 = to_dtype(s.inputs, f32);
            std::vector<Tensor> l64, l32;
            for (std::size_t i = 0; i < s.inputs.size(); ++i) {
                l64.push_back(s.inputs[i].detach().requires_grad());
                l32.push_back(xs32[i].detach().requires_grad());
            }
            const Tensor y64 = s.fn(l64), y32 = s.fn(l32);
            if (!y64.needs_grad()) continue;
            const auto g64 = reverse_sweep({y64}, {Tensor(Array::basis(y64.shape(), f64))}, l64);
            const auto g32 = reverse_sweep({y32}, {Tensor(Array::basis(y32.shape(), f32))}, l32);
            for (std::size_t i = 0; i < g64.size(); ++i) {
                for (std::size_t e = 0; e < g64[i].size(); ++e) {
                    CHECK(g32[i].value().flat(e) == doctest::Approx(g64[i].value().flat(e)).epsilon(1e-4).scale(1.0));
                }
            }
        }
    }
}

TEST_CASE("ops: a range message for a size of 0 says so instead of wrapping 0..n-1 around") {
    // With 0 classes the old message read "valid: 0..18446744073709551615".
    CHECK_THROWS_WITH_AS(one_hot({2}, 0),
                         "one_hot: classes is 0, so none of the 1 labels has a column; pass the number of classes (at "
                         "least 1)",
                         value_error);
    CHECK(one_hot({}, 0).shape() == Shape{0, 0});
    CHECK(index_range_str(0) == "none is valid: the size is 0");
    CHECK(index_range_str(3) == "valid: 0..2");
    // An axis of a scalar: the old message read "(valid: 0 .. -1)".
    CHECK_THROWS_WITH_AS(slice(Tensor::scalar(1.0), 0, 0, 1),
                         "slice: axis 0 does not exist: the tensor is a scalar (rank 0), which has no axes; reshape it "
                         "to (1)",
                         value_error);
}
