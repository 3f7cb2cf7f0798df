// The playground's quality bounds (issue 16) across seeds, as users meet them: a link names a configuration and a
// seed, and the page trains it. For each case and each seed 1..N it trains a Session, notes the test loss after the
// case's epochs and the first epoch at which the test loss is at most the bound, and prints the spread beside the
// original playground's (its own nn.ts and dataset.ts run under Node, embedded below). Then the server's compute per
// frame of the page: one epoch, the heat maps of every node, the losses and the gradients.
//
// Exit code: 1 if a case meets its bound for a smaller share of the seeds than the original does (circle 196 and xor
// 122 of 200 seeds, spiral 40 of 40: neither circle's nor xor's bound holds for every seed in the original); 0
// otherwise. By default each case runs as many seeds as the original's share was measured on. --quick (the CTest
// smoke run: 3 seeds, few epochs) prints the same tables but judges nothing.
#include <adgraph/adgraph.hpp>
#include <adgraph/nn/atomic_file.hpp>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "machine.hpp"
#include "output.hpp"
#include "playground/session.hpp"

using namespace adg;
using playground::Config;
using playground::Session;

namespace {

// min / median / max of a sample (median: the upper middle, as bench::median).
struct Spread {
    double min = 0, median = 0, max = 0;
};

Spread spread_of(std::vector<double> v) {
    if (v.empty()) return {};
    std::sort(v.begin(), v.end());
    return {v.front(), bench::median(v), v.back()};
}

// The original playground: playground.tensorflow.org's own nn.ts and dataset.ts, run under Node 20 with seedrandom
// seeds "1".."40" and the settings and epochs of each case below (measured once by a colleague for issue 16). Its
// seeds and ours draw different points and weights, so only the spreads compare, not seed by seed. seedrandom gives
// the same stream for "1" and "11", "2" and "22", "3" and "33", so its 40 seeds are 37 distinct runs. For circle and
// xor the share meeting the bound was also measured over seeds "1".."200" (the same program, later): circle 196,
// xor 122; and our Session, given the original's points and initial weights, follows its nn.ts to 4e-16 in the
// losses over 300 epochs (circle seeds 1, 28, 30, xor 1), so the two differ only in their random draws.
struct Original {
    int meeting = 0, seeds = 40;
    Spread final_loss, first_epoch;             // first_epoch over the seeds that meet the bound
    int judged_meeting = 0, judged_seeds = 40;  // the share a run is judged against: the largest measurement
};

struct Case {
    std::string name;
    Config config;
    std::size_t epochs = 0;
    double bound = 0;
    Original original;
};

std::vector<Case> cases() {
    Config small;  // the page's defaults: noise 0, ratio 50, batch 10, tanh, learning rate 0.03, x1 x2
    small.layers = {4};
    Config circle = small, xor_ = small, spiral;
    circle.dataset = "circle";
    xor_.dataset = "xor";
    spiral.dataset = "spiral";
    spiral.features = {"x1", "x2", "sinx1", "sinx2"};
    spiral.layers = {8, 8};
    return {
        {"circle", circle, 300, 0.05, {40, 40, {0.0095, 0.0168, 0.0312}, {64, 79, 120}, 196, 200}},
        {"xor", xor_, 300, 0.05, {25, 40, {0.0156, 0.0348, 0.1491}, {41, 92, 286}, 122, 200}},
        {"spiral", spiral, 2000, 0.1, {40, 40, {0.0008, 0.0072, 0.0660}, {53, 82, 159}, 40, 40}},
    };
}

struct SeedResult {
    std::uint64_t seed = 0;
    double final_loss = 0;
    std::optional<std::size_t> first_epoch;  // the first epoch after which the test loss is ≤ the bound
};

SeedResult run_seed(const Case& c, std::uint64_t seed, std::size_t epochs) {
    Config config = c.config;
    config.seed = seed;
    Session s(config);
    SeedResult r{seed, 0, std::nullopt};
    for (std::size_t e = 1; e <= epochs; ++e) {
        s.step(1);
        const double test = s.losses().test;
        if (!r.first_epoch && test <= c.bound) r.first_epoch = e;
        if (e == epochs) r.final_loss = test;
    }
    return r;
}

std::string spread_text(const Spread& s, const char* fmt) {
    const std::string f = std::string(fmt) + " / " + fmt + " / " + fmt;
    return bench::format(f.c_str(), s.min, s.median, s.max);
}

// Runs one case over `seeds` seeds, prints its rows; true if it meets its bound for at least the original's share.
bool quality_case(const Case& c, int seeds, std::size_t epochs, std::string& csv) {
    std::vector<SeedResult> rs;
    for (int seed = 1; seed <= seeds; ++seed) {
        rs.push_back(run_seed(c, static_cast<std::uint64_t>(seed), epochs));
        const SeedResult& r = rs.back();
        csv += bench::format("%s,%d,%.6g,", c.name.c_str(), seed, r.final_loss) +
               (r.first_epoch ? std::to_string(*r.first_epoch) : std::string()) + "\n";
    }
    std::vector<double> finals, firsts;
    std::vector<const SeedResult*> failing;
    int meeting = 0;
    for (const SeedResult& r : rs) {
        finals.push_back(r.final_loss);
        if (r.final_loss <= c.bound) {
            ++meeting;
            if (r.first_epoch) firsts.push_back(static_cast<double>(*r.first_epoch));
        } else {
            failing.push_back(&r);
        }
    }
    const std::string bound = bench::format("<= %g in %zu", c.bound, epochs);
    std::printf("%-7s %-15s %-9s %4d/%-3d %-26s %s\n", c.name.c_str(), bound.c_str(), "adgraph", meeting, seeds,
                spread_text(spread_of(finals), "%.4f").c_str(),
                firsts.empty() ? "-" : spread_text(spread_of(firsts), "%.0f").c_str());
    const Original& o = c.original;
    std::printf("%-7s %-15s %-9s %4d/%-3d %-26s %s\n", "", "", "original", o.meeting, o.seeds,
                spread_text(o.final_loss, "%.4f").c_str(), spread_text(o.first_epoch, "%.0f").c_str());
    if (o.judged_seeds != o.seeds) {
        std::printf("%-7s %-15s %-9s %4d/%-3d (over seeds 1..%d)\n", "", "", "original", o.judged_meeting,
                    o.judged_seeds, o.judged_seeds);
    }
    if (!failing.empty()) {
        std::string line = "        seeds missing the bound (final test loss, first epoch within it):";
        for (const SeedResult* r : failing) {
            line += bench::format(" %llu (%.4f, ", static_cast<unsigned long long>(r->seed), r->final_loss) +
                    (r->first_epoch ? std::to_string(*r->first_epoch) : std::string("never")) + ")";
        }
        std::printf("%s\n", line.c_str());
    }
    std::fflush(stdout);
    return meeting * o.judged_seeds >= o.judged_meeting * seeds;  // at least the original's share
}

// The server's compute for one frame of the page: a step of one epoch, the heat maps of every node on the page's
// 100 × 100 grid, the losses and the gradients. Medians over `frames` frames (after 5 untimed ones) of each part and
// of the whole (and the whole's 90th percentile: on a shared machine a frame now and then loses the core), the session
// training on from frame to frame as the page's does.
void frame_cost(const std::string& name, const Config& config, int frames) {
    Session s(config);
    std::vector<double> step, maps, losses, grads, total;
    for (int f = -5; f < frames; ++f) {
        const double t0 = bench::seconds([&] { s.step(1); });
        const double t1 = bench::seconds([&] { (void)s.node_maps(100); });
        const double t2 = bench::seconds([&] { (void)s.losses(); });
        const double t3 = bench::seconds([&] { (void)s.gradients(); });
        if (f < 0) continue;
        step.push_back(t0);
        maps.push_back(t1);
        losses.push_back(t2);
        grads.push_back(t3);
        total.push_back(t0 + t1 + t2 + t3);
    }
    std::size_t nodes = config.features.size() + 1;
    for (std::size_t n : config.layers) nodes += n;
    const double t = bench::median(total);
    std::sort(total.begin(), total.end());
    const double p90 = total[total.size() * 9 / 10];
    std::printf("%-24s %6zu %8.0f %8.0f %8.0f %8.0f %9.0f %9.0f %9.0f\n", name.c_str(), nodes,
                1e6 * bench::median(step), 1e6 * bench::median(maps), 1e6 * bench::median(losses),
                1e6 * bench::median(grads), 1e6 * t, 1e6 * p90, 1 / t);
    std::fflush(stdout);
}

// /proc/loadavg's first three fields and a newline (the machine may be shared: say how busy it was).
std::string load_average() {
    std::FILE* f = std::fopen("/proc/loadavg", "r");
    if (!f) return "unknown\n";
    double a = 0, b = 0, c = 0;
    const int got = std::fscanf(f, "%lf %lf %lf", &a, &b, &c);
    std::fclose(f);
    return got == 3 ? bench::format("%.2f %.2f %.2f (1, 5, 15 min)\n", a, b, c) : "unknown\n";
}

}  // namespace

