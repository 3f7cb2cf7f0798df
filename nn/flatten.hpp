#pragma once
/// \file Flatten: an image batch (N, C, H, W) as rows (N, C·H·W), the bridge from convolutions to Linear layers.

#include <adgraph/nn/module.hpp>

namespace adg::nn {

/// Keeps the first axis and joins all others into one.
class Flatten : public Module {
public:
    /// reshape(x, (N, product of the other axes)); throws shape_error for a 0-d x.
    Tensor forward(const Tensor& x) override;
    /// "Flatten()".
    std::string to_string() const override { return "Flatten()"; }
    /// PyTorch-style settings for operator<<: it keeps axis 0 and flattens the rest.
    std::string extra_repr() const override { return "start_dim=1, end_dim=-1"; }
};

}  // namespace adg::nn
