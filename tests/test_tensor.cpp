// tensor/: arrays, dtypes, shapes and broadcasting, kernels, BLAS matmul, seeded random values.

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <xtensor/xmath.hpp>
#include <xtensor/xview.hpp>

#include <adgraph/adgraph.hpp>
#include <adgraph/tensor/elementwise.hpp>
#include <adgraph/tensor/kernels.hpp>
#include <adgraph/tensor/matmul.hpp>

using namespace adg;

namespace {

// A column (n, 1): xtensor's nested initializer lists cannot say it unambiguously.
xt::xarray<double> column(std::initializer_list<double> v) {
    xt::xarray<double> a = xt::xarray<double>::from_shape({v.size(), 1});
    std::copy(v.begin(), v.end(), a.data());
    return a;
}

}  // namespace

TEST_CASE("arrays adopt xtensor buffers without copies and expose them without copies") {
    xt::xarray<float> a = xt::xarray<float>::from_shape({2, 3});
    a.fill(1.5f);
    const float* p = a.data();
    const Tensor t(std::move(a));
    CHECK(t.data<float>().data() == p);
    CHECK(t.detach().data<float>().data() == p);
    CHECK(t.dtype() == f32);
    CHECK(t.shape() == Shape{2, 3});
    CHECK_THROWS_AS(t.data<double>(), dtype_error);
    CHECK(Tensor::from({1.0, 2.0}, f64).dtype() == f64);
    CHECK(Tensor::from({{1.0, 2.0}, {3.0, 4.0}}).value().flat(3) == 4.0f);
}

TEST_CASE("reshaped reuses a uniquely owned buffer and copies a shared one") {
    Array a = Array::full({2, 3}, 2.0, f64);
    const double* p = a.get<double>().data();
    Array b = std::move(a).reshaped({3, 2});
    CHECK(b.get<double>().data() == p);
    const Array c = b;  // now shared
    const Array d = c.reshaped({6});
    CHECK(d.get<double>().data() != p);
    CHECK(d.shape() == Shape{6});
}

TEST_CASE("broadcast_shape follows numpy and names the op on failure") {
    CHECK(broadcast_shape({2, 1}, {1, 3}) == Shape{2, 3});
    CHECK(broadcast_shape({}, {4}) == Shape{4});
    CHECK(broadcast_shape({5, 1, 3}, {4, 1}) == Shape{5, 4, 3});
    CHECK_THROWS_WITH_AS(broadcast_shape({2}, {3}, "myop"), doctest::Contains("myop: shapes (2) and (3)"), shape_error);
}

TEST_CASE("sum_to is the adjoint of broadcast_to") {
    const Array x(xt::xarray<double>{{1, 2, 3}, {4, 5, 6}});
    CHECK((kernels::sum_to(x, {3}).get<double>() == xt::xarray<double>{5, 7, 9}));
    CHECK((kernels::sum_to(x, {2, 1}).get<double>() == column({6.0, 15.0})));
    CHECK((kernels::sum_to(x, {}).item() == 21));
    CHECK((kernels::broadcast_to(Array(xt::xarray<double>{1, 2, 3}), {2, 3}).get<double>() ==
           xt::xarray<double>{{1, 2, 3}, {1, 2, 3}}));
    CHECK(
        (kernels::broadcast_to(Array(column({1.0, 2.0})), {2, 2}).get<double>() == xt::xarray<double>{{1, 1}, {2, 2}}));
}

TEST_CASE("zip's contiguous paths equal xtensor's generic broadcasting") {
    Generator gen(11);
    const std::vector<std::pair<Shape, Shape>> cases = {{{4, 5}, {4, 5}},    {{4, 5}, {5}},    {{5}, {4, 5}},
                                                        {{3, 4, 5}, {4, 5}}, {{4, 1}, {1, 5}}, {{4, 5}, {}},
                                                        {{}, {4, 5}}};
    for (const auto& [sa, sb] : cases) {
        const Array a = uniform(sa, -1, 1, f64, gen), b = uniform(sb, -1, 1, f64, gen);
        const Array r = zip(a, b, "test", [](const auto& x, const auto& y) { return x * y - y; });
        const xt::xarray<double> want = a.get<double>() * b.get<double>() - b.get<double>();
        CHECK(r.get<double>() == want);
    }
}