int main(int argc, char** argv) {
    int seeds = 0, frames = 200;  // seeds 0: per case, as many as the original's share was measured on
    bool quick = false;
    std::string csv_path;
    std::vector<std::string> only = {"circle", "xor", "spiral"};
    CLI::App app{
        "The playground's quality bounds over seeds 1..N beside the original playground's, and the server's compute "
        "per frame.\nExit code 1 if a case meets its bound for a smaller share of the seeds than the original (circle "
        "196/200, xor 122/200, spiral 40/40); --quick judges nothing."};
    app.add_option("--seeds", seeds, "seeds 1..N per case (default: 200 for circle and xor, 40 for spiral)")
        ->check(CLI::Range(1, 100000));
    app.add_option("--frames", frames, "timed frames per configuration (median)")
        ->capture_default_str()
        ->check(CLI::Range(1, 100000));
    app.add_option("--csv", csv_path, "write the per-seed rows (case, seed, final test loss, first epoch) here");
    app.add_option("--cases", only, "the quality cases to run")
        ->delimiter(',')
        ->capture_default_str()
        ->check(CLI::IsMember({"circle", "xor", "spiral"}));
    app.add_flag("--quick", quick, "3 seeds, few epochs and frames, no verdict (CTest smoke run)");
    CLI11_PARSE(app, argc, argv);
    if (quick) {
        seeds = 3;
        frames = 5;
    }
    set_num_threads(1);  // as the server does: sessions run side by side, each in one thread

    bench::Output out("playground", false);
    out.context("dtype", "float64");
    out.context("threads", "adgraph 1, OpenBLAS " + std::to_string(bench::blas_threads()));
    out.preamble("playground: quality over seeds and compute per frame");
    // Long text goes straight to printf: bench::format holds 512 bytes.
    std::printf(
        "\nQuality: test loss (half squared error, mean over the 250 test points) over seeds 1..N; noise 0, ratio "
        "50,\nbatch 10, tanh, learning rate 0.03. circle and xor: x1 x2, one hidden layer of 4; spiral: x1 x2 sinx1 "
        "sinx2, 8,8.\n\"first epoch\": the first epoch after which the test loss is within the bound (seeds meeting "
        "it).\n\"original\": playground.tensorflow.org's nn.ts and dataset.ts under Node 20, seedrandom seeds "
        "\"1\"..\"40\"\n(37 distinct runs: seedrandom gives \"1\" and \"11\", \"2\" and \"22\", \"3\" and \"33\" the "
        "same stream);\nits seeds draw other points and weights than ours, so the spreads compare, not the seeds.\n\n");
    std::printf("%-7s %-15s %-9s %8s %-26s %s\n", "case", "bound", "engine", "meeting", "final min / median / max",
                "first epoch min / median / max");
    std::string csv = "case,seed,final_test_loss,first_epoch\n";
    bool pass = true;
    for (const Case& c : cases()) {
        if (std::find(only.begin(), only.end(), c.name) == only.end()) continue;
        const std::size_t epochs = quick ? c.epochs / 10 : c.epochs;
        const bool ok = quality_case(c, seeds > 0 ? seeds : c.original.judged_seeds, epochs, csv);
        if (!ok) pass = false;
    }
    if (!csv_path.empty()) nn::write_file_atomically(csv_path, csv);

    std::printf(
        "\nCompute per frame (what the server does for one frame of the page): one epoch (step), the 100 x 100 heat "
        "map\nof every node (node_maps), losses(), gradients(); medians over %d frames in us (frame: the median of "
        "the sums,\nand their 90th percentile), and the frames per second that compute alone allows (1 / frame)."
        "\nLoad average: %s",
        frames, load_average().c_str());
    std::printf("%-24s %6s %8s %8s %8s %8s %9s %9s %9s\n", "configuration", "nodes", "step", "maps", "losses", "grads",
                "frame", "frame p90", "frames/s");
    Config by_default;  // circle, x1 x2, 4,2
    Config spiral;
    spiral.dataset = "spiral";
    spiral.features = {"x1", "x2", "sinx1", "sinx2"};
    spiral.layers = {8, 8};
    Config largest = spiral;
    largest.features = playground::feature_names();
    largest.layers = std::vector<std::size_t>(playground::max_layers, playground::max_neurons);
    frame_cost("circle, x1 x2, 4,2", by_default, frames);
    frame_cost("spiral, 4 features, 8,8", spiral, frames);
    frame_cost("spiral, 7 features, 6x8", largest, frames);

    if (quick) {
        std::printf("\n--quick: not judged.\n");
        return 0;
    }
    std::printf("\nverdict: %s (each case: at least the original's share of seeds meeting the bound)\n",
                pass ? "pass" : "FAIL");
    return pass ? 0 : 1;
}
