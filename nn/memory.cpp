#include <adgraph/nn/memory.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <limits>

#include <adgraph/tensor/allocator.hpp>
#include <adgraph/tensor/error.hpp>
#include <adgraph/tensor/parallel.hpp>

extern "C" int openblas_get_num_threads(void);

namespace adg::nn {

namespace {

constexpr std::uint64_t saturated = std::numeric_limits<std::uint64_t>::max();

std::uint64_t mul(std::uint64_t a, std::uint64_t b) {
    std::uint64_t r = 0;
    return __builtin_mul_overflow(a, b, &r) ? saturated : r;
}

std::uint64_t add(std::uint64_t a, std::uint64_t b) {
    std::uint64_t r = 0;
    return __builtin_add_overflow(a, b, &r) ? saturated : r;
}

// Bytes of address space this process has mapped (the first field of /proc/self/statm, in pages).
std::uint64_t mapped_bytes() {
    std::ifstream statm("/proc/self/statm");
    std::uint64_t pages = 0;
    if (!(statm >> pages)) return 0;
    return mul(pages, static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE)));
}

}  // namespace

int blas_threads() { return std::max(std::max(num_threads(), openblas_get_num_threads()), 1); }

AddressSpace address_space() {
    rlimit as{};
    if (::getrlimit(RLIMIT_AS, &as) != 0 || as.rlim_cur == RLIM_INFINITY) return {};
    // Freed array buffers that adgraph caches are mapped but given back as soon as an allocation needs the room.
    const std::uint64_t mapped = mapped_bytes(), cached = cached_buffer_bytes();
    return {static_cast<std::uint64_t>(as.rlim_cur), mapped > cached ? mapped - cached : 0};
}

MemoryLimit memory_limit(int blas_threads) {
    const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
    MemoryLimit m{
        pages > 0 && page > 0 ? mul(static_cast<std::uint64_t>(pages), static_cast<std::uint64_t>(page)) : saturated,
        "physical memory"};
    const AddressSpace space = address_space();
    if (space.limit != 0) {
        const std::uint64_t buffers = mul(blas_buffer_bytes, static_cast<std::uint64_t>(std::max(blas_threads, 0)));
        const std::uint64_t used = add(space.mapped, buffers);
        const std::uint64_t left = space.limit > used ? space.limit - used : 0;
        if (left < m.bytes) {
            m = {left, buffers ? "the address-space limit (ulimit -v) less what is mapped and OpenBLAS's work buffers"
                               : "the address-space limit (ulimit -v) less what is mapped"};
        }
    }
    return m;
}

void check_blas_buffers_fit(const std::string& what, int threads, const std::string& fewer_threads,
                            const AddressSpace& space) {
    if (space.limit == 0) return;
    const std::uint64_t n = static_cast<std::uint64_t>(std::max(threads, 1));
    const std::uint64_t need = mul(blas_buffer_bytes, n),
                        left = space.limit > space.mapped ? space.limit - space.mapped : 0;
    // Headroom for the work itself (a batch's arrays, the threads' stacks): what is mapped changes from run to run
    // (OpenBLAS's workers map their buffers at start-up when they can), and an exact fit would still spin.
    const std::uint64_t headroom = std::uint64_t{64} << 20;
    if (add(need, headroom) <= left) return;
    const std::uint64_t kib = add(add(space.mapped, need), headroom) / 1024 + 1;  // ulimit -v counts KiB
    throw value_error(what + ": OpenBLAS maps a work buffer of " + bytes_str(blas_buffer_bytes) +
                      " per thread that calls BLAS, " + bytes_str(need) + " for " + std::to_string(n) +
                      (n == 1 ? " thread" : " threads") + ", but the address-space limit (ulimit -v " +
                      std::to_string(space.limit / 1024) + ") leaves " + bytes_str(left) +
                      " beside what is mapped, and OpenBLAS would retry forever; raise ulimit -v above " +
                      std::to_string(kib) + (n > 1 ? " or " + fewer_threads : std::string()));
}

std::uint64_t mlp_memory_bytes(const std::vector<std::size_t>& sizes, std::size_t state_copies, std::size_t rows,
                               Dtype dtype) {
    const std::uint64_t element = dtype == f32 ? 4 : 8;
    std::uint64_t params = 0, widths = sizes.empty() ? 0 : sizes.front();
    for (std::size_t i = 0; i + 1 < sizes.size(); ++i) {
        params = add(params, mul(add(sizes[i], 1), sizes[i + 1]));  // weight and bias
        widths = add(widths, sizes[i + 1]);
    }
    // A layer's output and its activation are kept for the backward pass, which makes a gradient of each: about
    // four tensors of a batch's rows per layer width (an estimate: it only has to catch what can never fit).
    const std::uint64_t activations = mul(mul(rows, widths), 4);
    return mul(add(mul(params, add(1, state_copies)), activations), element);
}

std::string bytes_str(std::uint64_t bytes) {
    const double v = static_cast<double>(bytes);
    const char* unit = v >= 1e12 ? "TB" : v >= 1e9 ? "GB" : "MB";
    const double scale = v >= 1e12 ? 1e12 : v >= 1e9 ? 1e9 : 1e6;
    char b[80];
    std::snprintf(b, sizeof b, "%.1f %s (%llu bytes)", v / scale, unit, static_cast<unsigned long long>(bytes));
    return b;
}

void check_fits_in_memory(const std::string& what, std::uint64_t bytes, const std::string& remedy,
                          const MemoryLimit& limit) {
    if (bytes <= limit.bytes) return;
    throw value_error(what + " needs about " + (bytes == saturated ? "more than " : "") + bytes_str(bytes) +
                      " of memory but " + bytes_str(limit.bytes) + " are available (" + limit.source + "); " + remedy);
}

}  // namespace adg::nn
