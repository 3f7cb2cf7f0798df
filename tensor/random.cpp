#include <adgraph/tensor/random.hpp>

#include <xtensor/xnoalias.hpp>
#include <xtensor/xrandom.hpp>

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

}  // namespace

Array uniform(const Shape& shape, double lo, double hi, Dtype dtype, Generator& gen) {
    if (!(lo < hi)) {
        throw value_error("uniform: the interval [" + number_str(lo) + ", " + number_str(hi) +
                          ") is empty; pass lo < hi");
    }
    return draw(shape, dtype, "uniform", [&](auto t) {
        using T = decltype(t);
        return xt::random::rand<T>(shape, static_cast<T>(lo), static_cast<T>(hi), gen.engine());
    });
}

Array normal(const Shape& shape, double mean, double std, Dtype dtype, Generator& gen) {
    if (!(std > 0)) throw value_error("normal: std must be > 0 (got " + number_str(std) + ")");
    return draw(shape, dtype, "normal", [&](auto t) {
        using T = decltype(t);
        return xt::random::randn<T>(shape, static_cast<T>(mean), static_cast<T>(std), gen.engine());
    });
}

}  // namespace adg
