#pragma once
// Comparing tensors in tests: bitwise (results promised identical) and to a relative tolerance.

#include <doctest/doctest.h>

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

/// Checks a and b have one shape and elements equal to relative tolerance `tol` (absolute near 0).
inline void check_close(const Tensor& a, const Tensor& b, double tol = 1e-12) {
    REQUIRE(a.shape() == b.shape());
    for (std::size_t i = 0; i < a.size(); ++i) {
        CAPTURE(i);
        CHECK(a.value().flat(i) == doctest::Approx(b.value().flat(i)).epsilon(tol).scale(1.0));
    }
}

}  // namespace adg::testing
