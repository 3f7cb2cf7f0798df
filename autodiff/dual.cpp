#include <adgraph/autodiff/dual.hpp>

#include <algorithm>
#include <atomic>
#include <memory>
#include <memory_resource>
#include <mutex>
#include <unordered_map>

#include <adgraph/autodiff/anomaly.hpp>
#include <adgraph/autodiff/node.hpp>
#include <adgraph/autodiff/ops.hpp>

namespace adg::detail {

namespace {

// Where this thread's eager jvps keep their tangent maps' entries: freed entries are reused by the next op and
// the next jvp instead of going through malloc (a map entry per op was a tenth of a warm jvp's allocations).
std::pmr::memory_resource* entry_pool() {
    thread_local std::pmr::unsynchronized_pool_resource pool;
    return &pool;
}

std::mutex& table_mutex() {
    static std::mutex m;
    return m;
}

}  // namespace

// The tangents of one eager jvp, keyed by node. An entry also holds a weak reference to its node, so a node
// that died cannot lend its tangent to a later node at the same address, and entries of dead nodes are pruned.
// Every access holds table_mutex(): ops that f hands to other threads read and write these tangents too.
class DualScope {
public:
    DualScope() : prev_(current()) {
        current() = this;
        const std::lock_guard<std::mutex> lock(table_mutex());
        running().push_back(this);
    }
    ~DualScope() {
        {
            const std::lock_guard<std::mutex> lock(table_mutex());
            running().erase(std::find(running().begin(), running().end(), this));
        }
        current() = prev_;
    }
    DualScope(const DualScope&) = delete;
    DualScope& operator=(const DualScope&) = delete;

    // This thread's eager jvp.
    static DualScope*& current() {
        thread_local DualScope* scope = nullptr;
        return scope;
    }
    // Every thread's (under table_mutex()); the count is read without the lock, to skip it when none runs.
    static std::vector<DualScope*>& running() {
        static std::vector<DualScope*> all;
        return all;
    }
    static std::atomic<int>& count() {
        static std::atomic<int> n{0};
        return n;
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

namespace {

// Counts the eager jvps running in the process (other threads check it before taking the lock).
struct EagerRunning {
    EagerRunning() { DualScope::count().fetch_add(1, std::memory_order_relaxed); }
    ~EagerRunning() { DualScope::count().fetch_sub(1, std::memory_order_relaxed); }
    EagerRunning(const EagerRunning&) = delete;
    EagerRunning& operator=(const EagerRunning&) = delete;
};

}  // namespace

bool dual_active() {
    if (DualScope::current() != nullptr) return grad_enabled();
    return DualScope::count().load(std::memory_order_relaxed) > 0 && grad_enabled();
}

DualScope* dual_tangents(const std::vector<Tensor>& in, std::vector<Tensor>& t) {
    const std::lock_guard<std::mutex> lock(table_mutex());
    const auto known_to = [&](const DualScope* s) {
        t.clear();
        bool any = false;
        for (const auto& x : in) {
            t.push_back(s->get(x));
            any |= t.back().defined();
        }
        return any;
    };
    // On a thread of its own f's tangents are in its scope; on another thread, in the running scope that knows an
    // input (the op belongs to that jvp's f), or in none (unrelated work, which gets no tangent).
    if (DualScope* own = DualScope::current()) return known_to(own) ? own : nullptr;
    for (DualScope* s : DualScope::running()) {
        if (known_to(s)) return s;
    }
    return nullptr;
}

void dual_set(DualScope* scope, const char* name, const Tensor& out, Tensor r) {
    const Shape want = batched_shape(1, out.shape());
    if (!r.defined() || r.shape() != want || r.dtype() != out.dtype()) {
        throw graph_error(
            std::string("in the JVP rule of '") + name + "' (jvp): the rule returned " +
            (r.defined() ? std::string(dtype_name(r.dtype())) + " " + shape_str(r.shape()) : std::string("nothing")) +
            " where " + dtype_name(out.dtype()) + " " + shape_str(want) +
            " was expected; fix the rule (its result carries a leading axis of k directions, here k = 1)");
    }
    if (anomaly_enabled()) check_anomaly(r.value(), name, "tangent (jvp)", out.node()->site());
    const std::lock_guard<std::mutex> lock(table_mutex());
    scope->set(out, std::move(r));
}

Tensor dual_tangent(const Tensor& x) {
    DualScope* s = DualScope::current();
    if (!s || !grad_enabled()) return Tensor();
    const std::lock_guard<std::mutex> lock(table_mutex());
    return s->get(x);
}

void dual_seed(const Tensor& leaf, Tensor t) {
    const std::lock_guard<std::mutex> lock(table_mutex());
    DualScope::current()->set(leaf, std::move(t));
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

std::pair<Tensor, Tensor> eager_jvp(const MultiFn& f, const std::vector<Tensor>& xs, const std::vector<Tensor>& vs) {
    Tensor y, t;
    {
        EagerRunning running;
        DualScope scope;
        GradMode on(true);
        std::vector<Tensor> leaves;
        for (std::size_t i = 0; i < xs.size(); ++i) {
            leaves.push_back(xs[i].detach());  // one node per input, even if the caller passes a tensor twice
            NoGrad off;
            dual_seed(leaves.back(), reshape(vs[i], batched_shape(1, vs[i].shape())));
        }
        y = f(leaves);
        if (!y.defined()) throw value_error("jvp: the function returned an undefined tensor");
        t = dual_tangent(y);
    }
    NoGrad off;
    Tensor dy = t.defined() ? reshape(t, y.shape()) : Tensor::zeros(y.shape(), y.dtype());
    return {y.detach(), std::move(dy)};
}

}  // namespace adg::detail
