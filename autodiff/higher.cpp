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
