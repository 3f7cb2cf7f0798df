#pragma once
/// \file What the MLP training benchmarks share so that every engine does identical work: the data (Fashion-MNIST
/// or a synthetic stand-in), the initial weights and the training step's settings. No engine code here: adgraph
/// and libtorch programs both include it.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "output.hpp"

namespace adg::bench {

/// Training images as float32 rows (normalised like adgraph's loader) and their labels.
struct MlpData {
    std::size_t rows = 0, features = 784, classes = 10;
    std::vector<float> images;         ///< rows × features
    std::vector<std::int64_t> labels;  ///< rows
    std::string source;                ///< "fashion-mnist (60000)" or "synthetic (512)"
};

/// The first `limit` (0: all) training images of Fashion-MNIST from `dir`; synthetic data of `limit` rows (60000
/// if 0) when `dir` is empty or holds no data.
MlpData load_mlp_data(const std::string& dir, std::size_t limit);

/// One layer's initial parameters: weight (out, in) and bias (out), both U(-1/√in, 1/√in) (PyTorch's default).
struct LayerInit {
    std::size_t in = 0, out = 0;
    std::vector<float> weight, bias;
};

/// Initial parameters of an MLP with these layer sizes, from a fixed seed (the same on every engine).
std::vector<LayerInit> initial_layers(const std::vector<std::size_t>& sizes, std::uint64_t seed);

/// The benchmarked step: 784-256-128-10 ReLU, cross-entropy, SGD with momentum, float32.
struct MlpConfig {
    std::vector<std::size_t> sizes{784, 256, 128, 10};
    std::size_t batch = 128;
    double lr = 0.01;
    double momentum = 0.9;
    std::string model() const;  ///< "784-256-128-10"
};

/// The phases a training step is timed in, the same boundaries in every engine: gathering the batch, the model's
/// forward pass, the loss (and reading its value), the backward pass, freeing the step's graph, the optimizer
/// step with resetting the gradients.
const std::vector<std::string>& step_phases();

/// Per phase, the median over epochs of the seconds spent in it per epoch (`per_epoch[e][phase]`).
std::vector<double> phase_medians(const std::vector<std::vector<double>>& per_epoch);

/// "batch 0.012 s, forward 0.210 s, ..." for phase_medians().
std::string phase_line(const std::vector<double>& medians);

/// The process's CPU time (user + system, all threads) in seconds. On a shared machine the CPU time of a 1-thread
/// epoch is a steadier measure than its wall time, which also counts the time spent waiting for a core.
double process_cpu_seconds();

/// Minor page faults of the process so far.
long minor_faults();

/// Parses "1,2" into {1, 2}; throws std::invalid_argument on anything else.
std::vector<int> parse_thread_list(const std::string& s);

/// Prints the memory row both MLP programs end with: RSS before the first epoch, its peak (and whether the peak
/// could be reset first), and the first epoch's mean loss, the check that both engines did the same work.
void report_memory(Output& out, const std::string& engine, int threads, std::size_t rss_before, std::size_t rss_peak,
                   bool reset, double first_loss);

}  // namespace adg::bench
