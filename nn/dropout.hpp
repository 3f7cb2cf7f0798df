#pragma once
/// \file Dropout: zeroes a fraction p of activations while training, scaling the rest by 1/(1 - p).

#include <cstdint>

#include <adgraph/nn/module.hpp>

namespace adg::nn {

/// Inverted dropout; the identity in evaluation mode. Its masks are a function of position, not of a stream: the
/// element (r, j) of the k-th call since the last key(step, first_row) (r along the first, batch axis, j the
/// element within the row) is dropped or kept by a hash of (seed, step, k, first_row + r, j). So one batch split
/// across processes, each part keyed with its first row's place in the whole batch, gets the masks one process
/// draws for the whole batch. Never keyed, it behaves as keyed with (0, 0): each call draws new masks.
class Dropout : public Module {
public:
    /// Drops each element with probability `p` (0 ≤ p < 1); `seed` selects the masks.
    explicit Dropout(double p, std::uint64_t seed = 0);
    /// x ⊙ mask / (1 - p) while training; x in eval mode.
    Tensor forward(const Tensor& x) override;
    /// Keys the following calls' masks by (step, call since now, first_row + row); see the class comment.
    void key(std::uint64_t step, std::size_t first_row);
    /// "Dropout(p=0.2)".
    std::string to_string() const override;
    /// PyTorch-style settings for operator<<: "p=0.5".
    std::string extra_repr() const override;

private:
    double p_;
    std::uint64_t seed_;
    std::uint64_t step_ = 0;
    std::uint64_t call_ = 0;
    std::size_t first_row_ = 0;
};

/// Calls key(step, first_row) on every Dropout in `model`, itself included: before each training step, with the
/// step's number and the place of this process's first row in the global batch (0 in one process).
void key_dropout(Module& model, std::uint64_t step, std::size_t first_row);

}  // namespace adg::nn
