// The argnums forms of the transforms (JAX's argnums): f of several tensors, one result per chosen argument, in
// argnums' order. Each result is compared with the single-input transform of the partial function (the other
// arguments closed over), Hessian blocks with jacfwd of jacrev and with each other's transposes, and gradients with
// central differences written here.

#include <doctest/doctest.h>

#include <cmath>

#include <adgraph/adgraph.hpp>

#include "tensor_checks.hpp"

using namespace adg;
using adg::testing::check_close;
using adg::testing::same_bits;

namespace {

// One layer and a scalar loss of it: arguments x (3), W (4, 3), b (4).
Tensor layer(const Tensor& x, const Tensor& W, const Tensor& b) { return tanh(matmul(W, x) + b); }
Tensor loss(const Tensor& x, const Tensor& W, const Tensor& b) {
    return sum(square(layer(x, W, b)) * b) + sum(slice(x, 0, 0, 1) * slice(x, 0, 2, 3));
}
// The loss over a list of its arguments.
Tensor loss3(const std::vector<Tensor>& a) { return loss(a[0], a[1], a[2]); }

struct Point {
    Tensor x, W, b;
    // Argument i of (x, W, b) replaced by z.
    std::vector<Tensor> with(std::size_t i, const Tensor& z) const {
        std::vector<Tensor> a = {x, W, b};
        a[i] = z;
        return a;
    }
    const Tensor& at(std::size_t i) const { return i == 0 ? x : i == 1 ? W : b; }
};

Point point(Dtype d = f64) {
    Generator gen(20);
    return {Tensor::uniform({3}, -1, 1, gen, d), Tensor::uniform({4, 3}, -1, 1, gen, d),
            Tensor::uniform({4}, -1, 1, gen, d)};
}

// The function of argument i alone, the others held at p.
template <class G>
Fn partial(G g, const Point& p, std::size_t i) {
    return [g, p, i](const Tensor& z) {
        const auto a = p.with(i, z);
        return g(a[0], a[1], a[2]);
    };
}

}  // namespace

TEST_CASE("grad with argnums: one gradient per chosen argument, in argnums' order, bitwise the partial's") {
    const Point p = point();
    const auto gs = grad(loss, argnums(0, 2))(p.x, p.W, p.b);
    REQUIRE(gs.size() == 2);
    CHECK(same_bits(gs[0], grad(partial(loss, p, 0))(p.x)));
    CHECK(same_bits(gs[1], grad(partial(loss, p, 2))(p.b)));
    const auto rev = grad(loss, argnums(2, 0))(p.x, p.W, p.b);
    CHECK(same_bits(rev[0], gs[1]));
    CHECK(same_bits(rev[1], gs[0]));
    const auto all = grad(loss, argnums(0, 1, 2))(p.x, p.W, p.b);
    for (std::size_t i = 0; i < 3; ++i) CHECK(same_bits(all[i], grad(partial(loss, p, i))(p.at(i))));
    // A single position gives one tensor, as argnums=1 does in JAX.
    const Tensor gW = grad(loss, 1)(p.x, p.W, p.b);
    CHECK(gW.shape() == Shape{4, 3});
    CHECK(same_bits(gW, all[1]));
    CHECK_FALSE(gW.needs_grad());
    // A single-input f: grad(f, 0) is grad(f).
    const auto g1 = [](const Tensor& z) { return sum(exp(z) * z); };
    CHECK(same_bits(grad(g1, 0)(p.x), grad(g1)(p.x)));
}

TEST_CASE("value_and_grad gives f's value and the gradients from one run of f") {
    const Point p = point();
    int calls = 0;
    const auto counted = [&](const Tensor& x, const Tensor& W, const Tensor& b) {
        ++calls;
        return loss(x, W, b);
    };
    const auto [value, gs] = value_and_grad(counted, argnums(1, 0))(p.x, p.W, p.b);
    CHECK(calls == 1);
    CHECK(same_bits(value, loss(p.x, p.W, p.b)));
    CHECK(same_bits(gs[0], grad(partial(loss, p, 1))(p.W)));
    CHECK(same_bits(gs[1], grad(partial(loss, p, 0))(p.x)));
    const auto [v2, gb] = value_and_grad(loss, 2)(p.x, p.W, p.b);
    CHECK(same_bits(v2, value));
    CHECK(same_bits(gb, grad(partial(loss, p, 2))(p.b)));
    const auto [v3, gx] = value_and_grad(partial(loss, p, 0))(p.x);
    CHECK(same_bits(v3, value));
    CHECK(same_bits(gx, gs[1]));
}

