#pragma once
/// \file The element types adgraph computes in.

#include <string>
#include <type_traits>

namespace adg {

/// Element type of a tensor: float32 for training, float64 for checking.
enum class Dtype { f32, f64 };

/// Shorthand for Dtype::f32.
inline constexpr Dtype f32 = Dtype::f32;
/// Shorthand for Dtype::f64.
inline constexpr Dtype f64 = Dtype::f64;

/// "float32" or "float64".
inline const char* dtype_name(Dtype d) { return d == Dtype::f32 ? "float32" : "float64"; }

/// The Dtype of the C++ type T (float or double).
template <class T>
constexpr Dtype dtype_of() {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "adgraph computes in float or double");
    return std::is_same_v<T, float> ? Dtype::f32 : Dtype::f64;
}

}  // namespace adg
