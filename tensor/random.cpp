#include <adgraph/tensor/random.hpp>

#include <xtensor/xnoalias.hpp>
#include <xtensor/xrandom.hpp>

#include <adgraph/tensor/dtype_range.hpp>

namespace adg {

namespace {

// The array is allocated first and the numbers drawn into it: xtensor's random generators allocate inside a
// noexcept function, where a failed allocation would terminate the process instead of raising.
template <class T, class Make>
Array draw_into(const Shape& shape, const char* op, Make&& make) {
    xt::xarray<T> r = new_xarray<T>(shape, op);
    xt::noalias(r) = make(T{});
    return Array(std::move(r));
}

template <class Make>
Array draw(const Shape& shape, Dtype dtype, const char* op, Make&& make) {
    if (dtype == Dtype::f32) return draw_into<float>(shape, op, make);
    return draw_into<double>(shape, op, make);
}

// A distribution's parameter must be a finite number of the dtype drawn in: inf, nan or a double beyond
// float32's range would make every value drawn inf or nan.
void check_parameter(double v, Dtype dtype, const char* op, const char* name, const char* needs) {
    if (finite_in(v, dtype)) return;
    throw value_error(std::string(op) + ": " + name + " = " + number_str(v) + " is not a finite " +
                      dtype_name(dtype) + "; " + needs + " within " + range_str(dtype));
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
    // The values are drawn as lo + u (hi - lo) in the dtype: a width it cannot hold makes them inf or nan.
    if (!finite_in(hi - lo, dtype)) {
        throw value_error("uniform: the interval [" + number_str(lo) + ", " + number_str(hi) + ") is " +
                          number_str(hi - lo) + " wide, beyond " + range_str(dtype) +
                          "; pass a narrower interval (hi - lo at most " + max_finite_str(dtype) + ")");
    }
    return draw(shape, dtype, "uniform", [&](auto t) {
        using T = decltype(t);
        return xt::random::rand<T>(shape, static_cast<T>(lo), static_cast<T>(hi), gen.engine());
    });
}

Array normal(const Shape& shape, double mean, double std, Dtype dtype, Generator& gen) {
    const char* needs = "N(mean, std²) needs a finite mean and std > 0";
    check_parameter(mean, dtype, "normal", "mean", needs);
    check_parameter(std, dtype, "normal", "std", needs);
    if (!(std > 0)) throw value_error("normal: std must be > 0 (got " + number_str(std) + ")");
    return draw(shape, dtype, "normal", [&](auto t) {
        using T = decltype(t);
        return xt::random::randn<T>(shape, static_cast<T>(mean), static_cast<T>(std), gen.engine());
    });
}

}  // namespace adg
