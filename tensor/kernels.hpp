#pragma once
/// \file Array-level shape and reduction kernels. Each works on the trailing axes it is given and keeps any
/// leading axes, so the same kernel serves a primal value and a batch of k tangents.

#include <vector>

#include <adgraph/tensor/array.hpp>

namespace adg::kernels {

/// `x` with its axes permuted by `perm` (a permutation of 0..dim-1), copied row-major.
Array permute(const Array& x, const std::vector<std::size_t>& perm);

/// `x` broadcast (numpy rules) to `shape`, materialised.
Array broadcast_to(const Array& x, const Shape& shape);

/// Sums `x` down to `shape`, the reverse of broadcast_to: leading axes and axes where `shape` has 1 are summed.
Array sum_to(const Array& x, const Shape& shape);

/// Maximum over `axes` (sorted positions) with kept dims; errors name `op`.
Array max_keepdims(const Array& x, const std::vector<std::size_t>& axes, const char* op = "max");

/// Elements `start..stop-1` along `axis`.
Array slice(const Array& x, std::size_t axis, std::size_t start, std::size_t stop);

/// `x` placed at `start` along `axis` of a zero array whose size along that axis is `total`.
Array pad(const Array& x, std::size_t axis, std::size_t start, std::size_t total);

/// Adds `part` into the elements `start..start + part.shape()[axis] - 1` along `axis` of `acc`, in place: the
/// values of acc + pad(part, axis, start, acc.shape()[axis]) (IEEE addition commutes; outside the block acc keeps
/// its elements, where the padded sum would turn a −0 into +0). Returns false, touching nothing, if the dtypes
/// differ or the shapes do not fit (equal ranks, equal sizes off `axis`, the block inside acc).
bool add_into_slice(Array& acc, const Array& part, std::size_t axis, std::size_t start);

/// Joins `xs` along `axis`; all other axes must match (throws shape_error naming `op`).
Array concat(const std::vector<Array>& xs, std::size_t axis, const char* op = "concat");

/// Entries `index` along `axis` (an index may repeat).
Array index_select(const Array& x, std::size_t axis, const std::vector<std::size_t>& index);

/// Zero array with `size` entries along `axis`; entry j of `x` along `axis` is added at `index[j]`.
Array index_add(const Array& x, std::size_t axis, const std::vector<std::size_t>& index, std::size_t size);

}  // namespace adg::kernels