TEST_CASE("matmul through BLAS matches a naive product for every transpose flag and batch broadcast") {
    Generator gen(12);
    const auto naive = [](const xt::xarray<double>& a, const xt::xarray<double>& b) {
        xt::xarray<double> c = xt::zeros<double>({a.shape()[0], b.shape()[1]});
        for (std::size_t i = 0; i < a.shape()[0]; ++i)
            for (std::size_t j = 0; j < b.shape()[1]; ++j)
                for (std::size_t k = 0; k < a.shape()[1]; ++k) c(i, j) += a(i, k) * b(k, j);
        return c;
    };
    for (bool ta : {false, true}) {
        for (bool tb : {false, true}) {
            const Array a = uniform(ta ? Shape{4, 3} : Shape{3, 4}, -1, 1, f64, gen);
            const Array b = uniform(tb ? Shape{5, 4} : Shape{4, 5}, -1, 1, f64, gen);
            const xt::xarray<double> oa = ta ? xt::xarray<double>(xt::transpose(a.get<double>())) : a.get<double>();
            const xt::xarray<double> ob = tb ? xt::xarray<double>(xt::transpose(b.get<double>())) : b.get<double>();
            CHECK(xt::allclose(kernels::matmul(a, b, ta, tb).get<double>(), naive(oa, ob)));
        }
    }
    // Batch broadcast: (2,3,4)·(4,5) folds into one GEMM; (3,4)·(2,4,5) loops over the batch.
    const Array a = uniform({2, 3, 4}, -1, 1, f64, gen), b = uniform({4, 5}, -1, 1, f64, gen);
    const Array c = kernels::matmul(a, b);
    CHECK(c.shape() == Shape{2, 3, 5});
    for (std::size_t i = 0; i < 2; ++i) {
        const xt::xarray<double> ai = xt::view(a.get<double>(), i);
        CHECK((xt::allclose(xt::xarray<double>(xt::view(c.get<double>(), i)), naive(ai, b.get<double>()))));
    }
    const Array d = kernels::matmul(Array(xt::xarray<double>(xt::view(a.get<double>(), 0))),
                                    Array(xt::xarray<double>(xt::stack(xt::xtuple(b.get<double>(), b.get<double>())))));
    CHECK(d.shape() == Shape{2, 3, 5});
    // A zero inner dimension gives zeros.
    CHECK((kernels::matmul(Array::zeros({2, 0}, f64), Array::zeros({0, 3}, f64)).get<double>() ==
           xt::zeros<double>({2, 3})));
}

TEST_CASE("gemm into the caller's buffer: beta = 0 ignores what C held, beta = 1 accumulates, other betas scale C") {
    Generator gen(13);
    for (bool ta : {false, true}) {
        for (bool tb : {false, true}) {
            CAPTURE(ta);
            CAPTURE(tb);
            // 70×90 with an inner 80: large enough to be cut into blocks when several threads run.
            const Array a = uniform(ta ? Shape{80, 70} : Shape{70, 80}, -1, 1, f32, gen);
            const Array b = uniform(tb ? Shape{90, 80} : Shape{80, 90}, -1, 1, f32, gen);
            const xt::xarray<float> want = kernels::matmul(a, b, ta, tb).get<float>();
            const Shape& as = a.shape();
            const Shape& bs = b.shape();
            // C starts as NaN: beta = 0 must overwrite it (BLAS's rule), not add to it.
            xt::xarray<float> c = xt::xarray<float>::from_shape({70, 90});
            c.fill(std::nanf(""));
            kernels::gemm(a.get<float>().data(), as[0], as[1], b.get<float>().data(), bs[0], bs[1], c.data(), ta, tb,
                          0.0f);
            CHECK(c == want);
            kernels::gemm(a.get<float>().data(), as[0], as[1], b.get<float>().data(), bs[0], bs[1], c.data(), ta, tb,
                          1.0f);
            CHECK(xt::allclose(c, 2.0f * want));
            kernels::gemm(a.get<float>().data(), as[0], as[1], b.get<float>().data(), bs[0], bs[1], c.data(), ta, tb,
                          0.25f);
            CHECK(xt::allclose(c, 1.5f * want));
        }
    }
}

