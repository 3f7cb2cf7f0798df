// Structured seeds (autodiff/directions.hpp): sweeps seeded with sparse rows (what jacfwd and jacrev use) give the
// same Jacobians as dense identity seeds, for every op in every op list, both modes, chunked or not, f32 and f64;
// each sparse rule is hit and agrees with its op's dense rule; recorded (create_graph) sweeps stay right.

#include <doctest/doctest.h>

#include <adgraph/adgraph.hpp>
#include <adgraph/autodiff/node.hpp>

using namespace adg;

namespace {

void check_equal(const Tensor& a, const Tensor& b) {
    REQUIRE(a.shape() == b.shape());
    REQUIRE(a.dtype() == b.dtype());
    for (std::size_t i = 0; i < a.size(); ++i) {
        CAPTURE(i);
        CHECK(a.value().flat(i) == b.value().flat(i));
    }
}

// Rows of ∂y/∂x by sweeps with sparse basis directions, `chunk` at a time (0: all at once).
Tensor structured_rows(const Tensor& x, const Tensor& y, bool forward, std::size_t chunk) {
    const Tensor& seeded = forward ? x : y;
    const std::size_t n = seeded.size(), step = chunk ? chunk : n;
    std::vector<Tensor> parts;
    for (std::size_t from = 0; from < n; from += step) {
        const Directions d = Directions::basis(seeded.shape(), seeded.dtype(), from, std::min(step, n - from));
        parts.push_back(forward ? forward_sweep_directions({x}, {d}, {y}, {true, false})[0]
                                : reverse_sweep_directions({y}, {d}, {x}, {true, false})[0]);
    }
    return parts.size() == 1 ? parts[0] : concat(parts, 0);
}

// Structured against dense identity seeds for input i of one op sample.
void check_sample(const OpSample& s, std::size_t i, Dtype dtype) {
    std::vector<Tensor> xs;
    for (const auto& x : s.inputs) xs.push_back(Tensor(x.value().to(dtype)));
    xs[i] = xs[i].requires_grad();
    const Tensor y = s.fn(xs);
    const Tensor& x = xs[i];
    if (x.size() == 0 || y.size() == 0) return;
    const Tensor fwd = forward_sweep({x}, {Tensor(Array::basis(x.shape(), dtype))}, {y}, {true, false})[0];
    const Tensor rev = reverse_sweep({y}, {Tensor(Array::basis(y.shape(), dtype))}, {x}, {true, false})[0];
    for (std::size_t chunk : {std::size_t{0}, std::size_t{2}}) {
        CAPTURE(chunk);
        check_equal(structured_rows(x, y, true, chunk), fwd);
        check_equal(structured_rows(x, y, false, chunk), rev);
    }
}

struct Layer {
    Tensor w, b;
};

Layer layer(std::size_t in, std::size_t out, Generator& gen, Dtype dtype) {
    return {Tensor::uniform({out, in}, -0.8, 0.8, gen, dtype), Tensor::uniform({out}, -0.5, 0.5, gen, dtype)};
}

}  // namespace

TEST_CASE("structured seeds: every op, both modes, chunked or not, f32 and f64, equal dense identity seeds") {
    Generator gen(77);
    for (const auto& op : all_ops()) {
        for (const auto& s : op.samples(gen)) {
            for (std::size_t i = 0; i < s.inputs.size(); ++i) {
                for (Dtype dtype : {f64, f32}) {
                    CAPTURE(s.label);
                    CAPTURE(i);
                    CAPTURE(dtype_name(dtype));
                    check_sample(s, i, dtype);
                }
            }
        }
    }
}

