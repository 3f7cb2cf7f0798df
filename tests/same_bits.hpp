#pragma once
// Bitwise equality of two tensors (shape, dtype and every element), for tests that promise identical results.

#include <adgraph/autodiff/tensor.hpp>

namespace adg::testing {

/// True if a and b have the same shape and dtype and bitwise the same elements.
inline bool same_bits(const Tensor& a, const Tensor& b) {
    if (a.shape() != b.shape() || a.dtype() != b.dtype()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (a.value().flat(i) != b.value().flat(i)) return false;
    }
    return true;
}

}  // namespace adg::testing
