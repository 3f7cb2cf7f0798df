// Forward vs reverse accumulation through time. For a GRU (input 28) of hidden size h and sequence length T, the
// gradient of a loss at the last step with respect to all parameters by BPTT (record every step, one reverse
// sweep), RTRL (one step recorded at a time, a chunk of parameter directions carried forward through it by a
// forward sweep, the step's graph released behind it; one direction per parameter) and truncated BPTT (the state
// detached every `window` steps). Reports time, peak memory, and the gradients' differences; checks that BPTT and
// RTRL agree (1e-5 in float32, 1e-10 in float64) and exits 1 if not. Writes a CSV and a PNG of time and memory
// against T. Where the whole RTRL would take longer than --rtrl-budget, only a sample of its chunks runs and the
// time is extrapolated from them (marked so in every output).
#include <adgraph/adgraph.hpp>
#include <adgraph/nn/atomic_file.hpp>
#include <adgraph/nn/process.hpp>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <sstream>

#include "machine.hpp"
#include "output.hpp"
#include "rnn_grads.hpp"
#include "rnn_modes_output.hpp"

using namespace adg;
using bench::ConfigResult;
using bench::Grads;
using bench::ModeResult;
using bench::Settings;

namespace {

// Median time of `run` over about `budget` seconds, given one call's time `first` (the measured call before).
double timed(const std::function<void()>& run, double first, double budget, int& reps) {
    reps = bench::reps_for(first, budget, 1, 15);
    if (reps <= 1) return first;
    std::vector<double> t{first};
    for (int i = 1; i < reps; ++i) t.push_back(bench::seconds(run));
    return bench::median(t);
}

ModeResult recorded_mode(const char* name, bench::RnnProblem& p, std::size_t window, const Settings& s,
                         const Grads* reference, Grads& g) {
    ModeResult r;
    r.mode = name;
    const auto run = [&] {
        return window ? bench::truncated_grads(p, window, nullptr) : bench::bptt_grads(p, nullptr);
    };
    const double first = bench::seconds([&] { g = run(); });
    r.seconds = timed([&] { run(); }, first, s.budget, r.reps);
    if (reference) {
        r.diff = bench::max_abs_diff(g, *reference);
        r.rel = r.diff / bench::max_abs(*reference);
    }
    return r;
}

// Chunks evenly spread over each parameter's, `per_param` of each (all where it has fewer).
std::vector<std::size_t> sample_of(const std::vector<bench::RtrlChunk>& chunks, std::size_t per_param) {
    std::vector<std::size_t> picked;
    for (std::size_t a = 0; a < chunks.size();) {
        std::size_t b = a;
        while (b < chunks.size() && chunks[b].param == chunks[a].param) ++b;
        const std::size_t n = b - a, take = std::min(n, per_param);
        for (std::size_t i = 0; i < take; ++i) picked.push_back(a + (take == 1 ? 0 : i * (n - 1) / (take - 1)));
        a = b;
    }
    return picked;
}

ModeResult rtrl_mode(bench::RnnProblem& p, const Settings& s, const Grads& reference) {
    ModeResult r;
    r.mode = "RTRL";
    const auto chunks = bench::rtrl_chunks(p, s.chunk);
    r.chunks = chunks.size();
    const std::size_t n_params = p.cell->parameters().size();
    Grads g = bench::zero_grads(p);
    std::vector<std::vector<char>> done;
    for (const auto& v : g) done.emplace_back(v.size(), 0);
    std::vector<double> secs(n_params, 0), dirs(n_params, 0), total(n_params, 0);
    for (const auto& c : chunks) total[c.param] += static_cast<double>(c.count);
    std::vector<char> ran(chunks.size(), 0);
    const auto run_chunk = [&](std::size_t i) {
        const auto& c = chunks[i];
        secs[c.param] += bench::rtrl_chunk(p, c, g, nullptr);
        dirs[c.param] += static_cast<double>(c.count);
        for (std::size_t d = 0; d < c.count; ++d) done[c.param][c.from + d] = 1;
        ran[i] = 1;
        ++r.chunks_run;
    };
    // The sample first; the rest only if the whole would fit in the budget.
    for (const std::size_t i : sample_of(chunks, s.rtrl_sample)) run_chunk(i);
    double estimate = 0;
    for (std::size_t j = 0; j < n_params; ++j) estimate += secs[j] / dirs[j] * total[j];
    r.sample_estimate = estimate;
    r.extrapolated = !s.rtrl_full && estimate > s.rtrl_budget;
    if (!r.extrapolated) {
        for (std::size_t i = 0; i < chunks.size(); ++i) {
            if (!ran[i]) run_chunk(i);
        }
    }
    for (std::size_t j = 0; j < n_params; ++j) {
        r.us_per_direction_step.push_back(1e6 * secs[j] / dirs[j] / static_cast<double>(p.xs.size()));
    }
    if (r.extrapolated) {
        r.seconds = estimate;
    } else {
        double sum = 0;
        for (const double x : secs) sum += x;
        // Short runs again, as the other modes, for a median.
        r.seconds = timed(
            [&] {
                for (const auto& c : chunks) bench::rtrl_chunk(p, c, g, nullptr);
            },
            sum, s.budget, r.reps);
    }
    r.diff = bench::max_abs_diff(g, reference, done);
    r.rel = r.diff / bench::max_abs(reference);
    return r;
}

bench::RnnProblem problem_of(Dtype dtype, std::size_t hidden, std::size_t steps, const Settings& s) {
    return bench::make_rnn_problem(s.input, hidden, steps, s.batch, dtype, 17 + hidden + steps);
}

const char* child_mode(const std::string& mode) {
    return mode == "BPTT" ? "bptt" : mode == "RTRL" ? "rtrl" : "truncated";
}

// One mode's memory, measured in a fresh process (this program with --memory-of): in this one, the pages earlier
// runs freed but malloc kept would hide part of the run's own use. Empty on success, else why not.
std::string child_memory(const ConfigResult& c, ModeResult& r, const Settings& s) {
    const std::vector<std::string> argv = {"/proc/self/exe",
                                           "--memory-of",
                                           child_mode(r.mode),
                                           "--hidden",
                                           std::to_string(c.hidden),
                                           "--steps",
                                           std::to_string(c.steps),
                                           "--dtypes",
                                           c.dtype == f32 ? "f32" : "f64",
                                           "--batch",
                                           std::to_string(s.batch),
                                           "--window",
                                           std::to_string(s.window),
                                           "--chunk",
                                           std::to_string(s.chunk),
                                           "--threads",
                                           std::to_string(s.threads)};
    const nn::ProcessResult pr = nn::run_process(argv);
    if (!pr.succeeded()) return "the memory run " + pr.how_it_ended() + ": " + pr.err;
    try {
        const auto j = nlohmann::json::parse(pr.out);
        r.mem.peak_rss_bytes = j.at("peak_rss_bytes").get<double>();
        r.mem.held_bytes = j.at("held_bytes").get<double>();
    } catch (const std::exception& e) {
        return std::string("the memory run printed no result: ") + e.what();
    }
    return "";
}

ConfigResult run_config(Dtype dtype, std::size_t hidden, std::size_t steps, bool with_rtrl, const Settings& s) {
    bench::RnnProblem p = problem_of(dtype, hidden, steps, s);
    ConfigResult c;
    c.dtype = dtype;
    c.hidden = hidden;
    c.steps = steps;
    c.params = p.cell->parameter_count();
    Grads exact, truncated;
    c.modes.push_back(recorded_mode("BPTT", p, 0, s, nullptr, exact));
    if (with_rtrl) c.modes.push_back(rtrl_mode(p, s, exact));
    c.modes.push_back(recorded_mode("truncated BPTT", p, s.window, s, &exact, truncated));
    if (s.measure_memory) {
        for (auto& r : c.modes) {
            const std::string problem = child_memory(c, r, s);
            if (!problem.empty()) c.problems += r.mode + ": " + problem + "\n";
        }
    }
    return c;
}

bool parse_sizes(const std::string& list, std::vector<std::size_t>& out) {
    out.clear();
    std::stringstream in(list);
    std::string item;
    while (std::getline(in, item, ',')) {
        try {
            std::size_t used = 0;
            const unsigned long v = std::stoul(item, &used);
            if (used != item.size() || v == 0) return false;
            out.push_back(v);
        } catch (const std::exception&) {
            return false;
        }
    }
    return !out.empty();
}

}  // namespace

