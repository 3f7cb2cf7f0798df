#pragma once
/// \file A per-thread pool of small blocks for the objects every op makes: array headers and graph nodes.
///
/// Each op allocates a node and an array header (a few hundred bytes each) and frees them soon after. glibc
/// caches only 7 blocks per size per thread, and a graph keeps more than 7 alive, so the rest went through its
/// bins (malloc_consolidate included): a tenth of an eager JVP's time. A pmr pool cannot take blocks freed on
/// another thread (a shared_ptr drops wherever its last owner is), and replacing the process's malloc is not a
/// library's call, so this is written here: per-size free lists that any thread may return a block to.

#include <cstddef>
#include <memory>
#include <new>
#include <utility>

namespace adg {

namespace detail {

/// Blocks larger than this come from operator new directly.
inline constexpr std::size_t pool_max_bytes = 512;
/// Blocks each thread keeps per size class; frees beyond it go to operator delete.
inline constexpr std::size_t pool_cap = 1024;
/// A block of at least `bytes` (1..pool_max_bytes) from this thread's free list, else from operator new.
void* pool_allocate(std::size_t bytes);
/// Takes back a block of `bytes` from pool_allocate, made on any thread; beyond a cap per size it is freed.
void pool_deallocate(void* p, std::size_t bytes) noexcept;

}  // namespace detail

/// A std allocator drawing small objects from the pool (for std::allocate_shared); anything larger, or more
/// aligned than operator new guarantees, goes to std::allocator.
template <class T>
struct PoolAllocator {
    /// The element type.
    using value_type = T;
    PoolAllocator() noexcept = default;
    /// Rebinding keeps no state.
    template <class U>
    PoolAllocator(const PoolAllocator<U>&) noexcept {}

    /// Room for `n` objects of T.
    T* allocate(std::size_t n) {
        if (!pooled(n)) return std::allocator<T>().allocate(n);
        return static_cast<T*>(detail::pool_allocate(n * sizeof(T)));
    }
    /// Gives back what allocate(n) returned.
    void deallocate(T* p, std::size_t n) noexcept {
        if (!pooled(n)) return std::allocator<T>().deallocate(p, n);
        detail::pool_deallocate(p, n * sizeof(T));
    }
    /// Every PoolAllocator can free what another allocated.
    template <class U>
    bool operator==(const PoolAllocator<U>&) const noexcept {
        return true;
    }
    /// See operator==.
    template <class U>
    bool operator!=(const PoolAllocator<U>&) const noexcept {
        return false;
    }

private:
    static bool pooled(std::size_t n) {
        return alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__ && n <= detail::pool_max_bytes / sizeof(T);
    }
};

/// std::make_shared, with the object and its control block from the pool.
template <class T, class... A>
std::shared_ptr<T> make_pooled(A&&... args) {
    return std::allocate_shared<T>(PoolAllocator<T>(), std::forward<A>(args)...);
}

}  // namespace adg
