#pragma once
/// \file MPI's lifetime and the process's place in MPI_COMM_WORLD, for adgraph's data-parallel training
/// (adgraph_mpi, built when CMake finds MPI). See docs/distributed.md.

namespace adg::mpi {

/// MPI for the life of this object (one per process, in main): initialises MPI (MPI_Init_thread with
/// MPI_THREAD_FUNNELED: only the main thread calls MPI; OpenBLAS's threads never do) unless it already is, and
/// finalises it on destruction if it initialised it. Run under `mpirun -np N` for N ranks; started directly, the
/// process is one rank of one.
class Environment {
public:
    /// Initialises MPI (passing argc/argv on to MPI_Init_thread, which may remove its own arguments).
    Environment(int* argc = nullptr, char*** argv = nullptr);
    /// Finalises MPI if this object initialised it.
    ~Environment();
    Environment(const Environment&) = delete;
    Environment& operator=(const Environment&) = delete;

private:
    bool owns_ = false;
};

/// This process's rank in MPI_COMM_WORLD, 0 ≤ rank() < size(); MPI must be initialised.
int rank();
/// The number of processes in MPI_COMM_WORLD; MPI must be initialised.
int size();

}  // namespace adg::mpi
