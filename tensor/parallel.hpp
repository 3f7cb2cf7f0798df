#pragma once
/// \file Threads: adgraph splits its large GEMMs and elementwise loops over its own threads, and runs
/// BLAS single-threaded inside each part. See docs/design.md, "Threads".

#include <algorithm>
#include <cstddef>

namespace adg {

/// The most threads set_num_threads, ADGRAPH_NUM_THREADS and `adgraph train --threads` accept: each is a real
/// thread of the pool, so a larger count is a mistake, not a request.
constexpr int max_threads = 4096;

/// Uses `n` threads for adgraph's kernels (0: one per core; value_error outside 0..max_threads) and makes BLAS
/// single-threaded, since adgraph then splits each large GEMM itself. Until this is called (or ADGRAPH_NUM_THREADS is
/// set) adgraph's loops run in the calling thread and BLAS keeps its own thread count (OPENBLAS_NUM_THREADS).
/// Elementwise kernels, optimizer updates and float64 GEMMs give bitwise the same results at any n; float32 GEMMs may
/// differ in the last bits (as under BLAS's own threads: OpenBLAS's sgemm rounds a block of C according to where the
/// block starts).
void set_num_threads(int n);

/// The thread count adgraph's kernels use: set_num_threads's, else ADGRAPH_NUM_THREADS's (value_error if that is
/// not a whole number), else 1.
int num_threads();

/// Loops over fewer than twice this many elements run in the calling thread: a part costs about a microsecond to
/// hand out.
constexpr std::size_t parallel_grain = std::size_t{1} << 14;

namespace detail {
// The thread count ADGRAPH_NUM_THREADS's value `text` sets; value_error unless it is a whole number in
// 0..max_threads.
int parse_thread_count(const char* text);
using PartFn = void (*)(void* context, std::size_t part);
// Runs fn(context, p) for p in [0, parts) on up to num_threads() threads; rethrows the first exception.
void run_parts(std::size_t parts, PartFn fn, void* context);
}  // namespace detail

/// Calls `f(begin, end)` on consecutive ranges covering [0, n), each starting at a multiple of `align`, on
/// num_threads() threads when n is at least 2·grain (in the calling thread otherwise). Parts must not overlap
/// in what they write; `f` must not depend on how [0, n) is cut.
template <class F>
void parallel_for(std::size_t n, std::size_t grain, std::size_t align, F&& f) {
    const auto threads = static_cast<std::size_t>(num_threads());
    const std::size_t want = grain == 0 ? threads : std::min(threads, n / grain);
    if (want <= 1 || n == 0) {
        f(std::size_t{0}, n);
        return;
    }
    align = std::max<std::size_t>(align, 1);
    const std::size_t chunk = ((n + want - 1) / want + align - 1) / align * align;
    const std::size_t parts = (n + chunk - 1) / chunk;
    auto body = [&](std::size_t p) { f(p * chunk, std::min(n, (p + 1) * chunk)); };
    detail::run_parts(
        parts, [](void* c, std::size_t p) { (*static_cast<decltype(body)*>(c))(p); }, &body);
}

/// Calls `g(row)` for each of `rows` rows of `width` elements, whole rows per part, in parallel when the rows
/// hold at least 2·parallel_grain elements.
template <class G>
void parallel_rows(std::size_t rows, std::size_t width, G&& g) {
    parallel_for(rows, (parallel_grain + width - 1) / std::max<std::size_t>(width, 1), 1,
                 [&](std::size_t r0, std::size_t r1) {
                     for (std::size_t r = r0; r < r1; ++r) g(r);
                 });
}

}  // namespace adg
