// Memory needs of a model, checked before allocating (issue 21: `--model 784-9999999-10` and a checkpoint whose
// metadata names huge layers aborted on bad_alloc instead of saying what did not fit).

#include <doctest/doctest.h>
#include <sys/resource.h>

#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <limits>
#include <string>

#include <adgraph/nn/memory.hpp>
#include <adgraph/nn/sequential.hpp>
#include <adgraph/tensor/error.hpp>

using namespace adg;
using namespace adg::nn;

TEST_CASE("memory: mlp_memory_bytes counts parameters, state copies and a batch's activations, saturating") {
    // 4-3-2: 4*3 + 3 + 3*2 + 2 = 23 parameters; widths 4 + 3 + 2 = 9.
    CHECK(mlp_memory_bytes({4, 3, 2}, 0, 0) == 23 * 4);
    CHECK(mlp_memory_bytes({4, 3, 2}, 3, 0) == 23 * 4 * 4);
    CHECK(mlp_memory_bytes({4, 3, 2}, 0, 5, f64) == (23 + 5 * 9 * 4) * 8);
    CHECK(mlp_memory_bytes({784, 9999999, 10}, 0, 0) == 31799996860ull);
    const std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
    CHECK(mlp_memory_bytes({9999999, 9999999, 9999999}, 0, 0) < max);  // 8e14 bytes: no overflow yet
    CHECK(mlp_memory_bytes(std::vector<std::size_t>(300000, 9999999), 3, 1) == max);
    CHECK(mlp_memory_bytes({1, 1}, max, 0) == max);
    CHECK(mlp_memory_bytes({1, 1}, 0, max) == max);
}

TEST_CASE("memory: check_fits_in_memory names what, the bytes needed and available, and the remedy") {
    CHECK_NOTHROW(check_fits_in_memory("x", 100, "less", MemoryLimit{100, "test"}));
    CHECK_THROWS_WITH_AS(check_fits_in_memory("layer", 2500000000, "use less", MemoryLimit{1500000, "test limit"}),
                         "layer needs about 2.5 GB (2500000000 bytes) of memory but 1.5 MB (1500000 bytes) are "
                         "available (test limit); use less",
                         value_error);
    CHECK_THROWS_WITH_AS(
        check_fits_in_memory("m", std::numeric_limits<std::uint64_t>::max(), "r", MemoryLimit{2000000000000, "t"}),
        "m needs about more than 18446744.1 TB (18446744073709551615 bytes) of memory but 2.0 TB (2000000000000 "
        "bytes) are available (t); r",
        value_error);
    const MemoryLimit here = memory_limit();
    CHECK(here.bytes > 0);
    CHECK(here.source == "physical memory");
}

TEST_CASE("memory: Sequential::mlp refuses a spec whose parameters cannot fit, before allocating") {
    Generator gen(0);
    // Hundreds of terabytes: more than any machine has, so this cannot pass by allocating.
    CHECK_THROWS_WITH_AS(Sequential::mlp("9999999-9999999-9999999", gen),
                         doctest::Contains("Sequential::mlp: model spec '9999999-9999999-9999999' with float32 "
                                           "parameters needs about 800.0 TB (799999920000000 bytes) of memory but "),
                         value_error);
    CHECK_THROWS_WITH_AS(Sequential::mlp("9999999-9999999-9999999", gen),
                         doctest::Contains("; use smaller layer sizes"), value_error);
    CHECK(Sequential::mlp("784-16-10", gen)->parameter_count() == 784 * 16 + 16 + 16 * 10 + 10);
}

