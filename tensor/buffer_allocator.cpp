#include <adgraph/tensor/buffer_allocator.hpp>

#include <sys/mman.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <vector>

#include <adgraph/tensor/allocator.hpp>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define ADGRAPH_ASAN 1
#endif

namespace adg {

namespace {

// Buffers from this size on are cached by class; smaller ones stay with malloc, whose bins already reuse them well.
// 64 KiB keeps the number of mappings low (each large live buffer is one) while covering every array that faults
// in more than a few pages.
constexpr std::size_t cached_from = std::size_t{64} << 10;
constexpr std::size_t page = 4096;

// Size classes: four per power of two (2^p, 1.25, 1.5, 1.75 x 2^p), so a request wastes at most a quarter and a
// buffer fits every request of its class. The class of a size is its index; its bytes are class_bytes.
struct SizeClass {
    std::size_t index, bytes;
};

SizeClass size_class(std::size_t bytes) {
    const int p = 63 - __builtin_clzll(bytes);  // 2^p <= bytes, p >= 16
    const std::size_t step = std::size_t{1} << (p - 2);
    const std::size_t rounded = (bytes + step - 1) / step * step;  // 4..8 steps of 2^(p-2)
    const int q = 63 - __builtin_clzll(rounded);                   // p, or p + 1 when rounded up to 2^(p+1)
    const std::size_t sub = (rounded >> (q - 2)) & 3;
    return {static_cast<std::size_t>(q) * 4 + sub, rounded};
}

constexpr std::size_t class_count = 64 * 4;

// Memory of a large buffer. Normally fresh anonymous pages, given back with munmap, so nothing of it stays in
// glibc's heap. Under AddressSanitizer, ASan's own aligned allocation instead: it checks reads and writes past
// the end of the buffer and, with the poisoning of cached buffers below, use after free.
void* map_pages(std::size_t bytes) {
#ifdef ADGRAPH_ASAN
    return ::operator new (bytes, std::align_val_t{detail::buffer_alignment}, std::nothrow);
#else
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? nullptr : p;
#endif
}

void unmap_pages(void* p, std::size_t bytes) noexcept {
#ifdef ADGRAPH_ASAN
    ASAN_UNPOISON_MEMORY_REGION(p, bytes);
    ::operator delete (p, std::align_val_t{detail::buffer_alignment});
#else
    ::munmap(p, bytes);
#endif
}

// Freed large buffers by size class, bounded in bytes; when over the bound the buffer freed longest ago goes first.
// One cache for all threads: arrays are often freed on another thread than the one that allocated them, and the
// lock is held only to push or pop an entry (the mapping calls run outside it).
class Cache {
public:
    void* take(const SizeClass& c) {
        void* p = nullptr;
        {
            const std::lock_guard<std::mutex> lock(mutex_);
            auto& list = free_[c.index];
            if (!list.empty()) {
                p = list.back().p;
                list.pop_back();
                cached_ -= c.bytes;
            }
        }
#ifdef ADGRAPH_ASAN
        if (p) ASAN_UNPOISON_MEMORY_REGION(p, c.bytes);
#endif
        return p;
    }

    // Keeps `p` of class `c`, or returns it to the OS when it alone exceeds the bound.
    void give(void* p, const SizeClass& c) noexcept {
        std::vector<Entry> victims;
        {
            const std::lock_guard<std::mutex> lock(mutex_);
            if (c.bytes > bound_) {
                victims.push_back({p, 0, c.bytes});
            } else {
#ifdef ADGRAPH_ASAN
                ASAN_POISON_MEMORY_REGION(p, c.bytes);
#endif
                try {
                    free_[c.index].push_back({p, clock_++, c.bytes});
                    cached_ += c.bytes;
                } catch (...) {  // no room for the entry: give the buffer back instead
                    victims.push_back({p, 0, c.bytes});
                }
                evict_to(bound_, victims);
            }
        }
        for (const Entry& e : victims) unmap_pages(e.p, e.bytes);
    }

    void set_bound(std::size_t bytes) noexcept { shrink(bytes, true); }

    // Returns every cached buffer to the OS; the bound stays.
    void flush() noexcept { shrink(0, false); }

