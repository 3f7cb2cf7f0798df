#pragma once
/// \file The processes an `adgraph train` run spans: this process alone, or the ranks of an MPI job started by
/// `mpirun -np N` in a build with MPI (ADGRAPH_WITH_MPI, through adg::mpi). See docs/distributed.md.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <adgraph/nn/data_loader.hpp>
#include <adgraph/nn/module.hpp>

namespace adg::cli {

/// What the environment says about the MPI job this process was started in, if any.
struct Launch {
    /// True if an MPI launcher (mpirun, mpiexec, srun with PMI) started this process.
    bool launched = false;
    /// Processes in the job (0: the launcher does not say).
    int size = 1;
    /// This process's rank in the job.
    int rank = 0;
    /// Processes of the job on this machine (1 if the launcher does not say).
    int local_size = 1;
};

/// The launch `env` describes (`env(name)`: the variable's value or nullptr): OpenMPI's mpirun sets
/// OMPI_COMM_WORLD_SIZE, _RANK and _LOCAL_SIZE; MPICH's Hydra and Slurm's PMI2 set PMI_SIZE and PMI_RANK (and
/// MPI_LOCALNRANKS); a PMIx launcher sets PMIX_RANK. A value that is not a number counts as absent.
Launch detect_launch(const std::function<const char*(const char*)>& env);
/// The launch of this process (its environment variables).
Launch detect_launch();

/// True if this adgraph was built with MPI (the adgraph_mpi library).
bool built_with_mpi();

/// True if `launch` is, or may be, a job of more than one process: a size above 1, or a launcher that does not say
/// (a PMIx rank alone), which a build without MPI must refuse on every rank.
bool multi_process(const Launch& launch);

/// The stderr text of `adgraph train` in a build without MPI when `launch` is a job of several processes.
std::string no_mpi_message(const Launch& launch);

/// Whether `adgraph train` must refuse to run as `launch` in a build with (`with_mpi`) or without MPI: nullopt to
/// train; else refuse (exit 1) with this text on stderr (no_mpi_message on rank 0, "" on the other ranks).
std::optional<std::string> mpi_refusal(const Launch& launch, bool with_mpi);

/// The threads per process `--threads 0` means: the machine's `cores` shared among the job's processes on this
/// machine, and no more than the `usable` CPUs this process may run on (its affinity mask: mpirun binds each rank
/// to one core for -np 2 or fewer, to a socket beyond; 0 if unknown), at least 1, so that ranks oversubscribe
/// neither the machine nor their own binding.
int default_threads(const Launch& launch, unsigned cores, int usable);
/// The CPUs in this process's affinity mask (sched_getaffinity), 0 if it cannot be read.
int usable_cpus();

/// "rank R of N: " on the ranks other than 0 of an MPI job ("rank R: " if the launcher does not say N), "" else:
/// the prefix of a message that only this rank may print.
std::string rank_prefix(const Launch& launch);

/// Thrown on every rank when a collective step told all of them that it failed somewhere: `message` is the error
/// this rank reports ("" on the ranks whose part went well, or that leave it to rank 0). Every rank exits 1 and
/// MPI finalises normally (no rank is left waiting in a collective). Not a std::exception on purpose: the generic
/// handlers, which report an error and end the job, must not catch it.
struct PeerFailure {
    std::string message;
};

/// The processes of one training run, and the collectives between them. In one process each collective is the
/// identity. Every rank must make the same calls in the same order.
class Ranks {
public:
    /// One process; or, in a build with MPI when `launch.launched`, MPI initialised for the life of this object.
    explicit Ranks(const Launch& launch);
    ~Ranks();
    Ranks(const Ranks&) = delete;
    Ranks& operator=(const Ranks&) = delete;

    /// This process's rank, 0 in one process.
    int rank() const { return rank_; }
    /// The number of processes.
    int size() const { return size_; }
    /// True on rank 0, which alone prints and writes files.
    bool root() const { return rank_ == 0; }

    /// Starts data parallelism over `model` after `steps` global steps (0, or those of a resumed checkpoint): with
    /// several ranks, every rank gets rank 0's parameters and buffers.
    void attach(nn::Module& model, std::uint64_t steps);
    /// This process's rows of batch `i` of `epoch`, with the model's Dropout keyed by (global step, first row):
    /// the whole batch in one process. Counts a global step.
    nn::Batch local_batch(const nn::Epoch& epoch, std::size_t i);
    /// Averages the gradients over the global batch (nothing to do in one process).
    void allreduce_gradients();
    /// Copies rank 0's buffers (BatchNorm's running statistics) to every rank.
    void broadcast_buffers();
    /// Sums `values` elementwise over the ranks, in place.
    void sum(std::vector<double>& values);
    /// Rows [first, second) of `rows` that this rank takes (contiguous, in rank order).
    std::pair<std::size_t, std::size_t> shard(std::size_t rows) const;
    /// Global steps taken so far.
    std::uint64_t steps() const;
    /// Seconds spent averaging gradients so far.
    double allreduce_seconds() const;

    /// Each rank's `value`, in rank order (one collective): {value} in one process.
    std::vector<std::uint64_t> gather(std::uint64_t value);

    /// For a rank failing alone while the others may wait in a collective it will never join: with several ranks,
    /// ends the whole job now with exit code 1 (adg::mpi::abort; MPI_Finalize would wait for them for ever).
    /// Returns in one process.
    void abort_job();

private:
    struct Mpi;
    std::unique_ptr<Mpi> mpi_;
    int rank_ = 0;
    int size_ = 1;
    nn::Module* model_ = nullptr;
    std::uint64_t steps_ = 0;
};

}  // namespace adg::cli