// Issue 21 (retest): OpenBLAS spins forever when its work buffer's mmap fails, so the buffers are checked first.
TEST_CASE("memory: check_blas_buffers_fit refuses an address-space limit too low for OpenBLAS's work buffers") {
    const std::uint64_t mib = 1ull << 20;
    CHECK_NOTHROW(check_blas_buffers_fit("x", 8, "fewer", AddressSpace{0, 1ull << 40}));         // no limit
    CHECK_NOTHROW(check_blas_buffers_fit("x", 2, "fewer", AddressSpace{600 * mib, 280 * mib}));  // 64 MiB to spare
    CHECK_THROWS_AS(check_blas_buffers_fit("x", 2, "fewer", AddressSpace{600 * mib, 281 * mib}), value_error);
    CHECK_THROWS_WITH_AS(check_blas_buffers_fit("x", 3, "fewer", AddressSpace{600 * mib, 300 * mib}),
                         "x: OpenBLAS maps a work buffer of 134.2 MB (134217728 bytes) per thread that calls BLAS, "
                         "402.7 MB (402653184 bytes) for 3 threads, but the address-space limit (ulimit -v 614400) "
                         "leaves 314.6 MB (314572800 bytes) beside what is mapped, and OpenBLAS would retry forever; "
                         "raise ulimit -v above 765953 or fewer",
                         value_error);
    // One thread: fewer threads is no remedy.
    CHECK_THROWS_WITH_AS(check_blas_buffers_fit("y", 1, "fewer", AddressSpace{200 * mib, 100 * mib}),
                         doctest::Contains("for 1 thread, but the address-space limit (ulimit -v 204800) leaves 104.9 "
                                           "MB (104857600 bytes) beside what is mapped, and OpenBLAS would retry "
                                           "forever; raise ulimit -v above 299009"),
                         value_error);
    CHECK(blas_threads() >= 1);
}

// The sanitizers reserve terabytes of address space up front, so an address-space limit cannot be tried there.
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
TEST_CASE("memory: under an address-space limit (ulimit -v) the limit is what is left of it") {
    std::uint64_t pages = 0;
    REQUIRE(static_cast<bool>(std::ifstream("/proc/self/statm") >> pages));
    const std::uint64_t mapped = pages * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    const MemoryLimit physical = memory_limit();
    rlimit old{};
    REQUIRE(::getrlimit(RLIMIT_AS, &old) == 0);
    rlimit low = old;
    low.rlim_cur = static_cast<rlim_t>(mapped + (256ull << 20));  // 256 MB more than is mapped now
    if (low.rlim_cur >= old.rlim_cur || low.rlim_cur >= physical.bytes) {
        MESSAGE("skipped: the address-space limit is already lower");
        return;
    }
    REQUIRE(::setrlimit(RLIMIT_AS, &low) == 0);
    const MemoryLimit limited = memory_limit();
    ::setrlimit(RLIMIT_AS, &old);
    CHECK(limited.source == "the address-space limit (ulimit -v) less what is mapped");
    CHECK(limited.bytes <= (256ull << 20));
    CHECK(limited.bytes > (128ull << 20));
    CHECK_THROWS_WITH_AS(
        check_fits_in_memory("m", 1ull << 30, "r", limited),
        doctest::Contains("are available (the address-space limit (ulimit -v) less what is mapped); r"), value_error);
    CHECK(memory_limit().source == "physical memory");
}

TEST_CASE("memory: under an address-space limit memory_limit(n) also counts n OpenBLAS work buffers") {
    rlimit old{};
    REQUIRE(::getrlimit(RLIMIT_AS, &old) == 0);
    std::uint64_t pages = 0;
    REQUIRE(static_cast<bool>(std::ifstream("/proc/self/statm") >> pages));
    rlimit low = old;
    low.rlim_cur = static_cast<rlim_t>(pages * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE)) + (1ull << 30));
    if (low.rlim_cur >= old.rlim_cur) {
        MESSAGE("skipped: the address-space limit is already lower");
        return;
    }
    REQUIRE(::setrlimit(RLIMIT_AS, &low) == 0);
    const MemoryLimit none = memory_limit(), two = memory_limit(2);
    ::setrlimit(RLIMIT_AS, &old);
    CHECK(two.source == "the address-space limit (ulimit -v) less what is mapped and OpenBLAS's work buffers");
    // Each call maps a little (the ifstream's buffer): the difference is two buffers, up to a few pages.
    CHECK(none.bytes >= two.bytes + 2 * blas_buffer_bytes);
    CHECK(none.bytes <= two.bytes + 2 * blas_buffer_bytes + (1u << 20));
}
#endif
