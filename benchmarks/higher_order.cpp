// Cost of second-order transforms relative to one gradient, on a batch-64 MLP loss (3 tanh layers, hidden 64),
// float64: grad, hvp (forward over reverse), hvp (reverse over reverse), and the full Hessian by one batched
// forward-over-reverse sweep. All timed side by side in one run (medians; grad and the hvps interleaved).
#include <adgraph/adgraph.hpp>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "machine.hpp"
#include "output.hpp"

using namespace adg;

int main(int argc, char** argv) {
    std::size_t batch = 64, in = 16, hidden = 64;
    int reps = 21;
    bool quick = false, json = false, explicit_retain = false;
    CLI::App app{"hvp and Hessian cost relative to one gradient on a batch-64 MLP loss"};
    app.add_option("--batch", batch, "rows of the input batch")->capture_default_str();
    app.add_option("--in", in, "input features (the gradient has batch·in entries)")->capture_default_str();
    app.add_option("--hidden", hidden, "hidden width")->capture_default_str();
    app.add_option("--reps", reps, "timed repetitions (median)")->capture_default_str();
    app.add_flag("--retain-freed-memory", explicit_retain,
                 "call retain_freed_memory() before measuring (to compare with the library as shipped)");
    app.add_flag("--quick", quick, "tiny sizes (CTest smoke run)");
    app.add_flag("--json", json, "one JSON object per result line");
    CLI11_PARSE(app, argc, argv);
    if (quick) {
        batch = 4;
        in = 3;
        hidden = 5;
        reps = 3;
    }
    if (explicit_retain) retain_freed_memory();
    Generator gen(1);
    const Tensor w1 = Tensor::uniform({hidden, in}, -0.3, 0.3, gen, f64), b1 = Tensor::zeros({hidden}, f64);
    const Tensor w2 = Tensor::uniform({hidden, hidden}, -0.3, 0.3, gen, f64), b2 = Tensor::zeros({hidden}, f64);
    const Tensor w3 = Tensor::uniform({1, hidden}, -0.3, 0.3, gen, f64), b3 = Tensor::zeros({1}, f64);
    const auto loss = [&](const Tensor& x) {
        const Tensor h = tanh(linear(tanh(linear(tanh(linear(x, w1, b1)), w2, b2)), w3, b3));
        return mean(square(h));
    };
    const Tensor x = Tensor::uniform({batch, in}, -1, 1, gen, f64);
    const Tensor v = Tensor::uniform({batch, in}, -1, 1, gen, f64);
    const std::size_t n = x.size();

    // As shipped unless --retain-freed-memory (the library keeps freed memory itself). grad, the two hvps and hvp's
    // two parts are timed round-robin, so load changes hit the ratios' both sides alike; the Hessian (n directions)
    // alone. hvp's parts: linearize(grad(f), x) records f and its gradient sweep, and each call of the function it
    // returns is the one forward sweep that hvp runs over that recording.
    Tensor g, hv1, hv2, hv3, H;
    std::pair<Tensor, Fn> lin = linearize(grad(loss), x);
    const auto t =
        bench::interleaved_medians({[&] { g = grad(loss)(x); }, [&] { hv1 = hvp(loss, x, v); },
                                    [&] { hv2 = grad([&](const Tensor& z) { return sum(grad(loss)(z) * v); })(x); },
                                    [&] { lin = linearize(grad(loss), x); }, [&] { hv3 = lin.second(v); }},
                                   reps, true);
    const double t_grad = t[0], t_hvp = t[1], t_hvp_rr = t[2], t_lin = t[3], t_sweep = t[4];
    const double t_hess = bench::median_seconds([&] { H = hessian(loss)(x); }, std::max(3, reps / 4));

    double diff = 0;
    for (std::size_t i = 0; i < n; ++i) {
        diff = std::max({diff, std::abs(hv1.value().flat(i) - hv2.value().flat(i)),
                         std::abs(hv1.value().flat(i) - hv3.value().flat(i))});
    }
    bench::Output out("higher_order", json);
    out.context("simd", simd_arch());  // the instruction set of adgraph's kernels (ADGRAPH_ARCH)
    out.context("engine", "adgraph");
    out.context("dtype", "float64");
    out.context("threads", bench::blas_threads());
    out.context("freed_memory", explicit_retain ? "retain_freed_memory() called" : "as shipped");
    out.context("batch", batch);
    out.context("inputs", in);
    out.context("hidden", hidden);
    out.preamble(bench::format("higher-order cost on a batch-%zu MLP loss (%zu inputs, hidden %zu, tanh), medians",
                               batch, in, hidden));
    out.text(bench::format("%-34s %12s %10s", "transform", "median", "/ grad"));
    const auto row = [&](const char* what, double t, const std::string& note) {
        out.row({{"transform", what}, {"us", 1e6 * t}, {"over_grad", t / t_grad}},
                bench::format("%-34s %10.1f us %10.2f%s", what, 1e6 * t, t / t_grad, note.c_str()));
    };
    row("grad (one reverse sweep)", t_grad, "");
    row("hvp, forward over reverse", t_hvp, "");
    row("hvp, reverse over reverse", t_hvp_rr, "");
    row("hvp's part: record f and grad", t_lin, "  (linearize(grad(f), x))");
    row("hvp's part: the forward sweep", t_sweep, "  (one call of linearize's function)");
    row("hessian, one batched sweep", t_hess,
        bench::format("  (n = %zu directions: %.2f x grad per direction)", n,
                      t_hess / t_grad / static_cast<double>(n)));
    out.text(bench::format("hvp, reverse over reverse and linearize agree to %.2e; Hessian %zu x %zu", diff, n, n));
    return diff <= 1e-10 ? 0 : 1;
}
