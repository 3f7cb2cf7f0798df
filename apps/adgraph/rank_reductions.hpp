#pragma once
/// \file What `adgraph train` reduces over its ranks besides the gradients: the evaluation, the ranks whose loss is
/// not finite, and how messages name ranks.

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include <adgraph/nn/data.hpp>
#include <adgraph/nn/module.hpp>

#include "adgraph/evaluate.hpp"
#include "adgraph/ranks.hpp"

namespace adg::cli {

/// "rank 2 of 3" or "ranks 0, 1 and 2 of 3": `ranks` (ascending, not empty) of `size` ranks, for messages.
std::string rank_list(const std::vector<std::size_t>& ranks, std::size_t size);

/// evaluate() over the ranks: each evaluates its shard of `data` (images reshaped to `input`), and the loss sums and
/// confusion counts are summed, so every rank gets the whole set's result. If evaluating fails on any rank, every
/// rank throws PeerFailure, carrying the error on the ranks where it happened.
EvalResult evaluate_ranks(nn::Module& model, const nn::Dataset& data, const Shape& input, Ranks& ranks);

/// After the step's sums said that some rank's `loss` is not finite: " on rank 1 of 3" (all ranks that have one; ""
/// in one process) and the first such loss. Collective.
std::pair<std::string, double> nonfinite_ranks(Ranks& ranks, double loss);

}  // namespace adg::cli
