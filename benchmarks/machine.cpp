#include "machine.hpp"

#include <chrono>
#include <cmath>
#include <fstream>
#include <thread>

extern "C" int openblas_get_num_threads();
extern "C" void openblas_set_num_threads(int);

namespace adg::bench {

std::string cpu_model() {
    std::ifstream cpu("/proc/cpuinfo");
    std::string line;
    while (std::getline(cpu, line)) {
        if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
    }
    return "unknown CPU";
}

unsigned cores() { return std::max(1u, std::thread::hardware_concurrency()); }

int blas_threads() { return openblas_get_num_threads(); }

void set_blas_threads(int n) { openblas_set_num_threads(n); }

void settle_threads() { std::this_thread::sleep_for(std::chrono::milliseconds(300)); }

std::string machine_line() {
    return cpu_model() + ", " + std::to_string(cores()) + " cores, OpenBLAS " + std::to_string(blas_threads()) +
           " thread(s)";
}

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

std::vector<double> interleaved_medians(const std::vector<std::function<void()>>& fs, int reps, bool warm) {
    for (const auto& f : fs) f();
    std::vector<std::vector<double>> t(fs.size());
    for (int r = 0; r < reps; ++r) {
        for (std::size_t i = 0; i < fs.size(); ++i) {
            if (warm) fs[i]();
            t[i].push_back(seconds(fs[i]));
        }
    }
    std::vector<double> out;
    for (auto& s : t) out.push_back(median(std::move(s)));
    return out;
}

int reps_for(double one, double budget, int lo, int hi) {
    const double n = one > 0 ? budget / one : hi;
    return static_cast<int>(std::clamp(std::floor(n), static_cast<double>(lo), static_cast<double>(hi)));
}

}  // namespace adg::bench
