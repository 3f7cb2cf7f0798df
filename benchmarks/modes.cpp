// Forward vs reverse mode on identical work. f: Rⁿ → Rᵐ is a 3-layer tanh network (hidden 64) for several (n, m),
// plus a batch-64 MLP loss (n = 64·16, m = 1), each written two ways: as the peers and docs/tutorial.md write it,
// W3·tanh(W2·tanh(W1·x)) with matmul and no bias, and with linear(x, W, b) and a tanh on every layer. For each:
// primal, one JVP, one VJP, jacfwd and jacrev as the transforms run them (record + sweep), and the same recorded
// graph swept forward and backward (record once, then sweeps only), each with its minor page faults per call. All
// timings of a case are interleaved round-robin, so their ratios are fair on a noisy machine. Writes the crossover
// (jacfwd/jacrev time against n/m) as CSV and PNG.
#include <adgraph/adgraph.hpp>
#include <adgraph/nn/gnuplot.hpp>

#include <cblas.h>

#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "machine.hpp"
#include "output.hpp"

using namespace adg;

namespace {

struct Layer {
    Tensor w, b;
};

Layer make_layer(std::size_t in, std::size_t out, Dtype dtype, Generator& gen) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(in));
    return {Tensor::uniform({out, in}, -bound, bound, gen, dtype), Tensor::uniform({out}, -bound, bound, gen, dtype)};
}

// The two ways of writing the same network: matmul(W, x) without bias (the peers' and the tutorial's form) and
// linear(x, W, b).
enum class Form { matmul, linear };

const char* form_name(Form f) { return f == Form::matmul ? "matmul" : "linear"; }

// One function to compare the modes on.
struct Case {
    std::string name;
    Form form = Form::linear;
    std::size_t n = 0, m = 0;
    Tensor x;
    Fn f;
    // The GEMM a naive identity seed costs: jacfwd's n directions through the first layer, jacrev's m through the
    // last one, as (rows × inner)·(inner × cols).
    std::size_t fwd_rows = 0, fwd_inner = 0, rev_rows = 0, rev_inner = 0, hidden = 0;
};

// f: Rⁿ → Rᵐ, x of shape (n). matmul form: W3·tanh(W2·tanh(W1·x)); linear form: tanh on every layer, with bias.
Case tanh_net(std::size_t n, std::size_t m, std::size_t hidden, Form form, Dtype dtype, Generator& gen) {
    const Layer l1 = make_layer(n, hidden, dtype, gen), l2 = make_layer(hidden, hidden, dtype, gen),
                l3 = make_layer(hidden, m, dtype, gen);
    Case c;
    c.name = "tanh n=" + std::to_string(n) + " m=" + std::to_string(m);
    c.form = form;
    c.n = n;
    c.m = m;
    c.x = Tensor::uniform({n}, -1, 1, gen, dtype);
    if (form == Form::matmul) {
        c.f = [=](const Tensor& x) { return matmul(l3.w, tanh(matmul(l2.w, tanh(matmul(l1.w, x))))); };
    } else {
        c.f = [=](const Tensor& x) {
            return tanh(linear(tanh(linear(tanh(linear(x, l1.w, l1.b)), l2.w, l2.b)), l3.w, l3.b));
        };
    }
    c.fwd_rows = n;
    c.fwd_inner = n;
    c.rev_rows = m;
    c.rev_inner = m;
    c.hidden = hidden;
    return c;
}

// The mean of squares of the network's outputs over a batch. matmul form: the batch in columns, x of shape
// (features, batch), mean(square(W3·tanh(W2·tanh(W1·x)))); linear form: rows, x of shape (batch, features).
Case mlp_loss(std::size_t batch, std::size_t features, std::size_t hidden, Form form, Dtype dtype, Generator& gen) {
    const Layer l1 = make_layer(features, hidden, dtype, gen), l2 = make_layer(hidden, hidden, dtype, gen),
                l3 = make_layer(hidden, 1, dtype, gen);
    Case c;
    c.name = "mlp loss " + std::to_string(batch) + "x" + std::to_string(features);
    c.form = form;
    c.n = batch * features;
    c.m = 1;
    if (form == Form::matmul) {
        c.x = Tensor::uniform({features, batch}, -1, 1, gen, dtype);
        c.f = [=](const Tensor& x) { return mean(square(matmul(l3.w, tanh(matmul(l2.w, tanh(matmul(l1.w, x))))))); };
    } else {
        c.x = Tensor::uniform({batch, features}, -1, 1, gen, dtype);
        c.f = [=](const Tensor& x) {
            return mean(square(tanh(linear(tanh(linear(tanh(linear(x, l1.w, l1.b)), l2.w, l2.b)), l3.w, l3.b))));
        };
    }
    c.fwd_rows = c.n * batch;
    c.fwd_inner = features;
    c.rev_rows = batch;
    c.rev_inner = 1;
    c.hidden = hidden;
    return c;
}

