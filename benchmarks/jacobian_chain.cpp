// The lecture's picture of the chain rule on a deep MLP: the gradient of a scalar loss is 1ᵀ·J_L···J_2·J_1.
// Materialise every layer's Jacobian (w × w each) and multiply the chain front to back (matrix-matrix products, then
// a row sum) or back to front (vector-matrix products), against the matrix-free sweeps: one reverse sweep (grad)
// and one batched forward sweep (jacfwd). Time and the memory each method must hold show why backprop never builds
// Jacobians: back to front is cheap only once the Jacobians exist, and building them costs w directions per layer.
#include <adgraph/adgraph.hpp>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "machine.hpp"
#include "output.hpp"

using namespace adg;

namespace {

struct Net {
    std::vector<Tensor> w, b;
    Tensor layer(std::size_t l, const Tensor& h) const { return tanh(linear(h, w[l], b[l])); }
    Tensor forward(Tensor h) const {
        for (std::size_t l = 0; l < w.size(); ++l) h = layer(l, h);
        return h;
    }
};

double max_abs_diff(const Tensor& a, const Tensor& b) {
    double d = 0;
    for (std::size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(a.value().flat(i) - b.value().flat(i)));
    return d;
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t depth = 16, width = 256;
    int reps = 7;
    std::string dtype_arg = "f64";
    bool quick = false, json = false, explicit_retain = false;
    CLI::App app{"Jacobian chain products vs matrix-free sweeps on a deep MLP"};
    app.add_option("--depth", depth, "layers")->capture_default_str();
    app.add_option("--width", width, "width of every layer (inputs = width)")->capture_default_str();
    app.add_option("--reps", reps, "timed rounds (median, interleaved)")->capture_default_str();
    app.add_option("--dtype", dtype_arg, "f32 or f64")->capture_default_str()->check(CLI::IsMember({"f32", "f64"}));
    app.add_flag("--retain-freed-memory", explicit_retain,
                 "call retain_freed_memory() before measuring (to compare with the library as shipped)");
    app.add_flag("--quick", quick, "tiny sizes (CTest smoke run)");
    app.add_flag("--json", json, "one JSON object per result line");
    CLI11_PARSE(app, argc, argv);
    if (quick) {
        depth = 3;
        width = 6;
        reps = 2;
    }
    // As shipped, the library keeps freed memory itself; the explicit call is what programs had to do before.
    if (explicit_retain) retain_freed_memory();
    const Dtype dtype = dtype_arg == "f32" ? f32 : f64;
    const std::size_t esize = dtype == f32 ? 4 : 8;

    Generator gen(1);
    Net net;
    const double bound = 1.5 / std::sqrt(static_cast<double>(width));  // keeps tanh away from saturation
    for (std::size_t l = 0; l < depth; ++l) {
        net.w.push_back(Tensor::uniform({width, width}, -bound, bound, gen, dtype));
        net.b.push_back(Tensor::uniform({width}, -0.1, 0.1, gen, dtype));
    }
    const Tensor x = Tensor::uniform({width}, -1, 1, gen, dtype);
    const Fn loss = [&](const Tensor& z) { return sum(net.forward(z)); };

    std::vector<Tensor> jac(depth);
    Tensor g_f2b, g_b2f, g_rev, g_fwd;
    const auto materialise = [&] {
        NoGrad ng;
        Tensor h = x;
        for (std::size_t l = 0; l < depth; ++l) {
            jac[l] = jacrev([&](const Tensor& z) { return net.layer(l, z); })(h);
            h = net.layer(l, h);
        }
    };
    const auto front_to_back = [&] {
        NoGrad ng;
        Tensor p = jac[0];
        for (std::size_t l = 1; l < depth; ++l) p = matmul(jac[l], p);
        g_f2b = sum(p, {0});
    };
    const auto back_to_front = [&] {
        NoGrad ng;
        Tensor r = Tensor::ones({width}, dtype);
        for (std::size_t l = depth; l-- > 0;) r = matmul(r, jac[l]);
        g_b2f = r;
    };
    const auto reverse = [&] { g_rev = grad(loss)(x); };
    const auto forward = [&] { g_fwd = jacfwd(loss)(x); };
    const auto t = bench::interleaved_medians({materialise, front_to_back, back_to_front, reverse, forward}, reps);
    const double diff = std::max({max_abs_diff(g_f2b, g_rev), max_abs_diff(g_b2f, g_rev), max_abs_diff(g_fwd, g_rev)});

    bench::Output out("jacobian_chain", json);
    out.context("simd", simd_arch());  // the instruction set of adgraph's kernels (ADGRAPH_ARCH)
    out.context("engine", "adgraph");
    out.context("dtype", dtype == f32 ? "float32" : "float64");
    out.context("threads", bench::blas_threads());
    out.context("freed_memory", explicit_retain ? "retain_freed_memory() called" : "as shipped");
    out.context("depth", depth);
    out.context("width", width);
    out.preamble("gradient of sum(MLP(x)) through " + std::to_string(depth) + " tanh layers of width " +
                 std::to_string(width) + ": Jacobian chain vs matrix-free sweeps (median of " + std::to_string(reps) +
                 " interleaved rounds)");
    const double jac_bytes = static_cast<double>(depth * width * width * esize);
    const double act_bytes = static_cast<double>(2 * depth * width * esize);
    const double wsq = static_cast<double>(width * width * esize);
    struct Row {
        const char* method;
        double seconds, bytes;
        const char* what;
    };
    const std::vector<Row> rows = {
        {"materialise J_1..J_L", t[0], jac_bytes, "L Jacobians (one jacrev of w directions per layer)"},
        {"chain front to back", t[1], jac_bytes + 2 * wsq, "the Jacobians + the running w x w product"},
        {"chain back to front", t[2], jac_bytes, "the Jacobians + one row vector"},
        {"materialise + front to back", t[0] + t[1], jac_bytes + 2 * wsq, "what forward accumulation of J costs"},
        {"materialise + back to front", t[0] + t[2], jac_bytes, "what backprop would cost with Jacobians"},
        {"reverse sweep (grad)", t[3], act_bytes, "the recorded activations (2 per layer), no Jacobian"},
        {"forward sweep (jacfwd)", t[4], act_bytes + 2 * wsq, "activations + a batch of w tangents per layer"},
    };
    out.text(bench::format("%-28s %12s %10s %12s  %s", "method", "ms", "/ grad", "memory MiB", "what it holds"));
    for (const auto& r : rows) {
        out.row({{"method", r.method},
                 {"ms", 1e3 * r.seconds},
                 {"over_grad", r.seconds / t[3]},
                 {"bytes", r.bytes},
                 {"mib", r.bytes / 1048576.0}},
                bench::format("%-28s %12.3f %10.1f %12.3f  %s", r.method, 1e3 * r.seconds, r.seconds / t[3],
                              r.bytes / 1048576.0, r.what));
    }
    out.text(bench::format("all four gradients agree to %.2e", diff));
    return diff <= (dtype == f32 ? 1e-3 : 1e-9) ? 0 : 1;
}
