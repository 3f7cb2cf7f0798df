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
    /// "physical memory" or "the address-space limit (ulimit -v) less what is mapped".
    std::string source;
};

/// The limit of this process now (sysconf(_SC_PHYS_PAGES) and getrlimit(RLIMIT_AS)).
MemoryLimit memory_limit();

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
