#include "data_parallel_model.hpp"

#include <adgraph/nn/dropout.hpp>
#include <adgraph/nn/loss.hpp>

#include <cmath>
#include <numeric>
#include <stdexcept>

#include "machine.hpp"

namespace adg::bench {

std::vector<ComputePoint> compute_profile(const DpCase& c, const nn::Dataset& data, const std::vector<int>& threads,
                                          const std::vector<std::size_t>& rows, double budget) {
    const auto model = dp_model(c);
    const auto opt = dp_optimizer(c, *model);
    const nn::TensorDataset ds = data;
    std::uint64_t step = 0;
    std::vector<ComputePoint> out;
    for (int t : threads) {
        set_num_threads(t);
        settle_threads();
        for (std::size_t r : rows) {
            std::vector<std::size_t> idx(std::min(r, ds.size()));
            std::iota(idx.begin(), idx.end(), std::size_t{0});
            const nn::Batch b = ds.gather(idx);
            double backprop = 0, optimizer = 0;
            const auto one = [&] {
                nn::key_dropout(*model, step++, 0);
                backprop = seconds([&] {
                    const Tensor loss = nn::cross_entropy((*model)(dp_input(c, b.x)), b.labels);
                    loss.item();
                    loss.backward();
                });
                optimizer = seconds([&] {
                    opt->step();
                    opt->zero_grad();
                });
            };
            one();  // warm-up: the buffer cache fills, the optimizer's moments are allocated
            const int reps = reps_for(seconds(one), budget, 3, 200);
            std::vector<double> tb, to;
            for (int i = 0; i < reps; ++i) {
                one();
                tb.push_back(backprop);
                to.push_back(optimizer);
            }
            out.push_back({t, r, median(tb), median(to), reps});
        }
    }
    return out;
}

double step_seconds(const std::vector<ComputePoint>& profile, int threads, std::size_t rows) {
    for (const ComputePoint& p : profile) {
        if (p.threads == threads && p.rows == rows) return p.step_s();
    }
    throw std::invalid_argument("bench_data_parallel: no compute point for " + std::to_string(rows) + " rows at " +
                                std::to_string(threads) + " thread(s)");
}

double ring_allreduce_seconds(int p, double bytes, const Network& net) {
    if (p <= 1) return 0;
    const double q = p;
    return 2 * (q - 1) * net.alpha + 2 * (q - 1) / q * bytes / net.bandwidth;
}

double halving_doubling_seconds(int p, double bytes, const Network& net) {
    if (p <= 1) return 0;
    const double q = p;
    return 2 * std::ceil(std::log2(q)) * net.alpha + 2 * (q - 1) / q * bytes / net.bandwidth;
}

namespace {

ScalingRow scaling_row(int p, std::size_t rows, const std::function<double(std::size_t)>& compute, double bytes,
                       double copy_s, const Network& net) {
    ScalingRow r;
    r.p = p;
    r.rows_per_node = rows;
    r.compute_s = compute(rows);
    // One process needs no allreduce and no copies: a user would not wrap it in DataParallel.
    const double copies = p > 1 ? copy_s : 0.0;
    r.comm_s = ring_allreduce_seconds(p, bytes, net) + copies;
    r.comm_hd_s = halving_doubling_seconds(p, bytes, net) + copies;
    r.step_s = r.compute_s + r.comm_s;
    return r;
}

}  // namespace

std::vector<ScalingRow> strong_scaling(const std::function<double(std::size_t)>& compute, double bytes, double copy_s,
                                       const Network& net, const std::vector<int>& ps, std::size_t global_batch) {
    std::vector<ScalingRow> out;
    const double base = compute(global_batch);
    for (int p : ps) {
        const std::size_t q = static_cast<std::size_t>(p);
        ScalingRow r = scaling_row(p, (global_batch + q - 1) / q, compute, bytes, copy_s, net);
        r.speedup = base / r.step_s;
        r.efficiency = r.speedup / p;
        out.push_back(r);
    }
    return out;
}

std::vector<ScalingRow> weak_scaling(const std::function<double(std::size_t)>& compute, double bytes, double copy_s,
                                     const Network& net, const std::vector<int>& ps, std::size_t per_node) {
    std::vector<ScalingRow> out;
    const double base = compute(per_node);
    for (int p : ps) {
        ScalingRow r = scaling_row(p, per_node, compute, bytes, copy_s, net);
        r.speedup = p * base / r.step_s;
        r.efficiency = r.speedup / p;
        out.push_back(r);
    }
    return out;
}

int best_p(const std::vector<ScalingRow>& rows) {
    int p = 0;
    double best = 0;
    for (const ScalingRow& r : rows) {
        if (r.speedup >= best) {
            best = r.speedup;
            p = r.p;
        }
    }
    return p;
}

Network fit_network(int p, double small_bytes, double small_s, double large_bytes, double large_s) {
    // t = a + b·bytes with a = 2(p−1)·α and b = 2(p−1)/(p·B).
    const double b = (large_s - small_s) / (large_bytes - small_bytes);
    const double a = small_s - b * small_bytes;
    const double q = p;
    return {a / (2 * (q - 1)), 2 * (q - 1) / q / b};
}

}  // namespace adg::bench