TEST_CASE("structured seeds: each sparse rule is taken and equals its op's dense rule") {
    Generator gen(5);
    const Tensor v = Tensor::uniform({4}, -1, 1, gen, f64), m = Tensor::uniform({3, 4}, -1, 1, gen, f64);
    const Tensor w = Tensor::uniform({2, 4}, -1, 1, gen, f64), b = Tensor::uniform({2}, -1, 1, gen, f64);
    const Tensor a3 = Tensor::uniform({2, 3, 4}, -1, 1, gen, f64), bm = Tensor::uniform({4, 5}, -1, 1, gen, f64);
    struct Case {
        const char* label;
        std::function<Tensor(const std::vector<Tensor>&)> fn;
        std::vector<Tensor> inputs;
        std::size_t varies;
        bool forward, reverse;  // whether a sparse rule exists for this input in each mode
    };
    const std::vector<Case> cases = {
        {"tanh (4)", [](const auto& x) { return tanh(x[0]); }, {v}, 0, true, true},
        {"tanh (3,4)", [](const auto& x) { return tanh(x[0]); }, {m}, 0, true, true},
        {"linear x vector", [](const auto& x) { return linear(x[0], x[1], x[2]); }, {v, w, b}, 0, true, true},
        {"linear x batch", [](const auto& x) { return linear(x[0], x[1], x[2]); }, {m, w, b}, 0, true, true},
        {"linear W, x vector", [](const auto& x) { return linear(x[0], x[1], x[2]); }, {v, w, b}, 1, true, true},
        {"linear b, x vector", [](const auto& x) { return linear(x[0], x[1], x[2]); }, {v, w, b}, 2, true, true},
        {"linear b, x batch", [](const auto& x) { return linear(x[0], x[1], x[2]); }, {m, w, b}, 2, false, true},
        {"linear W, x batch", [](const auto& x) { return linear(x[0], x[1], x[2]); }, {m, w, b}, 1, true, false},
        {"matmul A (3,4)·B", [](const auto& x) { return matmul(x[0], x[1]); }, {m, bm}, 0, true, true},
        {"matmul A (2,3,4)·B", [](const auto& x) { return matmul(x[0], x[1]); }, {a3, bm}, 0, true, true},
        {"matmul B", [](const auto& x) { return matmul(x[0], x[1]); }, {m, bm}, 1, true, false},
        {"matmul (2,3,4)·B, B varies", [](const auto& x) { return matmul(x[0], x[1]); }, {a3, bm}, 1, true, false},
        {"linear no bias, batch", [](const auto& x) { return linear(x[0], x[1]); }, {m, w}, 0, true, true},
        {"linear no bias W, x batch", [](const auto& x) { return linear(x[0], x[1]); }, {m, w}, 1, true, false},
    };
    for (const auto& c : cases) {
        CAPTURE(c.label);
        std::vector<Tensor> xs = c.inputs;
        xs[c.varies] = xs[c.varies].detach().requires_grad();
        const Tensor y = c.fn(xs);
        const Node& n = *y.node();
        std::vector<Tensor> in;
        for (const auto& p : n.inputs()) in.emplace_back(p);
        const std::size_t j = c.varies;
        const Tensor& node_out = y;
        NoGrad off;
        const Tensor& x = in[j];
        std::vector<Directions> t(in.size());
        t[j] = Directions::basis(x.shape(), f64, 0, x.size());
        std::vector<Tensor> td(in.size());
        td[j] = t[j].dense();
        const Directions f = n.jvp_sparse(in, node_out, t);
        CHECK(f.defined() == c.forward);
        if (f.defined()) check_equal(f.dense(), n.jvp(in, node_out, td));
        const Directions ct = Directions::basis(node_out.shape(), f64, 0, node_out.size());
        const Directions r = n.vjp_sparse(in, node_out, ct, j);
        CHECK(r.defined() == c.reverse);
        if (r.defined()) check_equal(r.dense(), n.vjp(in, node_out, ct.dense(), j));
    }
}

