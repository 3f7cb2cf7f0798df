#pragma once
/// \file How the process keeps freed array memory: a training step, a Jacobian or a Hessian-vector product frees and
/// allocates the same few MB again and again. adgraph keeps freed array buffers of 64 KiB and more in a cache of
/// size classes (tensor/buffer_allocator.hpp) and hands them to the next array of their class, so their pages stay
/// warm; nothing needs to be called for that. The functions below bound, empty and inspect that cache.

#include <cstddef>

namespace adg {

/// The cache's bound by default: freed buffers beyond it are returned to the OS, the longest unused first.
inline constexpr std::size_t default_retained_bytes = std::size_t{512} << 20;

/// Keeps up to `bytes` of freed array buffers for reuse (0 keeps none); buffers beyond the new bound go back to the
/// OS at once. Process-wide, thread-safe; the default bound is default_retained_bytes.
void retain_freed_memory(std::size_t bytes = default_retained_bytes);

/// Returns every cached (freed) buffer to the OS now, e.g. before a phase that needs the memory elsewhere.
void release_cached_buffers();

/// Bytes of freed buffers the cache holds for reuse.
std::size_t cached_buffer_bytes();

/// Bytes of live array buffers served from the library's own mappings (64 KiB and more, by size class). glibc's
/// statistics (mallinfo2) count the smaller buffers but not these.
std::size_t buffer_bytes_in_use();

}  // namespace adg
