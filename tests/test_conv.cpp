// conv2d: forward and gradients against naive loops written here (float64, strides, padding, dilation, groups,
// bias), hand-computed small cases, float32 against float64, every input error, per-sample Jacobian blocks through a
// CNN, and k batched directions against k single ones. (The op lists put conv2d, its transpose and its weight
// correlation under gradcheck, the dot test and second order as well.)

#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include <adgraph/adgraph.hpp>
#include <adgraph/tensor/conv.hpp>

using namespace adg;

namespace {

struct Config {
    std::size_t n, c, h, w, o, kh, kw;
    Size2 stride, pad, dil;
    std::size_t groups;
    bool bias;
};

long signed_of(std::size_t v) { return static_cast<long>(v); }

// y[n,o,i,j] = b[o] + Σ_{c,p,q} w[o,c,p,q] · x[n, g·C/G + c, i·sh − ph + p·dh, j·sw − pw + q·dw] (zero outside),
// and for loss = Σ y ⊙ u the gradients by the same loops, scattered: the definitions, seven nested loops.
struct Reference {
    std::vector<double> y, gx, gw, gb;
    std::size_t ho = 0, wo = 0;
};

Reference naive(const Config& k, const std::vector<double>& x, const std::vector<double>& w,
                const std::vector<double>& b, const std::vector<double>& u) {
    Reference r;
    r.ho = (k.h + 2 * k.pad.h - k.dil.h * (k.kh - 1) - 1) / k.stride.h + 1;
    r.wo = (k.w + 2 * k.pad.w - k.dil.w * (k.kw - 1) - 1) / k.stride.w + 1;
    const std::size_t cg = k.c / k.groups, og = k.o / k.groups;
    r.y.assign(k.n * k.o * r.ho * r.wo, 0.0);
    r.gx.assign(x.size(), 0.0);
    r.gw.assign(w.size(), 0.0);
    r.gb.assign(k.o, 0.0);
    for (std::size_t n = 0; n < k.n; ++n) {
        for (std::size_t o = 0; o < k.o; ++o) {
            const std::size_t g = o / og;
            for (std::size_t i = 0; i < r.ho; ++i) {
                for (std::size_t j = 0; j < r.wo; ++j) {
                    const std::size_t yi = ((n * k.o + o) * r.ho + i) * r.wo + j;
                    double s = k.bias ? b[o] : 0.0;
                    r.gb[o] += u[yi];
                    for (std::size_t c = 0; c < cg; ++c) {
                        for (std::size_t p = 0; p < k.kh; ++p) {
                            for (std::size_t q = 0; q < k.kw; ++q) {
                                const long ih = signed_of(i * k.stride.h + p * k.dil.h) - signed_of(k.pad.h);
                                const long iw = signed_of(j * k.stride.w + q * k.dil.w) - signed_of(k.pad.w);
                                if (ih < 0 || iw < 0 || ih >= signed_of(k.h) || iw >= signed_of(k.w)) continue;
                                const std::size_t xi =
                                    ((n * k.c + g * cg + c) * k.h + static_cast<std::size_t>(ih)) * k.w +
                                    static_cast<std::size_t>(iw);
                                const std::size_t wi = ((o * cg + c) * k.kh + p) * k.kw + q;
                                s += w[wi] * x[xi];
                                r.gx[xi] += w[wi] * u[yi];
                                r.gw[wi] += x[xi] * u[yi];
                            }
                        }
                    }
                    r.y[yi] = s;
                }
            }
        }
    }
    return r;
}

std::vector<double> values_of(const Tensor& t) {
    std::vector<double> v(t.size());
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = t.value().flat(i);
    return v;
}

void check_close(const Tensor& got, const std::vector<double>& want, double tol) {
    REQUIRE(got.size() == want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
        CHECK_MESSAGE(std::abs(got.value().flat(i) - want[i]) <= tol * (1 + std::abs(want[i])),
                      "element " << i << ": " << got.value().flat(i) << " vs " << want[i]);
    }
}

const std::vector<Config>& configs() {
    static const std::vector<Config> c = {
        {2, 3, 5, 6, 4, 3, 3, 1, 0, 1, 1, true},  {2, 3, 7, 6, 2, 3, 2, {2, 1}, {1, 2}, 1, 1, false},
        {1, 2, 7, 7, 3, 3, 3, 1, 2, 2, 1, true},  {2, 4, 5, 5, 6, 2, 3, 2, 1, {1, 2}, 2, true},
        {3, 6, 4, 3, 3, 1, 1, 1, 0, 1, 3, false}, {2, 1, 6, 6, 32, 3, 3, 1, 1, 1, 1, true},
    };
    return c;
}

std::string describe(const Config& k) {
    return "x (" + std::to_string(k.n) + "," + std::to_string(k.c) + "," + std::to_string(k.h) + "," +
           std::to_string(k.w) + ") w (" + std::to_string(k.o) + "," + std::to_string(k.c / k.groups) + "," +
           std::to_string(k.kh) + "," + std::to_string(k.kw) + ") groups " + std::to_string(k.groups);
}

}  // namespace

