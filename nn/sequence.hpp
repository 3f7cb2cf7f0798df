#pragma once
/// \file The bridges between images, sequences and features that recurrent layers need in a Sequential: Rows reads
/// an image as a sequence of its rows, LastStep keeps a sequence's last step (the state a classifier reads).

#include <adgraph/nn/module.hpp>

namespace adg::nn {

/// Images (N, C, H, W) as sequences (N, H, C·W): step t is image row t, its C channels side by side. A 28x28
/// Fashion-MNIST image becomes 28 steps of 28 pixels.
class Rows : public Module {
public:
    /// The rows of a batch of images; throws shape_error unless x is 4-D.
    Tensor forward(const Tensor& x) override;
    /// "Rows()".
    std::string to_string() const override { return "Rows()"; }
};

/// Sequences (N, T, F) to their last step (N, F): what a sequence classifier reads after a recurrent layer.
class LastStep : public Module {
public:
    /// x[:, T − 1, :]; throws shape_error unless x is 3-D with at least one step.
    Tensor forward(const Tensor& x) override;
    /// "LastStep()".
    std::string to_string() const override { return "LastStep()"; }
};

}  // namespace adg::nn
