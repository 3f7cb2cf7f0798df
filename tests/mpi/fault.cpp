// A rank that fails while the others wait in a collective must end the whole job, never leave it hanging. Run
// under mpirun -np 2 by tests/mpi/library.cmake: rank 1 fails, rank 0 waits in mpi::sum (which rank 1 never joins).
//   --throw: an exception unwinds past the mpi::Environment (the destructor calls MPI_Abort)
//   --abort: rank 1 calls mpi::abort(3)
//   --abort-finalised: (one process, no mpirun) mpi::abort(3) after the Environment ended: exits 3, no exception
// tests/mpi/expect_abort.cmake checks that mpirun exits non-zero and that rank 1 says it aborts the job.
#include <cstdio>
#include <cstring>
#include <vector>

#include <adgraph/mpi/data_parallel.hpp>
#include <adgraph/mpi/environment.hpp>
#include <adgraph/tensor/error.hpp>

int main(int argc, char** argv) {
    const bool use_abort = argc > 1 && std::strcmp(argv[1], "--abort") == 0;
    if (argc > 1 && std::strcmp(argv[1], "--abort-finalised") == 0) {
        // mpi::abort after MPI has finalised: no job to end, but [[noreturn]] still holds (the process exits 3).
        { adg::mpi::Environment env(&argc, &argv); }
        adg::mpi::abort(3);
    }
    int me = -1;
    try {
        adg::mpi::Environment env(&argc, &argv);
        me = adg::mpi::rank();
        if (me == 1) {
            if (use_abort) adg::mpi::abort(3);
            throw adg::value_error("rank 1 fails");
        }
        std::vector<double> v{1.0};
        adg::mpi::sum(v);
    } catch (const adg::error& e) {
        std::fprintf(stderr, "caught after the Environment ended: %s\n", e.what());
        return 1;
    }
    // MPI has finalised here: the rank was taken while it ran.
    std::fprintf(stderr, "rank %d: the sum returned, but rank 1 never joined it\n", me);
    return 0;
}
