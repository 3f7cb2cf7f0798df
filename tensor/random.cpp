#include <adgraph/tensor/random.hpp>

#include <xtensor/xrandom.hpp>

namespace adg {

namespace {

template <class Make>
Array draw(Dtype dtype, Make&& make) {
    if (dtype == Dtype::f32) return Array(xt::xarray<float>(make(float{})));
    return Array(xt::xarray<double>(make(double{})));
}

}  // namespace

Array uniform(const Shape& shape, double lo, double hi, Dtype dtype, Generator& gen) {
    if (!(lo < hi)) {
        throw value_error("uniform: the interval [" + number_str(lo) + ", " + number_str(hi) +
                          ") is empty; pass lo < hi");
    }
    return draw(dtype, [&](auto t) {
        using T = decltype(t);
        return xt::random::rand<T>(shape, static_cast<T>(lo), static_cast<T>(hi), gen.engine());
    });
}

Array normal(const Shape& shape, double mean, double std, Dtype dtype, Generator& gen) {
    if (!(std > 0)) throw value_error("normal: std must be > 0 (got " + number_str(std) + ")");
    return draw(dtype, [&](auto t) {
        using T = decltype(t);
        return xt::random::randn<T>(shape, static_cast<T>(mean), static_cast<T>(std), gen.engine());
    });
}

}  // namespace adg
