// Batched directions through matmul and linear are one GEMM, never one BLAS call per direction: the kernel folds
// every broadcast form (batch axes of one operand into the rows or columns of one product, one product per index of
// a batch both operands have), checked against naive loops and by counting GEMMs (kernels::gemm_products); and
// JVPs, VJPs, jacfwd and jacrev of matmul(W, x), x·W, batched and linear forms make a number of GEMMs that does not
// depend on the number of directions, with results equal to stacked single-direction sweeps (bitwise) and to naive
// loops.

#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include <adgraph/adgraph.hpp>
#include <adgraph/tensor/matmul.hpp>

using namespace adg;

namespace {

double tolerance(Dtype d) { return d == f32 ? 2e-5 : 1e-12; }

void check_close(const Tensor& got, const std::vector<double>& want, Dtype dtype) {
    REQUIRE(got.size() == want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
        CAPTURE(i);
        CHECK(got.value().flat(i) == doctest::Approx(want[i]).epsilon(tolerance(dtype)).scale(1.0));
    }
}

void check_equal(const Tensor& a, const Tensor& b) {
    REQUIRE(a.shape() == b.shape());
    for (std::size_t i = 0; i < a.size(); ++i) {
        CAPTURE(i);
        CHECK(a.value().flat(i) == b.value().flat(i));
    }
}

std::vector<double> values(const Tensor& t) {
    std::vector<double> v(t.size());
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = t.value().flat(i);
    return v;
}

// Row-major strides of a shape.
Shape strides_of(const Shape& s) {
    Shape st(s.size(), 1);
    for (std::size_t d = s.size(); d-- > 1;) st[d - 1] = st[d] * s[d];
    return st;
}

// op(a)·op(b) by loops, numpy broadcasting of the batch axes spelled out index by index.
std::vector<double> naive_matmul(const Tensor& a, const Tensor& b, bool ta, bool tb, Shape& out_shape) {
    const Shape& as = a.shape();
    const Shape& bs = b.shape();
    const std::size_t ar = as[as.size() - 2], ac = as.back(), br = bs[bs.size() - 2], bc = bs.back();
    const std::size_t m = ta ? ac : ar, k = ta ? ar : ac, n = tb ? br : bc;
    const std::size_t rank = std::max(as.size(), bs.size()) - 2;
    Shape batch(rank), ab(rank, 1), bb(rank, 1);
    for (std::size_t d = 0; d < rank; ++d) {
        if (d + as.size() >= rank + 2) ab[d] = as[d + as.size() - rank - 2];
        if (d + bs.size() >= rank + 2) bb[d] = bs[d + bs.size() - rank - 2];
        batch[d] = std::max(ab[d], bb[d]);
    }
    const Shape sa = strides_of(ab), sb = strides_of(bb);
    std::size_t nb = 1;
    for (auto e : batch) nb *= e;
    out_shape = batch;
    out_shape.push_back(m);
    out_shape.push_back(n);
    const std::vector<double> av = values(a), bv = values(b);
    std::vector<double> c(nb * m * n, 0.0);
    for (std::size_t i = 0; i < nb; ++i) {
        std::size_t oa = 0, ob = 0, rest = i;
        for (std::size_t d = rank; d-- > 0;) {
            const std::size_t idx = rest % batch[d];
            rest /= batch[d];
            if (ab[d] > 1) oa += idx * sa[d];
            if (bb[d] > 1) ob += idx * sb[d];
        }
        for (std::size_t r = 0; r < m; ++r) {
            for (std::size_t col = 0; col < n; ++col) {
                double s = 0;
                for (std::size_t j = 0; j < k; ++j) {
                    const double x = av[oa * ar * ac + (ta ? j * ac + r : r * ac + j)];
                    const double y = bv[ob * br * bc + (tb ? col * bc + j : j * bc + col)];
                    s += x * y;
                }
                c[(i * m + r) * n + col] = s;
            }
        }
    }
    return c;
}

// GEMMs that f makes.
template <class F>
std::size_t gemms(F&& f) {
    const std::size_t before = kernels::gemm_products();
    f();
    return kernels::gemm_products() - before;
}

}  // namespace

