#pragma once
/// \file MPI's lifetime and the process's place in MPI_COMM_WORLD, for adgraph's data-parallel training
/// (adgraph_mpi, built when CMake finds MPI). See docs/distributed.md.

namespace adg::mpi {

/// MPI for the life of this object (one per process, in main): initialises MPI (MPI_Init_thread with
/// MPI_THREAD_FUNNELED: only the main thread calls MPI; OpenBLAS's threads never do) unless it already is, and
/// finalises it on destruction if it initialised it. Run under `mpirun -np N` for N ranks; started directly, the
/// process is one rank of one. When it initialises MPI, MPI_COMM_WORLD returns errors instead of aborting, and
/// adg::mpi raises them as io_error naming the call.
class Environment {
public:
    /// Initialises MPI (passing argc/argv on to MPI_Init_thread, which may remove its own arguments).
    Environment(int* argc = nullptr, char*** argv = nullptr);
    /// Finalises MPI if this object initialised it. Destroyed while an exception unwinds the stack with more than one
    /// rank, it calls MPI_Abort instead, ending every rank (which may be waiting in a collective this one will never
    /// join). Catch and report errors inside its lifetime; an error that only this rank raised (e.g. its own file,
    /// not a collective's check, which every rank raises alike) must then end the job with mpi::abort(), since a
    /// return from main would wait in MPI_Finalize for ranks that wait for this one.
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

/// Ends every rank of the job now (MPI_Abort on MPI_COMM_WORLD) with exit code `code`, after printing "adg::mpi: rank
/// R of N aborts the job (exit code C)" to stderr (mpirun names the rank too, mostly). For a
/// rank that must stop while others may be waiting in a collective: returning from main instead would leave it
/// waiting in MPI_Finalize for them, and them waiting for it. When MPI is not running (before the Environment or
/// after it), prints "adg::mpi: the process ends (exit code C); MPI is not running, so there is no job to abort"
/// and calls std::exit(code).
[[noreturn]] void abort(int code = 1);

}  // namespace adg::mpi
