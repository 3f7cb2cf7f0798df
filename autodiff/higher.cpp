#include <adgraph/autodiff/higher.hpp>

#include <adgraph/autodiff/grad_mode.hpp>
#include <adgraph/autodiff/ops.hpp>
#include <adgraph/autodiff/sweep.hpp>

namespace adg {

// grad(f) records f and its own reverse sweep whatever jvp does, so eager tangents would only duplicate the one
// forward sweep over that recording: take the recorded path directly.
Tensor hvp(const Fn& f, const Tensor& x, const Tensor& v) {
    const Fn g = grad(f);
    return detail::recorded_jvp([&g](const std::vector<Tensor>& xs) { return g(xs[0]); }, {x}, {v}).second;
}

Fn hessian(Fn f, JacobianOptions options) { return jacfwd(grad(std::move(f)), options); }

std::vector<std::vector<Tensor>> detail::hessian_at(const MultiFn& f, const std::vector<Tensor>& xs,
                                                    const std::vector<std::size_t>& which,
                                                    const JacobianOptions& options) {
    // The leaves the gradients are taken at: recorded, so the gradients below can be differentiated again; an
    // input an outer transform tracks is used as is, and then the whole computation is recorded for it.
    std::vector<Tensor> leaves;
    bool outer = false;
    for (const auto& x : xs) outer |= x.defined() && x.needs_grad();
    for (const std::size_t i : which) {
        const Tensor& x = xs[i];
        if (!x.defined()) {
            throw value_error(
                "hessian: an input is undefined (default-constructed or moved from); pass tensors with "
                "values");
        }
        leaves.push_back(x.needs_grad() ? x : x.detach().requires_grad());
    }
    // ∂f/∂x_i for every chosen i, recorded (the leaves require grad), as grad(f) inside jacfwd records its sweep.
    std::vector<Tensor> gs;
    {
        GradMode on(true);
        std::vector<Tensor> args = xs;
        for (std::size_t a = 0; a < which.size(); ++a) args[which[a]] = leaves[a];
        gs = detail::value_and_grad_at(f, args, which, "hessian").second;
    }
    // Block (a, b) is the Jacobian of gradient a with respect to input b: (x_a..., x_b...), as jacfwd gives it.
    std::vector<std::vector<Tensor>> h(which.size());
    for (std::size_t a = 0; a < which.size(); ++a) {
        for (std::size_t b = 0; b < which.size(); ++b) {
            h[a].push_back(detail::jacobians_of({leaves[b]}, gs[a], true, options, outer)[0]);
        }
    }
    return h;
}

std::pair<Tensor, Fn> linearize(const Fn& f, const Tensor& x) {
    const bool outer = x.needs_grad();
    Tensor xin, y;
    {
        GradMode on(true);
        xin = outer ? x : x.detach().requires_grad();
        y = f(xin);
    }
    const Tensor primal = outer ? y : y.detach();
    Fn apply_jvp = [xin, y, outer](const Tensor& v) {
        if (v.defined() && v.shape() == xin.shape() && v.dtype() != xin.dtype()) {
            throw dtype_error("linearize: the tangent must be " + std::string(dtype_name(xin.dtype())) + " " +
                              shape_str(xin.shape()) + ", got " + dtype_name(v.dtype()) + " " + shape_str(v.shape()) +
                              "; convert it with cast(v, " + (xin.dtype() == Dtype::f32 ? "adg::f32" : "adg::f64") +
                              ")");
        }
        if (!v.defined() || v.shape() != xin.shape()) {
            throw shape_error("linearize: the tangent must be " + std::string(dtype_name(xin.dtype())) + " " +
                              shape_str(xin.shape()) +
                              (v.defined() ? ", got " + std::string(dtype_name(v.dtype())) + " " + shape_str(v.shape())
                                           : std::string(", got an undefined tensor")));
        }
        if (!y.needs_grad()) return Tensor::zeros(y.shape(), y.dtype());
        GradMode mode(outer);
        const Tensor t = forward_sweep({xin}, {reshape(v, batched_shape(1, v.shape()))}, {y}, {true, outer})[0];
        return reshape(t, y.shape());
    };
    return {primal, apply_jvp};
}

}  // namespace adg
