// tensor/pool: per-thread free lists for nodes and array headers; blocks move between threads, large or
// over-aligned objects bypass the lists, and nothing of a graph built across threads is lost.

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <thread>
#include <vector>

#include <adgraph/adgraph.hpp>
#include <adgraph/tensor/pool.hpp>

using namespace adg;

// Each case that inspects the lists runs on a fresh thread, whose lists start empty whatever ran before.
TEST_CASE("pool: a freed block is handed out again for a request of its size class") {
    std::thread([] {
        void* a = detail::pool_allocate(100);
        detail::pool_deallocate(a, 100);
        // 100 and 128 bytes share the 65..128 class, so the block just freed serves the next request of either.
        void* b = detail::pool_allocate(128);
        CHECK(b == a);
        detail::pool_deallocate(b, 128);
        void* c = detail::pool_allocate(40);  // another class: another block
        CHECK(c != a);
        detail::pool_deallocate(c, 40);
    }).join();
}

TEST_CASE("pool: blocks freed on another thread are kept there and stay usable") {
    std::vector<void*> blocks;
    for (int i = 0; i < 64; ++i) blocks.push_back(detail::pool_allocate(200));
    std::set<void*> mine(blocks.begin(), blocks.end());
    std::set<void*> reused;
    std::thread t([&] {
        for (void* p : blocks) detail::pool_deallocate(p, 200);
        // The other thread's list now serves its own requests from these blocks, writing every byte.
        std::vector<void*> again;
        for (int i = 0; i < 64; ++i) {
            void* p = detail::pool_allocate(256);
            std::fill_n(static_cast<unsigned char*>(p), 256, 0xab);
            again.push_back(p);
            reused.insert(p);
        }
        for (void* p : again) detail::pool_deallocate(p, 256);
    });
    t.join();
    CHECK(reused == mine);
}

TEST_CASE("pool: a thread keeps pool_cap blocks per size class and frees the rest") {
    std::thread([] {
        std::vector<void*> blocks;
        for (std::size_t i = 0; i < 3 * detail::pool_cap; ++i) blocks.push_back(detail::pool_allocate(64));
        for (void* p : blocks) detail::pool_deallocate(p, 64);
        // The list kept the first pool_cap frees and hands them out last-in first-out; the rest went to the heap.
        std::vector<void*> again;
        for (std::size_t i = 0; i < detail::pool_cap; ++i) again.push_back(detail::pool_allocate(64));
        for (std::size_t i = 0; i < detail::pool_cap; ++i) CHECK(again[i] == blocks[detail::pool_cap - 1 - i]);
        for (void* p : again) detail::pool_deallocate(p, 64);
    }).join();
}

namespace {

struct alignas(64) Wide {
    unsigned char bytes[64];
};

struct Big {
    unsigned char bytes[4096];
};

}  // namespace

TEST_CASE("pool: objects too large or too aligned for the lists come from std::allocator, correctly aligned") {
    const auto wide = make_pooled<Wide>();
    CHECK(reinterpret_cast<std::uintptr_t>(wide.get()) % 64 == 0);
    const auto big = make_pooled<Big>();
    big->bytes[4095] = 1;
    CHECK(big->bytes[4095] == 1);
    PoolAllocator<double> alloc;
    double* many = alloc.allocate(1000);  // 8000 bytes: past pool_max_bytes
    many[999] = 2.0;
    CHECK(many[999] == 2.0);
    alloc.deallocate(many, 1000);
}

TEST_CASE("pool: a graph recorded on one thread and freed on another gives back every node and buffer") {
    const long nodes = live_node_count(), buffers = live_buffer_count();
    Tensor y, x;
    std::thread t([&] {
        x = Tensor::from({0.5, -1.0, 2.0}).requires_grad();
        Tensor h = x;
        for (int i = 0; i < 50; ++i) h = tanh(h * 1.1 + x);
        y = sum(h);
    });
    t.join();
    y.backward();
    CHECK(x.grad().size() == 3);
    x = Tensor();
    y = Tensor();
    CHECK(live_node_count() == nodes);
    CHECK(live_buffer_count() == buffers);
}