TEST_CASE("linear folds the bias into the GEMM") {
    const Array x(xt::xarray<float>{{1, 2}, {3, 4}});
    const Array w(xt::xarray<float>{{1, 0}, {0, 1}, {1, 1}});
    const Array b(xt::xarray<float>{10, 20, 30});
    const xt::xarray<float> want{{11, 22, 33}, {13, 24, 37}};
    CHECK((kernels::linear(x, w, &b).get<float>() == want));
    CHECK((kernels::linear(x, w, nullptr).get<float>() == xt::xarray<float>{{1, 2, 3}, {3, 4, 7}}));
    // The same through gemm on the caller's buffer, whatever C held; a bias with beta ≠ 0 is refused.
    xt::xarray<float> c = xt::xarray<float>::from_shape({2, 3});
    c.fill(std::nanf(""));
    const float* xs = x.get<float>().data();
    const float* ws = w.get<float>().data();
    kernels::gemm(xs, 2, 2, ws, 3, 2, c.data(), false, true, 0.0f, b.get<float>().data());
    CHECK(c == want);
    CHECK_THROWS_AS(kernels::gemm(xs, 2, 2, ws, 3, 2, c.data(), false, true, 1.0f, b.get<float>().data()), value_error);
}

TEST_CASE("seeded random values repeat for a seed and differ across seeds") {
    Generator g1(42), g2(42), g3(43);
    const Array a = uniform({100}, -1, 1, f32, g1), b = uniform({100}, -1, 1, f32, g2),
                c = uniform({100}, -1, 1, f32, g3);
    CHECK(a.get<float>() == b.get<float>());
    CHECK(a.get<float>() != c.get<float>());
    CHECK(xt::amax(a.get<float>())() <= 1.0f);
    CHECK(xt::amin(a.get<float>())() >= -1.0f);
    const Array n = normal({20000}, 1.0, 2.0, f64, g1);
    CHECK(xt::mean(n.get<double>())() == doctest::Approx(1.0).epsilon(0.05));
    CHECK(xt::stddev(n.get<double>())() == doctest::Approx(2.0).epsilon(0.05));
}

TEST_CASE("basis holds one unit tensor per row") {
    const Array e = Array::basis({2, 2}, f32);
    CHECK(e.shape() == Shape{4, 2, 2});
    CHECK((kernels::sum_to(e, {}).item() == 4));
    CHECK(e.flat(0) == 1);
    CHECK(e.flat(5) == 1);
}

TEST_CASE("slice, pad, concat and index kernels") {
    const Array x(xt::xarray<double>{{1, 2, 3}, {4, 5, 6}});
    CHECK((kernels::slice(x, 1, 1, 3).get<double>() == xt::xarray<double>{{2, 3}, {5, 6}}));
    CHECK((kernels::pad(Array(column({7.0, 8.0})), 1, 1, 3).get<double>() == xt::xarray<double>{{0, 7, 0}, {0, 8, 0}}));
    CHECK((kernels::concat({x, x}, 0).shape() == Shape{4, 3}));
    CHECK(
        (kernels::index_select(x, 0, {1, 1, 0}).get<double>() == xt::xarray<double>{{4, 5, 6}, {4, 5, 6}, {1, 2, 3}}));
    CHECK((kernels::index_add(Array(column({1.0, 2.0, 3.0})), 0, {1, 1, 0}, 2).get<double>() == column({3.0, 3.0})));
}

