#include <adgraph/autodiff/custom.hpp>

#include <memory>

#include <adgraph/autodiff/op.hpp>
#include <adgraph/autodiff/sweep.hpp>

namespace adg {

namespace {

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
            t_i = Tensor::zeros(batched_shape(k, x[i].shape()), x[i].dtype()).requires_grad();
            std::vector<Tensor> t(x.size());
            t[i] = t_i;
            // Unless this sweep is itself recorded, the primal values are constants here: detached, the transposing
            // sweep walks only the JVP's own small graph, not everything upstream of x.
            std::vector<Tensor> xs = x;
            if (!higher) {
                for (auto& v : xs) v = v.detach();
            }
            r = f->jvp(xs, higher ? y : y.detach(), t);
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
    CheckResult g = gradcheck(fn, xs);
    if (!g.ok) {
        g.message = "custom function '" + f.name + "': " + g.message;
        return g;
    }
    CheckResult d = dot_test(fn, xs, gen);
    if (!d.ok) {
        d.message = "custom function '" + f.name + "': " + d.message;
        return d;
    }
    d.message = "custom function '" + f.name + "': " + g.message + "; " + d.message;
    return d;
}

}  // namespace adg
