// Ops with a joint VJP rule (vjp_all): the reverse sweep asks once per node for exactly the inputs it needs, and
// the per-input vjp derived from it gives the same cotangents.

#include <doctest/doctest.h>

#include <memory>
#include <vector>

#include <adgraph/adgraph.hpp>
#include <adgraph/autodiff/internal/op_samples.hpp>

using namespace adg;

namespace {

using Masks = std::vector<std::vector<char>>;

// y = a·b + c elementwise: ẏ = ȧ·b + a·ḃ + ċ; ā = ȳ·b, b̄ = ȳ·a, c̄ = ȳ. Logs the mask of every vjp_all call.
struct MulAdd {
    static constexpr Custom kind{};
    static constexpr const char* name = "mul_add";
    std::shared_ptr<Masks> log = std::make_shared<Masks>();
    Array forward(const Array& a, const Array& b, const Array& c) const {
        return (Tensor(a) * Tensor(b) + Tensor(c)).value();
    }
    Tensor jvp(const std::vector<Tensor>& x, const Tensor&, const std::vector<Tensor>& t) const {
        Tensor r;
        const auto add = [&r](const Tensor& term) { r = r.defined() ? r + term : term; };
        if (t[0].defined()) add(t[0] * x[1]);
        if (t[1].defined()) add(t[1] * x[0]);
        if (t[2].defined()) add(t[2]);
        return r;
    }
    std::vector<Tensor> vjp_all(const std::vector<Tensor>& x, const Tensor&, const Tensor& ct,
                                const std::vector<char>& wanted) const {
        log->push_back(wanted);
        std::vector<Tensor> g(3);
        if (wanted[0]) g[0] = ct * x[1];
        if (wanted[1]) g[1] = ct * x[0];
        if (wanted[2]) g[2] = ct * 1.0;
        return g;
    }
};

// Fresh leaves holding the same values in every test.
Tensor leaf(const std::vector<double>& v) { return Tensor::from({v[0], v[1], v[2]}, f64); }
const std::vector<double> a0{0.5, -1.5, 2.0}, b0{3.0, 0.25, -2.0}, c0{1.0, 4.0, -0.5}, w{2.0, -1.0, 0.5};

// Element i of a tensor as a double.
double at(const Tensor& t, std::size_t i) { return t.value().flat(i); }
double at(const std::vector<double>& v, std::size_t i) { return v[i]; }

}  // namespace

TEST_CASE("the reverse sweep calls an op's vjp_all once per node with the inputs it needs") {
    SUBCASE("all inputs require grad") {
        const MulAdd op;
        const Tensor a = leaf(a0).requires_grad(), b = leaf(b0).requires_grad(), c = leaf(c0).requires_grad();
        sum(apply(op, a, b, c) * leaf(w)).backward();
        CHECK(*op.log == Masks{{1, 1, 1}});
        for (std::size_t i = 0; i < 3; ++i) {
            CHECK(at(a.grad(), i) == at(w, i) * at(b0, i));
            CHECK(at(b.grad(), i) == at(w, i) * at(a0, i));
            CHECK(at(c.grad(), i) == at(w, i));
        }
    }
    SUBCASE("only a and c require grad") {
        const MulAdd op;
        const Tensor a = leaf(a0).requires_grad(), c = leaf(c0).requires_grad();
        sum(apply(op, a, leaf(b0), c) * leaf(w)).backward();
        CHECK(*op.log == Masks{{1, 0, 1}});
        for (std::size_t i = 0; i < 3; ++i) {
            CHECK(at(a.grad(), i) == at(w, i) * at(b0, i));
            CHECK(at(c.grad(), i) == at(w, i));
        }
    }
    SUBCASE("a sweep asked only for b") {
        const MulAdd op;
        const Tensor a = leaf(a0).requires_grad(), b = leaf(b0).requires_grad(), c = leaf(c0).requires_grad();
        const Tensor y = sum(apply(op, a, b, c) * leaf(w));
        const Tensor gb = reverse_sweep({y}, {Tensor::ones({1}, f64)}, {b})[0];
        CHECK(*op.log == Masks{{0, 1, 0}});
        for (std::size_t i = 0; i < 3; ++i) CHECK(at(gb, i) == at(w, i) * at(a0, i));
    }
    SUBCASE("two nodes of the op, one feeding the other: one call each") {
        const MulAdd op;
        const Tensor a = leaf(a0).requires_grad(), b = leaf(b0).requires_grad();
        // z = (a·b + c)·b + c: ā = w·b², b̄ = w·(2ab + c).
        sum(apply(op, apply(op, a, b, leaf(c0)), b, leaf(c0)) * leaf(w)).backward();
        CHECK(*op.log == Masks{{1, 1, 0}, {1, 1, 0}});
        for (std::size_t i = 0; i < 3; ++i) {
            const double av = at(a0, i), bv = at(b0, i), cv = at(c0, i);
            CHECK(at(a.grad(), i) == doctest::Approx(at(w, i) * bv * bv).epsilon(1e-15));
            CHECK(at(b.grad(), i) == doctest::Approx(at(w, i) * (2 * av * bv + cv)).epsilon(1e-15));
        }
    }
}

