// tensor/allocator: retain_freed_memory keeps a freed array's pages in the process for the next one.

#include <doctest/doctest.h>

#include <malloc.h>
#include <sys/resource.h>

#include <adgraph/adgraph.hpp>

using namespace adg;

// AddressSanitizer replaces malloc, and with it mallopt and mallinfo2: there is nothing of glibc's to check.
#ifndef __SANITIZE_ADDRESS__
// Runs before the case below calls retain_freed_memory: the library's own start-up default must do it.
TEST_CASE("without any call, a freed 16 MiB array stays in the heap and the next one reuses its pages") {
    const std::size_t free_before = ::mallinfo2().fordblks;
    {
        const Array big = Array::zeros({std::size_t{4} << 20}, f32);
        CHECK(::mallinfo2().hblkhd < (std::size_t{16} << 20));  // not a separate mapping
    }
    CHECK(::mallinfo2().fordblks >= free_before + (std::size_t{15} << 20));
    // The next array of that size is served from those pages: filling it faults in almost none of its 4096.
    rusage before{}, after{};
    ::getrusage(RUSAGE_SELF, &before);
    const Array again = Array::full({std::size_t{4} << 20}, 1.0, f32);
    ::getrusage(RUSAGE_SELF, &after);
    CHECK(again.size() == std::size_t{4} << 20);
    CHECK(after.ru_minflt - before.ru_minflt < 256);
}

TEST_CASE("retain_freed_memory keeps a freed 16 MiB buffer in the heap, where glibc would unmap it") {
    REQUIRE(retain_freed_memory());
    const std::size_t free_before = ::mallinfo2().fordblks;
    {
        const Array big = Array::zeros({std::size_t{4} << 20}, f32);  // 16 MiB: mmapped under glibc's defaults
        CHECK(big.size() == std::size_t{4} << 20);
        CHECK(::mallinfo2().hblkhd < (std::size_t{16} << 20));  // not a separate mapping
    }
    // Freed but held: the heap's free space grew by about the buffer instead of the pages going back to the OS.
    CHECK(::mallinfo2().fordblks >= free_before + (std::size_t{15} << 20));
}
#endif