TEST_CASE("Tensor::from fills a shape from values and checks the count") {
    const Tensor t = Tensor::from(std::vector<double>{1, 2, 3, 4, 5, 6}, {3, 2, 1}, f64);
    CHECK(t.shape() == Shape{3, 2, 1});
    CHECK(t.value().flat(5) == 6.0);
    CHECK_THROWS_WITH_AS(Tensor::from(std::vector<double>{1, 2}, {3}),
                         doctest::Contains("2 values do not fill shape (3)"), shape_error);
}

TEST_CASE("uniform and normal refuse parameters that are not finite numbers of the dtype") {
    const double inf = std::numeric_limits<double>::infinity();
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const std::string f32_range = "float32's range (±3.4028235e+38)";
    const std::string f64_range = "float64's range (±1.7976931348623157e+308)";
    const std::string u_needs = "U(lo, hi) needs finite lo < hi within ";
    const std::string n_needs = "N(mean, std²) needs a finite mean and std > 0 within ";
    Generator gen(21);
    auto uniform_error = [&](double lo, double hi, Dtype d) {
        try {
            Tensor::uniform({4}, lo, hi, gen, d);
        } catch (const value_error& e) {
            return std::string(e.what());
        }
        return std::string("nothing thrown");
    };
    auto normal_error = [&](double mean, double std, Dtype d) {
        try {
            Tensor::normal({4}, mean, std, gen, d);
        } catch (const value_error& e) {
            return std::string(e.what());
        }
        return std::string("nothing thrown");
    };

    CHECK(uniform_error(-inf, inf, f32) == "uniform: lo = -inf is not a finite float32; " + u_needs + f32_range);
    CHECK(uniform_error(-inf, inf, f64) == "uniform: lo = -inf is not a finite float64; " + u_needs + f64_range);
    CHECK(uniform_error(0, nan, f32) == "uniform: hi = nan is not a finite float32; " + u_needs + f32_range);
    CHECK(uniform_error(0, inf, f64) == "uniform: hi = inf is not a finite float64; " + u_needs + f64_range);
    // Finite doubles that float32 cannot hold would be inf once cast, and every value drawn nan.
    CHECK(uniform_error(-1e300, 1e300, f32) == "uniform: lo = -1e+300 is not a finite float32; " + u_needs + f32_range);
    // Bounds each within range whose width is not: lo + u (hi - lo) would be inf or nan.
    CHECK(uniform_error(-3e38, 3e38, f32) == "uniform: the interval [-3e+38, 3e+38) is 6e+38 wide, beyond " +
                                                 f32_range +
                                                 "; pass a narrower interval (hi - lo at most 3.4028235e+38)");
    CHECK(uniform_error(-1e308, 1e308, f64) ==
          "uniform: the interval [-1e+308, 1e+308) is inf wide, beyond " + f64_range +
              "; pass a narrower interval (hi - lo at most 1.7976931348623157e+308)");
    CHECK(uniform_error(1, 1, f64) == "uniform: the interval [1, 1) is empty; pass lo < hi");

    CHECK(normal_error(inf, 1, f32) == "normal: mean = inf is not a finite float32; " + n_needs + f32_range);
    CHECK(normal_error(0, inf, f64) == "normal: std = inf is not a finite float64; " + n_needs + f64_range);
    CHECK(normal_error(0, nan, f64) == "normal: std = nan is not a finite float64; " + n_needs + f64_range);
    CHECK(normal_error(1e39, 1, f32) == "normal: mean = 1e+39 is not a finite float32; " + n_needs + f32_range);
    CHECK(normal_error(0, 0, f32) == "normal: std must be > 0 (got 0)");

    // What float64 holds it draws, finite and inside the interval.
    for (const auto& t : {Tensor::uniform({64}, -1e300, 1e300, gen, f64), Tensor::uniform({64}, -3e38, 3e38, gen, f64),
                          Tensor::uniform({64}, -1e38, 1e38, gen, f32), Tensor::normal({64}, 1e300, 1e299, gen, f64),
                          Tensor::normal({64}, -1e30, 1e29, gen, f32)}) {
        for (std::size_t i = 0; i < t.size(); ++i) CHECK(std::isfinite(t.value().flat(i)));
    }
    const Tensor wide = Tensor::uniform({64}, -1e300, 1e300, gen, f64);
    for (std::size_t i = 0; i < wide.size(); ++i) {
        CHECK(wide.value().flat(i) >= -1e300);
        CHECK(wide.value().flat(i) < 1e300);
    }
}

