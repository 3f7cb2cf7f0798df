#pragma once
/// \file How much memory a model needs and whether this process can have it, checked before allocating.

#include <cstdint>
#include <string>
#include <vector>

#include <adgraph/tensor/dtype.hpp>

namespace adg::nn {

/// Memory this process may still use: the smaller of physical memory and the address space left under
/// RLIMIT_AS, with where the figure comes from.
struct MemoryLimit {
    /// Bytes.
    std::uint64_t bytes = 0;
    /// "physical memory", "the address-space limit (ulimit -v) less what is mapped" or "... less what is mapped and
    /// OpenBLAS's work buffers".
    std::string source;
};

/// The limit of this process now (sysconf(_SC_PHYS_PAGES) and getrlimit(RLIMIT_AS)). Under RLIMIT_AS, OpenBLAS's
/// work buffers for `blas_threads` threads (see blas_buffer_bytes) are counted as used, as if not yet mapped (an
/// over-estimate by what earlier GEMMs of this process mapped): they take address space, not physical memory.
MemoryLimit memory_limit(int blas_threads = 0);

/// Address space OpenBLAS maps for its GEMM work buffer in each thread that calls BLAS, on that thread's first call,
/// and keeps: 128 MiB (BUFFER_SIZE of OpenBLAS 0.3.21 on x86-64; strace shows one mmap of 134217728 bytes per
/// thread). When that mmap fails, OpenBLAS retries it forever at 100 % CPU, so it must be checked beforehand.
inline constexpr std::uint64_t blas_buffer_bytes = std::uint64_t{128} << 20;

/// Threads that may call BLAS at once, each mapping a work buffer at its first GEMM: adgraph's (num_threads()), each
/// calling single-threaded BLAS, or, until set_num_threads is called, OpenBLAS's own thread count (its workers
/// started with the library and mapped theirs then: counting them again over-estimates). The larger of the two.
int blas_threads();

/// The soft RLIMIT_AS of this process in bytes (0: none) and the bytes it has mapped now.
struct AddressSpace {
    /// Bytes; 0 means no limit.
    std::uint64_t limit = 0;
    /// Bytes mapped now (/proc/self/statm).
    std::uint64_t mapped = 0;
};

/// This process's address space now.
AddressSpace address_space();

/// Throws value_error "<what>: OpenBLAS maps a work buffer of <bytes> per thread that calls BLAS, <bytes> for
/// <threads> threads, but the address-space limit (ulimit -v <KiB>) leaves <bytes> beside what is mapped, ...; raise
/// ulimit -v above <KiB>[ or <fewer_threads>]" if `space` has a limit too low for `threads` buffers (so a command fails
/// up front instead of spinning in OpenBLAS). The buffers must fit with 64 MiB to spare for the work itself. Does
/// nothing without a limit.
void check_blas_buffers_fit(const std::string& what, int threads, const std::string& fewer_threads,
                            const AddressSpace& space = address_space());

/// Bytes an MLP of layer `sizes` needs in `dtype`: its parameters, `state_copies` more tensors of their shapes
/// (gradients, optimizer moments) and, for a batch of `rows`, each layer's outputs and their gradients. Saturates
/// at UINT64_MAX instead of wrapping.
std::uint64_t mlp_memory_bytes(const std::vector<std::size_t>& sizes, std::size_t state_copies, std::size_t rows,
                               Dtype dtype = f32);

/// "31.8 GB (31760000000 bytes)" (MB below a GB, TB from a TB on).
std::string bytes_str(std::uint64_t bytes);

/// Throws value_error "<what> needs about <bytes> but <limit> are available (<source>); <remedy>" if `bytes`
/// exceed `limit`.
void check_fits_in_memory(const std::string& what, std::uint64_t bytes, const std::string& remedy,
                          const MemoryLimit& limit = memory_limit());

}  // namespace adg::nn
