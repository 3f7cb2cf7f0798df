#pragma once
/// \file What a benchmark ran on (CPU model, cores, BLAS threads) and how it is timed (medians).

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace adg::bench {

/// The CPU's model name from /proc/cpuinfo.
std::string cpu_model();
/// Hardware threads the process may use.
unsigned cores();
/// OpenBLAS's current thread count.
int blas_threads();
/// Sets OpenBLAS's thread count.
void set_blas_threads(int n);
/// Waits 0.3 s so that threads the previous timed run left spinning are idle before the next run starts: after its
/// last call OpenBLAS keeps a worker spinning at full load for about 0.1 s (measured: 50 of the next 50 ms of CPU,
/// 10 of the 100 after), which would take one of the cores from the start of whatever is timed next.
void settle_threads();
/// "AMD EPYC ... , 2 cores, OpenBLAS 1 thread(s)".
std::string machine_line();

/// Seconds elapsed while running `f` once.
template <class F>
double seconds(F&& f) {
    const auto a = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count();
}

/// Median of `reps` timings (seconds) of `f`, after one warm-up call.
template <class F>
double median_seconds(F&& f, int reps) {
    f();
    std::vector<double> t;
    for (int i = 0; i < reps; ++i) t.push_back(seconds(f));
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}

/// Median of a sample (the upper middle for even sizes); 0 for an empty one.
double median(std::vector<double> v);

/// Medians of `reps` timings of each function, measured round-robin (one timed call of each per round, after one
/// warm-up round) so that a change of machine load hits all of them alike: ratios of the results are fair. With
/// `warm`, each timed call directly follows an untimed one, so it finds its data in cache as a repeated call does
/// (otherwise the previous function's arrays have evicted it).
std::vector<double> interleaved_medians(const std::vector<std::function<void()>>& fs, int reps, bool warm = false);

/// Time split between the phases of a loop (e.g. a training step's forward, backward, update), summed over steps.
class Phases {
public:
    /// Phases named `names`, all at 0.
    explicit Phases(std::vector<std::string> names) : names_(std::move(names)), totals_(names_.size(), 0.0) {}
    /// Zeroes the totals and starts the clock.
    void start() {
        std::fill(totals_.begin(), totals_.end(), 0.0);
        mark_ = std::chrono::steady_clock::now();
    }
    /// Adds the time since the previous lap (or start) to phase `i`.
    void lap(std::size_t i) {
        const auto now = std::chrono::steady_clock::now();
        totals_[i] += std::chrono::duration<double>(now - mark_).count();
        mark_ = now;
    }
    const std::vector<std::string>& names() const { return names_; }
    const std::vector<double>& totals() const { return totals_; }

private:
    std::vector<std::string> names_;
    std::vector<double> totals_;
    std::chrono::steady_clock::time_point mark_{};
};

/// Repetitions that fit in about `budget` seconds for a call taking `one` seconds, within [lo, hi].
int reps_for(double one, double budget, int lo, int hi);

}  // namespace adg::bench
