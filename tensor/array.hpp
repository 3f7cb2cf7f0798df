#pragma once
/// \file Array: a dense float32 or float64 value on xt::xarray, shared cheaply between handles.

#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <type_traits>
#include <utility>
#include <variant>

// xt::xarray's allocator, and so its type, depends on XTENSOR_USE_XSIMD; the library is built with it, so every
// user must be too (the adgraph::adgraph CMake target sets it).
#ifndef XTENSOR_USE_XSIMD
#error \
    "adgraph is built with XTENSOR_USE_XSIMD: define it (link the CMake target adgraph::adgraph, or add -DXTENSOR_USE_XSIMD)"
#endif
// Likewise its allocator: adgraph's (which reuses freed buffers) must be chosen before xtensor's headers are read.
#include <adgraph/tensor/buffer_allocator.hpp>
#include <xtensor/xarray.hpp>
static_assert(std::is_same_v<xt::xarray<float>::allocator_type, adg::BufferAllocator<float>>,
              "adgraph's arrays use adg::BufferAllocator, but xt::xarray has another allocator (an xtensor header was "
              "read first, or XTENSOR_DEFAULT_ALLOCATOR is set elsewhere): link the CMake target adgraph::adgraph "
              "(it force-includes the header), or include <adgraph/tensor/buffer_allocator.hpp> before any xtensor "
              "header (e.g. -include adgraph/tensor/buffer_allocator.hpp)");

#include <adgraph/tensor/dtype.hpp>
#include <adgraph/tensor/error.hpp>
#include <adgraph/tensor/shape.hpp>
#include <adgraph/tensor/size.hpp>

namespace adg {

/// A dense row-major array of float or double. Copying an Array shares the buffer (like a handle);
/// values recorded in a graph are never modified in place, so sharing is safe there.
class Array {
public:
    /// A float32 scalar 0.
    Array();
    /// Adopts `a` without copying its buffer.
    explicit Array(xt::xarray<float> a);
    /// Adopts `a` without copying its buffer.
    explicit Array(xt::xarray<double> a);

    /// An array of `shape` whose elements are not initialised (callers fill every element); its size is checked
    /// (checked_bytes) and an allocation failure raised as value_error, both naming `op`.
    static Array empty(const Shape& shape, Dtype dtype, const char* op = "Array::empty");
    /// An array of `shape` filled with `value` (sizes checked as for empty).
    static Array full(const Shape& shape, double value, Dtype dtype, const char* op = "Array::full");
    /// An array of `shape` filled with 0 (sizes checked as for empty).
    static Array zeros(const Shape& shape, Dtype dtype, const char* op = "Array::zeros") {
        return full(shape, 0.0, dtype, op);
    }
    /// A 0-d array holding `value`.
    static Array scalar(double value, Dtype dtype) { return full(Shape{}, value, dtype); }
    /// The batch of n basis directions: shape (n, shape...), row i is the i-th unit tensor.
    static Array basis(const Shape& shape, Dtype dtype);

    /// Element type.
    Dtype dtype() const { return static_cast<Dtype>(data_.index()); }
    /// Shape.
    const Shape& shape() const;
    /// Number of axes.
    std::size_t dim() const { return shape().size(); }
    /// Number of elements.
    std::size_t size() const;

    /// The xtensor array; throws dtype_error if T is not this array's element type.
    template <class T>
    const xt::xarray<T>& get() const {
        check_dtype(dtype_of<T>());
        return *std::get<std::shared_ptr<xt::xarray<T>>>(data_);
    }
    /// Mutable access to the xtensor array (visible through every Array sharing this buffer).
    template <class T>
    xt::xarray<T>& get_mut() {
        check_dtype(dtype_of<T>());
        return *std::get<std::shared_ptr<xt::xarray<T>>>(data_);
    }
    /// Calls `f(const xt::xarray<T>&)` with the array's concrete type.
    template <class F>
    decltype(auto) visit(F&& f) const {
        return std::visit([&](const auto& p) -> decltype(auto) { return f(std::as_const(*p)); }, data_);
    }
    /// Calls `f(xt::xarray<T>&)` with the array's concrete type (mutation is seen by every sharer).
    template <class F>
    decltype(auto) visit_mut(F&& f) {
        return std::visit([&](auto& p) -> decltype(auto) { return f(*p); }, data_);
    }

    /// The only element as double; throws shape_error if the array does not hold exactly one element.
    double item() const;
    /// Element `i` of the flattened array as double.
    double flat(std::size_t i) const;
    /// A converted copy (a shared handle if the dtype already matches).
    Array to(Dtype d) const;
    /// A deep copy with its own buffer.
    Array clone() const;
    /// The same elements under `shape` (equal numel); reuses the buffer when this handle is the only owner.
    Array reshaped(const Shape& shape) &&;
    /// The same elements under `shape` (equal numel), copied.
    Array reshaped(const Shape& shape) const&;
    /// True if no other Array shares this buffer.
    bool unique() const;
    /// True if both handles share one buffer.
    bool same_buffer(const Array& other) const;
    /// Throws dtype_error naming `op` unless `dtype() == d`.
    void check_dtype(Dtype d, const char* op = "Array::get") const;

private:
    template <class T>
    explicit Array(std::shared_ptr<xt::xarray<T>> p) : data_(std::move(p)) {}

    std::variant<std::shared_ptr<xt::xarray<float>>, std::shared_ptr<xt::xarray<double>>> data_;
};

/// Number of array buffers alive in the process (values, gradients, saved and temporary arrays); tests check that
/// graphs, sweeps and training steps give them all back.
long live_buffer_count();

/// The SIMD instruction set adgraph's elementwise kernels were compiled for, as xsimd names it ("sse2", "avx2",
/// "fma3<avx2>", ...): the portable build uses SSE2; configure with -DADGRAPH_ARCH=native for the CPU's own.
const char* simd_arch();

/// Throws dtype_error naming `op` and both dtypes unless `a` and `b` have the same dtype.
void check_same_dtype(const Array& a, const Array& b, const char* op);

/// Prints the values (xtensor formatting).
std::ostream& operator<<(std::ostream& os, const Array& a);

}  // namespace adg
