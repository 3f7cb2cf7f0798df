// max_pool2d, avg_pool2d and global_avg_pool2d against naive loops written here (padding as −∞ or as zeros, PyTorch's
// output size), hand-computed cases, the tie rule, gradients, per-sample Jacobian blocks and every input error.

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <optional>

#include <adgraph/adgraph.hpp>

using namespace adg;

namespace {

struct Params {
    std::size_t kh, kw, sh, sw, ph, pw;
};

// The value of x (N, C, H, W) at (n, c, i, j) of the zero- or −∞-padded image, i and j in padded coordinates.
double padded_at(const Tensor& x, std::size_t n, std::size_t c, long i, long j, const Params& p, double fill) {
    const long h = static_cast<long>(x.shape()[2]), w = static_cast<long>(x.shape()[3]);
    const long r = i - static_cast<long>(p.ph), q = j - static_cast<long>(p.pw);
    if (r < 0 || r >= h || q < 0 || q >= w) return fill;
    const std::size_t at = ((n * x.shape()[1] + c) * x.shape()[2] + static_cast<std::size_t>(r)) * x.shape()[3] +
                           static_cast<std::size_t>(q);
    return x.value().flat(at);
}

// Naive pooling: for every output, every kernel position of the padded image; max with −∞ padding or mean with
// zero padding divided by kh·kw. Also the flat input index of the first maximum (for the gradient).
std::vector<double> naive_pool(const Tensor& x, const Params& p, bool is_max, std::vector<long>* argmax = nullptr) {
    const std::size_t N = x.shape()[0], C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
    const std::size_t oh = (H + 2 * p.ph - p.kh) / p.sh + 1, ow = (W + 2 * p.pw - p.kw) / p.sw + 1;
    std::vector<double> out;
    for (std::size_t n = 0; n < N; ++n) {
        for (std::size_t c = 0; c < C; ++c) {
            for (std::size_t i = 0; i < oh; ++i) {
                for (std::size_t j = 0; j < ow; ++j) {
                    double acc = is_max ? -std::numeric_limits<double>::infinity() : 0.0;
                    long best = -1;
                    for (std::size_t a = 0; a < p.kh; ++a) {
                        for (std::size_t b = 0; b < p.kw; ++b) {
                            const long pi = static_cast<long>(i * p.sh + a), pj = static_cast<long>(j * p.sw + b);
                            const double v = padded_at(x, n, c, pi, pj, p, is_max ? -INFINITY : 0.0);
                            if (!is_max) {
                                acc += v;
                            } else if (v > acc) {
                                acc = v;
                                best = static_cast<long>(
                                    ((n * C + c) * H + static_cast<std::size_t>(pi - static_cast<long>(p.ph))) * W +
                                    static_cast<std::size_t>(pj - static_cast<long>(p.pw)));
                            }
                        }
                    }
                    out.push_back(is_max ? acc : acc / static_cast<double>(p.kh * p.kw));
                    if (argmax) argmax->push_back(best);
                }
            }
        }
    }
    return out;
}

Tensor pool(const Tensor& x, const Params& p, bool is_max) {
    return is_max ? max_pool2d(x, Size2(p.kh, p.kw), Size2(p.sh, p.sw), Size2(p.ph, p.pw))
                  : avg_pool2d(x, Size2(p.kh, p.kw), Size2(p.sh, p.sw), Size2(p.ph, p.pw));
}

const Params configs[] = {{2, 2, 2, 2, 0, 0}, {3, 3, 1, 1, 1, 1}, {3, 2, 2, 1, 1, 0},
                          {1, 1, 1, 1, 0, 0}, {5, 4, 3, 2, 2, 2}, {2, 3, 1, 3, 0, 1}};

std::vector<double> values_of(const Tensor& t) {
    std::vector<double> v;
    for (std::size_t i = 0; i < t.size(); ++i) v.push_back(t.value().flat(i));
    return v;
}

}  // namespace

