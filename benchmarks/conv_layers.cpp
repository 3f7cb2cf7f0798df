// The cnn preset's two convolutions (N = 128, float32, 3×3, padding 1: 1→32 on 28×28 and 32→64 on 14×14), timed
// per pass (forward; backward to the input, to the weight and bias; the op's whole backward sweep) against the GEMMs
// of the same products alone, at 1 and 2 threads. Also times a direct loop for the one-channel first layer, the
// alternative to im2col + GEMM for small channel counts (tensor/conv.cpp records the outcome).

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <vector>

#include <CLI/CLI.hpp>

#include <adgraph/adgraph.hpp>
#include <adgraph/tensor/conv.hpp>
#include <adgraph/tensor/matmul.hpp>
#include <adgraph/tensor/parallel.hpp>

#include "machine.hpp"

using namespace adg;

namespace {

struct Layer {
    const char* name;
    std::size_t c, hw, o;
};

// The first layer (one input channel, 3×3, padding 1) as a direct loop: per sample and filter, nine shifted
// multiply-adds of the image into the output plane.
void direct_first_layer(const float* x, const float* w, const float* b, float* y, std::size_t n, std::size_t o,
                        std::size_t hw) {
    parallel_for(n, 1, 1, [&](std::size_t n0, std::size_t n1) {
        for (std::size_t s = n0; s < n1; ++s) {
            const float* img = x + s * hw * hw;
            for (std::size_t f = 0; f < o; ++f) {
                float* out = y + (s * o + f) * hw * hw;
                std::fill(out, out + hw * hw, b[f]);
                for (std::size_t i = 0; i < 3; ++i) {
                    for (std::size_t j = 0; j < 3; ++j) {
                        const float wij = w[f * 9 + i * 3 + j];
                        const std::size_t lo = j == 0 ? 1 : 0, hi = j == 2 ? hw - 1 : hw;
                        for (std::size_t r = (i == 0 ? 1 : 0); r < (i == 2 ? hw - 1 : hw); ++r) {
                            const float* src = img + (r + i - 1) * hw - 1 + j;
                            float* dst = out + r * hw;
                            for (std::size_t q = lo; q < hi; ++q) dst[q] += wij * src[q];
                        }
                    }
                }
            }
        }
    });
}

double cpu_now() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

// The median over `reps` runs (after a warm-up) of the process's CPU time at one thread, which other processes on
// a shared machine do not inflate, and of the wall time at more threads (CPU time would count the waiting).
template <class F>
double median_ms(F&& f, int reps) {
    if (num_threads() > 1) return 1e3 * bench::median_seconds(f, reps);
    f();
    std::vector<double> t;
    for (int i = 0; i < reps; ++i) {
        const double a = cpu_now();
        f();
        t.push_back(cpu_now() - a);
    }
    return 1e3 * bench::median(t);
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"conv2d per-layer times of the cnn preset against their GEMMs"};
    bool quick = false;
    int reps = 11;
    std::size_t batch = 128;
    app.add_flag("--quick", quick, "tiny sizes, one repetition (the CTest smoke run)");
    app.add_option("--reps", reps, "timed repetitions per measurement (median reported)")->check(CLI::Range(1, 1000));
    app.add_option("--batch", batch, "samples per batch")->check(CLI::Range(1, 4096));
    CLI11_PARSE(app, argc, argv);
    if (quick) {
        reps = 1;
        batch = 2;
    }
    const std::vector<Layer> layers = {{"conv 1->32 28x28", 1, 28, 32}, {"conv 32->64 14x14", 32, 14, 64}};
    std::printf("%s\n", bench::machine_line().c_str());
    std::printf("N = %zu, float32, 3x3 kernel, padding 1; median of %d runs, ms (CPU time at 1 thread, wall at 2)\n",
                batch, reps);
    std::printf("%-18s %3s %9s %9s %9s %9s %9s %9s %9s %9s\n", "layer", "thr", "fwd", "fwd-gemm", "fwd-1gemm", "bwd-x",
                "bwd-x-gem", "bwd-w", "bwd-w-gem", "op-bwd");
    Generator gen(1);
    for (int threads : {1, 2}) {
        set_num_threads(threads);
        for (const Layer& l : layers) {
            const std::size_t n = batch, p = l.hw * l.hw, ck = l.c * 9;
            const kernels::ConvParams cp{1, 1, 1, 1, 1, 1, 1};
            const Tensor x = Tensor::uniform({n, l.c, l.hw, l.hw}, -1, 1, gen);
            const Tensor w = Tensor::uniform({l.o, l.c, 3, 3}, -1, 1, gen);
            const Tensor b = Tensor::uniform({l.o}, -1, 1, gen);
            const Tensor gy = Tensor::uniform({n, l.o, l.hw, l.hw}, -1, 1, gen);
            // Stand-ins for the im2col matrices: one per thread, reused by every sample, as the kernels do.
            std::vector<float> col(2 * ck * p, 0.5f), out(n * l.o * p), wsum(2 * l.o * ck), big_col(ck * n * p, 0.5f);
            const float* wp = w.value().get<float>().data();
            const float* gp = gy.value().get<float>().data();
            const auto per_sample = [&](auto&& gemm) {
                parallel_for(n, 1, 1, [&](std::size_t n0, std::size_t n1) {
                    const std::size_t t = n0 == 0 ? 0 : 1;
                    for (std::size_t s = n0; s < n1; ++s) gemm(s, col.data() + t * ck * p, wsum.data() + t * l.o * ck);
                });
            };
            const double fwd = median_ms([&] { kernels::conv2d(x.value(), w.value(), &b.value(), cp); }, reps);
            const double fwd_gemm = median_ms(
                [&] {
                    per_sample([&](std::size_t s, float* c, float*) {
                        kernels::gemm_serial(wp, l.o, ck, c, ck, p, out.data() + s * l.o * p, false, false, 0.0f);
                    });
                },
                reps);
            const double fwd_one = median_ms(
                [&] { kernels::gemm(wp, l.o, ck, big_col.data(), ck, n * p, out.data(), false, false, 0.0f); }, reps);
            const double bx =
                median_ms([&] { kernels::conv2d_transpose(gy.value(), w.value(), cp, l.hw, l.hw); }, reps);
            const double bx_gemm = median_ms(
                [&] {
                    per_sample([&](std::size_t s, float* c, float*) {
                        kernels::gemm_serial(wp, l.o, ck, gp + s * l.o * p, l.o, p, c, true, false, 0.0f);
                    });
                },
                reps);
            const double bw = median_ms([&] { kernels::conv2d_weight(x.value(), gy.value(), cp, 3, 3); }, reps);
            const double bw_gemm = median_ms(
                [&] {
                    per_sample([&](std::size_t s, float* c, float* acc) {
                        kernels::gemm_serial(gp + s * l.o * p, l.o, p, c, ck, p, acc, false, true, 1.0f);
                    });
                },
                reps);
            // The op's backward sweep: x̄ (only when x needs it: not for the first layer, whose input is data),
            // w̄ and b̄.
            const Tensor xg = l.c == 1 ? x : x.detach().requires_grad();
            const Tensor wg = w.detach().requires_grad(), bg = b.detach().requires_grad();
            const Tensor y = conv2d(xg, wg, bg, 1, 1);
            const Tensor seed = reshape(gy, batched_shape(1, gy.shape()));
            SweepOptions keep;
            keep.retain_graph = true;
            std::vector<Tensor> wrt = {wg, bg};
            if (l.c != 1) wrt.push_back(xg);
            const double op_bwd = median_ms([&] { reverse_sweep({y}, {seed}, wrt, keep); }, reps);
            std::printf("%-18s %3d %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f\n", l.name, threads, fwd, fwd_gemm,
                        fwd_one, bx, bx_gemm, bw, bw_gemm, op_bwd);
            if (l.c == 1) {
                std::vector<float> yd(n * l.o * p);
                const double direct = median_ms(
                    [&] {
                        direct_first_layer(x.value().get<float>().data(), wp, b.value().get<float>().data(), yd.data(),
                                           n, l.o, l.hw);
                    },
                    reps);
                const Array ref = kernels::conv2d(x.value(), w.value(), &b.value(), cp);
                double diff = 0;
                for (std::size_t i = 0; i < yd.size(); ++i) {
                    diff = std::max(diff, static_cast<double>(std::abs(yd[i] - ref.get<float>().data()[i])));
                }
                std::printf("%-18s %3d direct loop forward %.2f ms (im2col+GEMM %.2f ms), max |difference| %.1e\n",
                            l.name, threads, direct, fwd, diff);
            }
        }
    }
    return 0;
}