TEST_CASE("matmul kernel: every broadcast form and transpose flag is one GEMM per index of the shared batch axes") {
    struct Form {
        Shape a_batch, b_batch;
        std::size_t shared;  // GEMMs expected: the product of the batch axes both operands have with size > 1
    };
    const std::vector<Form> forms = {
        {{}, {}, 1},             // plain product
        {{5}, {}, 1},            // batched A: rows
        {{}, {5}, 1},            // batched B: columns
        {{5, 2}, {2}, 2},        // directions on A over a shared batch
        {{2}, {5, 2}, 2},        // directions on B over a shared batch
        {{5, 1}, {1, 3}, 1},     // A-only and B-only axes: one GEMM, its rows scattered into C
        {{2, 1, 3}, {3, 1}, 1},  // A-only axes interleaved with a B-only one
        {{3, 2}, {3, 1}, 3},     // shared outer axis, A-only inner axis
        {{2, 3}, {1, 3}, 3},     // A-only outer axis, shared inner axis: A's blocks are not consecutive
        {{1, 3}, {4, 3}, 3},     // B-only outer axis, shared inner axis
        {{4, 1, 3}, {2, 3}, 3},  // both kinds of folded axis around a shared one
    };
    Generator gen(31);
    for (Dtype dtype : {f64, f32}) {
        for (const auto& f : forms) {
            // Matrix sides of 1 take the column/row paths (a column B read as a row, k columns as rows of one matrix).
            for (auto [m, k, n] : std::vector<std::array<std::size_t, 3>>{{3, 4, 2}, {3, 4, 1}, {1, 4, 3}, {1, 3, 1}}) {
                for (bool ta : {false, true}) {
                    for (bool tb : {false, true}) {
                        Shape as = f.a_batch, bs = f.b_batch;
                        as.push_back(ta ? k : m);
                        as.push_back(ta ? m : k);
                        bs.push_back(tb ? n : k);
                        bs.push_back(tb ? k : n);
                        CAPTURE(dtype_name(dtype));
                        CAPTURE(shape_str(as));
                        CAPTURE(shape_str(bs));
                        CAPTURE(ta);
                        CAPTURE(tb);
                        const Tensor a = Tensor::uniform(as, -1, 1, gen, dtype),
                                     b = Tensor::uniform(bs, -1, 1, gen, dtype);
                        Shape want_shape;
                        const std::vector<double> want = naive_matmul(a, b, ta, tb, want_shape);
                        Array c;
                        CHECK(gemms([&] { c = kernels::matmul(a.value(), b.value(), ta, tb); }) == f.shared);
                        CHECK(c.shape() == want_shape);
                        check_close(Tensor(c), want, dtype);
                    }
                }
            }
        }
    }
    // Empty sides make no product; an empty inner dimension gives zeros without one.
    CHECK(gemms([] { kernels::matmul(Array::zeros({4, 0, 3}, f64), Array::zeros({3, 2}, f64)); }) == 0);
    // Nor any per-batch bookkeeping: 2^40 batch indices of empty matrices cost nothing.
    Array e;
    CHECK(gemms([&] {
              e = kernels::matmul(Array::zeros({std::size_t{1} << 40, 0, 3}, f64), Array::zeros({3, 2}, f64));
          }) == 0);
    CHECK(e.shape() == Shape{std::size_t{1} << 40, 0, 2});
    Array z;
    CHECK(gemms([&] { z = kernels::matmul(Array::full({2, 3, 0}, 1.0, f64), Array::zeros({0, 2}, f64)); }) == 0);
    CHECK(z.shape() == Shape{2, 3, 2});
    for (std::size_t i = 0; i < z.size(); ++i) CHECK(z.flat(i) == 0.0);
}

