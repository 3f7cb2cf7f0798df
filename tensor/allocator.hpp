#pragma once
/// \file How the process keeps freed array memory: a training step frees and allocates the same few MB every step.

#include <cstddef>

namespace adg {

/// Keeps up to `bytes` of freed heap memory in the process instead of returning it to the OS, and serves buffers
/// below min(bytes, 32 MiB) from the heap rather than from fresh mappings (glibc's M_TRIM_THRESHOLD and
/// M_MMAP_THRESHOLD). A training loop's same-size arrays then reuse warm pages instead of faulting in zeroed
/// ones every step. Process-wide; `adgraph train` and bench_mlp call it. Returns false if the C library refused.
bool retain_freed_memory(std::size_t bytes = std::size_t{512} << 20);

}  // namespace adg