TEST_CASE("full, scalar and from refuse a finite value the dtype cannot hold, and give inf when asked for it") {
    const double inf = std::numeric_limits<double>::infinity();
    const std::string beyond = " is beyond float32's range (±3.4028235e+38) and would become ";
    const std::string remedy = "; pass a value within it (or inf itself if that is meant), or use float64";
    CHECK_THROWS_WITH_AS(Tensor::full({2}, 1e300), ("Tensor::full: value = 1e+300" + beyond + "inf" + remedy).c_str(),
                         value_error);
    CHECK_THROWS_WITH_AS(Tensor::full({2}, -1e39, f32),
                         ("Tensor::full: value = -1e+39" + beyond + "-inf" + remedy).c_str(), value_error);
    CHECK_THROWS_WITH_AS(Tensor::scalar(4e38), ("Tensor::scalar: value = 4e+38" + beyond + "inf" + remedy).c_str(),
                         value_error);
    CHECK_THROWS_WITH_AS(Tensor::from({1.0, 2.0, 1e300}),
                         ("Tensor::from: element 2 = 1e+300" + beyond + "inf" + remedy).c_str(), value_error);
    CHECK_THROWS_WITH_AS(Tensor::from({{1.0, 2.0}, {3.0, -1e39}}),
                         ("Tensor::from: element 3 = -1e+39" + beyond + "-inf" + remedy).c_str(), value_error);
    CHECK_THROWS_WITH_AS(Tensor::from(std::vector<double>{1e40, 0.0}, {2}),
                         ("Tensor::from: element 0 = 1e+40" + beyond + "inf" + remedy).c_str(), value_error);

    // float64 holds them; float32 holds its own largest value; inf and nan asked for are given.
    CHECK(Tensor::full({2}, 1e300, f64).value().flat(1) == 1e300);
    CHECK(Tensor::scalar(-1e300, f64).item() == -1e300);
    CHECK(Tensor::from({1.0, 1e300}, f64).value().flat(1) == 1e300);
    CHECK(Tensor::from({{1e300, -1e300}}, f64).value().flat(1) == -1e300);
    const double flt_max = std::numeric_limits<float>::max();
    CHECK(Tensor::full({2}, flt_max).value().flat(0) == flt_max);
    CHECK(Tensor::full({2}, -inf).value().flat(0) == -inf);
    CHECK(Tensor::scalar(inf).item() == inf);
    CHECK(std::isnan(Tensor::full({2}, std::nan("")).value().flat(1)));
    CHECK(Tensor::from({inf, 1.0}).value().flat(0) == inf);
}