TEST_CASE("conv2d: forward and gradients equal naive loops (float64: stride, padding, dilation, groups, bias)") {
    Generator gen(31);
    for (const Config& k : configs()) {
        CAPTURE(describe(k));
        const Tensor x = Tensor::uniform({k.n, k.c, k.h, k.w}, -1, 1, gen, f64).requires_grad();
        const Tensor w = Tensor::uniform({k.o, k.c / k.groups, k.kh, k.kw}, -1, 1, gen, f64).requires_grad();
        const Tensor b = Tensor::uniform({k.o}, -1, 1, gen, f64).requires_grad();
        const Tensor y = conv2d(x, w, k.bias ? b : Tensor(), k.stride, k.pad, k.dil, k.groups);
        const Tensor u = Tensor::uniform(y.shape(), -1, 1, gen, f64);
        const Reference r = naive(k, values_of(x), values_of(w), values_of(b), values_of(u));
        CHECK(y.shape() == Shape{k.n, k.o, r.ho, r.wo});
        check_close(y, r.y, 1e-12);
        sum(y * u).backward();
        check_close(x.grad(), r.gx, 1e-12);
        check_close(w.grad(), r.gw, 1e-12);
        if (k.bias) check_close(b.grad(), r.gb, 1e-12);
    }
}

TEST_CASE("conv2d: hand-computed edge filters on small images") {
    // A vertical edge (columns 2 and 3 lit) under the Laplacian [0 1 0; 1 -4 1; 0 1 0]: +1 left of the edge,
    // -1 right of it; with padding 1 the border sees zeros outside the image.
    const Tensor img = Tensor::from({0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1}, {1, 1, 4, 4}, f64);
    const Tensor lap = Tensor::from({0, 1, 0, 1, -4, 1, 0, 1, 0}, {1, 1, 3, 3}, f64);
    CHECK(values_of(conv2d(img, lap)) == std::vector<double>{1, -1, 1, -1});
    CHECK(values_of(conv2d(img, lap, Tensor(), 1, 1)) ==
          std::vector<double>{0, 1, -2, -2, 0, 1, -1, -1, 0, 1, -1, -1, 0, 1, -2, -2});
    // The lecture's [1 0 -1; 0 0 0; -1 0 1] responds to neither a ramp nor a vertical edge: 0 everywhere.
    const Tensor corner = Tensor::from({1, 0, -1, 0, 0, 0, -1, 0, 1}, {1, 1, 3, 3}, f64);
    CHECK(values_of(conv2d(img, corner)) == std::vector<double>{0, 0, 0, 0});
    // A diagonal difference x[i,j] - x[i+1,j+1] on 1..9 is -4 everywhere; stride 2 keeps the (0,0) corner, and
    // the bias adds to each.
    const Tensor nine = Tensor::from({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 1, 3, 3}, f64);
    const Tensor diag = Tensor::from({1, 0, 0, -1}, {1, 1, 2, 2}, f64);
    CHECK(values_of(conv2d(nine, diag, Tensor::from({0.5}, f64))) == std::vector<double>{-3.5, -3.5, -3.5, -3.5});
    CHECK(values_of(conv2d(nine, diag, Tensor(), 2)) == std::vector<double>{-4});
    // Dilation 2 turns the 2×2 difference into x[i,j] - x[i+2,j+2]: 1 - 9.
    CHECK(values_of(conv2d(nine, diag, Tensor(), 1, 0, 2)) == std::vector<double>{-8});
    // Two groups: channel 0 meets filter 0 only, channel 1 filter 1 only.
    const Tensor two = Tensor::from({1, 2, 3, 4, 10, 20, 30, 40}, {1, 2, 2, 2}, f64);
    const Tensor pick = Tensor::from({1, 0, 0, 0, 0, 0, 0, 1}, {2, 1, 2, 2}, f64);
    CHECK(values_of(conv2d(two, pick, Tensor(), 1, 0, 1, 2)) == std::vector<double>{1, 40});
}