// Sparse rows of a weight B through a matrix or batch input A (what RTRL seeds: basis rows of weight_hh against a
// batch of states): the sparse rule of every matmul and linear sample, given random sparse rows (repeated rows)
// alone or with dense tangents of the other inputs, equals the dense rule on the same tangents made dense.
TEST_CASE(
    "structured seeds: sparse weight rows against a batch input, alone or with other tangents, equal the dense "
    "rule") {
    Generator gen(23);
    const auto close = [](const Tensor& a, const Tensor& b) {
        REQUIRE(a.shape() == b.shape());
        for (std::size_t e = 0; e < a.size(); ++e) {
            CAPTURE(e);
            const double want = b.value().flat(e);
            CHECK(std::abs(a.value().flat(e) - want) <= 1e-12 * (1 + std::abs(want)));
        }
    };
    const std::size_t k = 5;
    std::size_t taken = 0;
    for (const auto& op : matmul_ops()) {
        for (const auto& s : op.samples(gen)) {
            const Tensor y = s.fn([&] {
                std::vector<Tensor> xs;
                for (const auto& x : s.inputs) xs.push_back(x.detach().requires_grad());
                return xs;
            }());
            const Node& n = *y.node();
            std::vector<Tensor> in;
            for (const auto& p : n.inputs()) in.emplace_back(p);
            NoGrad off;
            for (std::size_t i = 0; i < in.size(); ++i) {
                if (in[i].dim() < 1) continue;
                const Shape& xs = in[i].shape();
                const std::size_t rows = xs[0];
                auto index = std::make_shared<const std::vector<std::size_t>>(
                    std::vector<std::size_t>{rows - 1, 0, rows - 1, rows / 2, 0});
                const Directions seed = Directions::sparse_rows(
                    index, Tensor::uniform(batched_shape(k, Shape(xs.begin() + 1, xs.end())), -1, 1, gen, f64), rows);
                for (bool others : {false, true}) {
                    CAPTURE(s.label);
                    CAPTURE(i);
                    CAPTURE(others);
                    std::vector<Directions> t(in.size());
                    std::vector<Tensor> td(in.size());
                    for (std::size_t j = 0; j < in.size(); ++j) {
                        if (j == i) {
                            t[j] = seed;
                        } else if (others) {
                            t[j] = Directions(Tensor::uniform(batched_shape(k, in[j].shape()), -1, 1, gen, f64));
                        }
                        if (t[j].defined()) td[j] = t[j].dense();
                    }
                    const Directions f = n.jvp_sparse(in, y, t);
                    // Ẇ of linear (x a vector or a batch) and Ḃ of a matrix B (not a batch of vectors): the rule
                    // must be taken.
                    const bool matrix_b = in[1].dim() == 2 && s.label.find("vectors") == std::string::npos;
                    if (i == 1 && (op.name == "linear" || matrix_b)) CHECK(f.defined());
                    if (!f.defined()) continue;
                    ++taken;
                    close(f.dense(), n.jvp(in, y, td));
                }
            }
        }
    }
    CHECK(taken >= 14);  // at least the 14 required above (5 matmul samples with a matrix B, 2 linear; twice)

    // In a sweep: basis rows of W seeded with a dense tangent of a batch x, as RTRL does at every step after the
    // first, through two layers; against the same sweep with W's seed made dense.
    const Tensor x = Tensor::uniform({3, 4}, -1, 1, gen, f64).requires_grad();
    const Tensor w = Tensor::uniform({5, 4}, -1, 1, gen, f64).requires_grad();
    const Tensor b = Tensor::uniform({5}, -1, 1, gen, f64), w2 = Tensor::uniform({2, 5}, -1, 1, gen, f64);
    const Tensor y = linear(tanh(linear(x, w, b)), w2);
    const Directions seed = Directions::basis(w.shape(), f64, 3, 7);
    const Tensor dx = Tensor::uniform({7, 3, 4}, -1, 1, gen, f64);
    const Tensor sparse = forward_sweep_directions({w, x}, {seed, Directions(dx)}, {y})[0];
    const Tensor dense = forward_sweep_directions({w, x}, {Directions(seed.dense()), Directions(dx)}, {y})[0];
    close(sparse, dense);
}

TEST_CASE("structured seeds: jacfwd and jacrev of a tanh network and an MLP loss equal dense seeds, chunked too") {
    Generator gen(9);
    for (Dtype dtype : {f64, f32}) {
        CAPTURE(dtype_name(dtype));
        const Layer l1 = layer(6, 5, gen, dtype), l2 = layer(5, 5, gen, dtype), l3 = layer(5, 7, gen, dtype),
                    o = layer(5, 1, gen, dtype);
        const Fn net = [=](const Tensor& x) {
            return tanh(linear(tanh(linear(tanh(linear(x, l1.w, l1.b)), l2.w, l2.b)), l3.w, l3.b));
        };
        const Fn loss = [=](const Tensor& x) {
            return mean(square(tanh(linear(tanh(linear(tanh(linear(x, l1.w, l1.b)), l2.w, l2.b)), o.w, o.b))));
        };
        for (const auto& [f, x] : {std::pair{net, Tensor::uniform({6}, -1, 1, gen, dtype)},
                                   std::pair{loss, Tensor::uniform({3, 6}, -1, 1, gen, dtype)}}) {
            const Tensor xr = x.detach().requires_grad();
            const Tensor y = f(xr);
            const std::size_t n = x.size(), m = y.size();
            const Tensor fwd = forward_sweep({xr}, {Tensor(Array::basis(x.shape(), dtype))}, {y}, {true, false})[0];
            const Tensor rev = reverse_sweep({y}, {Tensor(Array::basis(y.shape(), dtype))}, {xr}, {true, false})[0];
            const Shape js = concat_shapes(y.shape(), x.shape());
            const Tensor jf = reshape(transpose(reshape(fwd, {n, m})), js), jr = reshape(rev, js);
            for (std::size_t chunk : {std::size_t{0}, std::size_t{4}}) {
                check_equal(jacfwd(f, JacobianOptions{chunk})(x), jf);
                check_equal(jacrev(f, JacobianOptions{chunk})(x), jr);
            }
        }
    }
}

