#include "adgraph/ranks.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <cstring>

#include <sched.h>

#include <adgraph/nn/dropout.hpp>

#if ADGRAPH_WITH_MPI
#include <adgraph/mpi/data_parallel.hpp>
#include <adgraph/mpi/environment.hpp>
#endif

namespace adg::cli {

namespace {

// The variable's value as a non-negative int, or -1 if it is absent or not one.
int env_int(const std::function<const char*(const char*)>& env, const char* name) {
    const char* v = env(name);
    if (v == nullptr || *v == '\0') return -1;
    int n = 0;
    const char* end = v + std::strlen(v);
    const auto [at, ec] = std::from_chars(v, end, n);
    if (ec != std::errc() || at != end || n < 0) return -1;
    return n;
}

}  // namespace

Launch detect_launch(const std::function<const char*(const char*)>& env) {
    Launch l;
    // Each launcher's own variables, in order; the first that names a size wins.
    const struct {
        const char *size, *rank, *local_size;
    } launchers[] = {{"OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_LOCAL_SIZE"},
                     {"PMI_SIZE", "PMI_RANK", "MPI_LOCALNRANKS"}};
    for (const auto& v : launchers) {
        const int size = env_int(env, v.size);
        if (size < 1) continue;
        l.launched = true;
        l.size = size;
        l.rank = std::max(0, env_int(env, v.rank));
        l.local_size = std::max(1, env_int(env, v.local_size));
        return l;
    }
    // A PMIx launcher that sets no size: the rank alone says that the process belongs to a job.
    const int pmix_rank = env_int(env, "PMIX_RANK");
    if (pmix_rank >= 0) {
        l.launched = true;
        l.size = 0;
        l.rank = pmix_rank;
    }
    return l;
}

Launch detect_launch() {
    return detect_launch([](const char* name) { return static_cast<const char*>(std::getenv(name)); });
}

bool built_with_mpi() {
#if ADGRAPH_WITH_MPI
    return true;
#else
    return false;
#endif
}

bool multi_process(const Launch& launch) {
    // A launcher that does not say the size: rank 0 alone must not train while the others refuse.
    return launch.launched && (launch.size > 1 || launch.size == 0);
}

std::string no_mpi_message(const Launch& launch) {
    const std::string processes = launch.size > 1 ? std::to_string(launch.size) + " processes" : "several processes";
    return "adgraph: error: this adgraph was built without MPI, but an MPI launcher (mpirun) started it as " +
           processes +
           ", each of which would train the same model alone; install libopenmpi-dev and openmpi-bin, then "
           "reconfigure and rebuild adgraph (CMake finds MPI and builds adgraph_mpi), or run adgraph train "
           "without mpirun\n";
}

std::optional<std::string> mpi_refusal(const Launch& launch, bool with_mpi) {
    if (with_mpi || !multi_process(launch)) return std::nullopt;
    return launch.rank == 0 ? no_mpi_message(launch) : std::string();
}

int default_threads(const Launch& launch, unsigned cores, int usable) {
    const int local = launch.launched ? std::max(1, launch.local_size) : 1;
    const int share = static_cast<int>(cores) / local;
    return std::max(1, usable > 0 ? std::min(usable, share) : share);
}

int usable_cpus() {
    cpu_set_t set;
    CPU_ZERO(&set);
    return ::sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 0;
}

std::string rank_prefix(const Launch& launch) {
    if (!launch.launched || launch.rank == 0) return "";
    return "rank " + std::to_string(launch.rank) + (launch.size > 0 ? " of " + std::to_string(launch.size) : "") + ": ";
}

#if ADGRAPH_WITH_MPI

struct Ranks::Mpi {
    mpi::Environment environment;
    std::unique_ptr<mpi::DataParallel> parallel;
};

Ranks::Ranks(const Launch& launch) {
    if (!launch.launched) return;
    mpi_ = std::make_unique<Mpi>();
    rank_ = mpi::rank();
    size_ = mpi::size();
}

#else

struct Ranks::Mpi {};

Ranks::Ranks(const Launch&) {}

#endif

Ranks::~Ranks() = default;

// Each collective below is the identity in one process (no mpi_), which a build without MPI always is.

std::vector<std::uint64_t> Ranks::gather(std::uint64_t value) {
#if ADGRAPH_WITH_MPI
    if (mpi_) {
        // As two 32-bit halves, each exact in a double, in this rank's slots of a sum over zeros.
        const auto n = static_cast<std::size_t>(size_), me = static_cast<std::size_t>(rank_);
        std::vector<double> v(2 * n, 0.0);
        v[2 * me] = static_cast<double>(value >> 32);
        v[2 * me + 1] = static_cast<double>(value & 0xffffffffu);
        mpi::sum(v);
        std::vector<std::uint64_t> all(n);
        for (std::size_t r = 0; r < n; ++r) {
            all[r] = (static_cast<std::uint64_t>(v[2 * r]) << 32) | static_cast<std::uint64_t>(v[2 * r + 1]);
        }
        return all;
    }
#endif
    return {value};
}

void Ranks::abort_job() {
#if ADGRAPH_WITH_MPI
    if (mpi_ && size_ > 1) mpi::abort(1);
#endif
}

void Ranks::attach(nn::Module& model, std::uint64_t steps) {
    model_ = &model;
    steps_ = steps;
#if ADGRAPH_WITH_MPI
    if (!mpi_) return;
    mpi_->parallel = std::make_unique<mpi::DataParallel>(model);
    mpi_->parallel->set_steps(steps);
#endif
}

nn::Batch Ranks::local_batch(const nn::Epoch& epoch, std::size_t i) {
    ++steps_;  // DataParallel counts the same steps (attach started both at the same count)
#if ADGRAPH_WITH_MPI
    if (mpi_) return mpi_->parallel->local_batch(epoch, i);
#endif
    nn::key_dropout(*model_, steps_ - 1, 0);
    return epoch.batch(i);
}

void Ranks::allreduce_gradients() {
#if ADGRAPH_WITH_MPI
    if (mpi_) mpi_->parallel->allreduce_gradients();
#endif
}

void Ranks::broadcast_buffers() {
#if ADGRAPH_WITH_MPI
    if (mpi_) mpi_->parallel->broadcast_buffers();
#endif
}

void Ranks::sum([[maybe_unused]] std::vector<double>& values) {
#if ADGRAPH_WITH_MPI
    if (mpi_) mpi::sum(values);
#endif
}

std::pair<std::size_t, std::size_t> Ranks::shard(std::size_t rows) const {
#if ADGRAPH_WITH_MPI
    if (mpi_) {
        const mpi::RowRange r = mpi::shard(rows, rank_, size_);
        return {r.begin, r.end};
    }
#endif
    return {0, rows};
}

std::uint64_t Ranks::steps() const { return steps_; }

double Ranks::allreduce_seconds() const {
#if ADGRAPH_WITH_MPI
    if (mpi_ && mpi_->parallel) return mpi_->parallel->allreduce_seconds();
#endif
    return 0.0;
}

}  // namespace adg::cli
