#pragma once
/// \file How the process keeps freed array memory: a training step, a Jacobian or a Hessian-vector product frees and
/// allocates the same few MB again and again.

#include <cstddef>

namespace adg {

/// Keeps up to `bytes` of freed heap memory in the process instead of returning it to the OS, and serves buffers
/// below min(bytes, 32 MiB) from the heap rather than from fresh mappings (glibc's M_TRIM_THRESHOLD and
/// M_MMAP_THRESHOLD). Same-size arrays then reuse warm pages instead of faulting in zeroed ones on every use.
/// Process-wide. adgraph applies the default (512 MiB) itself when the program starts, unless the environment sets
/// glibc's own malloc thresholds (MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_ or GLIBC_TUNABLES): call this only
/// to choose another bound. Returns false if the C library refused.
bool retain_freed_memory(std::size_t bytes = std::size_t{512} << 20);

namespace detail {
/// The default applied at start-up (see retain_freed_memory); true if it was applied.
bool default_freed_memory_policy();
}  // namespace detail

}  // namespace adg
