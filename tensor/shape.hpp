#pragma once
/// \file Shapes, axes and numpy broadcasting rules.

#include <cstddef>
#include <string>
#include <vector>

#include <xtensor/xstorage.hpp>

namespace adg {

/// A tensor shape; the same type xt::xarray uses, so shapes pass to xtensor without conversion.
using Shape = xt::svector<std::size_t, 4>;

/// Axes given by the user: negative values count from the end, as in numpy.
using Axes = std::vector<long>;

/// Number of elements of `s` (1 for the scalar shape `{}`).
std::size_t numel(const Shape& s);

/// "(2,3)"; "()" for a scalar.
std::string shape_str(const Shape& s);

/// The numpy broadcast of `a` and `b`; throws shape_error naming `op` when they do not broadcast.
Shape broadcast_shape(const Shape& a, const Shape& b, const char* op = "broadcast");

/// True when `from` broadcasts to exactly `to` (numpy rules, right-aligned).
bool broadcasts_to(const Shape& from, const Shape& to);

/// The valid indices of a dimension of size `n` for a message: "valid: 0..n-1", or "none is valid: the size is 0"
/// (where 0..n-1 would wrap around to 0..18446744073709551615).
std::string index_range_str(std::size_t n);

/// `axis` (may be negative) as a position in `0..rank-1`; throws value_error naming `op` if out of range.
std::size_t normalize_axis(long axis, std::size_t rank, const char* op);

/// Sorted, unique positions for `axes` in a tensor of `rank`; empty `axes` means all axes.
std::vector<std::size_t> normalize_axes(const Axes& axes, std::size_t rank, const char* op);

/// `axis` (may be negative) counted from the end (-rank..-1): ops record axes this way so they apply unchanged to
/// arrays with extra leading (direction) axes.
long negative_axis(long axis, std::size_t rank, const char* op);

/// Throws shape_error unless `from` and `to` hold the same number of elements.
void check_reshape(const Shape& from, const Shape& to);

/// Throws shape_error naming `op` unless `from` broadcasts to `to`.
void check_broadcastable(const Shape& from, const Shape& to, const char* op = "broadcast_to");

/// Throws shape_error unless `from` can be summed down to `to` (`to` broadcasts to `from`).
void check_summable(const Shape& from, const Shape& to);

/// `s` with the axes listed in `axes` set to 1 (a keepdims reduction shape).
Shape reduced_shape(const Shape& s, const std::vector<std::size_t>& axes);

/// `s` with the axes listed in `axes` removed.
Shape squeezed_shape(const Shape& s, const std::vector<std::size_t>& axes);

/// `lead` followed by `core`.
Shape concat_shapes(const Shape& lead, const Shape& core);

/// `s` prefixed by one leading axis of size `k` (a batch of k directions).
Shape batched_shape(std::size_t k, const Shape& s);

}  // namespace adg