// A GEMM of the given size on preallocated buffers, as BLAS runs it for the engine.
template <class T>
std::function<void()> gemm_of(std::size_t rows, std::size_t inner, std::size_t cols) {
    auto a = std::make_shared<std::vector<T>>(rows * inner, T(0.5));
    auto b = std::make_shared<std::vector<T>>(inner * cols, T(0.25));
    auto c = std::make_shared<std::vector<T>>(rows * cols);
    const int r = static_cast<int>(rows), k = static_cast<int>(inner), n = static_cast<int>(cols);
    return [=] {
        if constexpr (std::is_same_v<T, float>) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, r, n, k, 1, a->data(), k, b->data(), n, 0, c->data(),
                        n);
        } else {
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, r, n, k, 1, a->data(), k, b->data(), n, 0, c->data(),
                        n);
        }
    };
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
    double d = 0;
    for (std::size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(a.value().flat(i) - b.value().flat(i)));
    return d;
}

// Minor page faults of the process so far: a fresh page the kernel maps on first touch (memory that was returned
// to the OS and requested again) counts one.
long minor_faults() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_minflt;
}

struct Timing {
    double seconds = 0;  // median per call
    double faults = 0;   // mean per call: a storm every few calls shows, where a median would hide it
};

// bench::interleaved_medians with warm calls, also counting the page faults of each timed call: one warm-up round,
// then `reps` rounds in which each function runs once untimed and once timed.
std::vector<Timing> timed_rounds(const std::vector<std::function<void()>>& fs, int reps) {
    for (const auto& f : fs) f();
    std::vector<std::vector<double>> t(fs.size());
    std::vector<long> pf(fs.size(), 0);
    for (int r = 0; r < reps; ++r) {
        for (std::size_t i = 0; i < fs.size(); ++i) {
            fs[i]();
            const long before = minor_faults();
            t[i].push_back(bench::seconds(fs[i]));
            pf[i] += minor_faults() - before;
        }
    }
    std::vector<Timing> out;
    for (std::size_t i = 0; i < fs.size(); ++i) {
        out.push_back({bench::median(t[i]), static_cast<double>(pf[i]) / std::max(reps, 1)});
    }
    return out;
}

struct Result {
    Case c;
    int reps = 0;
    double primal = 0, jvp = 0, vjp = 0, jacfwd = 0, jacrev = 0, record = 0, sweep_fwd = 0, sweep_rev = 0,
           sweep_jacfwd = 0, sweep_jacrev = 0, gemm_fwd = 0, gemm_rev = 0, diff = 0, structured = 0;
    // Mean minor page faults per timed call of the same transforms and sweeps.
    double pf_primal = 0, pf_jvp = 0, pf_vjp = 0, pf_jacfwd = 0, pf_jacrev = 0, pf_sweep_jacfwd = 0,
           pf_sweep_jacrev = 0;
    std::string structure;  // what jacobian(f, x) found: "blocks, forward, 16 directions"
};

