// The MPI tests' main: MPI for the life of the run, then doctest on every rank (each rank runs every test case, in
// the same order, so the collectives meet). Run under `mpirun -np N` (tests/mpi/library.cmake).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <adgraph/mpi/data_parallel.hpp>
#include <adgraph/mpi/environment.hpp>

#include <string>

#include <adgraph/tensor/error.hpp>

namespace adg::mpi_test {
// What mpi::rank() raised before MPI was initialised (test_collectives.cpp checks it).
std::string rank_before_init;
}  // namespace adg::mpi_test

int main(int argc, char** argv) {
    try {
        adg::mpi::rank();
    } catch (const adg::value_error& e) {
        adg::mpi_test::rank_before_init = e.what();
    }
    adg::mpi::Environment env(&argc, &argv);
    doctest::Context context(argc, argv);
    // mpirun collects the ranks' output through pipes: no colour codes in CTest's log.
    context.setOption("no-colors", true);
    // One summary (rank 0's) rather than N interleaved ones; every rank still prints its failures.
    if (adg::mpi::rank() != 0) context.setOption("minimal", true);
    const int result = context.run();
    if (context.shouldExit()) return result;
    // The same verdict on every rank: a failure anywhere fails the job.
    const int failed = adg::mpi::lowest_rank_where(result != 0);
    return failed >= 0 ? 1 : 0;
}
