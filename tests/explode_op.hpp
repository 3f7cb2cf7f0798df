#pragma once
/// \file Test support: an op whose rules always throw, to check what a failing rule leaves behind.

#include <cstddef>
#include <vector>

#include <adgraph/autodiff/op.hpp>

namespace adg::testing {

/// Forward is the identity; the JVP rule throws value_error("boom in jvp"), the VJP rule "boom in vjp".
struct Explode {
    static constexpr Custom kind{};
    static constexpr const char* name = "explode";
    Array forward(const Array& x) const { return x; }
    Tensor jvp(const std::vector<Tensor>&, const Tensor&, const std::vector<Tensor>&) const {
        throw value_error("boom in jvp");
    }
    Tensor vjp(const std::vector<Tensor>&, const Tensor&, const Tensor&, std::size_t) const {
        throw value_error("boom in vjp");
    }
};

}  // namespace adg::testing