Result measure(const Case& c, Dtype dtype, double budget, int min_reps) {
    Generator gv(3), gu(4);
    const Tensor v = Tensor::uniform(c.x.shape(), -1, 1, gv, dtype);
    Tensor y0;
    {
        NoGrad ng;
        y0 = c.f(c.x);
    }
    const Tensor u = Tensor::uniform(y0.shape(), -1, 1, gu, dtype);
    const Tensor xr = c.x.detach().requires_grad();
    const Tensor y = c.f(xr);  // the one recorded graph the sweep timings share
    const Tensor v1 = reshape(v, batched_shape(1, v.shape())), u1 = reshape(u, batched_shape(1, u.shape()));
    const Tensor eye_x(Array::basis(c.x.shape(), dtype)), eye_y(Array::basis(y.shape(), dtype));
    const SweepOptions keep{true, false};
    const bool single = dtype == Dtype::f32;
    // Each call drops its result before it returns, so freeing it is part of its own time (as in the peers).
    const std::vector<std::function<void()>> fs = {
        [&] {
            NoGrad ng;
            c.f(c.x);
        },
        [&] { jvp(c.f, c.x, v); },
        [&] { vjp(c.f, c.x).second(u); },
        [&] { jacfwd(c.f)(c.x); },
        [&] { jacrev(c.f)(c.x); },
        [&] { c.f(xr); },
        [&] { forward_sweep({xr}, {v1}, {y}, keep); },
        [&] { reverse_sweep({y}, {u1}, {xr}, keep); },
        [&] { forward_sweep({xr}, {eye_x}, {y}, keep); },
        [&] { reverse_sweep({y}, {eye_y}, {xr}, keep); },
        [&] { jacobian(c.f, c.x); },
        single ? gemm_of<float>(c.fwd_rows, c.fwd_inner, c.hidden) : gemm_of<double>(c.fwd_rows, c.fwd_inner, c.hidden),
        single ? gemm_of<float>(c.rev_rows, c.rev_inner, c.hidden) : gemm_of<double>(c.rev_rows, c.rev_inner, c.hidden),
    };
    double round = 0;
    for (const auto& f : fs) round += bench::seconds(f);
    Result r;
    r.c = c;
    r.reps = bench::reps_for(2 * round, budget, min_reps, 2000);
    const auto t = timed_rounds(fs, r.reps);
    r.primal = t[0].seconds;
    r.jvp = t[1].seconds;
    r.vjp = t[2].seconds;
    r.jacfwd = t[3].seconds;
    r.jacrev = t[4].seconds;
    r.record = t[5].seconds;
    r.sweep_fwd = t[6].seconds;
    r.sweep_rev = t[7].seconds;
    r.sweep_jacfwd = t[8].seconds;
    r.sweep_jacrev = t[9].seconds;
    r.gemm_fwd = t[11].seconds;
    r.gemm_rev = t[12].seconds;
    r.structured = t[10].seconds;
    r.pf_primal = t[0].faults;
    r.pf_jvp = t[1].faults;
    r.pf_vjp = t[2].faults;
    r.pf_jacfwd = t[3].faults;
    r.pf_jacrev = t[4].faults;
    r.pf_sweep_jacfwd = t[8].faults;
    r.pf_sweep_jacrev = t[9].faults;
    const Jacobian j = jacobian(c.f, c.x);
    r.structure = std::string(structure_name(j.structure)) + ", " + mode_name(j.mode) + ", " +
                  std::to_string(j.directions) + " directions";
    r.diff = max_abs_diff(jacfwd(c.f)(c.x), jacrev(c.f)(c.x));
    return r;
}

