#include <adgraph/mpi/environment.hpp>

#include <cstdio>
#include <cstdlib>
#include <exception>

#include <adgraph/mpi/internal/call.hpp>

namespace adg::mpi {

Environment::Environment(int* argc, char*** argv) {
    int initialised = 0;
    MPI_Initialized(&initialised);
    if (initialised) return;
    int provided = 0;
    detail::check(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "mpi::Environment", "MPI_Init_thread");
    owns_ = true;
    // Failures come back as codes, which the library turns into adg::io_error naming the call, instead of MPI's
    // default of aborting the job without a word about what adgraph was doing.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
}

Environment::~Environment() {
    if (!owns_) return;
    int finalised = 0;
    MPI_Finalized(&finalised);
    if (finalised) return;
    int size = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    // Destroyed by an exception on its way out of main: the other ranks may be waiting in a collective this rank
    // will never join, and MPI_Finalize would leave them waiting for ever. MPI_Abort ends the whole job instead
    // (mpirun names this rank).
    if (std::uncaught_exceptions() > 0 && size > 1) {
        int r = 0;
        MPI_Comm_rank(MPI_COMM_WORLD, &r);
        // Said here too: mpirun's own report of the abort is sometimes lost (its help-text lookup fails under load).
        std::fprintf(stderr, "adg::mpi: rank %d of %d aborts the job: an exception left the mpi::Environment\n", r,
                     size);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    MPI_Finalize();
}

int rank() {
    detail::require_mpi("mpi::rank");
    int r = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &r);
    return r;
}

int size() {
    detail::require_mpi("mpi::size");
    int s = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &s);
    return s;
}

void abort(int code) {
    int initialised = 0, finalised = 0;
    MPI_Initialized(&initialised);
    MPI_Finalized(&finalised);
    if (!initialised || finalised) {
        // No job to end (before the Environment, or after it): this process is all there is. A caller on an error
        // path relies on [[noreturn]], so end the process rather than throw.
        std::fprintf(stderr,
                     "adg::mpi: the process ends (exit code %d); MPI is not running, so there is no job to abort\n",
                     code);
        std::exit(code);
    }
    int r = 0, n = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &r);
    MPI_Comm_size(MPI_COMM_WORLD, &n);
    std::fprintf(stderr, "adg::mpi: rank %d of %d aborts the job (exit code %d)\n", r, n, code);
    MPI_Abort(MPI_COMM_WORLD, code);
    std::abort();  // MPI_Abort does not return; should it, the process still ends
}

}  // namespace adg::mpi
