#include <adgraph/autodiff/node.hpp>

#include <atomic>

#include <adgraph/autodiff/grad_mode.hpp>

namespace adg {

namespace {

std::atomic<long> live_nodes{0};
thread_local bool grad_mode = true;

}  // namespace

bool grad_enabled() { return grad_mode; }
void set_grad_enabled(bool on) { grad_mode = on; }
long live_node_count() { return live_nodes.load(); }

Node::Node(Array value, bool requires_grad) : value_(std::move(value)), requires_grad_(requires_grad) { ++live_nodes; }

Node::Node(Array value, std::vector<std::shared_ptr<Node>> inputs)
    : value_(std::move(value)), inputs_(std::move(inputs)), site_(CallSite::current()), requires_grad_(true) {
    ++live_nodes;
}

Node::~Node() {
    --live_nodes;
    // Default destruction would recurse once per edge: move the edges of every node that dies with us onto an
    // explicit stack instead, so each node is destroyed with no edges left.
    if (inputs_.empty()) return;
    std::vector<std::shared_ptr<Node>> stack = std::move(inputs_);
    while (!stack.empty()) {
        std::shared_ptr<Node> n = std::move(stack.back());
        stack.pop_back();
        if (n && n.use_count() == 1) {
            for (auto& in : n->inputs_) stack.push_back(std::move(in));
            n->inputs_.clear();
        }
    }
}

void Node::release() {
    inputs_.clear();
    inputs_.shrink_to_fit();
    released_ = true;
}

Tensor Node::jvp(const std::vector<Tensor>&, const Tensor&, const std::vector<Tensor>&) const {
    throw graph_error(std::string("jvp: node '") + name() + "' has no JVP rule (it is a leaf)");
}

Locality Node::locality(const std::vector<char>&) const { return Locality::none; }

Tensor Node::vjp(const std::vector<Tensor>&, const Tensor&, const Tensor&, std::size_t) const {
    throw graph_error(std::string("vjp: node '") + name() + "' has no VJP rule (it is a leaf)");
}

}  // namespace adg