TEST_CASE("the per-input vjp derived from vjp_all asks for that input alone and matches the joint result") {
    const MulAdd op;
    const Tensor a = leaf(a0).requires_grad(), b = leaf(b0).requires_grad(), c = leaf(c0).requires_grad();
    const Tensor y = apply(op, a, b, c);
    const Tensor ct = Tensor::from({{1.0, -2.0, 0.5}, {0.25, 3.0, -1.0}}, f64);  // k = 2 directions
    const std::vector<Tensor> in{a, b, c};
    const std::vector<Tensor> all = y.node()->vjp_all(in, y, ct, {1, 1, 1});
    for (std::size_t i = 0; i < 3; ++i) {
        op.log->clear();
        const Tensor gi = y.node()->vjp(in, y, ct, i);
        std::vector<char> only(3, 0);
        only[i] = 1;
        CHECK(*op.log == Masks{only});
        REQUIRE(gi.shape() == Shape{2, 3});
        for (std::size_t e = 0; e < 6; ++e) CHECK(gi.value().flat(e) == all[i].value().flat(e));
    }
    // Against the maths: ā = ȳ·b per direction.
    for (std::size_t l = 0; l < 2; ++l) {
        for (std::size_t e = 0; e < 3; ++e) CHECK(all[0].value().flat(l * 3 + e) == at(ct, l * 3 + e) * at(b0, e));
    }
}

TEST_CASE("a sparse-row cotangent still reaches an op with vjp_all through the per-input rule") {
    const MulAdd op;
    const Tensor a = leaf(a0).requires_grad(), b = leaf(b0).requires_grad();
    const Tensor y = apply(op, a, b, leaf(c0));
    // The 3 basis cotangents of y: row e of ā is b_e at e (the diagonal Jacobian).
    const std::vector<Tensor> g = reverse_sweep_directions({y}, {Directions::basis(y.shape(), f64, 0, 3)}, {a, b});
    CHECK(*op.log == Masks{{1, 0, 0}, {0, 1, 0}});
    for (std::size_t r = 0; r < 3; ++r) {
        for (std::size_t e = 0; e < 3; ++e) {
            CHECK(g[0].value().flat(r * 3 + e) == (r == e ? at(b0, e) : 0.0));
            CHECK(g[1].value().flat(r * 3 + e) == (r == e ? at(a0, e) : 0.0));
        }
    }
}

TEST_CASE("batch_norm's joint rule gives the same cotangents eagerly (one kernel) as recorded (ops)") {
    Generator gen(11);
    const Tensor x0 = sample_tensor({3, 2, 2, 3}, {}, gen), g0 = sample_tensor({2}, {}, gen),
                 be0 = sample_tensor({2}, {}, gen), seed = sample_tensor({2, 3, 2, 2, 3}, {}, gen);
    for (const std::vector<char>& need :
         std::vector<std::vector<char>>{{1, 1, 1}, {1, 0, 0}, {0, 1, 0}, {0, 1, 1}, {1, 0, 1}}) {
        const Tensor x = x0.detach().requires_grad(), g = g0.detach().requires_grad(),
                     be = be0.detach().requires_grad();
        const std::vector<Tensor> all{x, g, be};
        std::vector<Tensor> wrt;
        for (std::size_t i = 0; i < 3; ++i) {
            if (need[i]) wrt.push_back(all[i]);
        }
        const Tensor y = batch_norm(x, Tensor(), Tensor(), g, be, true);
        const std::vector<Tensor> eager = reverse_sweep({y}, {seed}, wrt, {true, false});
        const std::vector<Tensor> recorded = reverse_sweep({y}, {seed}, wrt, {true, true});
        for (std::size_t j = 0; j < wrt.size(); ++j) {
            REQUIRE(eager[j].shape() == recorded[j].shape());
            for (std::size_t e = 0; e < eager[j].size(); ++e) {
                CHECK(eager[j].value().flat(e) == doctest::Approx(recorded[j].value().flat(e)).epsilon(1e-10));
            }
        }
    }
}