TEST_CASE("jacfwd and jacrev with argnums equal the partial's Jacobians, chunked or not, f run once") {
    const Point p = point();
    int calls = 0;
    const auto counted = [&](const Tensor& x, const Tensor& W, const Tensor& b) {
        ++calls;
        return layer(x, W, b);
    };
    for (const JacobianOptions o : {JacobianOptions{}, JacobianOptions{1}, JacobianOptions{5}}) {
        CAPTURE(o.chunk);
        calls = 0;
        const auto jf = jacfwd(counted, argnums(0, 1, 2), o)(p.x, p.W, p.b);
        CHECK(calls == 1);
        calls = 0;
        const auto jr = jacrev(counted, argnums(0, 1, 2), o)(p.x, p.W, p.b);
        CHECK(calls == 1);
        REQUIRE(jf.size() == 3);
        REQUIRE(jr.size() == 3);
        CHECK(jf[1].shape() == Shape{4, 4, 3});
        for (std::size_t i = 0; i < 3; ++i) {
            CAPTURE(i);
            CHECK(same_bits(jf[i], jacfwd(partial(layer, p, i), o)(p.at(i))));
            CHECK(same_bits(jr[i], jacrev(partial(layer, p, i), o)(p.at(i))));
            check_close(jf[i], jr[i]);
        }
    }
    CHECK(same_bits(jacrev(layer, 2)(p.x, p.W, p.b), jacrev(partial(layer, p, 2))(p.b)));
    CHECK(same_bits(jacfwd(layer, 0)(p.x, p.W, p.b), jacfwd(partial(layer, p, 0))(p.x)));
}

TEST_CASE("hessian with argnums: blocks are jacfwd of jacrev, the off-diagonal ones each other's transposes") {
    const Point p = point();
    int calls = 0;
    const auto counted = [&](const Tensor& x, const Tensor& W, const Tensor& b) {
        ++calls;
        return loss(x, W, b);
    };
    const auto H = hessian(counted, argnums(0, 1, 2))(p.x, p.W, p.b);
    CHECK(calls == 1);
    REQUIRE(H.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) {
        REQUIRE(H[i].size() == 3);
        for (std::size_t j = 0; j < 3; ++j) {
            CAPTURE(i);
            CAPTURE(j);
            const Shape& si = p.at(i).shape();
            const Shape& sj = p.at(j).shape();
            CHECK(H[i][j].shape() == concat_shapes(si, sj));
            // ∂/∂x_j of (∂f/∂x_i): jacfwd in x_j of the reverse-mode gradient in x_i (a vjp with cotangent 1 over
            // all three arguments, so the inner sweep sees x_j tracked; a closure over x_j would hide it).
            const Tensor want = jacfwd([&](const Tensor& zj) {
                return vjp(loss3, p.with(j, zj), Tensor::scalar(1.0, f64)).second[i];
            })(p.at(j));
            check_close(H[i][j], want);
            // H[j][i] as an (n_j, n_i) matrix is H[i][j] transposed.
            const std::size_t ni = numel(si), nj = numel(sj);
            check_close(reshape(H[j][i], {nj, ni}), transpose(reshape(H[i][j], {ni, nj})));
        }
    }
    // The diagonal blocks are the partial's Hessians; a single position gives one block.
    for (std::size_t i = 0; i < 3; ++i) check_close(H[i][i], hessian(partial(loss, p, i))(p.at(i)));
    check_close(hessian(loss, 1)(p.x, p.W, p.b), H[1][1]);
    // argnums' order orders the blocks.
    const auto H20 = hessian(loss, argnums(2, 0))(p.x, p.W, p.b);
    check_close(H20[0][1], H[2][0]);
    check_close(H20[1][0], H[0][2]);
}

