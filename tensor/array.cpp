#include <adgraph/tensor/array.hpp>

#include <atomic>
#include <ostream>

#include <xsimd/xsimd.hpp>
#include <xtensor/xio.hpp>

#include <adgraph/tensor/pool.hpp>

namespace adg {

namespace {

std::atomic<long> live_buffers{0};

// An xarray that counts itself: shared_ptr's control block destroys it as this type, so the count stays exact.
template <class T>
struct Counted : xt::xarray<T> {
    explicit Counted(xt::xarray<T>&& a) : xt::xarray<T>(std::move(a)) { ++live_buffers; }
    ~Counted() { --live_buffers; }
    Counted(const Counted&) = delete;
    Counted& operator=(const Counted&) = delete;
};

template <class T>
std::shared_ptr<xt::xarray<T>> adopt(xt::xarray<T>&& a) {
    return make_pooled<Counted<T>>(std::move(a));
}

template <class T>
std::shared_ptr<xt::xarray<T>> make_shared_array(const Shape& shape, const char* op) {
    return adopt(new_xarray<T>(shape, op));
}

}  // namespace

long live_buffer_count() { return live_buffers.load(); }

const char* simd_arch() { return xsimd::default_arch::name(); }

Array::Array() : data_(adopt(xt::xarray<float>(0.0f))) {}
Array::Array(xt::xarray<float> a) : data_(adopt(std::move(a))) {}
Array::Array(xt::xarray<double> a) : data_(adopt(std::move(a))) {}

Array Array::empty(const Shape& shape, Dtype dtype, const char* op) {
    numel(shape);  // throws on a shape whose element count overflows
    if (dtype == Dtype::f32) return Array(make_shared_array<float>(shape, op));
    return Array(make_shared_array<double>(shape, op));
}

Array Array::full(const Shape& shape, double value, Dtype dtype, const char* op) {
    Array out = empty(shape, dtype, op);
    out.visit_mut([&](auto& a) { a.fill(static_cast<typename std::decay_t<decltype(a)>::value_type>(value)); });
    return out;
}

Array Array::basis(const Shape& shape, Dtype dtype) {
    const std::size_t n = numel(shape);
    Array out = zeros(batched_shape(n, shape), dtype, "Array::basis");
    out.visit_mut([&](auto& a) {
        for (std::size_t i = 0; i < n; ++i) a.data()[i * n + i] = 1;
    });
    return out;
}

const Shape& Array::shape() const {
    return visit([](const auto& a) -> const Shape& { return a.shape(); });
}

std::size_t Array::size() const {
    return visit([](const auto& a) { return a.size(); });
}

void Array::check_dtype(Dtype d, const char* op) const {
    if (dtype() != d) {
        throw dtype_error(std::string(op) + ": array holds " + dtype_name(dtype()) + " but " + dtype_name(d) +
                          " was requested; convert with cast(x, " + (d == Dtype::f32 ? "adg::f32" : "adg::f64") +
                          ") (Array::to for arrays)");
    }
}

double Array::item() const {
    if (size() != 1) {
        throw shape_error("item: the array has shape " + shape_str(shape()) +
                          " but item() needs exactly one element; reduce it first (e.g. sum)");
    }
    return flat(0);
}

double Array::flat(std::size_t i) const {
    if (i >= size()) {
        throw value_error("flat: index " + std::to_string(i) + " is out of range for " + std::to_string(size()) +
                          " elements");
    }
    return visit([&](const auto& a) { return static_cast<double>(a.data()[i]); });
}

Array Array::to(Dtype d) const {
    if (d == dtype()) return *this;
    return visit([&](const auto& a) {
        if (d == Dtype::f32) {
            auto r = new_xarray<float>(a.shape(), "cast");
            std::copy(a.data(), a.data() + a.size(), r.data());
            return Array(std::move(r));
        }
        auto r = new_xarray<double>(a.shape(), "cast");
        std::copy(a.data(), a.data() + a.size(), r.data());
        return Array(std::move(r));
    });
}

Array Array::clone() const {
    return visit([](const auto& a) {
        auto r = new_xarray<typename std::decay_t<decltype(a)>::value_type>(a.shape(), "clone");
        std::copy(a.data(), a.data() + a.size(), r.data());
        return Array(std::move(r));
    });
}

Array Array::reshaped(const Shape& shape) && {
    check_reshape(this->shape(), shape);
    if (!unique()) return static_cast<const Array&>(*this).reshaped(shape);
    visit_mut([&](auto& a) { a.reshape(shape); });
    return std::move(*this);
}

Array Array::reshaped(const Shape& shape) const& {
    check_reshape(this->shape(), shape);
    return visit([&](const auto& a) {
        using A = std::decay_t<decltype(a)>;
        A out = new_xarray<typename A::value_type>(shape, "reshape");
        std::copy(a.data(), a.data() + a.size(), out.data());
        return Array(std::move(out));
    });
}

bool Array::unique() const {
    return std::visit([](const auto& p) { return p.use_count() == 1; }, data_);
}

bool Array::same_buffer(const Array& other) const {
    return data_.index() == other.data_.index() &&
           std::visit([&](const auto& p) { return static_cast<const void*>(p.get()); }, data_) ==
               std::visit([&](const auto& p) { return static_cast<const void*>(p.get()); }, other.data_);
}

void check_same_dtype(const Array& a, const Array& b, const char* op) {
    if (a.dtype() != b.dtype()) {
        throw dtype_error(std::string(op) + ": operands have different dtypes " + dtype_name(a.dtype()) + " " +
                          shape_str(a.shape()) + " and " + dtype_name(b.dtype()) + " " + shape_str(b.shape()) +
                          "; convert one with cast(x, adg::f32) or cast(x, adg::f64)");
    }
}

std::ostream& operator<<(std::ostream& os, const Array& a) {
    a.visit([&](const auto& x) { os << x; });
    return os;
}

}  // namespace adg
