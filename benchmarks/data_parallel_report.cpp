#include "data_parallel_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <set>

#include "machine.hpp"
#include "output.hpp"

namespace adg::bench {

namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();
// Steps of a full Fashion-MNIST epoch (60000 rows) at `batch`: what the CNN's time per step is scaled to.
std::size_t full_epoch_steps(std::size_t batch) { return (60000 + batch - 1) / batch; }

std::vector<std::string> case_names(const Measured& m) {
    std::vector<std::string> names;
    for (const auto& j : m.train) {
        const std::string c = j["case"];
        if (std::find(names.begin(), names.end(), c) == names.end()) names.push_back(c);
    }
    return names;
}

// One case's measured run at one P, reduced to medians over its timed units.
struct Run {
    int p = 0;
    std::size_t steps = 0;
    double wall = 0, allreduce = 0, allreduce_max = 0, warmup_loss = 0, loss = 0;
};

// The units of every job (round) of one case at one P pooled: medians over all its timed units.
Run run_of(const std::vector<nlohmann::json>& jobs) {
    Run r;
    r.p = jobs.front()["np"];
    r.steps = jobs.front()["steps_per_unit"];
    std::vector<double> w, a, am, warm, loss;
    for (const auto& j : jobs) {
        warm.push_back(j["warmup"]["loss"]);
        for (const auto& u : j["units"]) {
            w.push_back(u["wall_s"]);
            a.push_back(u["allreduce_s"]);
            am.push_back(u["allreduce_max_s"]);
            loss.push_back(u["loss"]);
        }
    }
    r.wall = median(w);
    r.allreduce = median(a);
    r.allreduce_max = median(am);
    // Every round repeats the same training: the losses agree between rounds (to round-off with threads).
    r.warmup_loss = warm.front();
    r.loss = loss.back();
    return r;
}

// The jobs of `case_name`, grouped by P in the order the Ps first ran.
std::vector<std::vector<nlohmann::json>> jobs_by_p(const Measured& m, const std::string& case_name) {
    std::vector<std::vector<nlohmann::json>> out;
    for (const auto& j : m.train) {
        if (j["case"] != case_name) continue;
        auto at = std::find_if(out.begin(), out.end(), [&](const auto& g) { return g.front()["np"] == j["np"]; });
        if (at == out.end()) {
            out.push_back({j});
        } else {
            at->push_back(j);
        }
    }
    return out;
}

std::string loads_of(const Measured& m, int p) {
    std::string s;
    for (std::size_t i = 0; i < m.nps.size(); ++i) {
        if (m.nps[i] == p) s += (s.empty() ? "" : "; ") + m.loads[i];
    }
    return s;
}

}  // namespace

void Csv::add(const std::string& table, const std::string& case_name, int p, int threads, double rows, double bytes,
              double compute_ms, double comm_ms, double step_ms, double epoch_s, double comm_share, double speedup,
              double efficiency, double loss) {
    const auto f = [](double v) { return std::isnan(v) ? std::string() : format("%.10g", v); };
    rows_ += table + "," + case_name + "," + std::to_string(p) + "," + std::to_string(threads) + "," + f(rows) + "," +
             f(bytes) + "," + f(compute_ms) + "," + f(comm_ms) + "," + f(step_ms) + "," + f(epoch_s) + "," +
             f(comm_share) + "," + f(speedup) + "," + f(efficiency) + "," + f(loss) + "\n";
}

std::string Csv::text() const {
    return "table,case,p,threads,rows_per_node,bytes,compute_ms,comm_ms,step_ms,epoch_s,comm_share,speedup,"
           "efficiency,loss\n" +
           rows_;
}

