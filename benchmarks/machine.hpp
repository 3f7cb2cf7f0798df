#pragma once
/// \file What a benchmark ran on: CPU model, cores, BLAS threads.

#include <string>

namespace adg::bench {

/// "AMD EPYC ... , 2 cores, OpenBLAS 1 thread(s)".
std::string machine_line();

/// Median of `reps` timings (seconds) of `f`, after one warm-up call.
template <class F>
double median_seconds(F&& f, int reps);

}  // namespace adg::bench

#include <algorithm>
#include <chrono>
#include <vector>

namespace adg::bench {

template <class F>
double median_seconds(F&& f, int reps) {
    f();
    std::vector<double> t;
    for (int i = 0; i < reps; ++i) {
        const auto a = std::chrono::steady_clock::now();
        f();
        t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count());
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}

}  // namespace adg::bench
