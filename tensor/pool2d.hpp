#pragma once
/// \file Array kernels of 2-D pooling over the last two axes (H, W). Every axis in front of them is a plane: (N, C)
/// of an image batch, and any leading axis of k directions in front of that, so one kernel serves a value and a
/// batch of tangents. (Not to be confused with tensor/pool.hpp, the small-block memory pool.)

#include <memory>
#include <vector>

#include <adgraph/tensor/array.hpp>

namespace adg::kernels {

/// The geometry of one pooling: kernel, stride and padding per axis, the input's (H, W) and the output's (Ho, Wo).
struct Pool2d {
    /// Kernel height and width.
    std::size_t kh = 1, kw = 1;
    /// Stride along H and W.
    std::size_t sh = 1, sw = 1;
    /// Padding on each side along H and W.
    std::size_t ph = 0, pw = 0;
    /// Input height and width.
    std::size_t h = 1, w = 1;
    /// Output height and width: (h + 2·ph − kh) / sh + 1, likewise for w.
    std::size_t oh = 1, ow = 1;
};

/// Per output element of a max pool, the flat position (row·W + column) of its window's maximum in its input plane
/// (8 bytes each, as PyTorch's int64 indices: any plane an array can hold fits).
using Argmax = std::vector<std::size_t>;

/// Maximum over each window of x (planes..., H, W) → (planes..., Ho, Wo); padding counts as −∞, the first maximum in
/// row-major window order wins ties, a NaN wins over any number. Fills `argmax` (one entry per output element).
Array max_pool2d(const Array& x, const Pool2d& g, Argmax& argmax);

/// y[p, o] = x[p, argmax[p mod P, o]] with P the planes `argmax` was made for: the max pool's linear part, applied
/// to x (lead..., P planes, H, W) → (lead..., P planes, Ho, Wo).
Array pool_gather(const Array& x, const Pool2d& g, const Argmax& argmax);

/// The transpose of pool_gather: zeros of (lead..., P planes, H, W) with y[p, o] added at argmax[p mod P, o].
Array pool_scatter(const Array& y, const Pool2d& g, const Argmax& argmax);

/// Mean over each window of x (planes..., H, W) → (planes..., Ho, Wo), padded zeros counted (divisor kh·kw).
Array avg_pool2d(const Array& x, const Pool2d& g);

/// The transpose of avg_pool2d: (planes..., Ho, Wo) → (planes..., H, W), each output spread as 1/(kh·kw) over its
/// window (the padded part dropped).
Array avg_pool2d_transpose(const Array& y, const Pool2d& g);

}  // namespace adg::kernels
