#include <adgraph/autodiff/custom.hpp>

#include <memory>
#include <unordered_set>

#include <adgraph/autodiff/op.hpp>
#include <adgraph/autodiff/order.hpp>
#include <adgraph/autodiff/sweep.hpp>

namespace adg {

namespace {

// The tangent a transposition seeds: its values do not change the result (the JVP is linear in it) but are not zero
// and not all equal, so a JVP computed off the graph, which does not depend on the tangent as far as the sweep can
// see, gives itself away by a non-zero value (J·t, with t unlikely to lie in J's null space).
Tensor probe_tangent(const Shape& shape, Dtype dtype) {
    Array a = Array::empty(shape, dtype, "custom function");
    a.visit_mut([](auto& v) {
        using T = typename std::decay_t<decltype(v)>::value_type;
        // 1 + (a hash of i mod 1024) / 1024: exact in float32, in [1, 2).
        for (std::size_t i = 0; i < v.size(); ++i) v.data()[i] = T(1) + T((i * 2654435761u) % 1024u) / T(1024);
    });
    return Tensor(std::move(a)).requires_grad();
}

// True if the tangent `t` is on the recorded path to `r` (the search stops at the primal values `stop`).
bool reaches(const Tensor& r, const Tensor& t, const std::vector<Tensor>& stop) {
    if (!r.needs_grad()) return false;
    std::unordered_set<const Node*> at;
    for (const auto& s : stop) at.insert(s.node().get());
    return detail::topo_order({r}, at).find(t.node().get()) != detail::npos;
}

bool all_zero(const Array& a) {
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (a.flat(i) != 0.0) return false;
    }
    return true;
}

// The recorded form of a CustomFunction: a Custom op whose rules call the user's.
struct UserOp {
    static constexpr Custom kind{};
    static constexpr const char* name = "custom";
    std::shared_ptr<const CustomFunction> f;
    const char* display_name() const { return f->name.c_str(); }

    Array forward(const std::vector<Array>& xs) const {
        std::vector<Tensor> in;
        for (const auto& x : xs) in.emplace_back(x);
        NoGrad off;
        const Tensor y = f->forward(in);
        if (!y.defined()) throw value_error("custom function '" + f->name + "': forward returned an undefined tensor");
        return y.value();
    }
    Tensor jvp(const std::vector<Tensor>& x, const Tensor& y, const std::vector<Tensor>& t) const {
        return f->jvp(x, y, t);
    }
    Tensor vjp(const std::vector<Tensor>& x, const Tensor& y, const Tensor& ct, std::size_t i) const {
        if (f->vjp) return f->vjp(x, y, ct, i);
        // Transpose of t ↦ jvp(x, y, t) for input i: a reverse sweep over the recorded JVP, seeded with ct.
        const std::size_t k = ct.shape()[0];
        const bool higher = grad_enabled();
        Tensor t_i, r;
        {
            GradMode on(true);
            t_i = probe_tangent(batched_shape(k, x[i].shape()), x[i].dtype());
            std::vector<Tensor> t(x.size());
            t[i] = t_i;
            // Unless this sweep is itself recorded, the primal values are constants here: detached, the transposing
            // sweep walks only the JVP's own small graph, not everything upstream of x.
            std::vector<Tensor> xs = x;
            if (!higher) {
                for (auto& v : xs) v = v.detach();
            }
            const Tensor ys = higher ? y : y.detach();
            r = f->jvp(xs, ys, t);
            // A JVP that does not reach the tangent is a constant; linear in t, it must then be zero. A non-zero
            // one was computed off the graph (raw arrays, NoGrad) and its transpose would silently be zero.
            std::vector<Tensor> primals = xs;
            primals.push_back(ys);
            if (r.defined() && !reaches(r, t_i, primals) && !all_zero(r.value())) {
                throw graph_error("the JVP of custom function '" + f->name +
                                  "' does not depend on the tangent of input " + std::to_string(i) +
                                  " as recorded (it was computed off the graph: from raw arrays or under NoGrad), so "
                                  "reverse mode cannot transpose it and would give zero gradients; write the JVP with "
                                  "adgraph ops on t, or give the function a vjp");
            }
        }
        const Tensor seed = reshape(ct, batched_shape(1, ct.shape()));
        const Tensor g = reverse_sweep({r}, {seed}, {t_i}, SweepOptions{false, higher})[0];
        return reshape(g, t_i.shape());
    }
};

}  // namespace

Tensor call(const CustomFunction& f, const std::vector<Tensor>& xs) {
    if (!f.forward || !f.jvp) {
        throw value_error("custom function '" + f.name + "': needs a forward and a jvp rule (the vjp is optional)");
    }
    return apply_list(UserOp{std::make_shared<CustomFunction>(f)}, xs);
}

CheckResult check_function(const CustomFunction& f, const std::vector<Tensor>& xs, Generator& gen) {
    const MultiFn fn = [&f](const std::vector<Tensor>& v) { return call(f, v); };
    // A rule that raises (e.g. a JVP computed off the graph, which reverse mode refuses) fails the check.
    const auto failed = [&f](const error& e) {
        CheckResult r;
        r.ok = false;
        r.message = "custom function '" + f.name + "': " + e.what();
        return r;
    };
    CheckResult g;
    try {
        g = gradcheck(fn, xs);
    } catch (const error& e) {
        return failed(e);
    }
    if (!g.ok) {
        g.message = "custom function '" + f.name + "': " + g.message;
        return g;
    }
    CheckResult d;
    try {
        d = dot_test(fn, xs, gen);
    } catch (const error& e) {
        return failed(e);
    }
    if (!d.ok) {
        d.message = "custom function '" + f.name + "': " + d.message;
        return d;
    }
    d.message = "custom function '" + f.name + "': " + g.message + "; " + d.message;
    return d;
}

}  // namespace adg