TEST_CASE("conv2d: float32 agrees with float64") {
    Generator gen(7);
    for (const Config& k : configs()) {
        CAPTURE(describe(k));
        const Tensor x = Tensor::uniform({k.n, k.c, k.h, k.w}, -1, 1, gen, f64);
        const Tensor w = Tensor::uniform({k.o, k.c / k.groups, k.kh, k.kw}, -1, 1, gen, f64);
        const Tensor b = k.bias ? Tensor::uniform({k.o}, -1, 1, gen, f64) : Tensor();
        const Tensor y64 = conv2d(x, w, b, k.stride, k.pad, k.dil, k.groups);
        const Tensor y32 =
            conv2d(cast(x, f32), cast(w, f32), k.bias ? cast(b, f32) : Tensor(), k.stride, k.pad, k.dil, k.groups);
        CHECK(y32.dtype() == f32);
        check_close(y32, values_of(y64), 1e-5);
    }
}

TEST_CASE("conv2d: bad arguments are typed errors naming conv2d, the shapes and the remedy") {
    const Tensor x = Tensor::zeros({2, 4, 5, 5}), w = Tensor::zeros({6, 2, 3, 3});
    const auto message = [](auto&& f) {
        try {
            f();
        } catch (const error& e) {
            return std::string(e.what());
        }
        return std::string("nothing thrown");
    };
    CHECK_THROWS_AS(conv2d(Tensor::zeros({4, 5, 5}), w), shape_error);
    CHECK_THROWS_AS(conv2d(x, Tensor::zeros({6, 2, 3})), shape_error);
    CHECK_THROWS_AS(conv2d(x, Tensor::zeros({6, 3, 3, 3})), shape_error);
    CHECK_THROWS_AS(conv2d(x, w, Tensor(), 1, 0, 1, 3), shape_error);
    CHECK_THROWS_AS(conv2d(x, Tensor::zeros({5, 4, 3, 3}), Tensor(), 1, 0, 1, 2), shape_error);
    CHECK_THROWS_AS(conv2d(x, w, Tensor::zeros({5}), 1, 0, 1, 2), shape_error);
    CHECK_THROWS_AS(conv2d(x, Tensor::zeros({6, 4, 7, 3})), shape_error);
    CHECK_THROWS_AS(conv2d(x, Tensor::zeros({6, 4, 3, 3}), Tensor(), 1, 0, 3), shape_error);
    CHECK_NOTHROW(conv2d(x, Tensor::zeros({6, 4, 7, 3}), Tensor(), 1, 1));
    CHECK_THROWS_AS(conv2d(x, w, Tensor(), 0, 0, 1, 2), value_error);
    CHECK_THROWS_AS(conv2d(x, w, Tensor(), {1, 0}, 0, 1, 2), value_error);
    CHECK_THROWS_AS(conv2d(x, w, Tensor(), 1, 0, 0, 2), value_error);
    CHECK_THROWS_AS(conv2d(x, w, Tensor(), 1, 0, 1, 0), value_error);
    CHECK_THROWS_AS(conv2d(x, Tensor::zeros({6, 2, 3, 3}, f64), Tensor(), 1, 0, 1, 2), dtype_error);
    CHECK_THROWS_AS(conv2d(x, w, Tensor::zeros({6}, f64), 1, 0, 1, 2), dtype_error);
    for (const std::string& m : {message([&] {
                                     conv2d(x, Tensor::zeros({6, 3, 3, 3}));
                                 }),
                                 message([&] {
                                     conv2d(x, Tensor::zeros({6, 4, 7, 3}));
                                 }),
                                 message([&] { conv2d(x, w, Tensor(), 1, 0, 1, 3); })}) {
        CAPTURE(m);
        CHECK(m.rfind("conv2d: ", 0) == 0);
        CHECK(m.find("(2,4,5,5)") != std::string::npos);
        CHECK(m.find("; ") != std::string::npos);
    }
}

