#include <adgraph/autodiff/sweep.hpp>

#include <algorithm>
#include <cstdint>
#include <unordered_map>
#include <unordered_set>

#include <adgraph/autodiff/grad_mode.hpp>
#include <adgraph/autodiff/in_place.hpp>
#include <adgraph/autodiff/node.hpp>
#include <adgraph/autodiff/ops.hpp>
#include <adgraph/autodiff/order.hpp>

namespace adg {

namespace {

using detail::npos;
using detail::Order;
using detail::topo_order;

std::string released_message(const Node& n, const char* sweep) {
    return std::string(sweep) + ": the graph through " + n.label() +
           " was released by an earlier reverse sweep; pass retain_graph = true to the first backward()/sweep to "
           "sweep it again, or recompute the forward pass (to use the value as a constant, detach() it)";
}

// Calls a rule and names the op, the rule and the sweep in any error it raises.
template <class Rule>
auto call_rule(const Node& n, const char* rule, const char* sweep, Rule&& r) {
    // Ops a rule records (create_graph) report the site of the op whose rule made them, under their own names (an
    // error in the rule already names the op, through the context added below).
    CallSite at(Site{n.site().file, n.site().line, nullptr});
    try {
        return r();
    } catch (error& e) {
        e.add_context(std::string("in the ") + rule + " rule of " + n.label() + " (" + sweep + ")");
        throw;
    } catch (const std::exception& e) {
        throw graph_error(std::string("in the ") + rule + " rule of " + n.label() + " (" + sweep + "): " + e.what());
    }
}

void check_rule_result(const Tensor& r, std::size_t k, const Array& like, const Node& n, const char* rule,
                       const char* sweep) {
    const auto fits = [&] {
        const Shape &s = r.shape(), &core = like.shape();
        return s.size() == core.size() + 1 && s[0] == k && std::equal(core.begin(), core.end(), s.begin() + 1);
    };
    if (!r.defined() || r.dtype() != like.dtype() || !fits()) {
        const Shape want = batched_shape(k, like.shape());
        throw graph_error(
            std::string("in the ") + rule + " rule of " + n.label() + " (" + sweep + "): the rule returned " +
            (r.defined() ? std::string(dtype_name(r.dtype())) + " " + shape_str(r.shape()) : std::string("nothing")) +
            " where " + dtype_name(like.dtype()) + " " + shape_str(want) +
            " was expected; fix the rule (its result carries a leading axis of k directions, here k = " +
            std::to_string(k) + ")");
    }
}

// Sparse rows must be k directions of a value shaped like `like`: rows = its axis 0, values (k, its other axes).
void check_rule_result(const Directions& r, std::size_t k, const Array& like, const Node& n, const char* rule,
                       const char* sweep) {
    if (!r.sparse()) return check_rule_result(r.values(), k, like, n, rule, sweep);
    const Shape& s = like.shape();
    const bool ok = r.values().defined() && !s.empty() && r.rows() == s[0] && r.index().size() == k &&
                    r.values().shape() == batched_shape(k, Shape(s.begin() + 1, s.end()));
    if (!ok || r.values().dtype() != like.dtype()) {
        throw graph_error(std::string("in the sparse ") + rule + " rule of " + n.label() + " (" + sweep +
                          "): the rule returned sparse rows that do not fit " + dtype_name(like.dtype()) + " " +
                          shape_str(batched_shape(k, s)) + "; fix the rule");
    }
}

// "1 output", "2 outputs".
std::string count_of(std::size_t n, const char* what) { return std::to_string(n) + " " + what + (n == 1 ? "" : "s"); }

void check_seed(const Tensor& seed, const Tensor& of, std::size_t i, const char* sweep, const char* what,
                std::size_t& k, bool batched) {
    if (!seed.defined())
        throw value_error(std::string(sweep) + ": " + what + " " + std::to_string(i) + " is undefined");
    if (seed.dtype() != of.dtype()) {
        throw dtype_error(std::string(sweep) + ": " + what + " " + std::to_string(i) + " is " +
                          dtype_name(seed.dtype()) + " but its tensor is " + dtype_name(of.dtype()) + "; convert the " +
                          what + " with cast(" + what + ", " + (of.dtype() == Dtype::f32 ? "adg::f32" : "adg::f64") +
                          ")");
    }
    const Shape& s = seed.shape();
    const Shape& want = of.shape();
    const bool ok =
        batched ? (s.size() == want.size() + 1 && Shape(s.begin() + 1, s.end()) == want && (k == npos || s[0] == k))
                : s == want;
    if (!ok) {
        throw shape_error(std::string(sweep) + ": " + what + " " + std::to_string(i) + " has shape " + shape_str(s) +
                          " but its tensor has shape " + shape_str(want) +
                          (batched ? "; a batch of k directions needs shape (k," + shape_str(want).substr(1) +
                                         (k == npos ? "" : " with k = " + std::to_string(k))
                                   : std::string("; pass a ") + what + " of the same shape"));
    }
    if (batched && k == npos) k = s[0];
}

// Sparse rows as a seed: dtype, k, the value's shape and indices in range.
void check_sparse_seed(const Directions& seed, const Tensor& of, std::size_t i, const char* sweep, const char* what,
                       std::size_t& k) {
    const std::string which = std::string(sweep) + ": " + what + " " + std::to_string(i);
    if (seed.values().dtype() != of.dtype()) {
        throw dtype_error(which + " is " + dtype_name(seed.values().dtype()) + " but its tensor is " +
                          dtype_name(of.dtype()) + "; give the sparse rows values of the tensor's dtype");
    }
    const Shape& vs = seed.values().shape();
    if (of.dim() == 0 || vs.empty() || seed.value_shape() != of.shape() || seed.index().size() != vs[0] ||
        (k != npos && vs[0] != k)) {
        throw shape_error(which + " holds sparse rows of shape " + shape_str(seed.value_shape()) + " (" +
                          std::to_string(seed.index().size()) + " indices, values " + shape_str(vs) +
                          ") but its tensor has shape " + shape_str(of.shape()) +
                          "; sparse rows need one index per direction and values (k, tensor shape without axis 0)" +
                          (k == npos ? "" : " with k = " + std::to_string(k)));
    }
    for (auto r : seed.index()) {
        if (r >= seed.rows()) {
            throw value_error(which + ": row " + std::to_string(r) + " is out of range for " +
                              std::to_string(seed.rows()) + " rows");
        }
    }
    k = vs[0];
}

// Checks one batch per tensor (matching dtype, shape (k, tensor shape), one k for all) and returns k.
std::size_t check_batches(const std::vector<Directions>& batches, const std::vector<Tensor>& of, const char* sweep,
                          const char* what, const char* of_what) {
    if (batches.size() != of.size()) {
        throw value_error(std::string(sweep) + ": " + count_of(of.size(), of_what) + " but " +
                          count_of(batches.size(), what) + "; pass one " + what + " per " + of_what);
    }
    if (of.empty()) {
        throw value_error(std::string(sweep) + ": no " + of_what + "s given; pass at least one " + of_what);
    }
    std::size_t k = npos;
    for (std::size_t i = 0; i < of.size(); ++i) {
        if (batches[i].sparse()) {
            check_sparse_seed(batches[i], of[i], i, sweep, what, k);
        } else {
            check_seed(batches[i].values(), of[i], i, sweep, what, k, true);
        }
    }
    return k;
}

// (1, shape...) → (shape...) without copying when this is the only handle to a cotangent computed by the sweep.
Tensor drop_direction_axis(Tensor ct) {
    const Shape core(ct.shape().begin() + 1, ct.shape().end());
    if (ct.node().use_count() != 1 || ct.node()->has_op()) return reshape(ct, core);
    Array a = std::move(ct.node()->mutable_value());
    ct = Tensor();
    return Tensor(std::move(a).reshaped(core));
}

void check_tracked(const std::vector<Tensor>& inputs, const char* sweep) {
    for (std::size_t j = 0; j < inputs.size(); ++j) {
        if (!inputs[j].defined() || !inputs[j].needs_grad()) {
            throw graph_error(std::string(sweep) + ": input " + std::to_string(j) +
                              " does not require grad, so no op recorded its use; mark it with requires_grad() "
                              "before running the function");
        }
    }
}

Tensor zeros_batch(std::size_t k, const Tensor& like) {
    return Tensor(Array::zeros(batched_shape(k, like.shape()), like.dtype()));
}

std::vector<Directions> dense_batches(const std::vector<Tensor>& ts) {
    return std::vector<Directions>(ts.begin(), ts.end());
}

// A recorded sweep sees only dense directions: sparse rows are a shortcut for eager rules.
void densify_if_recorded(std::vector<Directions>& ds, const SweepOptions& options) {
    if (!options.create_graph) return;
    for (auto& d : ds) {
        if (d.sparse()) d = Directions(d.dense());
    }
}

// acc += g in acc's own buffer when the sweep is eager (nothing recorded), both are dense with one shape and acc
// is the only handle to its buffer: the values of acc + g (IEEE addition commutes) without a new array per
// accumulation. False, touching nothing, otherwise.
bool add_in_place(Directions& acc, const Directions& g) {
    if (grad_enabled() || acc.sparse() || g.sparse()) return false;
    const Tensor& a = acc.values();
    const Tensor& b = g.values();
    if (!sole_owner(a) || a.shape() != b.shape()) return false;
    return map_rows_in_place<1>([](const auto& x, const auto& y) { return x + y; }, a.node()->mutable_value(),
                                b.value());
}

// The reverse sweep shared by reverse_sweep and accumulate_grad. `is_target(node)` selects where cotangents are
// delivered (to `deliver(node, cotangent)`); the sweep visits only nodes on a path to a target.
//
// A node released by an earlier sweep has lost its edges, so what lies behind it is unknown. Passing a cotangent
// into such a node is an error only if a target could be hidden there: a target the order does not contain
// (always possible for backward()'s leaves, whose number `expected_targets` = npos leaves open), or one that is
// not known to depend on the node (a target downstream of a node cannot also be behind it). Otherwise the node
// is skipped, so an outer graph released before an inner transform does not get in the way.
template <class IsTarget, class Deliver>
void reverse_core(const std::vector<Tensor>& outputs, const std::vector<Directions>& seeds, std::size_t k,
                  IsTarget&& is_target, std::size_t expected_targets, Deliver&& deliver, const SweepOptions& options,
                  const char* sweep) {
    Order order = topo_order(outputs, {});
    const std::size_t n_nodes = order.nodes.size();
    std::vector<char> reach(n_nodes, 0), unknown(n_nodes, 0), target(n_nodes, 0);
    std::size_t found = 0;
    bool any_unknown = false;
    const std::vector<std::size_t>&first = order.first, &edge = order.edge;
    for (std::size_t i = 0; i < n_nodes; ++i) {
        const Node& n = *order.nodes[i];
        target[i] = is_target(n);
        found += target[i];
        reach[i] = target[i];
        unknown[i] = n.has_op() && n.released();
        for (std::size_t e = first[i]; e < first[i + 1]; ++e) {
            const std::size_t p = edge[e];
            if (p == npos) continue;
            reach[i] |= reach[p];
            unknown[i] |= unknown[p];
        }
        any_unknown |= unknown[i];
    }
    const bool hidden = expected_targets == npos || found < expected_targets;
    // downstream[i]: how many targets are known to depend on node i (itself included); only needed, and only
    // computed, when released nodes are about.
    std::vector<std::size_t> downstream;
    if (any_unknown && !hidden) {
        std::vector<std::size_t> slot(n_nodes, npos);
        std::size_t t = 0;
        for (std::size_t i = 0; i < n_nodes; ++i) {
            if (target[i]) slot[i] = t++;
        }
        const std::size_t words = (t + 63) / 64;
        std::vector<std::uint64_t> bits(n_nodes * words, 0);
        downstream.assign(n_nodes, 0);
        for (std::size_t i = n_nodes; i-- > 0;) {
            std::uint64_t* mine = &bits[i * words];
            if (slot[i] != npos) mine[slot[i] / 64] |= std::uint64_t{1} << (slot[i] % 64);
            for (std::size_t w = 0; w < words; ++w)
                downstream[i] += static_cast<std::size_t>(__builtin_popcountll(mine[w]));
            for (std::size_t e = first[i]; e < first[i + 1]; ++e) {
                const std::size_t p = edge[e];
                if (p == npos) continue;
                for (std::size_t w = 0; w < words; ++w) bits[p * words + w] |= mine[w];
            }
        }
    }
    const auto may_hide_target = [&](std::size_t p) { return unknown[p] && (hidden || downstream[p] < found); };

    GradMode mode(options.create_graph);
    const bool release = !(options.retain_graph || options.create_graph);
    std::vector<Directions> cot(n_nodes);
    for (std::size_t i = 0; i < outputs.size(); ++i) {
        const std::size_t p = order.find(outputs[i].node().get());
        if (p == npos) continue;
        cot[p] = cot[p].defined() ? cot[p] + seeds[i] : seeds[i];
    }

    // vjp_add() only where check_rule_result and the anomaly check would have nothing to add.
    const bool eager_adds = !options.create_graph && !anomaly_enabled();
    std::vector<Tensor> in;
    for (std::size_t i = n_nodes; i-- > 0;) {
        if (!cot[i].defined() || !(reach[i] || may_hide_target(i))) continue;
        const std::shared_ptr<Node>& node = order.nodes[i];
        Directions ct = std::move(cot[i]);
        if (!node->has_op()) {
            if (target[i]) deliver(*node, ct.dense());
            continue;
        }
        if (target[i]) deliver(*node, ct.dense());
        if (node->released()) {
            if (may_hide_target(i)) throw graph_error(released_message(*node, sweep));
            continue;
        }
        in.clear();
        for (const auto& c : node->inputs()) in.emplace_back(c);
        const Tensor out(node);
        Tensor dense_ct;  // made once, for rules without a sparse form
        const auto needed = [&](std::size_t j) {
            const std::size_t p = edge[first[i] + j];
            return p != npos && (reach[p] || may_hide_target(p));
        };
        // An op with a joint rule gives the cotangents of all the inputs needed in one call (shared work done once).
        const bool joint = node->has_vjp_all() && !ct.sparse();
        std::vector<Tensor> joint_ct;
        if (joint) {
            std::vector<char> wanted(node->inputs().size());
            for (std::size_t j = 0; j < wanted.size(); ++j) wanted[j] = needed(j);
            dense_ct = ct.dense();
            joint_ct = call_rule(*node, "VJP", sweep, [&] { return node->vjp_all(in, out, dense_ct, wanted); });
            joint_ct.resize(wanted.size());  // a missing entry is undefined, which check_rule_result reports
        }
        for (std::size_t j = 0; j < node->inputs().size(); ++j) {
            const std::size_t p = edge[first[i] + j];
            if (!needed(j)) continue;
            // A cotangent already accumulated for this input and held only here: the rule may add into it.
            if (!joint && !ct.sparse() && eager_adds && cot[p].defined() && !cot[p].sparse() &&
                sole_owner(cot[p].values())) {
                Tensor acc = cot[p].values();
                cot[p] = Directions();
                const bool added = node->vjp_add(in, out, ct.values(), j, acc);
                cot[p] = Directions(std::move(acc));
                if (added) continue;
            }
            Directions g;
            if (joint) g = Directions(std::move(joint_ct[j]));
            if (ct.sparse()) g = call_rule(*node, "VJP", sweep, [&] { return node->vjp_sparse(in, out, ct, j); });
            if (!joint && !g.defined() && !ct.sparse() && node->inputs().size() == 1) {
                // The cotangent's only use: the rule may take it over (and, if it is the only handle, reuse it).
                Tensor taken = ct.values();
                ct = Directions();
                g = Directions(
                    call_rule(*node, "VJP", sweep, [&] { return node->vjp_reusing(in, out, std::move(taken), j); }));
            }
            if (!joint && !g.defined()) {
                if (!dense_ct.defined()) dense_ct = ct.dense();
                g = Directions(call_rule(*node, "VJP", sweep, [&] { return node->vjp(in, out, dense_ct, j); }));
            }
            check_rule_result(g, k, node->inputs()[j]->value(), *node, "VJP", sweep);
            if (anomaly_enabled()) {
                const std::string what = "cotangent for input " + std::to_string(j) + " (" + sweep + ")";
                check_anomaly(g.values().value(), node->name(), what.c_str(), node->site());
            }
            if (!cot[p].defined()) {
                cot[p] = std::move(g);
            } else if (!add_in_place(cot[p], g)) {
                cot[p] = cot[p] + g;
            }
        }
        if (release) node->release();
        // Nothing below needs the op node again: without other owners it is freed now, while it is in cache, not
        // in a second pass over the whole graph at the end (leaves stay: deliver() may have kept their address).
        order.nodes[i].reset();
    }
}

}  // namespace

std::vector<Tensor> reverse_sweep(const std::vector<Tensor>& outputs, const std::vector<Tensor>& seeds,
                                  const std::vector<Tensor>& inputs, const SweepOptions& options) {
    return reverse_sweep_directions(outputs, dense_batches(seeds), inputs, options);
}

std::vector<Tensor> reverse_sweep_directions(const std::vector<Tensor>& outputs, std::vector<Directions> seeds,
                                             const std::vector<Tensor>& inputs, const SweepOptions& options) {
    const char* sweep = "reverse_sweep";
    const std::size_t k = check_batches(seeds, outputs, sweep, "seed", "output");
    check_tracked(inputs, sweep);
    densify_if_recorded(seeds, options);
    std::unordered_map<const Node*, std::vector<std::size_t>> where;
    for (std::size_t j = 0; j < inputs.size(); ++j) where[inputs[j].node().get()].push_back(j);
    std::vector<Tensor> result(inputs.size());
    reverse_core(
        outputs, seeds, k, [&](const Node& n) { return where.count(&n) > 0; }, where.size(),
        [&](Node& n, const Tensor& ct) {
            for (auto j : where[&n]) result[j] = ct;
        },
        options, sweep);
    for (std::size_t j = 0; j < inputs.size(); ++j) {
        if (!result[j].defined()) result[j] = zeros_batch(k, inputs[j]);
    }
    return result;
}

void accumulate_grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& seeds,
                     const BackwardOptions& options) {
    const char* sweep = "backward";
    if (seeds.size() != outputs.size()) {
        throw value_error(std::string(sweep) + ": " + count_of(outputs.size(), "output") + " but " +
                          count_of(seeds.size(), "seed") + "; pass one seed per output");
    }
    std::vector<Directions> batched;
    std::size_t k = 1;
    for (std::size_t i = 0; i < outputs.size(); ++i) {
        check_seed(seeds[i], outputs[i], i, sweep, "seed", k, false);
        if (!outputs[i].needs_grad()) {
            throw graph_error(std::string(sweep) + ": output " + std::to_string(i) +
                              " does not require grad: no input of it was marked requires_grad(), or it was "
                              "computed under NoGrad");
        }
        GradMode mode(options.create_graph);
        batched.emplace_back(reshape(seeds[i], batched_shape(1, seeds[i].shape())));
    }
    // Gradients reach the leaves only once the whole sweep has succeeded: a rule that throws leaves grad() as it was.
    std::vector<std::pair<Node*, Tensor>> arrived;
    reverse_core(
        outputs, batched, 1, [](const Node& n) { return !n.has_op(); }, npos,
        [&](Node& leaf, Tensor ct) { arrived.emplace_back(&leaf, std::move(ct)); },
        SweepOptions{options.retain_graph, options.create_graph}, sweep);
    GradMode mode(options.create_graph);
    for (auto& [leaf, ct] : arrived) {
        Tensor g = options.create_graph ? reshape(ct, leaf->value().shape()) : drop_direction_axis(std::move(ct));
        leaf->grad = leaf->grad.defined() ? leaf->grad + g : std::move(g);
    }
}