bool print_measured(const Measured& m, unsigned cores, double loss_tolerance, Csv& csv) {
    bool same = true;
    for (const std::string& name : case_names(m)) {
        const auto groups = jobs_by_p(m, name);
        const nlohmann::json& first = groups.front().front();
        const bool mlp = name == "mlp";
        const std::size_t batch = first["batch"];
        std::vector<Run> runs;
        for (const auto& g : groups) runs.push_back(run_of(g));
        const Run* base = &runs.front();
        for (const Run& r : runs) {
            if (r.p == 1) base = &r;
        }
        // The time an epoch takes: the MLP's measured epochs; the CNN's steps scaled to a full epoch.
        const auto epoch_s = [&](const Run& r) {
            return mlp ? r.wall : r.wall / static_cast<double>(r.steps) * static_cast<double>(full_epoch_steps(batch));
        };

        std::printf("\n== %s: %s\n", name.c_str(), first["model"].get<std::string>().c_str());
        std::printf("   %zu parameters (%zu gradient bytes), global batch %zu, data %s, ",
                    first["parameters"].get<std::size_t>(), first["gradient_bytes"].get<std::size_t>(), batch,
                    first["data"].get<std::string>().c_str());
        if (mlp) {
            std::printf("%zu steps per epoch; median of %zu timed epochs (%zu per round, after a warm-up epoch)\n",
                        base->steps, first["units"].size() * groups.front().size(), first["units"].size());
        } else {
            std::printf(
                "%zu timed steps after %zu warm-up steps per round, median of %zu rounds; epoch = time per "
                "step x %zu (60000 rows)\n",
                base->steps, first["warmup_steps"].get<std::size_t>(), groups.front().size(), full_epoch_steps(batch));
        }
        std::printf("%3s %-16s %9s %9s %12s %12s %10s %9s %11s %12s  %s\n", "P", "ranks per core", "epoch s", "step ms",
                    "compute ms", "allreduce ms", "allreduce", "speed-up", "efficiency", mlp ? "loss epoch 1" : "loss",
                    "load average before each round");
        for (const Run& r : runs) {
            const double e = epoch_s(r), steps = static_cast<double>(r.steps);
            const double step_ms = 1e3 * r.wall / steps, reduce_ms = 1e3 * r.allreduce / steps;
            const double speedup = epoch_s(*base) / e, share = r.allreduce / r.wall;
            const std::string per_core = format("%.1f", static_cast<double>(r.p) / cores) +
                                         (static_cast<unsigned>(r.p) > cores ? " oversubscr." : "");
            const double loss = mlp ? r.warmup_loss : r.loss;
            std::printf("%3d %-16s %9.3f %9.3f %12.3f %12.3f %9.1f%% %9.2f %10.0f%% %12.6f  %s\n", r.p,
                        per_core.c_str(), e, step_ms, step_ms - reduce_ms, reduce_ms, 100 * share, speedup,
                        100 * speedup / r.p, loss, loads_of(m, r.p).c_str());
            csv.add("measured", name, r.p, 1, static_cast<double>(batch) / r.p, first["gradient_bytes"],
                    step_ms - reduce_ms, reduce_ms, step_ms, e, share, speedup, speedup / r.p, loss);
            if (mlp && std::abs(r.warmup_loss - base->warmup_loss) > loss_tolerance * std::abs(base->warmup_loss)) {
                same = false;
            }
        }
        if (mlp) {
            double worst = 0;
            for (const Run& r : runs) {
                worst = std::max(worst, std::abs(r.warmup_loss - base->warmup_loss) / std::abs(base->warmup_loss));
            }
            std::printf(
                "   first-epoch mean loss: largest relative difference to P = 1 %.2e (limit %.0e; the same batches, "
                "rows and dropout masks at every P: only the rounding of sums split over ranks differs, and AdamW "
                "carries it on)\n",
                worst, loss_tolerance);
        } else {
            std::printf(
                "   the CNN's loss differs between P: each rank's BatchNorm normalises its own rows by their "
                "own statistics (as PyTorch's DDP without SyncBatchNorm)\n");
        }
        for (const Run& r : runs) {
            if (r.p > 1) {
                std::printf(
                    "   P = %d: allreduce per step %.3f ms mean over ranks, %.3f ms on the rank waiting "
                    "longest (it includes waiting for the slowest rank)\n",
                    r.p, 1e3 * r.allreduce / r.steps, 1e3 * r.allreduce_max / r.steps);
            }
        }
    }
    return same;
}

void print_allreduce(const Measured& m, Csv& csv) {
    if (m.allreduce.empty()) return;
    std::set<std::size_t> counts;
    std::set<int> ps;
    for (const auto& j : m.allreduce) {
        counts.insert(j["count"].get<std::size_t>());
        ps.insert(j["np"].get<int>());
    }
    // The least disturbed round: other jobs on the machine only ever add time to a collective's median.
    const auto time_of = [&](std::size_t count, int p) {
        double best = nan;
        for (const auto& j : m.allreduce) {
            if (j["count"] == count && j["np"] == p) best = std::fmin(best, j["median_s"].get<double>());
        }
        return best;
    };
    const auto label = [&](std::size_t count) {
        for (const auto& j : m.train) {
            if (j["parameters"] == count) return j["case"].get<std::string>() + " gradient";
        }
        return std::string();
    };
    const int p0 = *ps.begin();
    const std::size_t small = *counts.begin(), large = *counts.rbegin();
    Network shm;
    if (counts.size() >= 3) shm = fit_network(p0, 4.0 * small, time_of(small, p0), 4.0 * large, time_of(large, p0));
    // A disturbed small-message time can exceed the large one's: then there is no model to test.
    const bool fit = counts.size() >= 3 && shm.alpha > 0 && shm.bandwidth > 0;
    std::printf(
        "\n== MPI_Allreduce alone (float32 sum in place, median of repetitions each after a barrier, the "
        "slowest rank's median; the least disturbed of the rounds), shared memory on this machine\n");
    if (!fit) std::printf("   no alpha-beta fit: the smallest message took longer than the largest (disturbed)\n");
    if (fit) {
        std::printf(
            "   the alpha-beta model t = 2(P-1) alpha + 2(P-1)/P bytes/B through the P = %d column's smallest "
            "and largest sizes: alpha = %.2f us, B = %.2f GB/s; the sizes between test it\n",
            p0, 1e6 * shm.alpha, 1e-9 * shm.bandwidth);
    }
    std::printf("%10s %10s %-14s", "floats", "bytes", "");
    for (int p : ps) std::printf(" %11s %11s", format("P=%d us", p).c_str(), format("model P=%d", p).c_str());
    std::printf("\n");
    for (std::size_t n : counts) {
        std::printf("%10zu %10zu %-14s", n, 4 * n, label(n).c_str());
        for (int p : ps) {
            const double t = time_of(n, p), model = fit ? ring_allreduce_seconds(p, 4.0 * n, shm) : nan;
            std::printf(" %11.1f %11.1f", 1e6 * t, 1e6 * model);
            csv.add("allreduce", label(n), p, 1, nan, 4.0 * n, nan, 1e3 * t, nan, nan, nan, nan, nan, nan);
        }
        std::printf("\n");
    }
    std::printf(
        "   P > %u ranks share %u cores: a rank waiting for a descheduled peer spins or yields, so those "
        "columns measure oversubscription, not the algorithm\n",
        cores(), cores());
}

