// Per-op overhead: a chain of tiny-tensor ops (tanh, then multiply by a scalar, alternating), 20 000 ops long,
// on 1 element and on 1024 elements. Microseconds per op for computing without recording, for recording (which
// computes the forward values too), for the reverse sweep that follows (backward, freeing the graph), and for a
// forward sweep over the same recorded chain. bench_overhead_torch runs the same chain in libtorch.
#include <adgraph/adgraph.hpp>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "machine.hpp"
#include "output.hpp"

using namespace adg;

namespace {

Tensor chain(Tensor x, std::size_t ops) {
    for (std::size_t i = 0; i < ops; ++i) x = i % 2 == 0 ? tanh(x) : x * 0.99;
    return x;
}

struct Timing {
    double nograd, record, backward, forward_sweep;
    int reps;
};

Timing measure(std::size_t size, std::size_t ops, int reps, Dtype dtype) {
    const Tensor x0 = Tensor::full({size}, 0.5, dtype);
    const Tensor seed = Tensor::ones({size}, dtype);
    const Tensor tangent = Tensor::ones({1, size}, dtype);
    std::vector<double> t_nograd, t_record, t_backward, t_fwd;
    for (int r = -1; r < reps; ++r) {  // round -1 warms up
        const double a = bench::seconds([&] {
            NoGrad ng;
            chain(x0, ops);
        });
        const Tensor x = x0.detach().requires_grad();
        Tensor y;
        const double b = bench::seconds([&] { y = chain(x, ops); });
        const double c = bench::seconds([&] { forward_sweep({x}, {tangent}, {y}, {true, false}); });
        const double d = bench::seconds([&] {
            y.backward(seed);
            y = Tensor();
        });
        if (r < 0) continue;
        t_nograd.push_back(a);
        t_record.push_back(b);
        t_fwd.push_back(c);
        t_backward.push_back(d);
    }
    const double per = 1e6 / static_cast<double>(ops);
    return {per * bench::median(t_nograd), per * bench::median(t_record), per * bench::median(t_backward),
            per * bench::median(t_fwd), reps};
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t ops = 20000;
    int reps = 15;
    std::vector<std::size_t> sizes{1, 1024};
    std::string dtype_arg = "f32";
    bool quick = false, json = false;
    CLI::App app{"per-op overhead of recording and sweeping a long chain of tiny ops"};
    app.add_option("--ops", ops, "ops in the chain")->capture_default_str();
    app.add_option("--reps", reps, "timed rounds (median)")->capture_default_str();
    app.add_option("--sizes", sizes, "elements per tensor")->capture_default_str();
    app.add_option("--dtype", dtype_arg, "f32 or f64")->capture_default_str()->check(CLI::IsMember({"f32", "f64"}));
    app.add_flag("--quick", quick, "tiny sizes (CTest smoke run)");
    app.add_flag("--json", json, "one JSON object per result line");
    CLI11_PARSE(app, argc, argv);
    if (quick) {
        ops = 200;
        reps = 2;
    }
    const Dtype dtype = dtype_arg == "f32" ? f32 : f64;

    bench::Output out("overhead", json);
    out.context("simd", simd_arch());  // the instruction set of adgraph's kernels (ADGRAPH_ARCH)
    out.context("engine", "adgraph");
    out.context("dtype", dtype == f32 ? "float32" : "float64");
    out.context("threads", bench::blas_threads());
    out.context("ops", ops);
    out.preamble("per-op overhead: a chain of " + std::to_string(ops) +
                 " ops (tanh, * 0.99 alternating), microseconds per op, median of " + std::to_string(reps) + " rounds");
    out.text(bench::format("%-8s %10s %14s %10s %14s", "elements", "no grad", "record+fwd", "backward", "fwd sweep"));
    for (const std::size_t size : sizes) {
        const Timing t = measure(size, ops, reps, dtype);
        out.row(
            {{"engine", "adgraph"},
             {"elements", size},
             {"nograd_us_per_op", t.nograd},
             {"record_us_per_op", t.record},
             {"backward_us_per_op", t.backward},
             {"forward_sweep_us_per_op", t.forward_sweep}},
            bench::format("%-8zu %10.3f %14.3f %10.3f %14.3f", size, t.nograd, t.record, t.backward, t.forward_sweep));
    }
    return live_node_count() == 0 ? 0 : 1;
}