TEST_CASE("jacobian with argnums finds each argument's structure from one run of f") {
    const Point p = point();
    int calls = 0;
    const auto counted = [&](const Tensor& x, const Tensor& W, const Tensor& b) {
        ++calls;
        return layer(x, W, b);
    };
    const auto J = jacobian(counted, argnums(2, 0))(p.x, p.W, p.b);
    CHECK(calls == 1);
    REQUIRE(J.size() == 2);
    CHECK(J[0].structure == Structure::diagonal);  // tanh(W·x + b) acts elementwise on b
    CHECK(J[1].structure == Structure::dense);
    check_close(J[0].dense(), jacfwd(partial(layer, p, 2))(p.b));
    check_close(J[1].dense(), jacfwd(partial(layer, p, 0))(p.x));
    for (const Mode m : {Mode::forward, Mode::reverse}) {
        calls = 0;
        const Jacobian JW = jacobian(counted, 1, m)(p.x, p.W, p.b);
        CHECK(calls == 1);
        CHECK(JW.mode == m);
        check_close(JW.dense(), jacrev(partial(layer, p, 1))(p.W));
    }
}

TEST_CASE("argnums: arguments that are not tensors pass through as constants") {
    const Tensor x = Tensor::from({0.5, -1.0, 2.0}, f64);
    const auto scaled = [](const Tensor& z, double s, int power) { return sum(z * s) * static_cast<double>(power); };
    const Tensor g = grad(scaled, 0)(x, 3.0, 2);
    for (std::size_t i = 0; i < 3; ++i) CHECK(g.value().flat(i) == 6.0);
    CHECK_THROWS_WITH_AS(grad(scaled, argnums(0, 1))(x, 3.0, 2),
                         "grad: argnums position 1 is not a Tensor argument; differentiate with respect to tensors "
                         "only (other arguments are passed through as constants)",
                         value_error);
}

TEST_CASE("argnums gradients and Hessian blocks against central differences") {
    const Point p = point();
    const auto gs = grad(loss, argnums(0, 1, 2))(p.x, p.W, p.b);
    const auto H = hessian(loss, argnums(0, 2))(p.x, p.W, p.b);
    const double eps = 1e-6;
    // f at the point with element e of argument i moved by d.
    const auto moved = [&](std::size_t i, std::size_t e, double d) {
        std::vector<Tensor> a = {p.x, p.W, p.b};
        std::vector<double> v(a[i].size());
        for (std::size_t k = 0; k < v.size(); ++k) v[k] = a[i].value().flat(k) + (k == e ? d : 0.0);
        a[i] = Tensor::from(v, a[i].shape(), f64);
        return a;
    };
    for (std::size_t i = 0; i < 3; ++i) {
        for (std::size_t e = 0; e < p.at(i).size(); ++e) {
            const auto up = moved(i, e, eps), down = moved(i, e, -eps);
            const double fd = (loss(up[0], up[1], up[2]).item() - loss(down[0], down[1], down[2]).item()) / (2 * eps);
            const double got = gs[i].value().flat(e);
            CHECK_MESSAGE(std::abs(got - fd) <= 1e-5 + 1e-3 * std::abs(fd),
                          "d/d arg " << i << " element " << e << ": " << got << " vs " << fd);
            // Column e of the Hessian blocks H[·][i] (i ∈ {x, b}) by differences of the argnums gradients.
            if (i == 1) continue;
            const std::size_t bi = i == 0 ? 0 : 1;
            const auto gu = grad(loss, argnums(0, 2))(up[0], up[1], up[2]);
            const auto gd = grad(loss, argnums(0, 2))(down[0], down[1], down[2]);
            for (std::size_t a = 0; a < 2; ++a) {
                const std::size_t n = p.at(a == 0 ? 0 : 2).size(), m = p.at(i).size();
                for (std::size_t r = 0; r < n; ++r) {
                    const double hd = (gu[a].value().flat(r) - gd[a].value().flat(r)) / (2 * eps);
                    const double h = H[a][bi].value().flat(r * m + e);
                    CHECK_MESSAGE(std::abs(h - hd) <= 1e-5 + 1e-3 * std::abs(hd),
                                  "H[" << a << "][" << bi << "] at (" << r << "," << e << "): " << h << " vs " << hd);
                }
            }
        }
    }
    // adgraph's gradcheck agrees on the same function (its sweeps against its own differences).
    CHECK(gradcheck(loss3, {p.x, p.W, p.b}).ok);
}