TEST_CASE("pooling: max and average pools equal naive loops over the padded image (float64 and float32)") {
    Generator gen(7);
    const Tensor x = Tensor::uniform({2, 3, 7, 6}, -3, 3, gen, f64);
    for (const Params& p : configs) {
        INFO("kernel ", p.kh, "x", p.kw, " stride ", p.sh, "x", p.sw, " padding ", p.ph, "x", p.pw);
        for (bool is_max : {true, false}) {
            const Tensor y = pool(x, p, is_max);
            const std::size_t oh = (7 + 2 * p.ph - p.kh) / p.sh + 1, ow = (6 + 2 * p.pw - p.kw) / p.sw + 1;
            CHECK(y.shape() == Shape{2, 3, oh, ow});
            const std::vector<double> ref = naive_pool(x, p, is_max);
            REQUIRE(ref.size() == y.size());
            for (std::size_t i = 0; i < ref.size(); ++i) {
                CHECK(y.value().flat(i) == doctest::Approx(ref[i]).epsilon(1e-15).scale(1.0));
            }
            // float32 gives the float64 values to float32 accuracy.
            const Tensor y32 = pool(cast(x, f32), p, is_max);
            CHECK(y32.dtype() == f32);
            for (std::size_t i = 0; i < ref.size(); ++i) {
                CHECK(y32.value().flat(i) == doctest::Approx(ref[i]).epsilon(1e-6).scale(1.0));
            }
        }
    }
}

TEST_CASE("pooling: hand-computed 4x4 image, stride defaulting to the kernel") {
    std::vector<double> v(16);
    for (std::size_t i = 0; i < 16; ++i) v[i] = static_cast<double>(i);
    const Tensor x = Tensor::from(v, {1, 1, 4, 4}, f64);
    CHECK(values_of(max_pool2d(x, 2)) == std::vector<double>{5, 7, 13, 15});
    CHECK(values_of(avg_pool2d(x, 2)) == std::vector<double>{2.5, 4.5, 10.5, 12.5});
    // Kernel 3, stride 1: windows at rows/columns 0..2 and 1..3.
    CHECK(values_of(max_pool2d(x, 3, Size2(1))) == std::vector<double>{10, 11, 14, 15});
    CHECK(values_of(avg_pool2d(x, 3, Size2(1))) == std::vector<double>{5, 6, 9, 10});
    // A (1, 2) kernel pools pairs of columns.
    CHECK(values_of(max_pool2d(x, Size2(1, 2))) == std::vector<double>{1, 3, 5, 7, 9, 11, 13, 15});
    CHECK(values_of(global_avg_pool2d(x)) == std::vector<double>{7.5});
}

TEST_CASE("pooling: padding is -inf for the max pool and counts as zeros in the average pool") {
    // All values negative: a zero-padded max would be 0 at the border, the -inf-padded max is the image's value.
    const Tensor x = Tensor::from({-4.0, -3.0, -2.0, -1.0}, {1, 1, 2, 2}, f64);
    CHECK(values_of(max_pool2d(x, 2, Size2(1), 1)) == std::vector<double>{-4, -3, -3, -2, -1, -1, -2, -1, -1});
    // Ones with kernel 2, stride 1, padding 1: a corner window holds 1 one of 4, an edge window 2, the centre 4.
    const Tensor ones = Tensor::ones({1, 1, 2, 2}, f64);
    CHECK(values_of(avg_pool2d(ones, 2, Size2(1), 1)) ==
          std::vector<double>{0.25, 0.5, 0.25, 0.5, 1.0, 0.5, 0.25, 0.5, 0.25});
    // The gradient of the average pool puts 1/4 per window on each element it covers: 4 windows cover each of
    // the 4 elements here, so each gets 4 · 1/4.
    const Tensor o = ones.requires_grad();
    sum(avg_pool2d(o, 2, Size2(1), 1)).backward();
    CHECK(values_of(o.grad()) == std::vector<double>{1, 1, 1, 1});
}

TEST_CASE("pooling: among exactly tied maxima the first in row-major window order takes the whole gradient") {
    // Window [[3, 1], [3, 3]]: the maximum 3 at (0,0), (1,0) and (1,1); (0,0) gets the gradient.
    const Tensor x = Tensor::from({3.0, 1.0, 3.0, 3.0}, {1, 1, 2, 2}, f64).requires_grad();
    max_pool2d(x, 2).backward();
    CHECK(values_of(x.grad()) == std::vector<double>{1, 0, 0, 0});
    // A 3x3 window whose maximum 5 sits at (0,2) and (1,0): (0,2) comes first in row-major order.
    const Tensor z = Tensor::from({0.0, 1.0, 5.0, 5.0, 2.0, 0.0, 1.0, 1.0, 1.0}, {1, 1, 3, 3}, f64).requires_grad();
    max_pool2d(z, 3).backward();
    CHECK(values_of(z.grad()) == std::vector<double>{0, 0, 1, 0, 0, 0, 0, 0, 0});
    // The forward mode agrees: the tangent of the output is the tangent at the chosen position.
    const auto [y, dy] = jvp([](const Tensor& t) { return max_pool2d(t, 3); }, z.detach(),
                             Tensor::from({0.0, 0.0, 7.0, 11.0, 0.0, 0.0, 0.0, 0.0, 0.0}, {1, 1, 3, 3}, f64));
    CHECK(y.item() == 5.0);
    CHECK(dy.item() == 7.0);
    // Overlapping windows (stride 1) that share their maximum each send it their gradient: 4 windows here.
    const Tensor w = Tensor::from({0.0, 0.0, 0.0, 0.0, 9.0, 0.0, 0.0, 0.0, 0.0}, {1, 1, 3, 3}, f64).requires_grad();
    sum(max_pool2d(w, 2, Size2(1))).backward();
    CHECK(values_of(w.grad()) == std::vector<double>{0, 0, 0, 0, 4, 0, 0, 0, 0});
}