std::string write_crossover(std::vector<Result> rs, const std::string& csv, const std::string& png) {
    const auto ratio = [](const Result& r) { return static_cast<double>(r.c.n) / static_cast<double>(r.c.m); };
    std::stable_sort(rs.begin(), rs.end(), [&](const Result& a, const Result& b) { return ratio(a) < ratio(b); });
    std::ofstream out(csv);
    out << "case,form,n,m,n_over_m,jacfwd_us,jacrev_us,jacfwd_over_jacrev,sweep_jacfwd_us,sweep_jacrev_us\n";
    for (const auto& r : rs) {
        out << '"' << r.c.name << "\"," << form_name(r.c.form) << ',' << r.c.n << ',' << r.c.m << ',' << ratio(r) << ','
            << 1e6 * r.jacfwd << ',' << 1e6 * r.jacrev << ',' << r.jacfwd / r.jacrev << ',' << 1e6 * r.sweep_jacfwd
            << ',' << 1e6 * r.sweep_jacrev << '\n';
    }
    out.close();
    if (!out) return "cannot write " + csv;
    if (png.empty()) return "";
    // The points go inline (one datablock per form) and gnuplot prints the PNG on stdout: no path is part of the
    // script.
    std::ostringstream s;
    s << "set terminal pngcairo size 800,520 font 'sans,10'\n";
    std::vector<Form> forms;
    for (const Form f : {Form::matmul, Form::linear}) {
        if (std::none_of(rs.begin(), rs.end(), [&](const Result& r) { return r.c.form == f; })) continue;
        forms.push_back(f);
        s << "$" << form_name(f) << " << EOD\n# n_over_m jacfwd_over_jacrev sweep_jacfwd_over_sweep_jacrev\n";
        for (const auto& r : rs) {
            if (r.c.form == f)
                s << ratio(r) << ' ' << r.jacfwd / r.jacrev << ' ' << r.sweep_jacfwd / r.sweep_jacrev << '\n';
        }
        s << "EOD\n";
    }
    s << "set logscale xy\nset grid\nset key top left\n"
         "set title 'adgraph: jacfwd / jacrev time against n / m (one batched sweep each)'\n"
         "set xlabel 'n / m (inputs / outputs)'\nset ylabel 'time(jacfwd) / time(jacrev)'\nplot ";
    for (const Form f : forms) {
        s << "$" << form_name(f) << " using 1:2 with linespoints pt 7 title 'transforms, " << form_name(f)
          << " form', '' using 1:3 with linespoints pt 5 title 'same recorded graph (sweeps only), " << form_name(f)
          << " form', ";
    }
    s << "x with lines dt 2 title 'proportional to n / m', 1 with lines lc rgb 'gray' notitle\n";
    return nn::plot_png(s.str(), png);
}

