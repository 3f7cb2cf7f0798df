#pragma once
/// \file bench_data_parallel's tables: the measured runs at P = 1, 2, 4 side by side, MPI_Allreduce alone against
/// the α–β model, the single-process compute profile, and the model on paper for 1–64 nodes; each also as CSV rows.

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data_parallel_model.hpp"

namespace adg::bench {

/// What the workers printed, per mpirun job.
struct Measured {
    std::vector<int> nps;                   ///< the P of each job, in the order run
    std::vector<std::string> loads;         ///< /proc/loadavg before each job
    std::vector<nlohmann::json> train;      ///< "train" lines of every job
    std::vector<nlohmann::json> allreduce;  ///< "allreduce" lines of every job
};

/// CSV rows of every table: table,case,p,threads,rows_per_node,bytes,compute_ms,comm_ms,step_ms,epoch_s,
/// comm_share,speedup,efficiency,loss (empty where a table has no such value).
class Csv {
public:
    /// One row; NaN values are written as empty fields.
    void add(const std::string& table, const std::string& case_name, int p, int threads, double rows, double bytes,
             double compute_ms, double comm_ms, double step_ms, double epoch_s, double comm_share, double speedup,
             double efficiency, double loss);
    /// The header and the rows.
    std::string text() const;

private:
    std::string rows_;
};

/// The measured table of each case: per P the epoch time (the CNN's: time per step × a full epoch's steps), the
/// time in allreduce and its share, speed-up and efficiency against P = 1, the mean loss. Returns false if the
/// MLP's first-epoch losses differ between P by more than `loss_tolerance` (relative): the runs then did not do
/// the same training.
bool print_measured(const Measured& m, unsigned cores, double loss_tolerance, Csv& csv);

/// MPI_Allreduce alone per size and P, beside the α–β model fitted to the P = 2 column's smallest and largest
/// sizes (shared memory, not a network) and its prediction for the other P.
void print_allreduce(const Measured& m, Csv& csv);

/// The compute profile of one case: per thread count and rows, backward pass and optimizer medians.
void print_profile(const DpCase& c, const std::vector<ComputePoint>& profile, Csv& csv);

/// Settings of the model on paper.
struct PaperSettings {
    Network net;
    double link_gbps = 10, link_efficiency = 0.9;
    std::size_t global_batch = 128;
    std::vector<int> ps{1, 2, 4, 8, 16, 32, 64};
};

/// The model on paper of one case: strong and weak scaling at 1 and 2 threads per node, from the profile, the
/// gradient's bytes and the copy overhead per step measured at P = 1 (`copy_s`).
void print_paper_model(const DpCase& c, const std::vector<ComputePoint>& profile, double bytes, double copy_s,
                       const PaperSettings& s, Csv& csv);

/// The P = 1 run's seconds in allreduce_gradients() per step for `case_name` (copies only), 0 if there is none.
double copy_seconds_per_step(const Measured& m, const std::string& case_name);

}  // namespace adg::bench