TEST_CASE("pooling: gradients equal the naive scatter to the argmax and the spread over each window") {
    Generator gen(11);
    const Tensor x0 = Tensor::uniform({2, 2, 6, 5}, -2, 2, gen, f64);
    for (const Params& p : {Params{2, 2, 2, 2, 0, 0}, Params{3, 3, 2, 2, 1, 1}, Params{3, 2, 1, 2, 1, 1}}) {
        INFO("kernel ", p.kh, "x", p.kw, " stride ", p.sh, "x", p.sw, " padding ", p.ph, "x", p.pw);
        std::vector<long> argmax;
        naive_pool(x0, p, true, &argmax);
        const Tensor x = x0.detach().requires_grad();
        const Tensor yt = max_pool2d(x, Size2(p.kh, p.kw), Size2(p.sh, p.sw), Size2(p.ph, p.pw));
        const Tensor seed = Tensor::uniform(yt.shape(), -1, 1, gen, f64);
        yt.backward(seed);
        std::vector<double> ref(x.size(), 0.0);
        for (std::size_t o = 0; o < argmax.size(); ++o)
            ref[static_cast<std::size_t>(argmax[o])] += seed.value().flat(o);
        for (std::size_t i = 0; i < ref.size(); ++i) CHECK(x.grad().value().flat(i) == ref[i]);

        // Average pool: element (r, q) gets seed/(kh·kw) from every window covering it.
        const Tensor xa = x0.detach().requires_grad();
        const Tensor ya = avg_pool2d(xa, Size2(p.kh, p.kw), Size2(p.sh, p.sw), Size2(p.ph, p.pw));
        const Tensor sa = Tensor::uniform(ya.shape(), -1, 1, gen, f64);
        ya.backward(sa);
        const std::size_t oh = ya.shape()[2], ow = ya.shape()[3];
        for (std::size_t n = 0; n < 2; ++n) {
            for (std::size_t c = 0; c < 2; ++c) {
                for (std::size_t r = 0; r < 6; ++r) {
                    for (std::size_t q = 0; q < 5; ++q) {
                        double g = 0;
                        for (std::size_t i = 0; i < oh; ++i) {
                            for (std::size_t j = 0; j < ow; ++j) {
                                const std::size_t top = i * p.sh, left = j * p.sw;  // padded coordinates
                                const std::size_t pr = r + p.ph, pq = q + p.pw;
                                if (pr >= top && pr < top + p.kh && pq >= left && pq < left + p.kw) {
                                    g += sa.value().flat(((n * 2 + c) * oh + i) * ow + j) /
                                         static_cast<double>(p.kh * p.kw);
                                }
                            }
                        }
                        const std::size_t at = ((n * 2 + c) * 6 + r) * 5 + q;
                        CHECK(xa.grad().value().flat(at) == doctest::Approx(g).epsilon(1e-14).scale(1.0));
                    }
                }
            }
        }
    }
}

TEST_CASE("pooling: the global average pool is the mean over each image plane") {
    Generator gen(3);
    const Tensor x = Tensor::uniform({2, 3, 4, 5}, -1, 1, gen, f64).requires_grad();
    const Tensor y = global_avg_pool2d(x);
    REQUIRE(y.shape() == Shape{2, 3});
    for (std::size_t p = 0; p < 6; ++p) {
        double s = 0;
        for (std::size_t e = 0; e < 20; ++e) s += x.value().flat(p * 20 + e);
        CHECK(y.value().flat(p) == doctest::Approx(s / 20).epsilon(1e-14).scale(1.0));
    }
    sum(y).backward();
    for (std::size_t i = 0; i < x.size(); ++i) CHECK(x.grad().value().flat(i) == doctest::Approx(1.0 / 20));
}