namespace {

// One function of one varying input, the others fixed, with the naive linear map of its derivative.
struct Case {
    std::string name;
    Shape x_shape;
    std::function<Tensor(const Tensor&)> f;
    // d/dx f at any point applied to v (all cases are affine in x), by loops: shape of f(x), flattened.
    std::function<std::vector<double>(const Tensor& v)> lin;
    // GEMMs of one batched JVP sweep, one batched VJP sweep, jacfwd and jacrev (forward pass included).
    std::size_t jvp, vjp, jacfwd, jacrev;
};

std::vector<Case> cases(Dtype dtype, Generator& gen) {
    const auto U = [&](const Shape& s) { return Tensor::uniform(s, -1, 1, gen, dtype); };
    const Tensor W = U({3, 4}), Wt = U({4, 3}), w2 = U({4, 2}), bias = U({3}), bt = U({2, 4, 2}), at = U({2, 3, 4});
    const auto mm = [](const Tensor& a, const Tensor& b, bool ta = false, bool tb = false) {
        Shape s;
        return naive_matmul(a, b, ta, tb, s);
    };
    const auto col = [](const Tensor& v) { return reshape(v, {v.size(), 1}); };
    const auto row = [](const Tensor& v) { return reshape(v, {1, v.size()}); };
    std::vector<Case> cs;
    // jacfwd/jacrev of W·x and of linear with a vector x gather W's columns or rows: only the forward product.
    cs.push_back({"W·x",
                  {4},
                  [=](const Tensor& x) { return matmul(W, x); },
                  [=](const Tensor& v) { return mm(W, col(v)); },
                  1,
                  1,
                  1,
                  1});
    cs.push_back({"x·W",
                  {4},
                  [=](const Tensor& x) { return matmul(x, w2); },
                  [=](const Tensor& v) { return mm(row(v), w2); },
                  1,
                  1,
                  2,
                  2});
    cs.push_back({"Wᵀ·x",
                  {4},
                  [=](const Tensor& x) { return matmul(transpose(Wt), x); },
                  [=](const Tensor& v) { return mm(Wt, col(v), true, false); },
                  1,
                  1,
                  1,
                  1});
    cs.push_back({"batched A (2,3,4)·W",
                  {2, 3, 4},
                  [=](const Tensor& x) { return matmul(x, w2); },
                  [=](const Tensor& v) { return mm(v, w2); },
                  1,
                  1,
                  2,
                  2});
    cs.push_back({"W·batched B (2,4,2)",
                  {2, 4, 2},
                  [=](const Tensor& x) { return matmul(W, x); },
                  [=](const Tensor& v) { return mm(W, v); },
                  1,
                  1,
                  2,
                  2});
    // A batch both operands have (2): one GEMM per batch index, however many directions.
    cs.push_back({"batched·batched, A varies",
                  {2, 3, 4},
                  [=](const Tensor& x) { return matmul(x, bt); },
                  [=](const Tensor& v) { return mm(v, bt); },
                  2,
                  2,
                  4,
                  4});
    cs.push_back({"batched·batched, B varies",
                  {2, 4, 2},
                  [=](const Tensor& x) { return matmul(at, x); },
                  [=](const Tensor& v) { return mm(at, v); },
                  2,
                  2,
                  4,
                  4});
    cs.push_back({"linear(x, W) vector",
                  {4},
                  [=](const Tensor& x) { return linear(x, W); },
                  [=](const Tensor& v) { return mm(W, col(v)); },
                  1,
                  1,
                  1,
                  1});
    cs.push_back({"linear(x, W, b) vector",
                  {4},
                  [=](const Tensor& x) { return linear(x, W, bias); },
                  [=](const Tensor& v) { return mm(W, col(v)); },
                  1,
                  1,
                  1,
                  1});
    cs.push_back({"linear(x, W) batch",
                  {2, 4},
                  [=](const Tensor& x) { return linear(x, W); },
                  [=](const Tensor& v) { return mm(v, W, false, true); },
                  1,
                  1,
                  2,
                  2});
    cs.push_back({"linear(x, W, b) batch",
                  {2, 4},
                  [=](const Tensor& x) { return linear(x, W, bias); },
                  [=](const Tensor& v) { return mm(v, W, false, true); },
                  1,
                  1,
                  2,
                  2});
    return cs;
}

// The rows of a (k, S...) batch, each of shape (1, S...).
std::vector<Tensor> rows_of(const Tensor& batch) {
    std::vector<Tensor> r;
    for (std::size_t i = 0; i < batch.shape()[0]; ++i) r.push_back(index_select(batch, 0, {i}));
    return r;
}

// The naive Jacobian (y size × x size) of a case: column j is the linear map applied to the j-th unit tensor.
std::vector<double> naive_jacobian(const Case& c, std::size_t ny, Dtype dtype) {
    std::size_t nx = 1;
    for (auto e : c.x_shape) nx *= e;
    std::vector<double> J(ny * nx);
    for (std::size_t j = 0; j < nx; ++j) {
        std::vector<double> e(nx, 0.0);
        e[j] = 1;
        const std::vector<double> colj = c.lin(Tensor::from(e, c.x_shape, dtype));
        REQUIRE(colj.size() == ny);
        for (std::size_t i = 0; i < ny; ++i) J[i * nx + j] = colj[i];
    }
    return J;
}

}  // namespace

