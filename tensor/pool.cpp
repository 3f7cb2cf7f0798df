#include <adgraph/tensor/pool.hpp>

namespace adg::detail {

namespace {

constexpr std::size_t granule = 64;
constexpr std::size_t classes = pool_max_bytes / granule;

struct Block {
    Block* next;
};

// Trivially destructible, so it stays usable while the thread's other thread_locals are destroyed (they may hold
// tensors); `closed` then sends blocks straight to operator delete.
struct FreeLists {
    Block* head[classes];
    std::size_t count[classes];
    bool registered;
    bool closed;
};

thread_local FreeLists lists{};

// Empties this thread's lists when the thread ends.
struct Drain {
    ~Drain() {
        lists.closed = true;
        for (std::size_t c = 0; c < classes; ++c) {
            while (Block* b = lists.head[c]) {
                lists.head[c] = b->next;
                ::operator delete(b);
            }
            lists.count[c] = 0;
        }
    }
};

std::size_t class_of(std::size_t bytes) { return (bytes - 1) / granule; }

// Registers the thread's Drain the first time the thread keeps a block.
void open_lists() {
    if (lists.registered) return;
    lists.registered = true;
    thread_local Drain drain;
}

}  // namespace

void* pool_allocate(std::size_t bytes) {
    const std::size_t c = class_of(bytes);
    if (Block* b = lists.head[c]) {
        lists.head[c] = b->next;
        --lists.count[c];
        return b;
    }
    // Always the class's full size, so that whichever thread frees it can keep it for any request of the class.
    return ::operator new((c + 1) * granule);
}

void pool_deallocate(void* p, std::size_t bytes) noexcept {
    const std::size_t c = class_of(bytes);
    if (lists.closed || lists.count[c] >= pool_cap) {
        ::operator delete(p);
        return;
    }
    open_lists();
    Block* b = static_cast<Block*>(p);
    b->next = lists.head[c];
    lists.head[c] = b;
    ++lists.count[c];
}

}  // namespace adg::detail
