#pragma once
/// \file The topological order both sweeps walk, and the flat node index it is built with (engine use).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <unordered_set>
#include <utility>
#include <vector>

#include <adgraph/autodiff/tensor.hpp>

namespace adg {

class Node;

namespace detail {

// Hand-written rather than std::unordered_map: a sweep over a chain of 10^4–10^6 small ops looked every node up
// through a heap-allocated hash node, and allocating, chasing and freeing those was a tenth of the reverse sweep;
// open addressing over one array needs no allocation per node (no packaged flat map is a dependency here).

/// Maps nodes to the numbers they are first inserted with (linear probing; the table is kept at most half full).
/// Not thread-safe; one per sweep.
class NodeIndex {
public:
    /// No number.
    static constexpr std::size_t none = static_cast<std::size_t>(-1);

    /// An empty index with room for about `expected` nodes before it grows.
    explicit NodeIndex(std::size_t expected = 16) { rehash(capacity_for(expected)); }

    /// The number of `n`, and whether this call gave it `id` (true) or it had one already (false).
    std::pair<std::size_t, bool> insert(const Node* n, std::size_t id) {
        if (2 * (size_ + 1) > slots_.size()) rehash(2 * slots_.size());
        Slot* s = probe(n);
        if (s->key == n) return {s->id, false};
        s->key = n;
        s->id = id;
        ++size_;
        return {id, true};
    }
    /// The number of `n`, or `none`.
    std::size_t find(const Node* n) const {
        const Slot* s = probe(n);
        return s->key == n ? s->id : none;
    }
    /// How many nodes are in the index.
    std::size_t size() const { return size_; }

private:
    struct Slot {
        const Node* key = nullptr;
        std::size_t id = none;
    };

    static std::size_t capacity_for(std::size_t expected) {
        std::size_t c = 16;
        while (c < 2 * expected) c *= 2;
        return c;
    }
    // Fibonacci hashing of the address (its low bits are alignment, the same for every node).
    std::size_t home(const Node* n) const {
        const auto a = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(n));
        return static_cast<std::size_t>((a * 0x9E3779B97F4A7C15ull) >> shift_);
    }
    // The slot holding `n`, or the empty slot where it would go.
    Slot* probe(const Node* n) { return const_cast<Slot*>(static_cast<const NodeIndex*>(this)->probe(n)); }
    const Slot* probe(const Node* n) const {
        const std::size_t mask = slots_.size() - 1;
        for (std::size_t i = home(n);; i = (i + 1) & mask) {
            const Slot& s = slots_[i];
            if (s.key == n || s.key == nullptr) return &s;
        }
    }
    void rehash(std::size_t capacity) {
        std::vector<Slot> old = std::move(slots_);
        slots_.assign(capacity, Slot{});
        shift_ = 64;
        for (std::size_t c = capacity; c > 1; c /= 2) --shift_;
        for (const Slot& s : old) {
            if (s.key) *probe(s.key) = s;
        }
    }

    std::vector<Slot> slots_;
    std::size_t size_ = 0;
    unsigned shift_ = 64;
};

/// No position.
constexpr std::size_t npos = static_cast<std::size_t>(-1);

/// Nodes in post-order (every node after its inputs), with their edges as positions.
struct Order {
    std::vector<std::shared_ptr<Node>> nodes;
    // edge[first[i] + j]: the position of input j of nodes[i]; npos where the search did not follow that edge (the
    // input does not require grad, or nodes[i] is in `stop`).
    std::vector<std::size_t> first{0}, edge;
    NodeIndex index;                // the number of each node reached that more than one edge or handle holds
    std::vector<std::size_t> post;  // post[number]: the position in `nodes` of the node reached number-th

    /// The position of `n`, or npos: exact for roots and for nodes the caller holds a handle to.
    std::size_t find(const Node* n) const {
        const std::size_t id = index.find(n);
        return id == NodeIndex::none ? npos : post[id];
    }
};

/// The nodes reached from `roots` through nodes that require grad, in post-order; the search does not descend past
/// nodes in `stop`. Iterative: graphs of 10^6 nodes must not recurse.
Order topo_order(const std::vector<Tensor>& roots, const std::unordered_set<const Node*>& stop);

}  // namespace detail

}  // namespace adg
