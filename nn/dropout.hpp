#pragma once
/// \file Dropout: zeroes a fraction p of activations while training, scaling the rest by 1/(1 - p).

#include <adgraph/nn/module.hpp>

namespace adg::nn {

/// Inverted dropout with its own seeded generator; the identity in evaluation mode.
class Dropout : public Module {
public:
    /// Drops each element with probability `p` (0 ≤ p < 1).
    explicit Dropout(double p, std::uint64_t seed = 0);
    /// x ⊙ mask / (1 - p) while training; x in eval mode.
    Tensor forward(const Tensor& x) override;
    /// "Dropout(p=0.2)".
    std::string to_string() const override;
    /// PyTorch-style settings for operator<<: "p=0.5".
    std::string extra_repr() const override;

private:
    double p_;
    Generator gen_;
};

}  // namespace adg::nn
