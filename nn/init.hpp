#pragma once
/// \file Weight initialisation, seeded: the lecture's U(−c, c) with c = 1/√fan_in, Xavier/Glorot, He/Kaiming.

#include <string>

#include <adgraph/autodiff/tensor.hpp>

namespace adg::nn {

/// How a layer draws its initial weights.
enum class Init {
    uniform,  ///< U(−c, c), c = 1/√fan_in (the lecture's default)
    xavier,   ///< U(−c, c), c = √(6 / (fan_in + fan_out)) (Glorot)
    he,       ///< U(−c, c), c = √(6 / fan_in) (Kaiming, for ReLU)
};

/// "uniform", "xavier" or "he".
const char* init_name(Init init);
/// Parses init_name()'s strings; throws value_error listing the choices.
Init parse_init(const std::string& name);

/// The bound c of U(−c, c) for `init` with the given fans.
double init_bound(Init init, std::size_t fan_in, std::size_t fan_out);

/// A (fan_out, fan_in) weight drawn by `init`.
Tensor init_weight(std::size_t fan_in, std::size_t fan_out, Init init, Generator& gen, Dtype dtype = f32);

}  // namespace adg::nn