TEST_CASE("pooling: NaN in a window reaches its maximum") {
    const Tensor x = Tensor::from({1.0, std::nan(""), 3.0, 2.0}, {1, 1, 2, 2}, f64);
    CHECK(std::isnan(max_pool2d(x, 2).item()));
}

TEST_CASE("pooling: every 2x2 window over {-1, 0, 1, NaN} picks the first NaN, else the first maximum") {
    // The 2x2 stride-2 path: all 4^4 windows in a (5, 257) image (2 x 128 windows; the last row and column are left
    // out), against a naive row-major scan of each window, values and the argmax that receives the gradient.
    const double nan = std::numeric_limits<double>::quiet_NaN(), digits[4] = {-1.0, 0.0, 1.0, nan};
    const std::size_t h = 5, w = 257, ow = 128;
    std::vector<double> image(h * w, 7.0);  // 7 outside the windows: would win if read
    for (std::size_t c = 0; c < 256; ++c) {
        const std::size_t corner = (c / ow) * 2 * w + (c % ow) * 2;
        for (std::size_t e = 0; e < 4; ++e) image[corner + (e / 2) * w + e % 2] = digits[(c >> (2 * e)) & 3];
    }
    for (Dtype dt : {f64, f32}) {
        const Tensor x = Tensor::from(image, {1, 1, h, w}, dt).requires_grad();
        const Tensor y = max_pool2d(x, 2);
        REQUIRE(y.shape() == Shape{1, 1, 2, ow});
        sum(y).backward();
        std::vector<double> grad_ref(h * w, 0.0);
        for (std::size_t c = 0; c < 256; ++c) {
            const std::size_t corner = (c / ow) * 2 * w + (c % ow) * 2;
            std::size_t best = corner;
            for (std::size_t e = 1; e < 4; ++e) {
                const std::size_t at = corner + (e / 2) * w + e % 2;
                if (std::isnan(image[best])) break;
                if (std::isnan(image[at]) || image[at] > image[best]) best = at;
            }
            grad_ref[best] = 1.0;
            const double v = y.value().flat(c);
            CHECK((std::isnan(image[best]) ? std::isnan(v) : v == image[best]));
        }
        CHECK(values_of(x.grad()) == grad_ref);
    }
}

TEST_CASE("pooling: Jacobians through pools (and a per-channel map) have per-sample blocks") {
    Generator gen(5);
    const Tensor x = Tensor::uniform({3, 2, 4, 4}, -1, 1, gen, f64);
    const auto f = [](const Tensor& t) { return avg_pool2d(tanh(max_pool2d(t, 2, Size2(1), 1)), 2); };
    const Jacobian J = jacobian(f, x);
    CHECK(J.structure == Structure::blocks);
    const Tensor dense = jacfwd(f)(x);
    const Tensor blocks = J.dense();
    REQUIRE(blocks.shape() == dense.shape());
    for (std::size_t i = 0; i < dense.size(); ++i) {
        CHECK(blocks.value().flat(i) == doctest::Approx(dense.value().flat(i)).epsilon(1e-12).scale(1.0));
    }
    const Jacobian G = jacobian([](const Tensor& t) { return global_avg_pool2d(t); }, x);
    CHECK(G.structure == Structure::blocks);
}

TEST_CASE("pooling: second derivatives through a max pool are those of the function after it") {
    // f(x) = Σ (max_pool(x))²: the Hessian is 2 on the diagonal at each window's argmax, 0 elsewhere.
    const Tensor x = Tensor::from({0.1, 0.7, -0.3, 0.2, 0.5, -0.9, 0.4, 0.8}, {1, 2, 2, 2}, f64);
    const Tensor H = hessian([](const Tensor& t) { return sum(square(max_pool2d(t, 2))); })(x);
    REQUIRE(H.shape() == Shape{1, 2, 2, 2, 1, 2, 2, 2});
    for (std::size_t a = 0; a < 8; ++a) {
        for (std::size_t b = 0; b < 8; ++b) {
            const double expected = (a == b && (a == 1 || a == 7)) ? 2.0 : 0.0;
            CHECK(H.value().flat(a * 8 + b) == expected);
        }
    }
}

