#pragma once
/// \file bench_data_parallel's worker: what each rank runs under `mpirun -np P`. It trains the cases with
/// adg::mpi::DataParallel as a user's loop does and times MPI_Allreduce alone; rank 0 prints the results as JSON
/// lines (one per case, one per allreduce size) for the driver to read.

#include <cstddef>
#include <string>
#include <vector>

namespace adg::bench {

/// What the driver asks its workers to run; the same on every rank.
struct WorkerOptions {
    std::string data;                           ///< Fashion-MNIST directory (synthetic data if it holds none)
    std::size_t limit = 0;                      ///< training rows of the MLP's epochs (0: all 60000)
    std::size_t batch = 128;                    ///< the global batch
    int epochs = 3;                             ///< the MLP's timed epochs, after one warm-up epoch
    std::size_t cnn_steps = 40;                 ///< the CNN's timed global steps, after `warmup_steps`
    std::size_t warmup_steps = 3;               ///< the CNN's untimed first steps
    std::vector<std::string> cases;             ///< "mlp", "cnn"
    std::vector<std::size_t> allreduce_counts;  ///< float counts of the MPI_Allreduce-alone timings (none at P = 1)
    int allreduce_reps = 200;                   ///< timed repetitions per count (the median is reported)
};

/// Runs `o` on this rank inside MPI (adg::mpi::Environment must exist); returns the exit status. Rank 0 prints
/// the JSON lines on stdout.
int run_worker(const WorkerOptions& o);

/// The worker's options as arguments after "--worker" (parsed back by the program's CLI), so the driver can pass
/// them through mpirun.
std::vector<std::string> worker_arguments(const WorkerOptions& o);

}  // namespace adg::bench
