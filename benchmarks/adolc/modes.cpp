// ADOL-C peer of bench_modes: the same 3-layer tanh network (hidden 64) and batch-64 MLP loss on ADOL-C's scalar
// tape (float64, ADOL-C has no float32). The function is taped once; then zos/fos/fov forward and fos/fov reverse
// sweeps run over that tape, which is what ADOL-C users time. The taping itself is reported too. Timings of a
// case are interleaved round-robin; medians in microseconds.
#include <adolc/adolc.h>

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <random>

#include "machine.hpp"
#include "output.hpp"

namespace {

struct Dense {
    std::size_t in, out;
    std::vector<double> w, b;
};

struct Net {
    std::string name;
    std::size_t rows = 1;  // samples pushed through the layers (1 for the Rⁿ → Rᵐ networks)
    std::vector<Dense> layers;
    bool loss = false;  // mean of squares over the outputs (the MLP loss)
    std::size_t n() const { return rows * layers.front().in; }
    std::size_t m() const { return loss ? 1 : rows * layers.back().out; }
};

Dense dense(std::size_t in, std::size_t out, std::mt19937_64& gen) {
    std::uniform_real_distribution<double> u(-1.0 / std::sqrt(double(in)), 1.0 / std::sqrt(double(in)));
    Dense d{in, out, std::vector<double>(in * out), std::vector<double>(out)};
    for (auto& v : d.w) v = u(gen);
    for (auto& v : d.b) v = u(gen);
    return d;
}

// The function for plain doubles and for adoubles (taping).
template <class T>
void eval(const Net& net, const T* x, T* y) {
    std::vector<T> h(x, x + net.n()), next;
    for (const auto& l : net.layers) {
        next.assign(net.rows * l.out, T(0.0));
        for (std::size_t r = 0; r < net.rows; ++r) {
            for (std::size_t o = 0; o < l.out; ++o) {
                T s = l.b[o];
                for (std::size_t i = 0; i < l.in; ++i) s += l.w[o * l.in + i] * h[r * l.in + i];
                next[r * l.out + o] = tanh(s);
            }
        }
        h.swap(next);
    }
    if (!net.loss) {
        for (std::size_t j = 0; j < h.size(); ++j) y[j] = h[j];
        return;
    }
    T s = 0.0;
    for (const auto& v : h) s += v * v;
    y[0] = s / static_cast<double>(h.size());
}

void tape(const Net& net, short tag, const std::vector<double>& x, std::vector<double>& y) {
    const unsigned buf = 1u << 23;  // keep the whole tape in memory (no spill files)
    trace_on(tag, 1, buf, buf, buf, buf);
    std::vector<adouble> ax(net.n()), ay(net.m());
    for (std::size_t i = 0; i < x.size(); ++i) ax[i] <<= x[i];
    eval(net, ax.data(), ay.data());
    for (std::size_t j = 0; j < y.size(); ++j) ay[j] >>= y[j];
    trace_off();
}

double** identity(std::size_t k) {
    double** e = myalloc2(k, k);
    for (std::size_t i = 0; i < k; ++i)
        for (std::size_t j = 0; j < k; ++j) e[i][j] = i == j;
    return e;
}

}  // namespace