TEST_CASE("a double that rounds to float32's largest value is storable and the first that rounds to inf is not") {
    const double flt_max = std::numeric_limits<float>::max();
    // Halfway to the next power of two the tie rounds to even, which is inf: the first double that becomes inf.
    const double first_inf = std::ldexp(1.0, 128) - std::ldexp(1.0, 103);
    REQUIRE(std::isinf(static_cast<float>(first_inf)));
    const double last_finite = std::nextafter(first_inf, 0.0);
    REQUIRE(static_cast<float>(last_finite) == std::numeric_limits<float>::max());
    Generator gen(21);
    for (const double v : {flt_max, 3.4028235e38, flt_max * (1 + 1e-8), last_finite}) {
        CAPTURE(v);
        CHECK(Tensor::full({1}, v).value().flat(0) == flt_max);
        CHECK(Tensor::full({1}, -v).value().flat(0) == -flt_max);
        CHECK(Tensor::scalar(v).item() == flt_max);
        CHECK(Tensor::from({1.0, v}).value().flat(1) == flt_max);
        const Tensor u = Tensor::uniform({64}, -v, 0, gen);
        for (std::size_t i = 0; i < u.size(); ++i) CHECK(std::isfinite(u.value().flat(i)));
    }
    CHECK_THROWS_WITH_AS(Tensor::full({1}, first_inf),
                         doctest::Contains("Tensor::full: value = 3.4028235677973366e+38 is beyond float32's range"),
                         value_error);
    CHECK_THROWS_WITH_AS(Tensor::uniform({1}, -first_inf, 0, gen),
                         doctest::Contains("uniform: lo = -3.4028235677973366e+38 is not a finite float32"),
                         value_error);
}

TEST_CASE("uniform never draws hi, and refuses an interval that is empty once rounded to the dtype") {
    Generator gen(21);
    struct Case {
        double lo, hi;
        Dtype dtype;
    };
    // Intervals only a few units in the last place wide, where lo + u (hi - lo) rounds up to hi often.
    for (const Case c : {Case{1e8, 1e8 + 64, f32}, Case{16777216, 16777218, f32}, Case{1e16, 1e16 + 4, f64}}) {
        CAPTURE(c.lo);
        CAPTURE(c.hi);
        const Tensor t = Tensor::uniform({100000}, c.lo, c.hi, gen, c.dtype);
        const double hi_stored = c.dtype == f32 ? static_cast<float>(c.hi) : c.hi;
        std::size_t at_hi = 0, below_lo = 0;
        for (std::size_t i = 0; i < t.size(); ++i) {
            at_hi += t.value().flat(i) >= hi_stored;
            below_lo += t.value().flat(i) < c.lo;
        }
        CHECK(at_hi == 0);
        CHECK(below_lo == 0);
    }
    // 1e16 and 1e16 + 4 are the same float32: nothing lies between them.
    CHECK_THROWS_WITH_AS(Tensor::uniform({4}, 1e16, 1e16 + 4, gen, f32),
                         "uniform: the interval [1e+16, 10000000000000004) is empty in float32, where lo and hi both "
                         "round to 10000000272564224; pass ends further apart, or use float64",
                         value_error);
}

TEST_CASE("normal refuses a mean and std whose draws could pass the dtype's range") {
    Generator gen(21);
    CHECK_THROWS_WITH_AS(Tensor::normal({1000}, 0, 3e38, gen, f32),
                         "normal: mean = 0 and std = 3e+38 would draw values beyond float32's range "
                         "(±3.4028235e+38), which become inf; keep |mean| + 40 std within it, or use float64",
                         value_error);
    const double dbl_max = std::numeric_limits<double>::max();
    CHECK_THROWS_WITH_AS(Tensor::normal({1000}, 0, dbl_max, gen, f64),
                         "normal: mean = 0 and std = 1.7976931348623157e+308 would draw values beyond float64's "
                         "range (±1.7976931348623157e+308), which become inf; keep |mean| + 40 std within it",
                         value_error);
    CHECK_THROWS_AS(Tensor::normal({4}, -3e38, 1e37, gen, f32), value_error);
    // Within the bound every draw is finite.
    for (const auto& t : {Tensor::normal({1000}, 0, 8e36, gen, f32), Tensor::normal({1000}, 1e307, 4e305, gen, f64)}) {
        for (std::size_t i = 0; i < t.size(); ++i) CHECK(std::isfinite(t.value().flat(i)));
    }
}
