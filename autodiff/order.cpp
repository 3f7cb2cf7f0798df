#include <adgraph/autodiff/order.hpp>

#include <adgraph/autodiff/node.hpp>

namespace adg::detail {

namespace {

// Sweeps repeat over graphs of one size (training steps, a benchmark's rounds): each search starts with room for
// what the previous one on this thread needed, rather than growing its arrays step by step (copying them and
// touching fresh pages each time).
struct Sizes {
    std::size_t nodes = 0, edges = 0, stack = 0, pending = 0;
};
thread_local Sizes last;

}  // namespace

Order topo_order(const std::vector<Tensor>& roots, const std::unordered_set<const Node*>& stop) {
    Order order;
    // The index is the visited set, and the edges come out of the search itself: no node is looked up afterwards.
    // A node that only the edge being followed holds cannot be reached again, so it is not even indexed (in a
    // chain of ops, none is).
    std::vector<std::pair<std::shared_ptr<Node>, std::size_t>> stack;
    std::vector<std::size_t> number;   // stack[i]'s number
    std::vector<std::size_t> pending;  // numbers of the inputs followed so far by the nodes on the stack, in order
    order.nodes.reserve(last.nodes);
    order.post.reserve(last.nodes);
    order.first.reserve(last.nodes + 1);
    order.edge.reserve(last.edges);
    stack.reserve(last.stack);
    number.reserve(last.stack);
    pending.reserve(last.pending);
    const auto reach = [&](const std::shared_ptr<Node>& n, bool only_edge) {
        const auto [id, fresh] =
            only_edge ? std::pair{order.post.size(), true} : order.index.insert(n.get(), order.post.size());
        if (fresh) {
            stack.emplace_back(n, 0);
            number.push_back(id);
            order.post.push_back(npos);
        }
        return id;
    };
    const bool no_stop = stop.empty();
    for (const auto& root : roots) {
        if (!root.defined() || !root.node()->needs_grad()) continue;
        reach(root.node(), false);
        while (!stack.empty()) {
            auto& [n, next] = stack.back();
            const bool follow = no_stop || !stop.count(n.get());
            if (follow && next < n->inputs().size()) {
                const auto& child = n->inputs()[next++];
                const std::size_t id = child->needs_grad() ? reach(child, child.use_count() == 1) : NodeIndex::none;
                pending.push_back(id);  // (`n` may dangle now: reach() can grow the stack)
                continue;
            }
            // Every input followed is placed by now (the graph has no cycles), and its number is on top of `pending`.
            const std::size_t n_in = n->inputs().size();
            if (follow) {
                for (std::size_t j = pending.size() - n_in; j < pending.size(); ++j) {
                    order.edge.push_back(pending[j] == NodeIndex::none ? npos : order.post[pending[j]]);
                }
                pending.resize(pending.size() - n_in);
            } else {
                order.edge.insert(order.edge.end(), n_in, npos);
            }
            order.first.push_back(order.edge.size());
            order.post[number.back()] = order.nodes.size();
            order.nodes.push_back(std::move(n));
            stack.pop_back();
            number.pop_back();
        }
    }
    last = {order.nodes.size(), order.edge.size(), stack.capacity(), pending.capacity()};
    return order;
}

}  // namespace adg::detail
