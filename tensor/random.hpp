#pragma once
/// \file Seeded random arrays (xtensor's xrandom over a std::mt19937_64 owned by a Generator).

#include <cstdint>
#include <random>

#include <adgraph/tensor/array.hpp>

namespace adg {

/// A seeded random engine; the same seed gives the same numbers on the same platform.
class Generator {
public:
    /// A generator started from `seed`.
    explicit Generator(std::uint64_t seed = 0) : engine_(seed) {}
    /// The underlying engine (for std:: distributions and xt::random).
    std::mt19937_64& engine() { return engine_; }
    /// The underlying engine, read-only (to save its state).
    const std::mt19937_64& engine() const { return engine_; }

private:
    std::mt19937_64 engine_;
};

/// Uniform U(lo, hi) values of `shape`.
Array uniform(const Shape& shape, double lo, double hi, Dtype dtype, Generator& gen);

/// Normal N(mean, std²) values of `shape`.
Array normal(const Shape& shape, double mean, double std, Dtype dtype, Generator& gen);

}  // namespace adg
