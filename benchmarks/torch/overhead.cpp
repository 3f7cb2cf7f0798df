// libtorch peer of bench_overhead: the same chain of tiny ops (tanh, * 0.99 alternating), microseconds per op for
// computing without recording, for recording (autograd on) and for the backward pass, at 1 intra-op thread.
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "machine.hpp"
#include "output.hpp"

namespace {

torch::Tensor chain(torch::Tensor x, std::size_t ops) {
    for (std::size_t i = 0; i < ops; ++i) x = i % 2 == 0 ? torch::tanh(x) : x * 0.99;
    return x;
}

}  // namespace

int main(int argc, char** argv) {
    using namespace adg;
    std::size_t ops = 20000;
    int reps = 15;
    std::vector<long> sizes{1, 1024};
    bool quick = false, json = false;
    CLI::App app{"per-op overhead of libtorch autograd on a long chain of tiny ops (peer of bench_overhead)"};
    app.add_option("--ops", ops, "ops in the chain")->capture_default_str();
    app.add_option("--reps", reps, "timed rounds (median)")->capture_default_str();
    app.add_option("--sizes", sizes, "elements per tensor")->capture_default_str();
    app.add_flag("--quick", quick, "tiny sizes (CTest smoke run)");
    app.add_flag("--json", json, "one JSON object per result line");
    CLI11_PARSE(app, argc, argv);
    if (quick) {
        ops = 200;
        reps = 2;
    }
    torch::set_num_threads(1);
    bench::set_blas_threads(1);

    bench::Output out("overhead", json);
    out.context("engine", "libtorch");
    out.context("dtype", "float32");
    out.context("threads", 1);
    out.context("ops", ops);
    out.context("torch", TORCH_VERSION);
    out.preamble("per-op overhead in libtorch " TORCH_VERSION ": a chain of " + std::to_string(ops) +
                 " ops (tanh, * 0.99 alternating), microseconds per op, median of " + std::to_string(reps) + " rounds");
    out.text(bench::format("%-8s %10s %14s %10s", "elements", "no grad", "record+fwd", "backward"));
    for (const long size : sizes) {
        const torch::Tensor x0 = torch::full({size}, 0.5f);
        const torch::Tensor seed = torch::ones({size});
        std::vector<double> a, b, c;
        for (int r = -1; r < reps; ++r) {
            const double ta = bench::seconds([&] {
                torch::NoGradGuard ng;
                chain(x0, ops);
            });
            const torch::Tensor x = x0.detach().requires_grad_(true);
            torch::Tensor y;
            const double tb = bench::seconds([&] { y = chain(x, ops); });
            const double tc = bench::seconds([&] {
                y.backward(seed);
                y = torch::Tensor();
            });
            if (r < 0) continue;
            a.push_back(ta);
            b.push_back(tb);
            c.push_back(tc);
        }
        const double per = 1e6 / static_cast<double>(ops);
        const double na = per * bench::median(a), nb = per * bench::median(b), nc = per * bench::median(c);
        out.row({{"engine", "libtorch"},
                 {"elements", size},
                 {"nograd_us_per_op", na},
                 {"record_us_per_op", nb},
                 {"backward_us_per_op", nc}},
                bench::format("%-8ld %10.3f %14.3f %10.3f", size, na, nb, nc));
    }
    return 0;
}