void print_profile(const DpCase& c, const std::vector<ComputePoint>& profile, Csv& csv) {
    std::printf("\n== compute per step in one process, %s (medians; no MPI): what one node computes for its rows\n",
                c.line().c_str());
    std::printf("%8s %6s %12s %13s %10s %14s %6s\n", "threads", "rows", "backprop ms", "optimizer ms", "step ms",
                "us per row", "reps");
    for (const ComputePoint& p : profile) {
        std::printf("%8d %6zu %12.3f %13.3f %10.3f %14.1f %6d\n", p.threads, p.rows, 1e3 * p.backprop_s,
                    1e3 * p.optimizer_s, 1e3 * p.step_s(), 1e6 * p.backprop_s / static_cast<double>(p.rows), p.reps);
        csv.add("compute", c.name, 1, p.threads, static_cast<double>(p.rows), nan, 1e3 * p.step_s(), nan,
                1e3 * p.step_s(), nan, nan, nan, nan, nan);
    }
}

double copy_seconds_per_step(const Measured& m, const std::string& case_name) {
    for (const auto& g : jobs_by_p(m, case_name)) {
        if (g.front()["np"] == 1) {
            const Run r = run_of(g);
            return r.allreduce / static_cast<double>(r.steps);
        }
    }
    return 0;
}

void print_paper_model(const DpCase& c, const std::vector<ComputePoint>& profile, double bytes, double copy_s,
                       const PaperSettings& s, Csv& csv) {
    std::set<int> threads;
    for (const ComputePoint& p : profile) threads.insert(p.threads);
    std::printf(
        "\n== model on paper, %s: P nodes on %g GbE, alpha = %.0f us per message, B = %.2f GB/s (%g Gbit/s "
        "x %.0f%%), gradient %.0f bytes, copies %.3f ms per step (measured at P = 1)\n",
        c.name.c_str(), s.link_gbps, 1e6 * s.net.alpha, 1e-9 * s.net.bandwidth, s.link_gbps, 100 * s.link_efficiency,
        bytes, 1e3 * copy_s);
    for (int t : threads) {
        const auto compute = [&](std::size_t rows) { return step_seconds(profile, t, rows); };
        for (const bool strong : {true, false}) {
            const auto rows = strong ? strong_scaling(compute, bytes, copy_s, s.net, s.ps, s.global_batch)
                                     : weak_scaling(compute, bytes, copy_s, s.net, s.ps, s.global_batch);
            if (strong) {
                std::printf("strong scaling, global batch %zu, %d thread(s) per node:\n", s.global_batch, t);
            } else {
                std::printf(
                    "weak scaling, %zu rows per node (global batch %zu P), %d thread(s) per node; speed-up "
                    "in samples per second:\n",
                    s.global_batch, s.global_batch, t);
            }
            std::printf("%4s %6s %11s %14s %13s %9s %9s %11s\n", "P", "rows", "compute ms", "allreduce ms",
                        "(hal/dbl ms)", "step ms", "speed-up", "efficiency");
            for (const ScalingRow& r : rows) {
                std::printf("%4d %6zu %11.3f %14.3f %13.3f %9.3f %9.2f %10.0f%%\n", r.p, r.rows_per_node,
                            1e3 * r.compute_s, 1e3 * r.comm_s, 1e3 * r.comm_hd_s, 1e3 * r.step_s, r.speedup,
                            100 * r.efficiency);
                csv.add(strong ? "model_strong" : "model_weak", c.name, r.p, t, static_cast<double>(r.rows_per_node),
                        bytes, 1e3 * r.compute_s, 1e3 * r.comm_s, 1e3 * r.step_s, nan, r.comm_s / r.step_s, r.speedup,
                        r.efficiency, nan);
            }
            if (strong) {
                Network lo = s.net, hi = s.net;
                lo.alpha = 20e-6;
                hi.alpha = 50e-6;
                const auto at = [&](const Network& n) {
                    return best_p(strong_scaling(compute, bytes, copy_s, n, s.ps, s.global_batch));
                };
                std::printf("   highest speed-up at P = %d (alpha 20 us: P = %d, 50 us: P = %d)\n", best_p(rows),
                            at(lo), at(hi));
            }
        }
    }
}

}  // namespace adg::bench
