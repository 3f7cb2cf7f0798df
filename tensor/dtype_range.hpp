#pragma once
/// \file The range of values each dtype holds, and the check that a double given for a tensor fits it.

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>

#include <adgraph/tensor/dtype.hpp>
#include <adgraph/tensor/error.hpp>

namespace adg {

/// The largest finite value of `dtype` (FLT_MAX or DBL_MAX).
inline double max_finite(Dtype dtype) {
    return dtype == Dtype::f32 ? static_cast<double>(std::numeric_limits<float>::max())
                               : std::numeric_limits<double>::max();
}

/// The smallest magnitude a double rounds from to inf when stored in `dtype`: halfway between the largest finite
/// value and the next power of two (the tie rounds to even, which is inf). For float32 that is 2^128 - 2^103; a
/// double beyond FLT_MAX but below it (3.4028235e38, say) is stored as FLT_MAX. For float64, inf itself.
inline double overflow_threshold(Dtype dtype) {
    return dtype == Dtype::f32 ? std::ldexp(1.0, 128) - std::ldexp(1.0, 103) : std::numeric_limits<double>::infinity();
}

/// True if `v` is finite and stays finite when stored in `dtype` (rounded to its nearest value).
inline bool finite_in(double v, Dtype dtype) { return std::isfinite(v) && std::fabs(v) < overflow_threshold(dtype); }

/// The largest finite value of `dtype` as the shortest text that reads back as it in that dtype:
/// "3.4028235e+38", "1.7976931348623157e+308".
inline std::string max_finite_str(Dtype dtype) {
    if (dtype == Dtype::f64) return number_str(max_finite(dtype));
    char buf[32];
    for (int digits = 1; digits <= 9; ++digits) {
        std::snprintf(buf, sizeof buf, "%.*g", digits, max_finite(dtype));
        if (std::strtof(buf, nullptr) == std::numeric_limits<float>::max()) break;
    }
    return buf;
}

/// "float32's range (±3.4028235e+38)", for messages.
inline std::string range_str(Dtype dtype) {
    return std::string(dtype_name(dtype)) + "'s range (±" + max_finite_str(dtype) + ")";
}

/// Throws value_error if `v` is a finite double that `dtype` cannot hold, so storing it would silently make it
/// ±inf; inf and nan themselves pass (a caller asking for inf gets inf). `name` says which value, e.g. "value"
/// or "element 3": "Tensor::full: value = 1e+300 is beyond float32's range (±3.4028235e+38) ...".
inline void check_storable(double v, Dtype dtype, const char* op, const std::string& name) {
    if (!std::isfinite(v) || finite_in(v, dtype)) return;
    throw value_error(std::string(op) + ": " + name + " = " + number_str(v) + " is beyond " + range_str(dtype) +
                      " and would become " + (v < 0 ? "-inf" : "inf") +
                      "; pass a value within it (or inf itself if that is meant), or use float64");
}

}  // namespace adg
