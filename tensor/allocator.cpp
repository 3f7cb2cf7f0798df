#include <adgraph/tensor/allocator.hpp>

#include <algorithm>
#include <climits>

#include <malloc.h>

namespace adg {

bool retain_freed_memory(std::size_t bytes) {
    // glibc refuses an mmap threshold above half its largest heap (32 MiB on 64-bit) and then silently keeps
    // its dynamic one, so the value is clamped rather than passed through.
    const std::size_t cap = std::size_t{32} << 20;
    const auto trim = static_cast<int>(std::min<std::size_t>(bytes, INT_MAX));
    const auto mmap = static_cast<int>(std::min(bytes, cap));
    const bool trim_ok = mallopt(M_TRIM_THRESHOLD, trim) == 1;
    const bool mmap_ok = mallopt(M_MMAP_THRESHOLD, mmap) == 1;
    return trim_ok && mmap_ok;
}

}  // namespace adg
