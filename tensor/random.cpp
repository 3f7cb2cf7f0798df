#include <adgraph/tensor/random.hpp>

#include <cmath>
#include <type_traits>

#include <xtensor/xnoalias.hpp>
#include <xtensor/xrandom.hpp>

#include <adgraph/tensor/dtype_range.hpp>

namespace adg {

namespace {

// The array is allocated first and the numbers drawn into it: xtensor's random generators allocate inside a
// noexcept function, where a failed allocation would terminate the process instead of raising.
struct NoFix {
    template <class T>
    void operator()(xt::xarray<T>&) const {}
};

template <class T, class Make, class Fix>
Array draw_into(const Shape& shape, const char* op, Make&& make, Fix&& fix) {
    xt::xarray<T> r = new_xarray<T>(shape, op);
    xt::noalias(r) = make(T{});
    fix(r);
    return Array(std::move(r));
}

template <class Make, class Fix = NoFix>
Array draw(const Shape& shape, Dtype dtype, const char* op, Make&& make, Fix&& fix = {}) {
    if (dtype == Dtype::f32) return draw_into<float>(shape, op, make, fix);
    return draw_into<double>(shape, op, make, fix);
}

// `v` as stored in `dtype` (rounded to its nearest value), back as a double.
double stored(double v, Dtype dtype) { return dtype == Dtype::f32 ? static_cast<double>(static_cast<float>(v)) : v; }

// A distribution's parameter must be a finite number of the dtype drawn in: inf, nan or a double beyond
// float32's range would make every value drawn inf or nan.
void check_parameter(double v, Dtype dtype, const char* op, const char* name, const char* needs) {
    if (finite_in(v, dtype)) return;
    throw value_error(std::string(op) + ": " + name + " = " + number_str(v) + " is not a finite " + dtype_name(dtype) +
                      "; " + needs + " within " + range_str(dtype));
}

}  // namespace

Array uniform(const Shape& shape, double lo, double hi, Dtype dtype, Generator& gen) {
    const char* needs = "U(lo, hi) needs finite lo < hi";
    check_parameter(lo, dtype, "uniform", "lo", needs);
    check_parameter(hi, dtype, "uniform", "hi", needs);
    if (!(lo < hi)) {
        throw value_error("uniform: the interval [" + number_str(lo) + ", " + number_str(hi) +
                          ") is empty; pass lo < hi");
    }
    // Both ends are drawn between as the dtype stores them: ends that round to one value leave nothing between.
    const double lo_t = stored(lo, dtype), hi_t = stored(hi, dtype);
    if (!(lo_t < hi_t)) {
        throw value_error("uniform: the interval [" + number_str(lo) + ", " + number_str(hi) + ") is empty in " +
                          dtype_name(dtype) + ", where lo and hi both round to " + number_str(lo_t) +
                          "; pass ends further apart" + (dtype == Dtype::f32 ? ", or use float64" : ""));
    }
    // The values are drawn as lo + u (hi - lo) in the dtype: a width it cannot hold makes them inf or nan.
    if (!finite_in(hi_t - lo_t, dtype)) {
        throw value_error("uniform: the interval [" + number_str(lo) + ", " + number_str(hi) + ") is " +
                          number_str(hi - lo) + " wide, beyond " + range_str(dtype) +
                          "; pass a narrower interval (hi - lo at most " + max_finite_str(dtype) + ")");
    }
    return draw(
        shape, dtype, "uniform",
        [&](auto t) {
            using T = decltype(t);
            return xt::random::rand<T>(shape, static_cast<T>(lo_t), static_cast<T>(hi_t), gen.engine());
        },
        // lo + u (hi - lo) can round up to hi itself; the interval is half-open, so such a draw becomes the
        // largest value below hi.
        [&](auto& r) {
            using T = typename std::decay_t<decltype(r)>::value_type;
            const T top = static_cast<T>(hi_t), below = std::nextafter(top, static_cast<T>(lo_t));
            for (T& x : r) {
                if (x >= top) x = below;
            }
        });
}

Array normal(const Shape& shape, double mean, double std, Dtype dtype, Generator& gen) {
    const char* needs = "N(mean, std²) needs a finite mean and std > 0";
    check_parameter(mean, dtype, "normal", "mean", needs);
    check_parameter(std, dtype, "normal", "std", needs);
    if (!(std > 0)) throw value_error("normal: std must be > 0 (got " + number_str(std) + ")");
    // A draw is mean + z std with z a standard normal, which never passes 40 (the tail beyond is below 1e-300,
    // and the polar method cannot reach it): within the range, no draw becomes inf.
    if (!(std::fabs(mean) + 40 * std <= max_finite(dtype))) {
        throw value_error("normal: mean = " + number_str(mean) + " and std = " + number_str(std) +
                          " would draw values beyond " + range_str(dtype) +
                          ", which become inf; keep |mean| + 40 std within it" +
                          (dtype == Dtype::f32 ? ", or use float64" : ""));
    }
    return draw(shape, dtype, "normal", [&](auto t) {
        using T = decltype(t);
        return xt::random::randn<T>(shape, static_cast<T>(mean), static_cast<T>(std), gen.engine());
    });
}

}  // namespace adg