std::vector<Tensor> forward_sweep(const std::vector<Tensor>& inputs, const std::vector<Tensor>& tangents,
                                  const std::vector<Tensor>& outputs, const SweepOptions& options) {
    return forward_sweep_directions(inputs, dense_batches(tangents), outputs, options);
}

std::vector<Tensor> forward_sweep_directions(const std::vector<Tensor>& inputs, std::vector<Directions> tangents,
                                             const std::vector<Tensor>& outputs, const SweepOptions& options) {
    const char* sweep = "forward_sweep";
    const std::size_t k = check_batches(tangents, inputs, sweep, "tangent", "input");
    check_tracked(inputs, sweep);
    densify_if_recorded(tangents, options);

    std::unordered_set<const Node*> seeded;
    for (const auto& x : inputs) seeded.insert(x.node().get());
    const Order order = topo_order(outputs, seeded);
    const std::size_t n_nodes = order.nodes.size();

    // Free each tangent once its last consumer has used it (jacfwd batches can be large).
    std::vector<std::size_t> uses(n_nodes, 0);
    std::vector<char> keep(n_nodes, 0);
    for (const auto& y : outputs) {
        const std::size_t p = order.find(y.node().get());
        if (p != npos) keep[p] = 1;
    }
    for (std::size_t i = 0; i < n_nodes; ++i) {
        const Node& n = *order.nodes[i];
        if (n.has_op() && n.released() && !seeded.count(&n)) throw graph_error(released_message(n, sweep));
        if (seeded.count(&n)) continue;
        for (std::size_t e = order.first[i]; e < order.first[i + 1]; ++e) {
            if (order.edge[e] != npos) ++uses[order.edge[e]];
        }
    }

    std::vector<Directions> tan(n_nodes);
    for (std::size_t j = 0; j < inputs.size(); ++j) {
        const std::size_t p = order.find(inputs[j].node().get());
        if (p != npos) tan[p] = tangents[j];
    }

    GradMode mode(options.create_graph);
    std::vector<Tensor> in, dense_t;
    std::vector<Directions> t;
    for (std::size_t i = 0; i < n_nodes; ++i) {
        const std::shared_ptr<Node>& node = order.nodes[i];
        if (seeded.count(node.get()) || !node->has_op()) continue;
        in.clear();
        t.clear();
        bool any = false, sparse = false;
        const std::size_t* edge = order.edge.data() + order.first[i];
        for (std::size_t j = 0; j < node->inputs().size(); ++j) {
            in.emplace_back(node->inputs()[j]);
            const std::size_t p = edge[j];
            t.push_back(p == npos ? Directions() : tan[p]);
            any |= t.back().defined();
            sparse |= t.back().sparse();
        }
        if (any) {
            const Tensor out(node);
            Directions r;
            if (sparse) r = call_rule(*node, "JVP", sweep, [&] { return node->jvp_sparse(in, out, t); });
            if (!r.defined()) {
                // No sparse rule here: make the inputs' tangents dense, in place so later consumers reuse them.
                dense_t.clear();
                for (std::size_t j = 0; j < t.size(); ++j) {
                    const std::size_t p = edge[j];
                    if (t[j].sparse()) tan[p] = Directions(t[j].dense());
                    dense_t.push_back(p == npos ? Tensor() : tan[p].values());
                }
                r = Directions(call_rule(*node, "JVP", sweep, [&] { return node->jvp(in, out, dense_t); }));
            }
            check_rule_result(r, k, node->value(), *node, "JVP", sweep);
            if (anomaly_enabled()) {
                check_anomaly(r.values().value(), node->name(), "tangent (forward_sweep)", node->site());
            }
            tan[i] = std::move(r);
        }
        for (std::size_t j = 0; j < node->inputs().size(); ++j) {
            const std::size_t p = edge[j];
            if (p != npos && --uses[p] == 0 && !keep[p]) tan[p] = Directions();
        }
    }

    std::vector<Tensor> result;
    for (const auto& y : outputs) {
        const std::size_t p = order.find(y.node().get());
        result.push_back(p != npos && tan[p].defined() ? tan[p].dense() : zeros_batch(k, y));
    }
    return result;
}

}  // namespace adg