TEST_CASE("matmul and linear rules: k batched directions make as many GEMMs as one, and equal k single sweeps") {
    for (Dtype dtype : {f64, f32}) {
        Generator gen(7);
        for (const Case& c : cases(dtype, gen)) {
            CAPTURE(dtype_name(dtype));
            CAPTURE(c.name);
            const Tensor x = Tensor::uniform(c.x_shape, -1, 1, gen, dtype).requires_grad();
            const Tensor y = c.f(x);
            const std::size_t nx = x.size(), ny = y.size();
            const std::vector<double> J = naive_jacobian(c, ny, dtype);
            for (std::size_t k : {std::size_t{1}, std::size_t{16}}) {
                CAPTURE(k);
                const Tensor v = Tensor::uniform(batched_shape(k, x.shape()), -1, 1, gen, dtype);
                const Tensor u = Tensor::uniform(batched_shape(k, y.shape()), -1, 1, gen, dtype);
                const SweepOptions keep{true, false};
                Tensor jv, uj;
                CHECK(gemms([&] { jv = forward_sweep({x}, {v}, {y}, keep)[0]; }) == c.jvp);
                CHECK(gemms([&] { uj = reverse_sweep({y}, {u}, {x}, keep)[0]; }) == c.vjp);
                // Naive: J·v for each tangent, Jᵀ·u for each cotangent.
                const std::vector<double> vv = values(v), uv = values(u);
                std::vector<double> want_jv(k * ny, 0.0), want_uj(k * nx, 0.0);
                for (std::size_t r = 0; r < k; ++r) {
                    for (std::size_t i = 0; i < ny; ++i) {
                        for (std::size_t j = 0; j < nx; ++j) {
                            want_jv[r * ny + i] += J[i * nx + j] * vv[r * nx + j];
                            want_uj[r * nx + j] += J[i * nx + j] * uv[r * ny + i];
                        }
                    }
                }
                check_close(jv, want_jv, dtype);
                check_close(uj, want_uj, dtype);
                // Bitwise equal to the sweeps with one direction each, stacked.
                const std::vector<Tensor> vs = rows_of(v), us = rows_of(u);
                std::vector<Tensor> one_jv, one_uj;
                for (std::size_t r = 0; r < k; ++r) {
                    one_jv.push_back(forward_sweep({x}, {vs[r]}, {y}, keep)[0]);
                    one_uj.push_back(reverse_sweep({y}, {us[r]}, {x}, keep)[0]);
                }
                check_equal(jv, concat(one_jv, 0));
                check_equal(uj, concat(one_uj, 0));
            }
            // jacfwd and jacrev: all basis directions in one sweep; the GEMM count does not grow with them.
            const Tensor x0 = x.detach();
            Tensor jf, jr;
            CHECK(gemms([&] { jf = jacfwd(c.f)(x0); }) == c.jacfwd);
            CHECK(gemms([&] { jr = jacrev(c.f)(x0); }) == c.jacrev);
            check_close(jf, J, dtype);
            check_close(jr, J, dtype);
            // One direction per sweep (chunk 1): the same Jacobian, bitwise.
            check_equal(jacfwd(c.f, JacobianOptions{1})(x0), jf);
            check_equal(jacrev(c.f, JacobianOptions{1})(x0), jr);
        }
    }
}

