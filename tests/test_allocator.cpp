// tensor/allocator and tensor/buffer_allocator: freed array buffers of 64 KiB and more wait in a bounded cache of
// size classes and serve the next array of their class, without any call; the bound, the release and the
// accounting.

#include <doctest/doctest.h>

#include <sys/resource.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <regex>
#include <thread>
#include <vector>

#include <adgraph/adgraph.hpp>

#include "child_case.hpp"

using namespace adg;

namespace {

constexpr std::size_t mib = std::size_t{1} << 20;
constexpr std::size_t floats_16mib = std::size_t{4} << 20;

const void* address(const Array& a) { return a.get<float>().data(); }

long minor_faults() {
    rusage u{};
    ::getrusage(RUSAGE_SELF, &u);
    return u.ru_minflt;
}

std::size_t resident_bytes() {
    std::ifstream statm("/proc/self/statm");
    std::size_t total = 0, resident = 0;
    statm >> total >> resident;
    return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

// Restores the default bound and an empty cache whatever a case did.
struct FreshCache {
    FreshCache() {
        retain_freed_memory();
        release_cached_buffers();
    }
    ~FreshCache() {
        retain_freed_memory();
        release_cached_buffers();
    }
};

}  // namespace

TEST_CASE("without any call, a freed 16 MiB array's buffer serves the next one: same pages, no faults, no growth") {
    const FreshCache fresh;
    const void* first = nullptr;
    {
        const Array a = Array::full({floats_16mib}, 1.0, f32);
        first = address(a);
    }
    CHECK(cached_buffer_bytes() == 16 * mib);
    // 4096 pages: a fresh buffer faults them in (or a few huge pages, with transparent huge pages), a reused one
    // none, and the pages resident stay those of one buffer however often it is allocated and filled.
    const std::size_t resident_before = resident_bytes();
    const long faults_before = minor_faults();
    for (int i = 0; i < 10; ++i) {
        const Array again = Array::full({floats_16mib}, 2.0 + i, f32);
        CHECK(address(again) == first);
        CHECK(again.get<float>()[floats_16mib - 1] == doctest::Approx(2.0 + i));
    }
    CHECK(minor_faults() - faults_before < 64);
    CHECK(resident_bytes() < resident_before + 2 * mib);
    CHECK(cached_buffer_bytes() == 16 * mib);
}

TEST_CASE("a cached buffer serves every size of its class (at most a quarter larger), not the next class") {
    const FreshCache fresh;
    const void* first = nullptr;
    {
        const Array a = Array::full({floats_16mib}, 1.0, f32);
        first = address(a);
    }
    {
        // 16 MiB less 4000 bytes rounds up to the 16 MiB class; so does a float64 array of the same bytes.
        const Array smaller = Array::full({floats_16mib - 1000}, 1.0, f32);
        CHECK(address(smaller) == first);
    }
    {
        const Array as_double = Array::full({floats_16mib / 2}, 1.0, f64);
        CHECK(static_cast<const void*>(as_double.get<double>().data()) == first);
    }
    {
        // One byte more is the next class (20 MiB): a new buffer, while the 16 MiB one stays cached.
        const Array larger = Array::full({floats_16mib + 1}, 1.0, f32);
        CHECK(address(larger) != first);
        CHECK(cached_buffer_bytes() == 16 * mib);
    }
    CHECK(cached_buffer_bytes() == 16 * mib + 20 * mib);
}

TEST_CASE("arrays alive at once get distinct buffers of a class, and each keeps its values") {
    const FreshCache fresh;
    const std::size_t n = 100000;  // 400 KB: cached class
    for (int round = 0; round < 3; ++round) {
        std::vector<Array> live;
        for (int i = 0; i < 8; ++i) live.push_back(Array::full({n + static_cast<std::size_t>(i)}, i + round, f32));
        for (int i = 0; i < 8; ++i) {
            const auto& a = live[static_cast<std::size_t>(i)].get<float>();
            CHECK(a[0] == static_cast<float>(i + round));
            CHECK(a[a.size() - 1] == static_cast<float>(i + round));
            for (int j = 0; j < i; ++j) CHECK(address(live[static_cast<std::size_t>(j)]) != a.data());
        }
    }
    CHECK(cached_buffer_bytes() > 0);
}

TEST_CASE("every array buffer, small or large, is aligned to 64 bytes (an AVX-512 register)") {
    for (std::size_t n : {std::size_t{1}, std::size_t{3}, std::size_t{17}, std::size_t{1000}, std::size_t{16383},
                          std::size_t{16384}, std::size_t{16385}, std::size_t{300001}}) {
        const Array a = Array::empty({n}, f32), b = Array::empty({n}, f64);
        CHECK(reinterpret_cast<std::uintptr_t>(address(a)) % 64 == 0);
        CHECK(reinterpret_cast<std::uintptr_t>(b.get<double>().data()) % 64 == 0);
    }
}

TEST_CASE("a buffer freed on another thread serves the next array on this one") {
    const FreshCache fresh;
    Array a = Array::full({floats_16mib}, 1.0, f32);
    const void* first = address(a);
    std::thread([moved = std::move(a)]() mutable { moved = Array(); }).join();
    CHECK(cached_buffer_bytes() == 16 * mib);
    const Array b = Array::full({floats_16mib}, 3.0, f32);
    CHECK(address(b) == first);
}

TEST_CASE("retain_freed_memory bounds the cache: beyond it the buffer freed longest ago goes back first") {
    const FreshCache fresh;
    retain_freed_memory(40 * mib);
    const void* second = nullptr;
    const void* third = nullptr;
    {
        const Array a = Array::empty({floats_16mib}, f32);
        const Array b = Array::empty({floats_16mib}, f32);
        const Array c = Array::empty({floats_16mib}, f32);
        second = address(b);
        third = address(c);
    }  // freed c, b, a: a, the last one, would exceed 40 MiB, so c (freed first) goes back
    CHECK(cached_buffer_bytes() == 32 * mib);
    {
        const Array x = Array::empty({floats_16mib}, f32), y = Array::empty({floats_16mib}, f32);
        CHECK(address(x) != third);
        CHECK(address(y) != third);
        CHECK((address(x) == second || address(y) == second));
        CHECK(cached_buffer_bytes() == 0);
    }
    retain_freed_memory(8 * mib);  // smaller than one buffer: none is kept
    CHECK(cached_buffer_bytes() == 0);
    { const Array z = Array::empty({floats_16mib}, f32); }
    CHECK(cached_buffer_bytes() == 0);
    retain_freed_memory(0);
    { const Array small_but_cached_class = Array::empty({std::size_t{20000}}, f32); }
    CHECK(cached_buffer_bytes() == 0);
}

TEST_CASE("release_cached_buffers empties the cache and buffer_bytes_in_use counts live large buffers") {
    const FreshCache fresh;
    const std::size_t in_use = buffer_bytes_in_use();
    {
        const Array a = Array::empty({floats_16mib}, f32);
        CHECK(buffer_bytes_in_use() == in_use + 16 * mib);
        const Array small = Array::empty({std::size_t{100}}, f32);  // malloc's, not counted
        CHECK(buffer_bytes_in_use() == in_use + 16 * mib);
    }
    CHECK(buffer_bytes_in_use() == in_use);
    CHECK(cached_buffer_bytes() == 16 * mib);
    release_cached_buffers();
    CHECK(cached_buffer_bytes() == 0);
}

TEST_CASE("[child] under ulimit -v cached buffers are given back when a new array would not fit otherwise") {
    if (!adg::testing::in_child_case(
            "[child] under ulimit -v cached buffers are given back when a new array would not fit "
            "otherwise")) {
        return;
    }
    { const Array a = Array::empty({std::size_t{16} << 20}, f32); }  // 64 MiB, then cached
    REQUIRE(cached_buffer_bytes() == 64 * mib);
    REQUIRE(adg::testing::limit_address_space(32 * mib));
    // 48 MiB does not fit next to the cached 64 MiB (limit: mapped + 32 MiB), but does once they are returned.
    const Array b = Array::full({std::size_t{12} << 20}, 1.0, f32);
    CHECK(b.get<float>()[b.size() - 1] == 1.0f);
    CHECK(cached_buffer_bytes() == 0);
}

TEST_CASE("a new array that fits only without the cached buffers still succeeds under ulimit -v") {
#ifdef __SANITIZE_ADDRESS__
    return;  // ASan maps fresh memory for every allocation (its quarantine), so no limit fits it
#endif
    const auto r = adg::testing::run_child_case(
        "[child] under ulimit -v cached buffers are given back when a new array would not fit otherwise");
    INFO(r.output);
    CHECK(r.exited_ok());
    CHECK(std::regex_search(r.output, std::regex(R"(test cases: *1 \| *1 passed \| *0 failed)")));
}
