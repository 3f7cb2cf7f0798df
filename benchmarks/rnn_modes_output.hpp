#pragma once
/// \file bench_rnn_modes' settings and results, and their CSV and PNG.

#include <string>
#include <vector>

#include <adgraph/adgraph.hpp>

#include "rnn_grads.hpp"

namespace adg::bench {

/// What bench_rnn_modes measures and how.
struct Settings {
    std::size_t input = 28, batch = 8;
    std::size_t window = 20;                                ///< truncated BPTT's window
    std::size_t chunk = 256;                                ///< RTRL directions per forward sweep
    std::size_t rtrl_sample = 2;                            ///< RTRL chunks per parameter tensor in the sample
    std::size_t f64_max_hidden = 32, f64_max_steps = 1000;  ///< float64 runs only up to these
    double budget = 2;                                      ///< seconds of repeated timing per mode
    double rtrl_budget = 120;                               ///< longer RTRL runs are extrapolated from the sample
    bool rtrl_full = false;                                 ///< never extrapolate
    bool measure_memory = true;                             ///< each mode's memory in a child process
    int threads = 1;                                        ///< adgraph's and OpenBLAS's
};

/// One mode's result for one configuration.
struct ModeResult {
    std::string mode;
    double seconds = 0;
    int reps = 1;
    bool extrapolated = false;
    std::size_t chunks_run = 0, chunks = 0;
    MemoryUse mem;
    double diff = 0, rel = 0;  // max |g − g_BPTT| and that over max |g_BPTT| (RTRL: over the directions run)
    std::vector<double> us_per_direction_step;  // RTRL: by parameter tensor, microseconds per direction and step
    double sample_estimate = 0;                 // RTRL: the whole run's time as extrapolated from the sample
};

/// The results for one dtype, hidden size and T.
struct ConfigResult {
    Dtype dtype = f32;
    std::size_t hidden = 0, steps = 0, params = 0;
    std::vector<ModeResult> modes;
    std::string problems;  // memory runs that failed
};

/// The PNG at `png`: time and peak memory against T (float32), one line per mode and hidden size, extrapolated
/// RTRL times drawn open. Returns "" when written, else why not (nn::plot_png).
std::string write_plot(const std::vector<ConfigResult>& rs, const Settings& s, const std::string& png);

/// The results as CSV, a row per configuration and mode.
std::string csv_of(const std::vector<ConfigResult>& rs, const Settings& s);

/// The results a CSV of csv_of() holds, as far as the plot needs them; sets s.batch and s.chunk from it. Throws
/// io_error if `path` cannot be read, value_error for a row of the wrong form.
std::vector<ConfigResult> read_csv(const std::string& path, Settings& s);

}  // namespace adg::bench
