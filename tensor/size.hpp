#pragma once
/// \file Checked sizes: the one place where a new array's element and byte counts are computed, so no allocation
/// can wrap around or ask for more than an address space holds, and an allocation failure is a typed error.

#include <cstddef>
#include <new>

#include <adgraph/tensor/buffer_allocator.hpp>  // before xtensor: it chooses xt::xarray's allocator
#include <xtensor/xarray.hpp>

#include <adgraph/tensor/dtype.hpp>
#include <adgraph/tensor/shape.hpp>

namespace adg {

/// The most bytes one array may hold: what a pointer difference can span (PTRDIFF_MAX). Larger requests cannot be
/// addressed, so they are refused before any allocation.
std::size_t max_array_bytes();

/// The bytes of an array of `shape` and `dtype`, overflow-checked; throws value_error naming `op`, the shape and
/// the byte count when they exceed max_array_bytes() (or size_t).
std::size_t checked_bytes(const Shape& shape, Dtype dtype, const char* op);

/// Throws the value_error for a failed allocation of an array of `shape` and `dtype` in `op` (out of memory).
[[noreturn]] void throw_out_of_memory(const Shape& shape, Dtype dtype, const char* op);

/// An uninitialised xt::xarray<T> of `shape` for `op`: checked_bytes first, then the allocation, whose failure
/// (std::bad_alloc) becomes the value_error of throw_out_of_memory. Every array adgraph creates comes from here.
template <class T>
xt::xarray<T> new_xarray(const Shape& shape, const char* op) {
    checked_bytes(shape, dtype_of<T>(), op);
    try {
        return xt::xarray<T>::from_shape(shape);
    } catch (const std::bad_alloc&) {
        throw_out_of_memory(shape, dtype_of<T>(), op);
    }
}

}  // namespace adg