int main(int argc, char** argv) {
    using namespace adg;
    std::size_t hidden = 64, batch = 64, features = 16;
    double budget = 1.5;
    int min_reps = 7;
    bool quick = false, json = false;
    CLI::App app{"ADOL-C peer of bench_modes: sweeps over one tape"};
    app.add_option("--hidden", hidden, "hidden width")->capture_default_str();
    app.add_option("--budget", budget, "seconds of timing per case")->capture_default_str();
    app.add_option("--min-reps", min_reps, "fewest timed rounds per case")->capture_default_str();
    app.add_flag("--quick", quick, "tiny sizes (CTest smoke run)");
    app.add_flag("--json", json, "one JSON object per result line");
    CLI11_PARSE(app, argc, argv);
    std::vector<std::pair<std::size_t, std::size_t>> shapes = {
        {1, 1000}, {10, 1000}, {100, 100}, {1000, 10}, {1000, 1}};
    if (quick) {
        shapes = {{1, 20}, {5, 5}, {20, 1}};
        hidden = 8;
        batch = 4;
        features = 3;
        budget = 0.01;
        min_reps = 2;
    }
    std::mt19937_64 gen(1);
    std::vector<Net> nets;
    for (auto [n, m] : shapes) {
        nets.push_back({"tanh n=" + std::to_string(n) + " m=" + std::to_string(m),
                        1,
                        {dense(n, hidden, gen), dense(hidden, hidden, gen), dense(hidden, m, gen)},
                        false});
    }
    nets.push_back({"mlp loss " + std::to_string(batch) + "x" + std::to_string(features),
                    batch,
                    {dense(features, hidden, gen), dense(hidden, hidden, gen), dense(hidden, 1, gen)},
                    true});

    bench::Output out("modes", json);
    out.context("engine", "adolc");
    out.context("dtype", "float64");
    out.context("threads", 1);
    out.context("hidden", hidden);
    out.preamble("ADOL-C 2.7 (scalar tape) on the bench_modes shapes; sweeps over one tape; medians, microseconds");
    out.text(bench::format("%-20s %5s %9s %9s %9s %9s %9s %11s %11s %9s", "case", "reps", "primal", "tape", "zos",
                           "jvp", "vjp", "jacfwd", "jacrev", "|fwd-rev|"));
    std::uniform_real_distribution<double> u(-1, 1);
    for (std::size_t c = 0; c < nets.size(); ++c) {
        const Net& net = nets[c];
        const std::size_t n = net.n(), m = net.m();
        const short tag = static_cast<short>(c + 1);
        std::vector<double> x(n), v(n), y(m), yd(m), w(m), z(n);
        for (auto& e : x) e = u(gen);
        for (auto& e : v) e = u(gen);
        for (auto& e : w) e = u(gen);
        tape(net, tag, x, y);
        double** ex = identity(n);
        double** ey = identity(m);
        double** jf = myalloc2(m, n);
        double** jr = myalloc2(m, n);
        const int mi = static_cast<int>(m), ni = static_cast<int>(n);
        const std::vector<std::function<void()>> fs = {
            [&] { eval(net, x.data(), y.data()); },
            [&] { tape(net, tag, x, y); },
            [&] { zos_forward(tag, mi, ni, 0, x.data(), y.data()); },
            [&] { fos_forward(tag, mi, ni, 0, x.data(), v.data(), y.data(), yd.data()); },
            [&] {
                zos_forward(tag, mi, ni, 1, x.data(), y.data());
                fos_reverse(tag, mi, ni, w.data(), z.data());
            },
            [&] { fov_forward(tag, mi, ni, ni, x.data(), ex, y.data(), jf); },
            [&] {
                zos_forward(tag, mi, ni, 1, x.data(), y.data());
                fov_reverse(tag, mi, ni, mi, ey, jr);
            },
        };
        double round = 0;
        for (const auto& f : fs) round += bench::seconds(f);
        const int reps = bench::reps_for(2 * round, budget, min_reps, 2000);
        const auto t = bench::interleaved_medians(fs, reps, true);
        double diff = 0;
        for (std::size_t i = 0; i < m; ++i)
            for (std::size_t j = 0; j < n; ++j) diff = std::max(diff, std::abs(jf[i][j] - jr[i][j]));
        const double us = 1e6;
        out.row({{"table", "transforms"},
                 {"case", net.name},
                 {"n", n},
                 {"m", m},
                 {"reps", reps},
                 {"primal_us", us * t[0]},
                 {"tape_us", us * t[1]},
                 {"zos_us", us * t[2]},
                 {"jvp_us", us * t[3]},
                 {"vjp_us", us * t[4]},
                 {"jacfwd_us", us * t[5]},
                 {"jacrev_us", us * t[6]},
                 {"jacfwd_over_jacrev", t[5] / t[6]},
                 {"max_diff", diff}},
                bench::format("%-20s %5d %9.1f %9.1f %9.1f %9.1f %9.1f %11.1f %11.1f %9.1e", net.name.c_str(), reps,
                              us * t[0], us * t[1], us * t[2], us * t[3], us * t[4], us * t[5], us * t[6], diff));
        myfree2(ex);
        myfree2(ey);
        myfree2(jf);
        myfree2(jr);
    }
    return 0;
}
