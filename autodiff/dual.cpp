#include <adgraph/autodiff/dual.hpp>

#include <atomic>
#include <memory>
#include <memory_resource>
#include <unordered_map>

#include <adgraph/autodiff/anomaly.hpp>
#include <adgraph/autodiff/node.hpp>
#include <adgraph/autodiff/ops.hpp>
#include <adgraph/autodiff/sweep.hpp>

namespace adg::detail {

namespace {

// Where this thread's eager jvps keep their tangent maps' entries: freed entries are reused by the next op and
// the next jvp instead of going through malloc (a map entry per op was a tenth of a warm jvp's allocations).
std::pmr::memory_resource* entry_pool() {
    thread_local std::pmr::unsynchronized_pool_resource pool;
    return &pool;
}

// The tangents of one eager jvp, keyed by node. An entry also holds a weak reference to its node, so a node
// that died cannot lend its tangent to a later node at the same address, and entries of dead nodes are pruned.
class DualScope {
public:
    DualScope() : prev_(current()) { current() = this; }
    ~DualScope() { current() = prev_; }
    DualScope(const DualScope&) = delete;
    DualScope& operator=(const DualScope&) = delete;

    static DualScope*& current() {
        thread_local DualScope* scope = nullptr;
        return scope;
    }

    Tensor get(const Tensor& x) const {
        if (!x.defined()) return Tensor();
        const auto it = tangents_.find(x.node().get());
        if (it == tangents_.end() || it->second.first.expired()) return Tensor();
        return it->second.second;
    }

    void set(const Tensor& x, Tensor t) {
        if (tangents_.size() >= prune_at_) {
            for (auto it = tangents_.begin(); it != tangents_.end();) {
                it = it->second.first.expired() ? tangents_.erase(it) : std::next(it);
            }
            prune_at_ = std::max<std::size_t>(64, 2 * tangents_.size());
        }
        tangents_[x.node().get()] = {std::weak_ptr<Node>(x.node()), std::move(t)};
    }

private:
    DualScope* prev_;
    std::pmr::unordered_map<const Node*, std::pair<std::weak_ptr<Node>, Tensor>> tangents_{entry_pool()};
    std::size_t prune_at_ = 64;
};

}  // namespace

namespace {

// Eager jvps running in the process, and ops run meanwhile on threads without one: f may hand work to another
// thread, whose ops compute no tangent, so an eager jvp that sees such ops sweeps its recording instead.
std::atomic<int> eager_running{0};
std::atomic<unsigned long> foreign_ops{0};

struct EagerRunning {
    EagerRunning() { eager_running.fetch_add(1, std::memory_order_relaxed); }
    ~EagerRunning() { eager_running.fetch_sub(1, std::memory_order_relaxed); }
    EagerRunning(const EagerRunning&) = delete;
    EagerRunning& operator=(const EagerRunning&) = delete;
};

}  // namespace

bool dual_active() {
    if (DualScope::current() != nullptr) return grad_enabled();
    if (eager_running.load(std::memory_order_relaxed) > 0) foreign_ops.fetch_add(1, std::memory_order_relaxed);
    return false;
}

bool dual_tangents(const std::vector<Tensor>& in, std::vector<Tensor>& t) {
    const DualScope* s = DualScope::current();
    bool any = false;
    t.clear();
    t.reserve(in.size());
    for (const auto& x : in) {
        t.push_back(s->get(x));
        any |= t.back().defined();
    }
    return any;
}

void dual_set(const char* name, const Tensor& out, Tensor r) {
    const Shape want = batched_shape(1, out.shape());
    if (!r.defined() || r.shape() != want || r.dtype() != out.dtype()) {
        throw graph_error(
            std::string("in the JVP rule of '") + name + "' (jvp): the rule returned " +
            (r.defined() ? std::string(dtype_name(r.dtype())) + " " + shape_str(r.shape()) : std::string("nothing")) +
            " where " + dtype_name(out.dtype()) + " " + shape_str(want) +
            " was expected; fix the rule (its result carries a leading axis of k directions, here k = 1)");
    }
    if (anomaly_enabled()) check_anomaly(r.value(), name, "tangent (jvp)", out.node()->site());
    DualScope::current()->set(out, std::move(r));
}

void dual_rethrow(const char* name) {
    const std::string where = std::string("in the JVP rule of '") + name + "' (jvp)";
    try {
        throw;
    } catch (error& e) {
        e.add_context(where);
        throw;
    } catch (const std::exception& e) {
        throw graph_error(where + ": " + e.what());
    }
}

// The leaves require grad, so f is recorded exactly as on jvp's recorded path: a nested transform inside f sees
// its input tracked and records its own sweeps (whose ops get tangents here too), and ops f runs on other threads
// are recorded as well. Recording costs a node's edges per op (2-7 % of a small network's jvp, bench_modes), far
// less than running f a second time when f turns out to need the graph, and f's side effects happen once.
std::pair<Tensor, Tensor> eager_jvp(const MultiFn& f, const std::vector<Tensor>& xs, const std::vector<Tensor>& vs) {
    std::vector<Tensor> leaves, seeds;
    Tensor y, t;
    bool foreign_seen = false;
    {
        GradMode on(true);
        // One leaf per input, even if the caller passes a tensor twice (each carries its own tangent).
        for (const auto& x : xs) leaves.push_back(x.detach().requires_grad());
        {
            NoGrad off;
            for (const auto& v : vs) seeds.push_back(reshape(v, batched_shape(1, v.shape())));
        }
        EagerRunning running;
        DualScope scope;
        for (std::size_t i = 0; i < xs.size(); ++i) scope.set(leaves[i], seeds[i]);
        const unsigned long foreign = foreign_ops.load(std::memory_order_relaxed);
        y = f(leaves);
        // Work f handed to other threads happened before f returned it (join, future), so its count is seen here.
        foreign_seen = foreign_ops.load(std::memory_order_relaxed) != foreign;
        if (!y.defined()) throw value_error("jvp: the function returned an undefined tensor");
        if (!foreign_seen) t = scope.get(y);
    }
    NoGrad off;
    if (foreign_seen && y.needs_grad()) t = forward_sweep(leaves, seeds, {y})[0];
    Tensor dy = t.defined() ? reshape(t, y.shape()) : Tensor::zeros(y.shape(), y.dtype());
    return {y.detach(), std::move(dy)};
}

}  // namespace adg::detail
