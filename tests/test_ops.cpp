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
                       {"rnn", rnn_ops},
                       {"composite", composite_ops},
                       {"index", index_ops}};

}  // namespace

TEST_CASE("op lists: every op has a unique name and samples") {
    const OpList all = all_ops();
    std::size_t listed = 0;
    for (const auto& l : lists) listed += l.list().size();
    CHECK(all.size() == listed);
    std::set<std::string> names;
    for (const auto& op : all) CHECK_MESSAGE(names.insert(op.name).second, "listed twice: " << op.name);
    // Each form of op-table line lists its op: ADG_UNARY (atan, tanh), ADG_OP (clamp, reshape), ADG_BINARY (maximum),
    // ADG_LISTED (add_scalar, max_pool2d_gather); ADG_FN lists nothing (sum is a composite).
    for (const char* name : {"atan", "tanh", "clamp", "reshape", "maximum", "add_scalar", "max_pool2d_gather"}) {
        CHECK_MESSAGE(names.count(name) == 1, name << " is not listed");
    }
    CHECK(names.count("sum") == 1);  // from composite_ops(), not from the table's ADG_FN line
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

TEST_CASE("max: tied maxima share the gradient equally") {
    const Tensor x = Tensor::from({2.0, 5.0, 5.0, 1.0}, f64).requires_grad();
    max(x).backward();
    CHECK(x.grad().value().flat(1) == 0.5);
    CHECK(x.grad().value().flat(2) == 0.5);
    CHECK(x.grad().value().flat(0) == 0.0);
}

// PyTorch's and JAX's rule: at a = b, maximum and minimum pass half the tangent of each operand and half the
// cotangent to each. Entries: a tie, a above b, a below b.
TEST_CASE("maximum and minimum split ties equally in forward and reverse mode") {
    const Tensor a = Tensor::from({1.5, 3.0, -1.0}, f64), b = Tensor::from({1.5, 2.0, 0.5}, f64);
    const Tensor ta = Tensor::from({0.2, 0.4, 0.8}, f64), tb = Tensor::from({1.0, 3.0, 5.0}, f64);
    const Tensor u = Tensor::from({4.0, 6.0, 10.0}, f64);
    for (const bool is_max : {true, false}) {
        CAPTURE(is_max);
        const MultiFn f = [is_max](const std::vector<Tensor>& x) {
            return is_max ? maximum(x[0], x[1]) : minimum(x[0], x[1]);
        };
        // Which operand the untied entries follow: a at entry 1 for maximum (3 > 2), b for minimum; the reverse at 2.
        const std::vector<double> want_t =
            is_max ? std::vector<double>{0.6, 0.4, 5.0} : std::vector<double>{0.6, 3.0, 0.8};
        const std::vector<double> want_a =
            is_max ? std::vector<double>{2.0, 6.0, 0.0} : std::vector<double>{2.0, 0.0, 10.0};
        const std::vector<double> want_b =
            is_max ? std::vector<double>{2.0, 0.0, 10.0} : std::vector<double>{2.0, 6.0, 0.0};
        const auto eager = jvp(f, {a, b}, {ta, tb});
        const auto recorded = detail::recorded_jvp(f, {a, b}, {ta, tb});
        const auto [y, bars] = vjp(f, {a, b}, u);
        for (std::size_t i = 0; i < 3; ++i) {
            CAPTURE(i);
            CHECK(eager.second.value().flat(i) == doctest::Approx(want_t[i]).epsilon(1e-15));
            CHECK(recorded.second.value().flat(i) == doctest::Approx(want_t[i]).epsilon(1e-15));
            CHECK(bars[0].value().flat(i) == want_a[i]);
            CHECK(bars[1].value().flat(i) == want_b[i]);
        }
    }
}

TEST_CASE("maximum at ties: batched Jacobians equal single directions, and second order holds") {
    // c ties x at entries 0 and 2.
    const Tensor x = Tensor::from({0.5, 2.0, -1.0, 3.0}, f64), c = Tensor::from({0.5, 1.0, -1.0, 4.0}, f64);
    const Fn f = [c](const Tensor& v) { return maximum(v, c); };
    const std::vector<double> mask = {0.5, 1.0, 0.5, 0.0};
    const Tensor jf = jacfwd(f)(x), jr = jacrev(f)(x);
    for (std::size_t i = 0; i < 4; ++i) {
        xt::xarray<double> e = xt::zeros<double>({4});
        e(i) = 1.0;
        const Tensor col = jvp(f, x, Tensor(xt::xarray<double>(e))).second;
        const Tensor row = vjp(f, x).second(Tensor(xt::xarray<double>(e)));
        for (std::size_t j = 0; j < 4; ++j) {
            CAPTURE(i);
            CAPTURE(j);
            CHECK(jf.value().flat(j * 4 + i) == col.value().flat(j));
            CHECK(jr.value().flat(i * 4 + j) == row.value().flat(j));
            CHECK(jf.value().flat(j * 4 + i) == (i == j ? mask[i] : 0.0));
        }
    }
    // sum(maximum(x, c)²): gradient 2·max(x, c)·m, Hessian diag(2·m²) since the mask m is constant.
    const Tensor h = hessian([c](const Tensor& v) { return sum(square(maximum(v, c))); })(x);
    for (std::size_t i = 0; i < 4; ++i) {
        for (std::size_t j = 0; j < 4; ++j) CHECK(h.value().flat(i * 4 + j) == (i == j ? 2 * mask[i] * mask[i] : 0.0));
    }
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
