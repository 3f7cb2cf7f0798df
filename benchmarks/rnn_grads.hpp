#pragma once
/// \file The gradient of a GRU's last-step loss with respect to its parameters, three ways (bench_rnn_modes):
/// BPTT (record every step, one reverse sweep), RTRL (one step recorded at a time, a batch of parameter directions
/// carried forward through it by a forward sweep, the step's graph released behind it) and truncated BPTT (the state
/// detached every `window` steps). Each reports its time and memory.

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include <adgraph/adgraph.hpp>

namespace adg::bench {

/// A GRU on a fixed input sequence with a loss at its last step: L = mean((h_T − y)²) over batch and features.
struct RnnProblem {
    std::shared_ptr<nn::GRUCell> cell;
    std::vector<Tensor> xs;  ///< T inputs (batch, input), none requiring grad
    Tensor target;           ///< y (batch, hidden)
    std::size_t batch = 0, hidden = 0;
};

/// The problem for `hidden`, `steps`, `batch` and input size `input`, drawn from `seed`.
RnnProblem make_rnn_problem(std::size_t input, std::size_t hidden, std::size_t steps, std::size_t batch, Dtype dtype,
                            std::uint64_t seed);

/// Memory of one run: the rise of the process's peak RSS (VmHWM) over its RSS before the run, after the library's
/// cache of freed buffers is emptied and malloc trimmed; and the most bytes live (malloc's in-use bytes plus the
/// library's large buffers) at the end of any step, above those before the run.
struct MemoryUse {
    double peak_rss_bytes = 0;
    double held_bytes = 0;
};

/// Watches one run: construct just before it, note() at the end of each step, finish() after it.
class MemoryMeter {
public:
    MemoryMeter();
    /// Records the live bytes now (the end of a step).
    void note();
    /// The run's memory.
    MemoryUse finish() const;

private:
    std::size_t base_rss_ = 0;
    double base_live_ = 0, held_ = 0;
};

/// A gradient: one flat vector of doubles per parameter, in cell->parameters() order.
using Grads = std::vector<std::vector<double>>;

/// max |a − b| over every entry present in `mask` (all when empty).
double max_abs_diff(const Grads& a, const Grads& b, const std::vector<std::vector<char>>& mask = {});
/// max |g| over every entry.
double max_abs(const Grads& g);

/// BPTT: the T steps recorded, loss.backward(); the meter notes after each step (and the backward).
Grads bptt_grads(RnnProblem& p, MemoryMeter* meter);

/// Truncated BPTT: as bptt_grads, but the state is detached before steps window, 2·window, ... (counted from 0), so
/// the gradient follows the loss back through the last ((T − 1) mod window) + 1 steps only.
Grads truncated_grads(RnnProblem& p, std::size_t window, MemoryMeter* meter);

/// One chunk of RTRL directions: the basis directions [from, from + count) of parameter `param`.
struct RtrlChunk {
    std::size_t param = 0, from = 0, count = 0;
};

/// The chunks of at most `k` directions covering every parameter, parameter by parameter.
std::vector<RtrlChunk> rtrl_chunks(RnnProblem& p, std::size_t k);

/// RTRL for one chunk: for t = 1..T, the step h_t = cell(x_t, h_{t−1}) is recorded from a fresh leaf h_{t−1}, and
/// forward_sweep_directions carries the chunk's basis tangents of the parameter and the (count, batch, hidden)
/// tangent of h_{t−1} to h_t (at the last step to the loss); then only h_t's value and its tangent are kept.
/// Writes dL/dθ for the chunk's directions into `g` (shaped as Grads) and returns the seconds it took.
double rtrl_chunk(RnnProblem& p, const RtrlChunk& c, Grads& g, MemoryMeter* meter);

/// Zero gradients shaped as the problem's parameters.
Grads zero_grads(RnnProblem& p);

/// The memory of one run of `mode` ("bptt", "truncated" or "rtrl") on `p` in this process: for RTRL, the first chunk
/// of `chunk` directions of each parameter tensor (every chunk carries the same state through the same steps, so
/// the chunks after them repeat their memory). Meant for a fresh process (bench_rnn_modes --memory-of), whose
/// earlier frees cannot hide the run's own use; warm_up first.
MemoryUse measure_memory(RnnProblem& p, const std::string& mode, std::size_t window, std::size_t chunk);

/// Runs every mode once on a two-step problem like `p`, so first-call allocations (BLAS buffers, thread pools,
/// malloc's arenas) are not counted as the measured run's.
void warm_up(const RnnProblem& p, std::size_t window, std::size_t chunk);

}  // namespace adg::bench