    std::size_t cached() {
        const std::lock_guard<std::mutex> lock(mutex_);
        return cached_;
    }

private:
    struct Entry {
        void* p;
        std::uint64_t stamp;
        std::size_t bytes;
    };

    void shrink(std::size_t bytes, bool new_bound) noexcept {
        std::vector<Entry> victims;
        {
            const std::lock_guard<std::mutex> lock(mutex_);
            if (new_bound) bound_ = bytes;
            evict_to(bytes, victims);
        }
        for (const Entry& e : victims) unmap_pages(e.p, e.bytes);
    }

    // Moves the longest-cached buffers into `victims` until at most `bound` bytes are cached (lock held). Linear
    // in the number of classes, and each eviction is followed by an munmap anyway.
    void evict_to(std::size_t bound, std::vector<Entry>& victims) noexcept {
        while (cached_ > bound) {
            std::vector<Entry>* oldest = nullptr;
            for (auto& list : free_) {
                if (!list.empty() && (!oldest || list.front().stamp < oldest->front().stamp)) oldest = &list;
            }
            const Entry e = oldest->front();
            oldest->erase(oldest->begin());
            cached_ -= e.bytes;
            try {
                victims.push_back(e);
            } catch (...) {
                unmap_pages(e.p, e.bytes);  // under the lock, but only when out of memory
            }
        }
    }

    std::mutex mutex_;
    std::array<std::vector<Entry>, class_count> free_;
    std::size_t cached_ = 0;
    std::size_t bound_ = default_retained_bytes;
    std::uint64_t clock_ = 0;
};

// Never destroyed: arrays in static storage may be freed after every other static object is gone. At exit the
// cached mappings go with the process.
Cache& cache() {
    static Cache* const c = new Cache;
    return *c;
}

std::atomic<std::size_t> large_in_use{0};

// Small buffers: malloc with room to align, the original pointer stored just below the aligned one. Unlike
// posix_memalign this leaves no split-off fragments in malloc's bins (a fragment there keeps a freed buffer from
// merging with its neighbours, so the next request of the same size did not fit it).
void* small_allocate(std::size_t bytes) {
#ifdef ADGRAPH_ASAN
    return ::operator new (bytes, std::align_val_t{detail::buffer_alignment}, std::nothrow);
#else
    if (bytes > static_cast<std::size_t>(-1) - detail::buffer_alignment) return nullptr;
    void* raw = std::malloc(bytes + detail::buffer_alignment);
    if (!raw) return nullptr;
    const auto a = (reinterpret_cast<std::uintptr_t>(raw) + sizeof(void*) + detail::buffer_alignment - 1) &
                   ~(std::uintptr_t{detail::buffer_alignment} - 1);
    reinterpret_cast<void**>(a)[-1] = raw;
    return reinterpret_cast<void*>(a);
#endif
}

void small_free(void* p) noexcept {
#ifdef ADGRAPH_ASAN
    ::operator delete (p, std::align_val_t{detail::buffer_alignment});
#else
    std::free(static_cast<void**>(p)[-1]);
#endif
}

}  // namespace

namespace detail {

void* allocate_buffer(std::size_t bytes) {
    if (bytes < cached_from) {
        void* p = small_allocate(bytes);
        if (!p) {
            release_cached_buffers();  // cached mappings count against ulimit -v: give them back and try again
            p = small_allocate(bytes);
        }
        if (!p) throw std::bad_alloc();
        return p;
    }
    const SizeClass c = size_class(bytes);
    void* p = cache().take(c);
    if (!p) p = map_pages(c.bytes);
    if (!p) {
        release_cached_buffers();
        p = map_pages(c.bytes);
    }
    if (!p) throw std::bad_alloc();
    large_in_use += c.bytes;
    return p;
}

void free_buffer(void* p, std::size_t bytes) noexcept {
    if (!p) return;
    if (bytes < cached_from) {
        small_free(p);
        return;
    }
    const SizeClass c = size_class(bytes);
    large_in_use -= c.bytes;
    cache().give(p, c);
}

}  // namespace detail

void retain_freed_memory(std::size_t bytes) { cache().set_bound(bytes); }

void release_cached_buffers() { cache().flush(); }

std::size_t cached_buffer_bytes() { return cache().cached(); }

std::size_t buffer_bytes_in_use() { return large_in_use.load(); }

}  // namespace adg