int main(int argc, char** argv) {
    Settings s;
    std::string hidden_arg = "8,32,128", steps_arg = "10,100,1000", dtypes_arg = "f32,f64", csv = "rnn_modes.csv",
                png = "rnn_modes.png";
    std::string memory_of, replot;
    bool quick = false, json = false;
    CLI::App app{"forward vs reverse accumulation through time: BPTT, RTRL and truncated BPTT on a GRU"};
    app.add_option("--hidden", hidden_arg, "hidden sizes, comma-separated")->capture_default_str();
    app.add_option("--steps", steps_arg, "sequence lengths T, comma-separated")->capture_default_str();
    app.add_option("--dtypes", dtypes_arg, "f32 and/or f64, comma-separated")->capture_default_str();
    app.add_option("--f64-max-hidden", s.f64_max_hidden, "float64 runs only up to this hidden size")
        ->capture_default_str();
    app.add_option("--f64-max-steps", s.f64_max_steps, "float64 runs only up to this T")->capture_default_str();
    app.add_option("--batch", s.batch, "sequences per batch")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--window", s.window, "truncated BPTT's window (steps)")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    app.add_option("--chunk", s.chunk, "RTRL directions per forward sweep")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    app.add_option("--rtrl-budget", s.rtrl_budget,
                   "seconds: an RTRL run estimated longer than this runs only a sample of its chunks and is "
                   "extrapolated")
        ->capture_default_str();
    app.add_option("--rtrl-sample", s.rtrl_sample, "chunks per parameter tensor in RTRL's sample")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    app.add_flag("--rtrl-full", s.rtrl_full, "always run every RTRL chunk (no extrapolation)");
    app.add_option("--budget", s.budget, "seconds of timing per mode (sets the repetitions)")->capture_default_str();
    app.add_option("--threads", s.threads, "adgraph and OpenBLAS threads")->capture_default_str();
    app.add_option("--memory-of", memory_of,
                   "internal: measure one mode's memory for one --hidden, --steps and --dtypes in this (fresh) "
                   "process and print it as JSON")
        ->check(CLI::IsMember({"bptt", "truncated", "rtrl"}));
    app.add_option("--csv", csv, "results (CSV); empty: none")->capture_default_str();
    app.add_option("--png", png, "time and memory against T (PNG, gnuplot); empty: none")->capture_default_str();
    app.add_option("--replot", replot,
                   "draw --png from this CSV of an earlier run (its batch and chunk; --window as given) and exit");
    app.add_flag("--quick", quick, "tiny sizes (CTest smoke run; still checks BPTT against RTRL)");
    app.add_flag("--json", json, "one JSON object per result line");
    CLI11_PARSE(app, argc, argv);
    std::vector<std::size_t> hiddens, steps;
    if (!parse_sizes(hidden_arg, hiddens) || !parse_sizes(steps_arg, steps)) {
        std::fprintf(stderr, "bench_rnn_modes: --hidden and --steps want positive integers, comma-separated\n");
        return 2;
    }
    std::vector<Dtype> dtypes;
    {
        std::stringstream in(dtypes_arg);
        std::string d;
        while (std::getline(in, d, ',')) {
            if (d != "f32" && d != "f64") {
                std::fprintf(stderr, "bench_rnn_modes: --dtypes wants f32 and/or f64, got '%s'\n", d.c_str());
                return 2;
            }
            dtypes.push_back(d == "f32" ? f32 : f64);
        }
    }
    if (quick) {
        hiddens = {4};
        steps = {3, 25};
        s.batch = 2;
        s.chunk = 16;
        s.budget = 0.01;
        s.rtrl_full = true;
        s.f64_max_hidden = 4;
        s.f64_max_steps = 25;
    }
    if (!replot.empty()) {
        try {
            const std::string problem = bench::write_plot(bench::read_csv(replot, s), s, png);
            if (problem.empty()) return 0;
            std::fprintf(stderr, "bench_rnn_modes: no plot: %s\n", problem.c_str());
        } catch (const std::exception& e) {
            std::fprintf(stderr, "bench_rnn_modes: %s\n", e.what());
        }
        return 1;
    }
    set_num_threads(s.threads);
    bench::set_blas_threads(s.threads);
    if (!memory_of.empty()) {
        bench::RnnProblem p = problem_of(dtypes.front(), hiddens.front(), steps.front(), s);
        bench::warm_up(p, s.window, s.chunk);
        const bench::MemoryUse m = bench::measure_memory(p, memory_of, s.window, s.chunk);
        std::printf("%s\n",
                    nlohmann::json{{"peak_rss_bytes", m.peak_rss_bytes}, {"held_bytes", m.held_bytes}}.dump().c_str());
        return 0;
    }
    {
        // First calls (thread pools, BLAS buffers, malloc's arenas) are not any configuration's cost.
        Settings warm = s;
        warm.budget = 0;
        warm.rtrl_full = true;
        warm.measure_memory = false;
        for (const Dtype dtype : dtypes) run_config(dtype, hiddens.front(), 2, true, warm);
    }

    std::vector<ConfigResult> rs;
    for (const Dtype dtype : dtypes) {
        for (const std::size_t h : hiddens) {
            for (const std::size_t t : steps) {
                if (dtype == f64 && (h > s.f64_max_hidden || t > s.f64_max_steps)) continue;
                rs.push_back(run_config(dtype, h, t, true, s));
            }
        }
    }

    bench::Output out("rnn_modes", json);
    out.context("simd", simd_arch());
    out.context("engine", "adgraph");
    out.context("threads", s.threads);
    out.context("batch", s.batch);
    out.context("input", s.input);
    out.context("window", s.window);
    out.context("chunk", s.chunk);
    out.preamble("gradient of a GRU's last-step loss: BPTT, RTRL (forward sweeps of " + std::to_string(s.chunk) +
                 " parameter directions, one step recorded at a time), truncated BPTT (state detached every " +
                 std::to_string(s.window) + " steps); batch " + std::to_string(s.batch) +
                 ", input 28; time = median of runs, * = extrapolated from a sample of chunks; peak = peak RSS "
                 "over the RSS before the run, in a fresh process per mode (RTRL: the first chunk of each parameter); "
                 "held = most live bytes at a step's end there; diff = vs BPTT (RTRL: over the directions run)");
    out.text(bench::format("%-7s %4s %5s %7s %-15s %11s %6s %10s %10s %10s %10s", "dtype", "h", "T", "params", "mode",
                           "seconds", "chunks", "peak MB", "held MB", "max|diff|", "rel diff"));
    for (const auto& c : rs) {
        for (const auto& r : c.modes) {
            const std::string chunks =
                r.mode == "RTRL" ? std::to_string(r.chunks_run) + "/" + std::to_string(r.chunks) : std::string("-");
            out.row(
                {{"table", "modes"},
                 {"dtype", dtype_name(c.dtype)},
                 {"hidden", c.hidden},
                 {"steps", c.steps},
                 {"params", c.params},
                 {"mode", r.mode},
                 {"seconds", r.seconds},
                 {"reps", r.reps},
                 {"extrapolated", r.extrapolated},
                 {"chunks_run", r.chunks_run},
                 {"chunks", r.chunks},
                 {"peak_rss_mb", r.mem.peak_rss_bytes / 1e6},
                 {"held_mb", r.mem.held_bytes / 1e6},
                 {"max_abs_diff_vs_bptt", r.diff},
                 {"rel_diff_vs_bptt", r.rel}},
                bench::format("%-7s %4zu %5zu %7zu %-15s %10.4g%s %6s %10.2f %10.2f %10.2e %10.2e", dtype_name(c.dtype),
                              c.hidden, c.steps, c.params, r.mode.c_str(), r.seconds, r.extrapolated ? "*" : " ",
                              chunks.c_str(), r.mem.peak_rss_bytes / 1e6, r.mem.held_bytes / 1e6, r.diff, r.rel));
        }
    }
    out.text("");
    out.text("RTRL by parameter tensor: microseconds per direction and step (the chunks that ran); the sample's");
    out.text("estimate of the whole run against the run (where it ran whole) checks the extrapolation");
    std::vector<std::string> names;
    {
        Generator gen(0);
        for (const auto& np : nn::GRUCell(1, 1, gen).named_parameters()) names.push_back(np.first);
    }
    std::string head = bench::format("%-7s %4s %5s", "dtype", "h", "T");
    for (const auto& n : names) head += bench::format(" %10s", n.c_str());
    out.text(head + bench::format(" %12s %12s", "estimate s", "measured s"));
    for (const auto& c : rs) {
        for (const auto& r : c.modes) {
            if (r.us_per_direction_step.empty()) continue;
            nlohmann::json by = nlohmann::json::object();
            std::string line = bench::format("%-7s %4zu %5zu", dtype_name(c.dtype), c.hidden, c.steps);
            for (std::size_t j = 0; j < r.us_per_direction_step.size() && j < names.size(); ++j) {
                by[names[j]] = r.us_per_direction_step[j];
                line += bench::format(" %10.3f", r.us_per_direction_step[j]);
            }
            line += bench::format(" %12.4g %12s", r.sample_estimate,
                                  r.extrapolated ? "-" : bench::format("%.4g", r.seconds).c_str());
            out.row({{"table", "rtrl_by_parameter"},
                     {"sample_estimate_seconds", r.sample_estimate},
                     {"dtype", dtype_name(c.dtype)},
                     {"hidden", c.hidden},
                     {"steps", c.steps},
                     {"us_per_direction_step", by}},
                    line);
        }
    }
    int status = 0;
    try {
        if (!csv.empty()) nn::write_file_atomically(csv, bench::csv_of(rs, s));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_rnn_modes: %s\n", e.what());
        status = 1;
    }
    if (!png.empty()) {
        const std::string problem = bench::write_plot(rs, s, png);
        if (!problem.empty()) std::fprintf(stderr, "bench_rnn_modes: no plot: %s\n", problem.c_str());
    }
    out.text("");
    for (const auto& c : rs) {
        if (!c.problems.empty()) {
            std::fprintf(stderr, "bench_rnn_modes: %s h=%zu T=%zu: %s", dtype_name(c.dtype), c.hidden, c.steps,
                         c.problems.c_str());
            status = 1;
        }
    }
    out.text("results: " + (csv.empty() ? std::string("(no CSV)") : csv) + (png.empty() ? "" : ", " + png));
    for (const auto& c : rs) {
        for (const auto& r : c.modes) {
            const double tol = c.dtype == f32 ? 1e-5 : 1e-10;
            if (r.mode == "RTRL" && !(r.diff <= tol)) {
                std::fprintf(stderr, "bench_rnn_modes: BPTT and RTRL differ by %g (> %g) at %s h=%zu T=%zu\n", r.diff,
                             tol, dtype_name(c.dtype), c.hidden, c.steps);
                status = 1;
            }
        }
    }
    return status;
}
