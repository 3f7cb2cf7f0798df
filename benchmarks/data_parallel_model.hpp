#pragma once
/// \file bench_data_parallel's model on paper: a training step's compute time measured in one process for the
/// rows one node gets, plus the allreduce's time from the usual α–β cost of a ring allreduce, for P nodes.

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include <adgraph/nn/data.hpp>

#include "data_parallel_setup.hpp"

namespace adg::bench {

/// A training step of `rows` rows at `threads` threads, measured in one process (medians): forward, loss and
/// backward; and the optimizer's step with zero_grad (which every rank does for the whole model).
struct ComputePoint {
    int threads = 1;
    std::size_t rows = 0;
    double backprop_s = 0;   ///< forward + loss + backward
    double optimizer_s = 0;  ///< AdamW's step + zero_grad
    int reps = 0;
    /// The whole step.
    double step_s() const { return backprop_s + optimizer_s; }
};

/// Times the case's step at each thread count and row count (repetitions for about `budget` seconds each, at
/// least 3), rows taken from the start of `data`; dropout keyed as `adgraph train` keys it in one process.
std::vector<ComputePoint> compute_profile(const DpCase& c, const nn::Dataset& data, const std::vector<int>& threads,
                                          const std::vector<std::size_t>& rows, double budget);

/// The step time of `rows` rows at `threads` threads from a profile (which must hold that point).
double step_seconds(const std::vector<ComputePoint>& profile, int threads, std::size_t rows);

/// A network as the α–β model sees it: each message costs `alpha` seconds, each byte 1/`bandwidth` seconds.
struct Network {
    double alpha = 30e-6;      ///< seconds per message (latency + software overhead)
    double bandwidth = 1.1e9;  ///< bytes per second one node can send (and receive) at once
};

/// A ring allreduce of `bytes` over `p` nodes: reduce-scatter and allgather, 2(p−1) messages of bytes/p each per
/// node: 2(p−1)·α + 2(p−1)/p · bytes/B; 0 for p = 1.
double ring_allreduce_seconds(int p, double bytes, const Network& net);

/// Recursive halving and doubling (Rabenseifner), what MPI libraries pick for mid-sized messages: the same bytes,
/// 2·⌈log₂ p⌉ messages: 2⌈log₂ p⌉·α + 2(p−1)/p · bytes/B; 0 for p = 1.
double halving_doubling_seconds(int p, double bytes, const Network& net);

/// One row of a scaling table.
struct ScalingRow {
    int p = 1;
    std::size_t rows_per_node = 0;
    double compute_s = 0;   ///< the slowest node's step compute (the one with the most rows)
    double comm_s = 0;      ///< ring allreduce + the copies into and out of the flat buffer
    double comm_hd_s = 0;   ///< the same with recursive halving/doubling
    double step_s = 0;      ///< compute + ring (nothing overlaps: the one allreduce starts after the backward)
    double speedup = 0;     ///< strong: step(1)/step(p); weak: p·step(1)/step(p) (samples per second)
    double efficiency = 0;  ///< speedup / p
};

/// Strong scaling: a global batch of `global_batch` rows split over p nodes (⌈global_batch/p⌉ rows on the
/// slowest); `compute(rows)` the step's compute, `bytes` the gradient, `copy_s` the per-step copy overhead.
std::vector<ScalingRow> strong_scaling(const std::function<double(std::size_t)>& compute, double bytes, double copy_s,
                                       const Network& net, const std::vector<int>& ps, std::size_t global_batch);

/// Weak scaling: `per_node` rows on every node, a global batch of p·per_node; the speedup is in samples per second.
std::vector<ScalingRow> weak_scaling(const std::function<double(std::size_t)>& compute, double bytes, double copy_s,
                                     const Network& net, const std::vector<int>& ps, std::size_t per_node);

/// The largest p of `rows` with the highest speedup (where adding nodes stops paying).
int best_p(const std::vector<ScalingRow>& rows);

/// α and B of t = 2(p−1)·α + 2(p−1)/p · bytes/B through two measured points at p ≥ 2, a small message (mostly α)
/// and a large one (mostly B), so that the sizes between them test the model.
Network fit_network(int p, double small_bytes, double small_s, double large_bytes, double large_s);

}  // namespace adg::bench
