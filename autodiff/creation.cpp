// arange, linspace, eye and the *_like family: constants computed in double and stored in the requested dtype.

#include <adgraph/autodiff/creation.hpp>

#include <cmath>

#include <adgraph/tensor/dtype_range.hpp>

namespace adg {

namespace {

// A 1-D tensor of n values value(i), computed in double.
template <class F>
Tensor filled(std::size_t n, Dtype dtype, const char* op, F&& value) {
    Array a = Array::empty({n}, dtype, op);
    a.visit_mut([&](auto& v) {
        using T = typename std::decay_t<decltype(v)>::value_type;
        for (std::size_t i = 0; i < n; ++i) v.data()[i] = static_cast<T>(value(i));
    });
    return Tensor(std::move(a));
}

}  // namespace

Tensor arange(double end, Dtype dtype, Site site) { return arange(0.0, end, 1.0, dtype, site); }

Tensor arange(double start, double end, double step, Dtype dtype, Site site) {
    CallSite call(site);
    if (!std::isfinite(start) || !std::isfinite(end) || !std::isfinite(step) || step == 0.0) {
        throw value_error("arange: start " + number_str(start) + ", end " + number_str(end) + " and step " +
                          number_str(step) + " must be finite, with a non-zero step");
    }
    if ((end - start) * step < 0.0) {
        throw value_error("arange: a step of " + number_str(step) + " never reaches end " + number_str(end) +
                          " from start " + number_str(start) + "; give the step the sign of end - start");
    }
    check_storable(start, dtype, "arange", "start");
    check_storable(end, dtype, "arange", "end");
    const double count = std::ceil((end - start) / step);
    // Far more values than memory holds: the allocation then refuses the size, without an overflowing cast here.
    const std::size_t n = count < 0x1p62 ? static_cast<std::size_t>(count) : std::size_t{1} << 62;
    return filled(n, dtype, "arange", [&](std::size_t i) { return start + static_cast<double>(i) * step; });
}

Tensor linspace(double start, double end, std::size_t steps, Dtype dtype, Site site) {
    CallSite call(site);
    check_storable(start, dtype, "linspace", "start");
    check_storable(end, dtype, "linspace", "end");
    const double step = steps > 1 ? (end - start) / static_cast<double>(steps - 1) : 0.0;
    return filled(steps, dtype, "linspace", [&](std::size_t i) {
        return i < steps / 2 || steps == 1 ? start + static_cast<double>(i) * step
                                           : end - static_cast<double>(steps - 1 - i) * step;
    });
}

Tensor eye(std::size_t n, Dtype dtype, Site site) { return eye(n, n, dtype, site); }

Tensor eye(std::size_t n, std::size_t m, Dtype dtype, Site site) {
    CallSite call(site);
    Array a = Array::zeros({n, m}, dtype, "eye");
    a.visit_mut([&](auto& v) {
        for (std::size_t i = 0; i < std::min(n, m); ++i) v.data()[i * m + i] = 1;
    });
    return Tensor(std::move(a));
}

Tensor full_like(const Tensor& x, double value, Site site) {
    CallSite call(site);
    return Tensor::full(x.shape(), value, x.dtype());
}

Tensor rand_like(const Tensor& x, Generator& gen, Site site) { return uniform_like(x, 0.0, 1.0, gen, site); }

Tensor randn_like(const Tensor& x, Generator& gen, Site site) { return normal_like(x, 0.0, 1.0, gen, site); }

Tensor uniform_like(const Tensor& x, double lo, double hi, Generator& gen, Site site) {
    CallSite call(site);
    return Tensor::uniform(x.shape(), lo, hi, gen, x.dtype());
}

Tensor normal_like(const Tensor& x, double mean, double std, Generator& gen, Site site) {
    CallSite call(site);
    return Tensor::normal(x.shape(), mean, std, gen, x.dtype());
}

}  // namespace adg