TEST_CASE("pooling: bad inputs are typed errors naming the op, the shapes and the remedy") {
    const Tensor img = Tensor::zeros({1, 2, 4, 4});
    for (const char* op : {"max_pool2d", "avg_pool2d"}) {
        const std::string o(op);
        const bool is_max = o == "max_pool2d";
        const auto call = [is_max](const Tensor& x, Size2 k, std::optional<Size2> s, Size2 p) {
            return is_max ? max_pool2d(x, k, s, p) : avg_pool2d(x, k, s, p);
        };
        CHECK_THROWS_WITH_AS(call(Tensor::zeros({4, 4}), 2, std::nullopt, 0),
                             (o + ": input (4,4) is not a batch of images (N, C, H, W); reshape it to 4 axes").c_str(),
                             shape_error);
        CHECK_THROWS_WITH_AS(call(img, Size2(0, 2), std::nullopt, 0),
                             (o + ": kernel (0, 2) has a side of 0; use a kernel of at least 1 by 1").c_str(),
                             value_error);
        CHECK_THROWS_WITH_AS(call(img, 2, Size2(1, 0), 0),
                             (o + ": stride (1, 0) has a side of 0; use a stride of at least 1 (or none: it defaults "
                                  "to the kernel)")
                                 .c_str(),
                             value_error);
        CHECK_THROWS_WITH_AS(call(img, 3, std::nullopt, Size2(1, 2)),
                             (o + ": padding (1, 2) is more than half the kernel (3, 3); use padding of at most "
                                  "kernel / 2 on each axis")
                                 .c_str(),
                             value_error);
        CHECK_THROWS_WITH_AS(call(img, Size2(5, 2), std::nullopt, 0),
                             (o + ": kernel (5, 2) is larger than the padded input (4, 4) of x (1,2,4,4); use a "
                                  "smaller kernel or more padding")
                                 .c_str(),
                             shape_error);
        // With padding 2 the 5x5 kernel fits a 2x2 image padded to 6x6... but padding 2 > 5/2 is refused first;
        // padding 1 leaves a 4x4 padded image, still too small.
        CHECK_THROWS_WITH_AS(call(Tensor::zeros({1, 1, 2, 2}), 5, std::nullopt, 1),
                             (o + ": kernel (5, 5) is larger than the padded input (4, 4) of x (1,1,2,2); use a "
                                  "smaller kernel or more padding")
                                 .c_str(),
                             shape_error);
        // Exactly fitting is fine.
        CHECK(call(Tensor::zeros({1, 1, 2, 2}), 4, std::nullopt, 1).shape() == Shape{1, 1, 1, 1});
    }
    CHECK_THROWS_WITH_AS(global_avg_pool2d(Tensor::zeros({2, 3, 4})),
                         "global_avg_pool2d: input (2,3,4) is not a batch of images (N, C, H, W); reshape it to 4 axes",
                         shape_error);
}

TEST_CASE("pooling and batch_norm give bitwise the same values and gradients on 1 and 3 threads") {
    // Large enough that the kernels split planes and channels over the threads.
    Generator gen(31);
    const Tensor x0 = Tensor::uniform({16, 8, 24, 24}, -2, 2, gen);
    const Tensor w0 = Tensor::uniform({8}, 0.5, 2, gen), b0 = Tensor::uniform({8}, -1, 1, gen);
    struct ThreadCount {
        int before = num_threads();
        explicit ThreadCount(int n) { set_num_threads(n); }
        ~ThreadCount() { set_num_threads(before); }
    };
    const auto run = [&](int threads) {
        const ThreadCount use(threads);
        const Tensor x = x0.detach().requires_grad(), w = w0.detach().requires_grad(), b = b0.detach().requires_grad();
        const Tensor h = batch_norm(x, Tensor(), Tensor(), w, b, true);
        const Tensor y = avg_pool2d(max_pool2d(h, 3, Size2(2), 1), 2, Size2(1));
        sum(y * y).backward();
        return std::vector<Array>{y.value(), x.grad().value(), w.grad().value(), b.grad().value()};
    };
    const auto one = run(1), three = run(3);
    for (std::size_t i = 0; i < one.size(); ++i) {
        REQUIRE(one[i].shape() == three[i].shape());
        std::size_t differ = 0;
        for (std::size_t e = 0; e < one[i].size(); ++e) differ += one[i].flat(e) != three[i].flat(e);
        CHECK_MESSAGE(differ == 0, "result " << i << " differs in " << differ << " elements");
    }
}
