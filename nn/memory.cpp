#include <adgraph/nn/memory.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <limits>

#include <adgraph/tensor/error.hpp>

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

MemoryLimit memory_limit() {
    const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
    MemoryLimit m{
        pages > 0 && page > 0 ? mul(static_cast<std::uint64_t>(pages), static_cast<std::uint64_t>(page)) : saturated,
        "physical memory"};
    rlimit as{};
    if (::getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != RLIM_INFINITY) {
        const std::uint64_t mapped = mapped_bytes();
        const std::uint64_t left = as.rlim_cur > mapped ? as.rlim_cur - mapped : 0;
        if (left < m.bytes) m = {left, "the address-space limit (ulimit -v) less what is mapped"};
    }
    return m;
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