TEST_CASE("structured seeds: recorded sweeps use dense seeds, so hessians stay right") {
    Generator gen(11);
    const Layer l = layer(4, 3, gen, f64);
    const auto f = [&](const Tensor& x) { return sum(tanh(linear(x, l.w, l.b))); };
    const Tensor x = Tensor::uniform({4}, -1, 1, gen, f64);
    // H = Wᵀ diag(-2 t (1 - t²)) W with t = tanh(W x + b).
    Tensor t;
    {
        NoGrad off;
        t = tanh(linear(x, l.w, l.b));
    }
    for (const Tensor& H : {hessian(f)(x), jacrev(grad(f))(x), jacfwd(grad(f))(x)}) {
        REQUIRE(H.shape() == Shape{4, 4});
        for (std::size_t i = 0; i < 4; ++i) {
            for (std::size_t j = 0; j < 4; ++j) {
                double h = 0;
                for (std::size_t o = 0; o < 3; ++o) {
                    const double to = t.value().flat(o);
                    h += l.w.value().flat(o * 4 + i) * (-2 * to * (1 - to * to)) * l.w.value().flat(o * 4 + j);
                }
                CHECK(H.value().flat(i * 4 + j) == doctest::Approx(h).epsilon(1e-12));
            }
        }
    }
    // A recorded sweep seeded with sparse rows gives the dense seed's graph: differentiable again.
    const Tensor xr = x.detach().requires_grad();
    const Tensor y = tanh(xr * 2.0);
    const Tensor g = reverse_sweep_directions({y}, {Directions::basis(y.shape(), f64, 0, 4)}, {xr}, {true, true})[0];
    CHECK(g.needs_grad());
}

TEST_CASE("structured seeds: dense() of recorded values stays connected, bad sparse seeds are clear errors") {
    const Tensor v = Tensor::from({1.0, 2.0}, f64).requires_grad();
    const auto index = std::make_shared<const std::vector<std::size_t>>(std::vector<std::size_t>{2, 0});
    const Directions d = Directions::sparse_rows(index, v, 3);
    const Tensor dense = d.dense();
    CHECK(dense.shape() == Shape{2, 3});
    CHECK(dense.value().flat(2) == 1.0);
    CHECK(dense.value().flat(3) == 2.0);
    sum(dense * Tensor::from({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}}, f64)).backward();
    CHECK(v.grad().value().flat(0) == 3.0);
    CHECK(v.grad().value().flat(1) == 4.0);

    const Tensor x = Tensor::from({0.5, 1.5, -1.0}, f64).requires_grad();
    const Tensor y = tanh(x);
    const auto bad = std::make_shared<const std::vector<std::size_t>>(std::vector<std::size_t>{0, 3});
    CHECK_THROWS_WITH_AS(forward_sweep_directions({x}, {Directions::sparse_rows(bad, v.detach(), 3)}, {y}),
                         doctest::Contains("row 3 is out of range for 3 rows"), value_error);
    CHECK_THROWS_WITH_AS(forward_sweep_directions({x}, {Directions::sparse_rows(index, v.detach(), 4)}, {y}),
                         doctest::Contains("sparse rows need one index per direction"), shape_error);
    CHECK_THROWS_AS(reverse_sweep_directions({y}, {Directions::sparse_rows(index, cast(v.detach(), f32), 3)}, {x}),
                    dtype_error);
}
