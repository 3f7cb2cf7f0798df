#pragma once
/// \file BufferAllocator: the allocator of every xt::xarray in adgraph and in programs built on it. Buffers of 64 KiB
/// and more come from the library's own mappings and, when freed, wait in a bounded cache of size classes for the
/// next request of their class (tensor/allocator.hpp), so a loop that allocates the same arrays again and again
/// reuses warm pages instead of faulting in fresh ones.
///
/// xt::xarray<T>'s allocator is a template argument chosen when xtensor's headers are first read
/// (XTENSOR_DEFAULT_ALLOCATOR), so this header must come before any xtensor header in every translation unit of the
/// library and of its users: the CMake target adgraph::adgraph force-includes it (-include); tensor/array.hpp checks
/// it (static_assert) for builds that do not use the target.

#include <cstddef>
#include <new>
#include <type_traits>

namespace adg {

namespace detail {

/// Alignment of every array buffer: a full AVX-512 register, so xtensor's SIMD loops never peel an unaligned head
/// (whose length would depend on the address and change results in the last bit).
inline constexpr std::size_t buffer_alignment = 64;

/// `bytes` of memory aligned to buffer_alignment, from the cache when a freed buffer of its class waits there;
/// throws std::bad_alloc when the system refuses.
void* allocate_buffer(std::size_t bytes);
/// Gives back a buffer of allocate_buffer(bytes) (the same `bytes`); large ones go to the cache.
void free_buffer(void* p, std::size_t bytes) noexcept;

}  // namespace detail

/// The allocator of xt::xarray in adgraph: 64-byte aligned buffers, large ones reused through the library's cache.
template <class T>
class BufferAllocator {
public:
    using value_type = T;
    using propagate_on_container_move_assignment = std::true_type;
    using is_always_equal = std::true_type;

    BufferAllocator() noexcept = default;
    template <class U>
    BufferAllocator(const BufferAllocator<U>&) noexcept {}

    /// Room for `n` elements (uninitialised); throws std::bad_alloc when the size overflows or the system refuses.
    T* allocate(std::size_t n) {
        if (n > static_cast<std::size_t>(-1) / sizeof(T)) throw std::bad_alloc();
        return static_cast<T*>(detail::allocate_buffer(n * sizeof(T)));
    }
    /// Gives back `p` from allocate(n).
    void deallocate(T* p, std::size_t n) noexcept { detail::free_buffer(p, n * sizeof(T)); }

    template <class U>
    bool operator==(const BufferAllocator<U>&) const noexcept {
        return true;
    }
    template <class U>
    bool operator!=(const BufferAllocator<U>&) const noexcept {
        return false;
    }
};

}  // namespace adg

// Already defined (by xtensor, read first, or by the user): tensor/array.hpp's static_assert says what to do.
#ifndef XTENSOR_DEFAULT_ALLOCATOR
#define XTENSOR_DEFAULT_ALLOCATOR(T) ::adg::BufferAllocator<T>
#endif

// xsimd (and so xtensor's assignment loops) treats a container as aligned only if its allocator says so; ours
// always is, as xsimd's own aligned_allocator was.
#include <xsimd/memory/xsimd_alignment.hpp>

namespace xsimd {
template <class T>
struct allocator_alignment<::adg::BufferAllocator<T>> {
    using type = aligned_mode;
};
}  // namespace xsimd
