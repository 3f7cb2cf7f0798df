#include "data_parallel_worker.hpp"

#include <mpi.h>
#include <adgraph/mpi/data_parallel.hpp>
#include <adgraph/mpi/environment.hpp>
#include <adgraph/nn/loss.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "data_parallel_setup.hpp"
#include "machine.hpp"

namespace adg::bench {

namespace {

using Clock = std::chrono::steady_clock;

// MPI_COMM_WORLD returns errors (mpi::Environment sets it so): a failed call must not pass for a timing.
void check(int rc, const char* call) {
    if (rc != MPI_SUCCESS)
        throw std::runtime_error(std::string(call) + " failed (MPI error " + std::to_string(rc) + ")");
}

double max_over_ranks(double v) {
    check(MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD), "MPI_Allreduce");
    return v;
}

double mean_over_ranks(double v) {
    std::vector<double> s{v};
    mpi::sum(s);
    return s[0] / mpi::size();
}

// What one run of consecutive global steps took, over all ranks.
struct Unit {
    double wall = 0;            // the slowest rank's seconds from a common start (a barrier) to its last step
    double allreduce_mean = 0;  // seconds in allreduce_gradients(), mean over ranks
    double allreduce_max = 0;   // and the most any rank spent there
    double loss = 0;            // mean over the steps of the global batch's mean loss
};

// Global steps [first, first + count) over the loader's epochs (step k is batch k mod B of epoch k / B), the loop
// of mpi/data_parallel.hpp as a user writes it: this rank's rows, forward, loss, backward, the gradients' allreduce,
// the optimizer's step.
Unit train_steps(const DpCase& c, nn::Module& model, nn::Optimizer& opt, mpi::DataParallel& dp,
                 const nn::DataLoader& loader, std::size_t first, std::size_t count) {
    const std::size_t per_epoch = loader.batches();
    std::optional<nn::Epoch> epoch;
    std::size_t epoch_index = 0;
    double weighted_loss = 0;  // Σ steps (local rows / global rows) · local mean loss: summed over ranks, the mean
    check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
    const double reduce0 = dp.allreduce_seconds();
    const auto t0 = Clock::now();
    for (std::size_t k = first; k < first + count; ++k) {
        const std::size_t e = k / per_epoch, i = k % per_epoch;
        if (!epoch || e != epoch_index) {
            epoch = loader.epoch(e);
            epoch_index = e;
        }
        const nn::Batch b = dp.local_batch(*epoch, i);
        if (!b.labels.empty()) {
            const Tensor loss = nn::cross_entropy(model(dp_input(c, b.x)), b.labels);
            const std::size_t rows = epoch->order().size(), bs = epoch->batch_size();
            const std::size_t global_rows = std::min(bs, rows - i * bs);
            weighted_loss += loss.item() * static_cast<double>(b.labels.size()) / static_cast<double>(global_rows);
            loss.backward();
        }
        dp.allreduce_gradients();
        opt.step();
        opt.zero_grad();
    }
    const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
    const double reduce = dp.allreduce_seconds() - reduce0;
    Unit u;
    u.wall = max_over_ranks(wall);
    u.allreduce_mean = mean_over_ranks(reduce);
    u.allreduce_max = max_over_ranks(reduce);
    std::vector<double> l{weighted_loss};
    mpi::sum(l);
    u.loss = l[0] / static_cast<double>(count);
    return u;
}

nlohmann::json unit_json(const Unit& u) {
    return {
        {"wall_s", u.wall}, {"allreduce_s", u.allreduce_mean}, {"allreduce_max_s", u.allreduce_max}, {"loss", u.loss}};
}

// The MLP: one warm-up epoch, then o.epochs timed epochs. The CNN: o.warmup_steps untimed steps, then one timed
// run of o.cnn_steps steps (its data: just the rows those steps read, unless --limit asks for fewer).
nlohmann::json run_case(const DpCase& c, const WorkerOptions& o) {
    const bool mlp = c.name == "mlp";
    const std::size_t cnn_rows = (o.warmup_steps + o.cnn_steps) * o.batch;
    const std::size_t limit = mlp ? o.limit : (o.limit ? std::min(o.limit, cnn_rows) : cnn_rows);
    std::string source;
    const nn::Dataset data = dp_data(o.data, limit, source);
    const auto model = dp_model(c);
    mpi::DataParallel dp(*model);  // broadcasts rank 0's initial parameters
    const auto opt = dp_optimizer(c, *model);
    const nn::DataLoader loader(data, o.batch, /*shuffle=*/true, /*seed=*/1);

    nlohmann::json r = {{"kind", "train"},
                        {"case", c.name},
                        {"np", mpi::size()},
                        {"model", c.line()},
                        {"parameters", model->parameter_count()},
                        {"gradient_bytes", gradient_bytes(*model)},
                        {"data", source},
                        {"batch", o.batch},
                        {"batches_per_epoch", loader.batches()}};
    const std::size_t warmup = mlp ? loader.batches() : o.warmup_steps;
    const std::size_t steps = mlp ? loader.batches() : o.cnn_steps;
    const int units = mlp ? o.epochs : 1;
    r["warmup"] = unit_json(train_steps(c, *model, *opt, dp, loader, 0, warmup));
    r["warmup_steps"] = warmup;
    r["steps_per_unit"] = steps;
    r["units"] = nlohmann::json::array();
    for (int u = 0; u < units; ++u) {
        const std::size_t first = warmup + static_cast<std::size_t>(u) * steps;
        r["units"].push_back(unit_json(train_steps(c, *model, *opt, dp, loader, first, steps)));
    }
    return r;
}

// MPI_Allreduce (sum, in place) of `count` floats alone, as allreduce_gradients() reduces float32 gradients: each
// repetition starts after a barrier; per rank the median, reported as the largest over ranks (the slowest rank
// decides when a step can go on).
nlohmann::json time_allreduce(std::size_t count, int reps) {
    std::vector<float> buf(count, 1.0f);
    std::vector<double> t;
    for (int r = -3; r < reps; ++r) {  // three warm-up calls
        check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
        const auto t0 = Clock::now();
        const int rc =
            MPI_Allreduce(MPI_IN_PLACE, buf.data(), static_cast<int>(count), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        const double s = std::chrono::duration<double>(Clock::now() - t0).count();
        check(rc, "MPI_Allreduce");
        if (r >= 0) t.push_back(s);
        std::fill(buf.begin(), buf.end(), 1.0f);  // keeps the values finite whatever the repetitions
    }
    const double own = median(t);
    return {{"kind", "allreduce"},  {"np", mpi::size()}, {"count", count},
            {"bytes", 4 * count},   {"reps", reps},      {"median_s", max_over_ranks(own)},
            {"rank0_median_s", own}};
}

void emit(const nlohmann::json& j) {
    if (mpi::rank() == 0) std::printf("%s\n", j.dump().c_str());
    std::fflush(stdout);
}

}  // namespace

int run_worker(const WorkerOptions& o) {
    set_num_threads(1);  // one thread per rank: adgraph's loops; OPENBLAS_NUM_THREADS=1 comes from the driver
    for (const std::string& name : o.cases) emit(run_case(dp_case(name), o));
    if (mpi::size() > 1) {
        for (std::size_t n : o.allreduce_counts) emit(time_allreduce(n, o.allreduce_reps));
    }
    return 0;
}

std::vector<std::string> worker_arguments(const WorkerOptions& o) {
    const auto join = [](const auto& v) {
        std::string s;
        for (const auto& x : v) {
            if (!s.empty()) s += ',';
            if constexpr (std::is_same_v<std::decay_t<decltype(x)>, std::string>) {
                s += x;
            } else {
                s += std::to_string(x);
            }
        }
        return s;
    };
    return {"--worker",
            "--data",
            o.data,
            "--limit",
            std::to_string(o.limit),
            "--batch",
            std::to_string(o.batch),
            "--epochs",
            std::to_string(o.epochs),
            "--steps",
            std::to_string(o.cnn_steps),
            "--warmup-steps",
            std::to_string(o.warmup_steps),
            "--cases",
            join(o.cases),
            "--allreduce-counts",
            join(o.allreduce_counts),
            "--allreduce-reps",
            std::to_string(o.allreduce_reps)};
}

}  // namespace adg::bench