TEST_CASE("conv2d: jacobian finds per-sample blocks through conv2d -> relu -> linear") {
    Generator gen(5);
    const Tensor w = Tensor::uniform({3, 2, 3, 3}, -1, 1, gen, f64), b = Tensor::uniform({3}, -1, 1, gen, f64);
    const Tensor w2 = Tensor::uniform({2, 3 * 2 * 2}, -1, 1, gen, f64), b2 = Tensor::uniform({2}, -1, 1, gen, f64);
    const auto f = [&](const Tensor& x) {
        const Tensor h = relu(conv2d(x, w, b, 2, 1));  // (4, 3, 2, 2)
        return linear(reshape(h, {x.shape()[0], 3 * 2 * 2}), w2, b2);
    };
    const Tensor x = Tensor::uniform({4, 2, 3, 4}, -1, 1, gen, f64);
    const Jacobian J = jacobian(f, x);
    CHECK(J.structure == Structure::blocks);
    CHECK(J.mode == Mode::reverse);  // 2 outputs per sample < 24 inputs per sample
    CHECK(J.directions == 2);
    CHECK(J.values.shape() == Shape{4, 2, 2, 3, 4});
    const Tensor dense = jacrev(f)(x);
    check_close(J.dense(), values_of(dense), 1e-12);
    const Jacobian Jf = jacobian(f, x, Mode::forward);
    CHECK(Jf.structure == Structure::blocks);
    CHECK(Jf.directions == 24);
    check_close(Jf.values, values_of(J.values), 1e-12);
    // With the weight varying every sample's output depends on all of it: dense, although w's axis 0 (3 filters)
    // has the length of the output's (3 samples).
    const Tensor x3 = slice(x, 0, 0, 3);
    const auto fw = [&](const Tensor& wv) { return sum(conv2d(x3, wv, b, 2, 1), {2, 3}); };
    CHECK(jacobian(fw, w).structure == Structure::dense);
}

TEST_CASE("conv2d: k batched directions equal k single sweeps, for x, w and b, forward and reverse") {
    Generator gen(9);
    const Config k{2, 4, 5, 4, 4, 3, 2, {2, 1}, 1, {1, 2}, 2, true};
    const Tensor x = Tensor::uniform({k.n, k.c, k.h, k.w}, -1, 1, gen, f64).requires_grad();
    const Tensor w = Tensor::uniform({k.o, k.c / k.groups, k.kh, k.kw}, -1, 1, gen, f64).requires_grad();
    const Tensor b = Tensor::uniform({k.o}, -1, 1, gen, f64).requires_grad();
    const Tensor y = conv2d(x, w, b, k.stride, k.pad, k.dil, k.groups);
    const std::size_t dirs = 3;
    const auto batch = [&](const Tensor& t) {
        return Tensor::uniform(batched_shape(dirs, t.shape()), -1, 1, gen, f64);
    };
    const std::vector<Tensor> tangents = {batch(x), batch(w), batch(b)};
    const Tensor seeds = batch(y);
    SweepOptions keep;
    keep.retain_graph = true;
    const Tensor fwd = forward_sweep({x, w, b}, tangents, {y})[0];
    const std::vector<Tensor> rev = reverse_sweep({y}, {seeds}, {x, w, b}, keep);
    for (std::size_t d = 0; d < dirs; ++d) {
        std::vector<Tensor> one;
        for (const auto& t : tangents) one.push_back(slice(t, 0, d, d + 1));
        CHECK(values_of(forward_sweep({x, w, b}, one, {y})[0]) == values_of(slice(fwd, 0, d, d + 1)));
        const std::vector<Tensor> single = reverse_sweep({y}, {slice(seeds, 0, d, d + 1)}, {x, w, b}, keep);
        for (std::size_t i = 0; i < 3; ++i) CHECK(values_of(single[i]) == values_of(slice(rev[i], 0, d, d + 1)));
    }
}

TEST_CASE("conv2d: two threads give the one-thread values") {
    Generator gen(11);
    const Tensor x = Tensor::uniform({8, 3, 9, 9}, -1, 1, gen, f32).requires_grad();
    const Tensor w = Tensor::uniform({16, 3, 3, 3}, -1, 1, gen, f32).requires_grad();
    const auto run = [&] {
        const Tensor y = conv2d(x, w, Tensor(), 1, 1);
        const std::vector<Tensor> g = reverse_sweep({y}, {reshape(y.detach(), batched_shape(1, y.shape()))}, {x, w});
        return std::vector<Tensor>{y, g[0], g[1]};
    };
    const int before = num_threads();
    set_num_threads(1);
    const auto one = run();
    set_num_threads(2);
    const auto two = run();
    set_num_threads(before);
    // Each sample's products are the same single-threaded GEMMs; only the weight gradient's sum over samples is
    // cut into per-thread parts.
    CHECK(values_of(one[0]) == values_of(two[0]));
    CHECK(values_of(one[1]) == values_of(two[1]));
    check_close(two[2], values_of(one[2]), 1e-5);
}