// "matmul,linear" as forms; false on an unknown name.
bool parse_forms(const std::string& list, std::vector<Form>& forms) {
    forms.clear();
    std::stringstream in(list);
    std::string name;
    while (std::getline(in, name, ',')) {
        if (name == "matmul") {
            forms.push_back(Form::matmul);
        } else if (name == "linear") {
            forms.push_back(Form::linear);
        } else {
            return false;
        }
    }
    return !forms.empty();
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t hidden = 64, batch = 64, features = 16;
    double budget = 1.5;
    int min_reps = 7;
    std::string dtype_name_arg = "f32", csv = "modes.csv", png = "modes.png", shapes_arg, forms_arg = "matmul,linear";
    bool no_mlp = false, explicit_retain = false;
    bool quick = false, json = false;
    CLI::App app{"forward vs reverse mode: primal, JVP, VJP, jacfwd, jacrev, and sweeps over one recorded graph"};
    app.add_option("--hidden", hidden, "hidden width of the tanh networks")->capture_default_str();
    app.add_option("--dtype", dtype_name_arg, "f32 or f64")
        ->capture_default_str()
        ->check(CLI::IsMember({"f32", "f64"}));
    app.add_option("--budget", budget, "seconds of timing per case (sets the repetitions)")->capture_default_str();
    app.add_option("--min-reps", min_reps, "fewest timed rounds per case (median)")->capture_default_str();
    app.add_option("--csv", csv, "crossover table (CSV)")->capture_default_str();
    app.add_option("--png", png, "crossover plot (PNG, gnuplot); empty: none")->capture_default_str();
    app.add_option("--shapes", shapes_arg, "(n, m) pairs instead of the default ones, e.g. 1x1000,1000x10");
    app.add_option("--forms", forms_arg,
                   "how f is written, comma-separated: matmul (W3·tanh(W2·tanh(W1·x)), no bias), linear "
                   "(tanh(linear(x, W, b)) per layer)")
        ->capture_default_str();
    app.add_flag("--retain-freed-memory", explicit_retain,
                 "call retain_freed_memory() before measuring (to compare with the library as shipped)");
    app.add_flag("--no-mlp", no_mlp, "leave out the MLP loss");
    app.add_flag("--quick", quick, "tiny sizes (CTest smoke run)");
    app.add_flag("--json", json, "one JSON object per result line");
    CLI11_PARSE(app, argc, argv);
    const Dtype dtype = dtype_name_arg == "f32" ? f32 : f64;
    std::vector<Form> forms;
    if (!parse_forms(forms_arg, forms)) {
        std::fprintf(stderr, "bench_modes: --forms wants matmul and/or linear, comma-separated, got '%s'\n",
                     forms_arg.c_str());
        return 2;
    }
    std::vector<std::pair<std::size_t, std::size_t>> shapes = {
        {1, 1000}, {10, 1000}, {100, 100}, {1000, 10}, {1000, 1}};
    if (!shapes_arg.empty()) {
        shapes.clear();
        std::stringstream in(shapes_arg);
        std::string pair;
        while (std::getline(in, pair, ',')) {
            const auto x = pair.find('x');
            if (x == std::string::npos) {
                std::fprintf(stderr, "bench_modes: --shapes wants NxM pairs, got '%s'\n", pair.c_str());
                return 2;
            }
            shapes.emplace_back(std::stoul(pair.substr(0, x)), std::stoul(pair.substr(x + 1)));
        }
    }
    if (quick) {
        shapes = {{1, 20}, {5, 5}, {20, 1}};
        hidden = 8;
        batch = 4;
        features = 3;
        budget = 0.01;
        min_reps = 2;
    }
    // The library keeps freed memory by default; the explicit call is what programs had to do before.
    if (explicit_retain) retain_freed_memory();

    Generator gen(1);
    std::vector<Case> cases;
    for (auto [n, m] : shapes) {
        for (const Form f : forms) cases.push_back(tanh_net(n, m, hidden, f, dtype, gen));
    }
    if (!no_mlp) {
        for (const Form f : forms) cases.push_back(mlp_loss(batch, features, hidden, f, dtype, gen));
    }
    std::vector<Result> rs;
    for (const auto& c : cases) rs.push_back(measure(c, dtype, budget, min_reps));

    bench::Output out("modes", json);
    out.context("simd", simd_arch());  // the instruction set of adgraph's kernels (ADGRAPH_ARCH)
    out.context("engine", "adgraph");
    out.context("dtype", dtype == f32 ? "float32" : "float64");
    out.context("threads", bench::blas_threads());
    out.context("hidden", hidden);
    out.context("freed_memory", explicit_retain ? "retain_freed_memory() called" : "as shipped");
    out.preamble("forward vs reverse mode on a 3-layer tanh network (hidden " + std::to_string(hidden) +
                 ") and a batch-" + std::to_string(batch) +
                 " MLP loss, each as matmul(W, x) without bias and as linear(x, W, b); medians of interleaved "
                 "rounds, microseconds");
    const double us = 1e6;
    out.text(bench::format("%-20s %-6s %5s %9s %9s %9s %10s %10s %7s %7s %9s %9s", "case", "form", "reps", "primal",
                           "jvp", "vjp", "jacfwd", "jacrev", "jvp/p", "vjp/p", "fwd/rev", "|fwd-rev|"));
    for (const auto& r : rs) {
        out.row(
            {{"table", "transforms"},
             {"case", r.c.name},
             {"form", form_name(r.c.form)},
             {"n", r.c.n},
             {"m", r.c.m},
             {"reps", r.reps},
             {"primal_us", us * r.primal},
             {"jvp_us", us * r.jvp},
             {"vjp_us", us * r.vjp},
             {"jacfwd_us", us * r.jacfwd},
             {"jacrev_us", us * r.jacrev},
             {"jvp_over_primal", r.jvp / r.primal},
             {"vjp_over_primal", r.vjp / r.primal},
             {"jacfwd_over_jacrev", r.jacfwd / r.jacrev},
             {"primal_faults", r.pf_primal},
             {"jvp_faults", r.pf_jvp},
             {"vjp_faults", r.pf_vjp},
             {"jacfwd_faults", r.pf_jacfwd},
             {"jacrev_faults", r.pf_jacrev},
             {"max_diff", r.diff}},
            bench::format("%-20s %-6s %5d %9.1f %9.1f %9.1f %10.1f %10.1f %7.2f %7.2f %9.3f %9.1e", r.c.name.c_str(),
                          form_name(r.c.form), r.reps, us * r.primal, us * r.jvp, us * r.vjp, us * r.jacfwd,
                          us * r.jacrev, r.jvp / r.primal, r.vjp / r.primal, r.jacfwd / r.jacrev, r.diff));
    }
    out.text("");
    out.text(
        "same recorded graph: record once, then sweep it (k = directions per sweep); seed GEMM = the GEMM a naive");
    out.text("identity seed costs in the first (jacfwd) or last (jacrev) layer");
    out.text(bench::format("%-20s %-6s %9s %9s %9s %11s %11s %11s %11s %8s %8s", "case", "form", "record", "fwd k=1",
                           "rev k=1", "fwd k=n", "rev k=m", "seed gemm f", "seed gemm r", "jf/gemm", "jr/gemm"));
    for (const auto& r : rs) {
        out.row({{"table", "same_graph"},
                 {"case", r.c.name},
                 {"form", form_name(r.c.form)},
                 {"n", r.c.n},
                 {"m", r.c.m},
                 {"record_us", us * r.record},
                 {"sweep_fwd_us", us * r.sweep_fwd},
                 {"sweep_rev_us", us * r.sweep_rev},
                 {"sweep_jacfwd_us", us * r.sweep_jacfwd},
                 {"sweep_jacrev_us", us * r.sweep_jacrev},
                 {"sweep_jacfwd_faults", r.pf_sweep_jacfwd},
                 {"sweep_jacrev_faults", r.pf_sweep_jacrev},
                 {"seed_gemm_fwd_us", us * r.gemm_fwd},
                 {"seed_gemm_rev_us", us * r.gemm_rev},
                 {"jacfwd_over_seed_gemm", r.jacfwd / r.gemm_fwd},
                 {"jacrev_over_seed_gemm", r.jacrev / r.gemm_rev}},
                bench::format("%-20s %-6s %9.1f %9.1f %9.1f %11.1f %11.1f %11.1f %11.1f %8.2f %8.2f", r.c.name.c_str(),
                              form_name(r.c.form), us * r.record, us * r.sweep_fwd, us * r.sweep_rev,
                              us * r.sweep_jacfwd, us * r.sweep_jacrev, us * r.gemm_fwd, us * r.gemm_rev,
                              r.jacfwd / r.gemm_fwd, r.jacrev / r.gemm_rev));
    }
    out.text("");
    out.text("minor page faults per call (mean): pages the kernel had to map afresh, i.e. memory returned to the OS");
    out.text("and requested again (0 when freed buffers are reused)");
    out.text(bench::format("%-20s %-6s %8s %8s %8s %8s %8s %8s %8s", "case", "form", "primal", "jvp", "vjp", "jacfwd",
                           "jacrev", "fwd k=n", "rev k=m"));
    for (const auto& r : rs) {
        out.text(bench::format("%-20s %-6s %8.1f %8.1f %8.1f %8.1f %8.1f %8.1f %8.1f", r.c.name.c_str(),
                               form_name(r.c.form), r.pf_primal, r.pf_jvp, r.pf_vjp, r.pf_jacfwd, r.pf_jacrev,
                               r.pf_sweep_jacfwd, r.pf_sweep_jacrev));
    }
    out.text("");
    out.text("jacobian(f, x): the structure-aware Jacobian (mode and directions chosen from the recorded graph)");
    out.text(bench::format("%-20s %-6s %11s %11s  %s", "case", "form", "jacobian", "/ best jac",
                           "structure, mode, directions"));
    for (const auto& r : rs) {
        out.row({{"table", "structured"},
                 {"case", r.c.name},
                 {"form", form_name(r.c.form)},
                 {"n", r.c.n},
                 {"m", r.c.m},
                 {"jacobian_us", us * r.structured},
                 {"structure", r.structure}},
                bench::format("%-20s %-6s %11.1f %11.2f  %s", r.c.name.c_str(), form_name(r.c.form), us * r.structured,
                              r.structured / std::min(r.jacfwd, r.jacrev), r.structure.c_str()));
    }
    const std::string problem = write_crossover(rs, csv, png);
    out.text("");
    out.text("crossover: " + csv + (png.empty() ? "" : ", " + png) + (problem.empty() ? "" : " (" + problem + ")"));
    if (!problem.empty()) std::fprintf(stderr, "bench_modes: %s\n", problem.c_str());
    const double tol = dtype == f32 ? 1e-4 : 1e-10;
    for (const auto& r : rs) {
        if (!(r.diff <= tol)) {
            std::fprintf(stderr, "bench_modes: jacfwd and jacrev differ by %g on %s (%s form)\n", r.diff,
                         r.c.name.c_str(), form_name(r.c.form));
            return 1;
        }
    }
    return 0;
}
