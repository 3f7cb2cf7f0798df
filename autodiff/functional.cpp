#include <adgraph/autodiff/functional.hpp>

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

Traced trace(const MultiFn& f, const std::vector<Tensor>& xs, const char* who) {
    Traced t;
    GradMode on(true);
    for (const auto& x : xs) {
        if (!x.defined()) {
            throw value_error(std::string(who) +
                              ": an input is undefined (default-constructed or moved from); pass tensors with values");
        }
        t.outer |= x.needs_grad();
        t.xs.push_back(x.needs_grad() ? x : x.detach().requires_grad());
    }
    t.y = f(t.xs);
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
    Array a = std::move(t.node()->value_mut());
    return Tensor(std::move(a).reshaped(shape));
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
    // Pure case (no outer transform, no eager jvp around): tangents ride along while f runs, no sweep follows.
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

Fn grad(Fn f) {
    return [f = std::move(f)](const Tensor& x) {
        const Traced t = trace([&f](const std::vector<Tensor>& xs) { return f(xs[0]); }, {x}, "grad");
        if (t.y.size() != 1) {
            throw shape_error("grad: the function returned shape " + shape_str(t.y.shape()) +
                              " but grad needs a one-element output; reduce it (e.g. sum) or use vjp/jacrev");
        }
        if (!t.y.needs_grad()) return Tensor::zeros(x.shape(), x.dtype());
        GradMode mode(t.outer);
        const Tensor seed = Tensor::ones(batched_shape(1, t.y.shape()), t.y.dtype());
        return unbatch(reverse_sweep({t.y}, {seed}, t.xs, {false, t.outer})[0]);
    };
}

namespace {

// ∂f/∂x, shape (ys..., xs...), from sweeps whose directions are rows of an identity: n basis tangents forward
// or m basis cotangents backward, `chunk` rows per sweep. The rows are sparse (Directions::basis): no identity is
// allocated, and rules with a sparse form (elementwise, linear, matmul) skip its zeros.
Tensor jacobian(const Fn& f, const Tensor& x, bool forward, const JacobianOptions& options) {
    const char* who = forward ? "jacfwd" : "jacrev";
    const Traced t = trace([&f](const std::vector<Tensor>& xs) { return f(xs[0]); }, {x}, who);
    const Shape& xs = x.shape();
    const Shape& ys = t.y.shape();
    const std::size_t n = numel(xs), m = numel(ys), directions = forward ? n : m;
    if (!t.y.needs_grad() || directions == 0) return Tensor::zeros(concat_shapes(ys, xs), t.y.dtype());
    GradMode mode(t.outer);
    const std::size_t step = chunk_size(directions, std::max(n, m), options);
    std::vector<Tensor> parts;
    for (std::size_t from = 0; from < directions; from += step) {
        const std::size_t count = std::min(step, directions - from);
        if (forward) {
            parts.push_back(forward_sweep_directions(t.xs, {Directions::basis(xs, x.dtype(), from, count)}, {t.y},
                                                     {true, t.outer})[0]);
        } else {
            const bool last = from + count >= directions;
            parts.push_back(reverse_sweep_directions({t.y}, {Directions::basis(ys, t.y.dtype(), from, count)}, t.xs,
                                                     {!last, t.outer})[0]);
        }
    }
    Tensor rows = parts.size() == 1 ? std::move(parts[0]) : concat(parts, 0);
    parts.clear();
    // Forward sweeps give (n, ys...): the directions lead, so move them behind the outputs.
    if (forward) rows = transpose(reshaped(std::move(rows), {n, m}));
    return reshaped(std::move(rows), concat_shapes(ys, xs));
}

}  // namespace

Fn jacfwd(Fn f, JacobianOptions options) {
    return [f = std::move(f), options](const Tensor& x) { return jacobian(f, x, true, options); };
}

Fn jacrev(Fn f, JacobianOptions options) {
    return [f = std::move(f), options](const Tensor& x) { return jacobian(f, x, false, options); };
}

}  // namespace adg