TEST_CASE("argnums transforms nest: grad with argnums inside jvp and grad, f once per call") {
    const Point p = point();
    const Tensor v = Tensor::from({0.3, -0.2, 0.5}, f64);
    int calls = 0;
    const auto counted = [&](const Tensor& x, const Tensor& W, const Tensor& b) {
        ++calls;
        return loss(x, W, b);
    };
    // d/dε ∂f/∂W (x + ε v, W, b) = H[W][x] · v.
    const Tensor mixed = jvp([&](const Tensor& x) { return grad(counted, 1)(x, p.W, p.b); }, p.x, v).second;
    CHECK(calls == 1);
    const Tensor HWx = hessian(loss, argnums(1, 0))(p.x, p.W, p.b)[0][1];
    check_close(mixed, reshape(matmul(reshape(HWx, {12, 3}), v), {4, 3}));
    // Reverse over reverse: ∇ₓ ⟨∂f/∂b, u⟩ = H[x][b] · u.
    const Tensor u = Tensor::from({1.0, -2.0, 0.5, 0.25}, f64);
    const Tensor rr = grad([&](const Tensor& x) { return sum(grad(loss, 2)(x, p.W, p.b) * u); })(p.x);
    const Tensor Hxb = hessian(loss, argnums(0, 2))(p.x, p.W, p.b)[0][1];
    check_close(rr, matmul(Hxb, u));
}

TEST_CASE("argnums errors name the transform and the remedy") {
    const Point p = point();
    CHECK_THROWS_WITH_AS(grad(loss, argnums(0, 3))(p.x, p.W, p.b),
                         "grad: argnums position 3 is out of range for a function of 3 arguments; use positions 0 to 2",
                         value_error);
    CHECK_THROWS_WITH_AS(jacrev(layer, -1)(p.x, p.W, p.b),
                         "jacrev: argnums position -1 is out of range for a function of 3 arguments; use positions 0 "
                         "to 2",
                         value_error);
    CHECK_THROWS_WITH_AS(hessian(loss, argnums(2, 0, 2))(p.x, p.W, p.b),
                         "hessian: argnums names position 2 twice; name each argument once", value_error);
    CHECK_THROWS_WITH_AS(jacfwd(layer, argnums())(p.x, p.W, p.b),
                         "jacfwd: argnums is empty; name at least one argument to differentiate", value_error);
    CHECK_THROWS_WITH_AS(jacobian(layer, argnums(1, 1))(p.x, p.W, p.b),
                         "jacobian: argnums names position 1 twice; name each argument once", value_error);
    CHECK_THROWS_WITH_AS(value_and_grad(loss, 5)(p.x, p.W, p.b),
                         "value_and_grad: argnums position 5 is out of range for a function of 3 arguments; use "
                         "positions 0 to 2",
                         value_error);
    CHECK_THROWS_WITH_AS(grad(layer, argnums(0))(p.x, p.W, p.b),
                         "grad: the function returned shape (4) but grad needs a one-element output; reduce it (e.g. "
                         "sum) or use vjp/jacrev",
                         shape_error);
    CHECK_THROWS_WITH_AS(hessian(layer, argnums(0))(p.x, p.W, p.b),
                         "hessian: the function returned shape (4) but hessian needs a one-element output; reduce it "
                         "(e.g. sum) or use vjp/jacrev",
                         shape_error);
    CHECK_THROWS_WITH_AS(grad(loss, 0)(Tensor(), p.W, p.b),
                         "grad: an input is undefined (default-constructed or moved from); pass tensors with values",
                         value_error);
}