TEST_CASE("jacfwd and jacrev of W3·tanh(W2·tanh(W1·x)) make the same few GEMMs for any input and output size") {
    for (Dtype dtype : {f64, f32}) {
        CAPTURE(dtype_name(dtype));
        for (auto [n, m] : std::vector<std::pair<std::size_t, std::size_t>>{{3, 2}, {40, 2}, {3, 40}}) {
            CAPTURE(n);
            CAPTURE(m);
            Generator gen(3);
            const std::size_t h = 5;
            const Tensor W1 = Tensor::uniform({h, n}, -0.5, 0.5, gen, dtype),
                         W2 = Tensor::uniform({h, h}, -0.5, 0.5, gen, dtype),
                         W3 = Tensor::uniform({m, h}, -0.5, 0.5, gen, dtype),
                         x = Tensor::uniform({n}, -1, 1, gen, dtype);
            const Fn by_matmul = [=](const Tensor& v) { return matmul(W3, tanh(matmul(W2, tanh(matmul(W1, v))))); };
            const Fn by_linear = [=](const Tensor& v) { return linear(tanh(linear(tanh(linear(v, W1)), W2)), W3); };
            // Three forward products; the first (jacfwd) or last (jacrev) layer's directions are gathered columns
            // or rows of W, the other two layers one GEMM each.
            for (const Fn& f : {by_matmul, by_linear}) {
                Tensor jf, jr;
                CHECK(gemms([&] { jf = jacfwd(f)(x); }) == 5);
                CHECK(gemms([&] { jr = jacrev(f)(x); }) == 5);
                // Naive: J = W3·diag(1 - t2²)·W2·diag(1 - t1²)·W1 with t1 = tanh(W1 x), t2 = tanh(W2 t1).
                const std::vector<double> w1 = values(W1), w2 = values(W2), w3 = values(W3), xv = values(x);
                std::vector<double> t1(h, 0.0), t2(h, 0.0);
                for (std::size_t i = 0; i < h; ++i) {
                    for (std::size_t j = 0; j < n; ++j) t1[i] += w1[i * n + j] * xv[j];
                    t1[i] = std::tanh(t1[i]);
                }
                for (std::size_t i = 0; i < h; ++i) {
                    for (std::size_t j = 0; j < h; ++j) t2[i] += w2[i * h + j] * t1[j];
                    t2[i] = std::tanh(t2[i]);
                }
                std::vector<double> want(m * n, 0.0);
                for (std::size_t o = 0; o < m; ++o) {
                    for (std::size_t j = 0; j < n; ++j) {
                        double s = 0;
                        for (std::size_t a = 0; a < h; ++a) {
                            for (std::size_t b = 0; b < h; ++b) {
                                s += w3[o * h + a] * (1 - t2[a] * t2[a]) * w2[a * h + b] * (1 - t1[b] * t1[b]) *
                                     w1[b * n + j];
                            }
                        }
                        want[o * n + j] = s;
                    }
                }
                check_close(jf, want, dtype);
                check_close(jr, want, dtype);
                check_equal(jacfwd(f, JacobianOptions{1})(x), jf);
                check_equal(jacrev(f, JacobianOptions{1})(x), jr);
            }
        }
    }
}