TEST_CASE("conv2d: huge strides, paddings and dilations are refused or sized without wrapping around") {
    const Tensor x = Tensor::zeros({1, 1, 3, 3}), w = Tensor::zeros({1, 1, 3, 3});
    CHECK_THROWS_AS(conv2d(x, w, Tensor(), std::size_t{1} << 40), value_error);
    CHECK_THROWS_AS(conv2d(x, w, Tensor(), 1, 0, std::size_t{1} << 40), value_error);
    // The largest accepted dilation spreads a 3-tap kernel over 2^32 + 1 positions: more than the padded input.
    CHECK_THROWS_AS(conv2d(x, w, Tensor(), 1, 0, std::size_t{1} << 31), shape_error);
    // The largest stride over a padded 3x3 image keeps one output position.
    CHECK(conv2d(x, w, Tensor(), std::size_t{1} << 31, 1).shape() == Shape{1, 1, 1, 1});
    CHECK(kernels::conv_out_size(5, std::size_t{1} << 62, std::size_t{1} << 31, 0, std::size_t{1} << 31) == 0);
}

TEST_CASE("conv kernels: leading axes broadcast like matmul's batch axes, each index the 4-D convolution") {
    Generator gen(13);
    const kernels::ConvParams p{1, 2, 1, 0, 1, 1, 2};
    const auto arr = [&](const Shape& s) { return Tensor::uniform(s, -1, 1, gen, f64).value(); };
    const auto part = [](const Array& a, std::size_t i) {
        // Entry i of a's leading axes (a viewed as (count, last four axes)).
        Shape rest(a.shape().end() - 4, a.shape().end());
        const std::size_t size = numel(rest);
        xt::xarray<double> r = xt::xarray<double>::from_shape(rest);
        std::copy(a.get<double>().data() + i * size, a.get<double>().data() + (i + 1) * size, r.data());
        return Array(std::move(r));
    };
    const auto check_index = [](const Array& got, std::size_t i, const Array& want) {
        const std::size_t size = want.size();
        REQUIRE(got.size() >= (i + 1) * size);
        for (std::size_t e = 0; e < size; ++e) {
            CHECK(got.get<double>().data()[i * size + e] == doctest::Approx(want.flat(e)).epsilon(1e-12));
        }
    };
    // (2,1) against (3): a (2,3) grid; x index l / 3, w index l % 3.
    const Array x = arr({2, 1, 2, 4, 5, 4}), w = arr({3, 4, 2, 3, 2});
    const Array y = kernels::conv2d(x, w, nullptr, p);
    CHECK(y.shape() == Shape{2, 3, 2, 4, 5, 2});
    for (std::size_t l = 0; l < 6; ++l) check_index(y, l, kernels::conv2d(part(x, l / 3), part(w, l % 3), nullptr, p));
    // The transpose and the weight correlation, both operands with leading axes of 2.
    const Array g = arr({2, 2, 4, 5, 2}), w2 = arr({2, 4, 2, 3, 2}), x2 = arr({2, 2, 4, 5, 4});
    const Array xt2 = kernels::conv2d_transpose(g, w2, p, 5, 4);
    CHECK(xt2.shape() == Shape{2, 2, 4, 5, 4});
    const Array wc = kernels::conv2d_weight(x2, g, p, 3, 2);
    CHECK(wc.shape() == Shape{2, 4, 2, 3, 2});
    for (std::size_t l = 0; l < 2; ++l) {
        check_index(xt2, l, kernels::conv2d_transpose(part(g, l), part(w2, l), p, 5, 4));
        check_index(wc, l, kernels::conv2d_weight(part(x2, l), part(g, l), p, 3, 2));
    }
    // One operand with leading axes: folded into the samples or stacked into one GEMM, the same values.
    const Array xs = kernels::conv2d_transpose(part(g, 0), w2, p, 5, 4),
                ws = kernels::conv2d_weight(x2, part(g, 1), p, 3, 2);
    for (std::size_t l = 0; l < 2; ++l) {
        check_index(xs, l, kernels::conv2d_transpose(part(g, 0), part(w2, l), p, 5, 4));
        check_index(ws, l, kernels::conv2d_weight(part(x2, l), part(g, 1), p, 3, 2));
    }
}
