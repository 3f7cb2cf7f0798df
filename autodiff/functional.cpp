#include <adgraph/autodiff/functional.hpp>

#include <algorithm>

#include <adgraph/autodiff/dual.hpp>
#include <adgraph/autodiff/grad_mode.hpp>
#include <adgraph/autodiff/node.hpp>
#include <adgraph/autodiff/ops.hpp>
#include <adgraph/autodiff/sweep.hpp>

namespace adg {

namespace {

// f recorded on inputs that require grad. An input that already requires grad is used as is (an outer
// transform tracks it, so the sweeps must be recorded too); others become fresh leaves sharing their value.
struct Traced {
    std::vector<Tensor> xs;
    Tensor y;
    bool outer = false;
};

// `which` lists the inputs to differentiate (all when empty); the others are passed to f unchanged, as constants
// unless an outer transform tracks them (then the sweeps are recorded, since the results depend on them).
Traced trace(const MultiFn& f, const std::vector<Tensor>& xs, const char* who,
             const std::vector<std::size_t>& which = {}) {
    Traced t;
    GradMode on(true);
    std::vector<char> chosen(xs.size(), which.empty() ? 1 : 0);
    for (const std::size_t i : which) chosen[i] = 1;
    std::vector<Tensor> args;
    for (std::size_t i = 0; i < xs.size(); ++i) {
        const Tensor& x = xs[i];
        if (!chosen[i]) {
            // Passed as it is; one tracked by an outer transform or an eager jvp makes the sweeps record.
            t.outer |= x.defined() && (x.needs_grad() || detail::dual_tangent(x).defined());
            args.push_back(x);
            continue;
        }
        if (!x.defined()) {
            throw value_error(std::string(who) +
                              ": an input is undefined (default-constructed or moved from); pass tensors with values");
        }
        if (x.needs_grad()) {
            t.outer = true;
            args.push_back(x);
            continue;
        }
        args.push_back(x.detach().requires_grad());
        // Inside an eager jvp, an input with a tangent is tracked by that jvp: the fresh leaf takes the tangent and
        // the sweeps record themselves, so their ops carry it on to the results, which stay undetached.
        if (Tensor tangent = detail::dual_tangent(x); tangent.defined()) {
            t.outer = true;
            detail::dual_seed(args.back(), std::move(tangent));
        }
    }
    if (which.empty()) {
        t.xs = args;
    } else {
        for (const std::size_t i : which) t.xs.push_back(args[i]);  // in argnums' order
    }
    t.y = f(args);
    if (!t.y.defined()) throw value_error(std::string(who) + ": the function returned an undefined tensor");
    return t;
}

void check_like(const Tensor& v, const Tensor& x, const char* who, const char* what) {
    if (!v.defined() || v.shape() != x.shape()) {
        throw shape_error(std::string(who) + ": " + what + " has shape " +
                          (v.defined() ? shape_str(v.shape()) : std::string("(undefined)")) +
                          " but must match the shape " + shape_str(x.shape()) + " it pairs with");
    }
    if (v.dtype() != x.dtype()) {
        throw dtype_error(std::string(who) + ": " + what + " is " + dtype_name(v.dtype()) + " but its partner is " +
                          dtype_name(x.dtype()) + "; convert it with cast(v, " +
                          (x.dtype() == Dtype::f32 ? "adg::f32" : "adg::f64") + ")");
    }
}

Tensor unbatch(const Tensor& t) { return reshape(t, Shape(t.shape().begin() + 1, t.shape().end())); }
Tensor batch1(const Tensor& t) { return reshape(t, batched_shape(1, t.shape())); }

// The result handed back: part of the outer graph when an outer transform tracks the inputs, else plain.
Tensor result(const Tensor& t, bool outer) { return outer ? t : t.detach(); }

std::size_t chunk_size(std::size_t directions, std::size_t largest, const JacobianOptions& o) {
    if (o.chunk) return o.chunk;
    const std::size_t budget = std::size_t{1} << 26;
    return std::max<std::size_t>(1, std::min(directions, budget / std::max<std::size_t>(largest, 1)));
}

// `t` under `shape`, reusing its buffer when nothing else holds it and nothing records it (a Jacobian the sweeps
// just made can be large).
Tensor reshaped(Tensor t, const Shape& shape) {
    if (t.needs_grad() || t.node().use_count() != 1 || !t.value().unique()) return reshape(t, shape);
    Array a = std::move(t.node()->mutable_value());
    return Tensor(std::move(a).reshaped(shape));
}

// The chunks of a Jacobian's rows as one tensor (the only chunk itself, so a single sweep's result is not copied);
// the chunks are freed before the caller reshapes.
Tensor joined(std::vector<Tensor> parts) {
    if (parts.size() == 1) return std::move(parts[0]);
    return concat(parts, 0);
}

// The tangents fit the inputs: one each, of its shape and dtype.
void check_tangents(const std::vector<Tensor>& xs, const std::vector<Tensor>& vs) {
    if (vs.size() != xs.size()) {
        throw value_error("jvp: " + std::to_string(xs.size()) + (xs.size() == 1 ? " input" : " inputs") + " but " +
                          std::to_string(vs.size()) + (vs.size() == 1 ? " tangent" : " tangents") +
                          "; pass one tangent per input");
    }
    for (std::size_t i = 0; i < xs.size(); ++i) check_like(vs[i], xs[i], "jvp", "the tangent");
}

// jvp's recorded path for checked tangents: trace f, one forward sweep.
std::pair<Tensor, Tensor> traced_jvp(const MultiFn& f, const std::vector<Tensor>& xs, const std::vector<Tensor>& vs) {
    const Traced t = trace(f, xs, "jvp");
    if (!t.y.needs_grad()) return {result(t.y, t.outer), Tensor::zeros(t.y.shape(), t.y.dtype())};
    std::vector<Tensor> seeds;
    GradMode mode(t.outer);
    for (const auto& v : vs) seeds.push_back(batch1(v));
    const auto out = forward_sweep(t.xs, seeds, {t.y}, {true, t.outer});
    return {result(t.y, t.outer), unbatch(out[0])};
}

}  // namespace

std::pair<Tensor, Tensor> jvp(const MultiFn& f, const std::vector<Tensor>& xs, const std::vector<Tensor>& vs) {
    check_tangents(xs, vs);
    // Pure case (no outer transform, no eager jvp around): tangents ride along while f runs, nothing is recorded.
    bool tracked = detail::dual_active();
    for (const auto& x : xs) tracked |= x.defined() && x.needs_grad();
    if (!tracked) return detail::eager_jvp(f, xs, vs);
    return traced_jvp(f, xs, vs);
}

std::pair<Tensor, Tensor> detail::recorded_jvp(const MultiFn& f, const std::vector<Tensor>& xs,
                                               const std::vector<Tensor>& vs) {
    check_tangents(xs, vs);
    return traced_jvp(f, xs, vs);
}

std::pair<Tensor, Tensor> jvp(const Fn& f, const Tensor& x, const Tensor& v) {
    return jvp([&f](const std::vector<Tensor>& xs) { return f(xs[0]); }, std::vector<Tensor>{x},
               std::vector<Tensor>{v});
}

std::pair<Tensor, std::vector<Tensor>> vjp(const MultiFn& f, const std::vector<Tensor>& xs, const Tensor& u) {
    const Traced t = trace(f, xs, "vjp");
    check_like(u, t.y, "vjp", "the cotangent");
    std::vector<Tensor> grads;
    if (!t.y.needs_grad()) {
        for (const auto& x : xs) grads.push_back(Tensor::zeros(x.shape(), x.dtype()));
        return {result(t.y, t.outer), grads};
    }
    GradMode mode(t.outer);
    for (const auto& g : reverse_sweep({t.y}, {batch1(u)}, t.xs, {false, t.outer})) grads.push_back(unbatch(g));
    return {result(t.y, t.outer), grads};
}

std::pair<Tensor, Pullback> vjp(const Fn& f, const Tensor& x) {
    const Traced t = trace([&f](const std::vector<Tensor>& xs) { return f(xs[0]); }, {x}, "vjp");
    Pullback p;
    p.x_ = t.xs[0];
    p.y_ = t.y;
    p.outer_ = t.outer;
    return {result(t.y, t.outer), p};
}

Tensor Pullback::batched(const Tensor& us) const {
    if (!us.defined() || us.dim() != y_.dim() + 1 || Shape(us.shape().begin() + 1, us.shape().end()) != y_.shape()) {
        throw shape_error("vjp pullback: a batch of cotangents needs shape (k," + shape_str(y_.shape()).substr(1) +
                          " but got " + (us.defined() ? shape_str(us.shape()) : std::string("(undefined)")));
    }
    if (!y_.needs_grad()) return Tensor::zeros(batched_shape(us.shape()[0], x_.shape()), x_.dtype());
    GradMode mode(outer_);
    return reverse_sweep({y_}, {us}, {x_}, {true, outer_})[0];
}

Tensor Pullback::operator()(const Tensor& u) const {
    check_like(u, y_, "vjp pullback", "the cotangent");
    GradMode mode(outer_);
    return unbatch(batched(batch1(u)));
}

std::pair<Tensor, std::vector<Tensor>> detail::value_and_grad_at(const MultiFn& f, const std::vector<Tensor>& xs,
                                                                 const std::vector<std::size_t>& which,
                                                                 const char* who) {
    const Traced t = trace(f, xs, who, which);
    if (t.y.size() != 1) {
        throw shape_error(std::string(who) + ": the function returned shape " + shape_str(t.y.shape()) + " but " + who +
                          " needs a one-element output; reduce it (e.g. sum) or use vjp/jacrev");
    }
    std::vector<Tensor> grads;
    if (!t.y.needs_grad()) {
        for (const auto& x : t.xs) grads.push_back(Tensor::zeros(x.shape(), x.dtype()));
        return {result(t.y, t.outer), grads};
    }
    GradMode mode(t.outer);
    const Tensor seed = Tensor::ones(batched_shape(1, t.y.shape()), t.y.dtype());
    for (auto& g : reverse_sweep({t.y}, {seed}, t.xs, {false, t.outer})) grads.push_back(unbatch(g));
    return {result(t.y, t.outer), grads};
}

Fn grad(Fn f) {
    return [f = std::move(f)](const Tensor& x) {
        return detail::value_and_grad_at([&f](const std::vector<Tensor>& xs) { return f(xs[0]); }, {x}, {0}, "grad")
            .second[0];
    };
}

std::function<std::pair<Tensor, Tensor>(const Tensor&)> value_and_grad(Fn f) {
    return [f = std::move(f)](const Tensor& x) {
        auto r = detail::value_and_grad_at([&f](const std::vector<Tensor>& xs) { return f(xs[0]); }, {x}, {0},
                                           "value_and_grad");
        return std::make_pair(std::move(r.first), std::move(r.second[0]));
    };
}

std::vector<std::size_t> detail::checked_argnums(const char* who, const Argnums& a,
                                                 const std::vector<bool>& is_tensor) {
    const std::string w(who);
    if (a.positions.empty()) throw value_error(w + ": argnums is empty; name at least one argument to differentiate");
    const long n = static_cast<long>(is_tensor.size());
    std::vector<std::size_t> out;
    for (const long p : a.positions) {
        if (p < 0 || p >= n) {
            throw value_error(
                w + ": argnums position " + std::to_string(p) + " is out of range for a function of " +
                std::to_string(n) + (n == 1 ? " argument" : " arguments") +
                (n == 0 ? "; pass the arguments to differentiate" : "; use positions 0 to " + std::to_string(n - 1)));
        }
        const auto i = static_cast<std::size_t>(p);
        if (std::find(out.begin(), out.end(), i) != out.end()) {
            throw value_error(w + ": argnums names position " + std::to_string(p) + " twice; name each argument once");
        }
        if (!is_tensor[i]) {
            throw value_error(w + ": argnums position " + std::to_string(p) +
                              " is not a Tensor argument; differentiate with respect to tensors only (other "
                              "arguments are passed through as constants)");
        }
        out.push_back(i);
    }
    return out;
}

// ∂y/∂inputs[i], shapes (ys..., xs_i...), from sweeps whose directions are rows of an identity: n_i basis tangents
// forward per input, or m basis cotangents backward for all inputs at once, `chunk` rows per sweep. The rows are
// sparse (Directions::basis): no identity is allocated, and rules with a sparse form (elementwise, linear, matmul)
// skip its zeros.
std::vector<Tensor> detail::jacobians_of(const std::vector<Tensor>& inputs, const Tensor& y, bool forward,
                                         const JacobianOptions& options, bool outer, bool retain) {
    const Shape& ys = y.shape();
    const std::size_t m = numel(ys);
    std::vector<Tensor> out;
    if (!y.needs_grad()) {
        for (const auto& x : inputs) out.push_back(Tensor::zeros(concat_shapes(ys, x.shape()), y.dtype()));
        return out;
    }
    GradMode mode(outer);
    if (forward) {
        for (const auto& x : inputs) {
            const Shape& xs = x.shape();
            const std::size_t n = numel(xs);
            if (n == 0 || m == 0) {
                out.push_back(Tensor::zeros(concat_shapes(ys, xs), y.dtype()));
                continue;
            }
            const std::size_t step = chunk_size(n, std::max(n, m), options);
            std::vector<Tensor> parts;
            for (std::size_t from = 0; from < n; from += step) {
                const std::size_t count = std::min(step, n - from);
                parts.push_back(forward_sweep_directions({x}, {Directions::basis(xs, x.dtype(), from, count)}, {y},
                                                         {true, outer})[0]);
            }
            // Forward sweeps give (n, ys...): the directions lead, so move them behind the outputs.
            Tensor rows = transpose(reshaped(joined(std::move(parts)), {n, m}));
            out.push_back(reshaped(std::move(rows), concat_shapes(ys, xs)));
        }
        return out;
    }
    std::size_t largest = m;
    for (const auto& x : inputs) largest = std::max(largest, x.size());
    if (m == 0 || largest == 0) {
        for (const auto& x : inputs) out.push_back(Tensor::zeros(concat_shapes(ys, x.shape()), y.dtype()));
        return out;
    }
    const std::size_t step = chunk_size(m, largest, options);
    std::vector<std::vector<Tensor>> parts(inputs.size());
    for (std::size_t from = 0; from < m; from += step) {
        const std::size_t count = std::min(step, m - from);
        const bool last = from + count >= m;
        auto got = reverse_sweep_directions({y}, {Directions::basis(ys, y.dtype(), from, count)}, inputs,
                                            {retain || !last, outer});
        for (std::size_t i = 0; i < inputs.size(); ++i) parts[i].push_back(std::move(got[i]));
    }
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        out.push_back(reshaped(joined(std::move(parts[i])), concat_shapes(ys, inputs[i].shape())));
    }
    return out;
}

std::vector<Tensor> detail::jacobians_at(const MultiFn& f, const std::vector<Tensor>& xs,
                                         const std::vector<std::size_t>& which, bool forward,
                                         const JacobianOptions& options) {
    const Traced t = trace(f, xs, forward ? "jacfwd" : "jacrev", which);
    return jacobians_of(t.xs, t.y, forward, options, t.outer);
}

Fn jacfwd(Fn f, JacobianOptions options) {
    return [f = std::move(f), options](const Tensor& x) {
        return detail::jacobians_at([&f](const std::vector<Tensor>& xs) { return f(xs[0]); }, {x}, {0}, true,
                                    options)[0];
    };
}

Fn jacrev(Fn f, JacobianOptions options) {
    return [f = std::move(f), options](const Tensor& x) {
        return detail::jacobians_at([&f](const std::vector<Tensor>& xs) { return f(xs[0]); }, {x}, {0}, false,
                                    options)[0];
    };
}

}  // namespace adg
