#include <adgraph/autodiff/check.hpp>

#include <cmath>
#include <sstream>

#include <adgraph/autodiff/grad_mode.hpp>
#include <adgraph/autodiff/ops.hpp>
#include <adgraph/autodiff/sweep.hpp>
#include <adgraph/tensor/kernels.hpp>

namespace adg {

namespace {

struct Recorded {
    std::vector<Tensor> leaves;
    Tensor y;
};

Recorded record(const MultiFn& f, const std::vector<Tensor>& xs) {
    GradMode on(true);
    Recorded r;
    for (const auto& x : xs) r.leaves.push_back(x.detach().requires_grad());
    r.y = f(r.leaves);
    return r;
}

void require_f64(const std::vector<Tensor>& xs, const char* who) {
    for (std::size_t i = 0; i < xs.size(); ++i) {
        if (xs[i].dtype() != Dtype::f64) {
            throw dtype_error(
                std::string(who) + ": input " + std::to_string(i) +
                " is float32; central differences need float64 inputs (cast them with cast(x, adg::f64))");
        }
    }
}

// Jacobian of f w.r.t. input i by central differences: (m, n_i) row-major as a flat vector.
std::vector<double> numeric_jacobian(const MultiFn& f, const std::vector<Tensor>& xs, std::size_t i, double eps,
                                     std::size_t m) {
    NoGrad off;
    const std::size_t n = xs[i].size();
    std::vector<double> J(m * n);
    std::vector<Tensor> args = xs;
    for (std::size_t e = 0; e < n; ++e) {
        std::vector<double> plus(m), minus(m);
        for (int side = 0; side < 2; ++side) {
            Array shifted = xs[i].value().clone();
            shifted.get_mut<double>().data()[e] += side == 0 ? eps : -eps;
            args[i] = Tensor(shifted);
            const Array y = f(args).value().to(Dtype::f64);
            for (std::size_t j = 0; j < m; ++j) (side == 0 ? plus : minus)[j] = y.flat(j);
        }
        for (std::size_t j = 0; j < m; ++j) J[j * n + e] = (plus[j] - minus[j]) / (2 * eps);
    }
    return J;
}

std::string where_in(std::size_t input, std::size_t out, std::size_t in) {
    return "input " + std::to_string(input) + ", output element " + std::to_string(out) + ", input element " +
           std::to_string(in);
}

// Compares an analytic Jacobian accessor with the numeric one and folds the result into `res`.
template <class Analytic>
void compare(CheckResult& res, const std::vector<double>& num, std::size_t m, std::size_t n, std::size_t input,
             const char* mode, const GradcheckOptions& o, Analytic&& analytic) {
    for (std::size_t j = 0; j < m; ++j) {
        for (std::size_t e = 0; e < n; ++e) {
            const double a = analytic(j, e), v = num[j * n + e], err = std::abs(a - v);
            res.max_error = std::max(res.max_error, err);
            if (!(err <= o.atol + o.rtol * std::abs(v)) && res.ok) {
                std::ostringstream s;
                s.precision(10);
                s << mode << " mismatch at " << where_in(input, j, e) << ": analytic " << a << " vs numeric " << v
                  << " (|diff| " << err << " > atol " << o.atol << " + rtol " << o.rtol << "·|numeric|)";
                res.ok = false;
                res.message = s.str();
            }
        }
    }
}

CheckResult gradcheck_mode(const MultiFn& f, const std::vector<Tensor>& xs, const GradcheckOptions& o, bool fwd) {
    const char* who = fwd ? "gradcheck_jvp" : "gradcheck_vjp";
    require_f64(xs, who);
    const Recorded r = record(f, xs);
    const std::size_t m = r.y.size();
    CheckResult res;
    std::vector<Tensor> rev;
    if (!fwd && r.y.needs_grad()) {
        rev = reverse_sweep({r.y}, {Tensor(Array::basis(r.y.shape(), r.y.dtype()))}, r.leaves, {true, false});
    }
    for (std::size_t i = 0; i < xs.size(); ++i) {
        const std::size_t n = xs[i].size();
        const std::vector<double> num = numeric_jacobian(f, xs, i, o.eps, m);
        Array a;
        if (!r.y.needs_grad()) {
            a = Array::zeros({n * m}, Dtype::f64);
        } else if (fwd) {
            a = forward_sweep({r.leaves[i]}, {Tensor(Array::basis(xs[i].shape(), Dtype::f64))}, {r.y})[0].value();
        } else {
            a = rev[i].value();
        }
        // Forward sweeps give (n, m) (direction = input element); reverse sweeps (m, n).
        compare(res, num, m, n, i, fwd ? "JVP" : "VJP", o,
                [&](std::size_t j, std::size_t e) { return fwd ? a.flat(e * m + j) : a.flat(j * n + e); });
    }
    if (res.ok) res.message = std::string(who) + ": Jacobian matches central differences";
    return res;
}

Array row(const Array& batch, std::size_t j) { return kernels::slice(batch, 0, j, j + 1); }

double dot(const Array& a, const Array& b, double& scale) {
    double s = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const double t = a.flat(i) * b.flat(i);
        s += t;
        scale += std::abs(t);
    }
    return s;
}

bool same(const Array& a, const Array& b, double tol, double& err) {
    if (a.shape() != b.shape()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const double d = std::abs(a.flat(i) - b.flat(i));
        err = std::max(err, d);
        if (tol == 0.0 ? !(a.flat(i) == b.flat(i)) : !(d <= tol)) return false;
    }
    return true;
}

}  // namespace

CheckResult gradcheck_jvp(const MultiFn& f, const std::vector<Tensor>& xs, const GradcheckOptions& o) {
    return gradcheck_mode(f, xs, o, true);
}

CheckResult gradcheck_vjp(const MultiFn& f, const std::vector<Tensor>& xs, const GradcheckOptions& o) {
    return gradcheck_mode(f, xs, o, false);
}

CheckResult gradcheck(const MultiFn& f, const std::vector<Tensor>& xs, const GradcheckOptions& o) {
    require_f64(xs, "gradcheck");
    CheckResult j = gradcheck_jvp(f, xs, o);
    if (!j.ok) return j;
    CheckResult v = gradcheck_vjp(f, xs, o);
    v.max_error = std::max(v.max_error, j.max_error);
    if (v.ok) v.message = "gradcheck: JVP and VJP Jacobians match central differences";
    return v;
}

CheckResult dot_test(const MultiFn& f, const std::vector<Tensor>& xs, Generator& gen, double rtol) {
    const Recorded r = record(f, xs);
    CheckResult res;
    if (!r.y.needs_grad()) {
        res.message = "dot_test: the output does not depend on the inputs";
        return res;
    }
    if (rtol == 0.0) rtol = r.y.dtype() == Dtype::f64 ? 1e-12 : 1e-4;
    std::vector<Tensor> vs;
    for (const auto& x : xs) vs.push_back(Tensor(normal(batched_shape(1, x.shape()), 0, 1, x.dtype(), gen)));
    const Tensor u(normal(batched_shape(1, r.y.shape()), 0, 1, r.y.dtype(), gen));
    const Tensor jv = forward_sweep(r.leaves, vs, {r.y})[0];
    const std::vector<Tensor> jtu = reverse_sweep({r.y}, {u}, r.leaves, {true, false});
    double scale = 0;
    const double lhs = dot(u.value(), jv.value(), scale);
    double rhs = 0;
    for (std::size_t i = 0; i < xs.size(); ++i) rhs += dot(jtu[i].value(), vs[i].value(), scale);
    res.max_error = std::abs(lhs - rhs);
    res.ok = res.max_error <= rtol * scale || (lhs == rhs);
    std::ostringstream s;
    s.precision(17);
    s << "dot_test: <u, J v> = " << lhs << ", <J^T u, v> = " << rhs << ", |diff| = " << res.max_error
      << (res.ok ? " <= " : " > ") << rtol << " * " << scale;
    res.message = s.str();
    return res;
}

CheckResult batched_test(const MultiFn& f, const std::vector<Tensor>& xs, Generator& gen, std::size_t k, double tol) {
    const Recorded r = record(f, xs);
    CheckResult res;
    res.message = "batched_test: batched sweeps equal stacked single sweeps";
    if (!r.y.needs_grad()) return res;
    std::vector<Tensor> vs;
    for (const auto& x : xs) vs.push_back(Tensor(normal(batched_shape(k, x.shape()), 0, 1, x.dtype(), gen)));
    const Tensor us(normal(batched_shape(k, r.y.shape()), 0, 1, r.y.dtype(), gen));
    const Tensor fwd = forward_sweep(r.leaves, vs, {r.y})[0];
    const std::vector<Tensor> rev = reverse_sweep({r.y}, {us}, r.leaves, {true, false});
    for (std::size_t j = 0; j < k && res.ok; ++j) {
        std::vector<Tensor> vj;
        for (const auto& v : vs) vj.push_back(Tensor(row(v.value(), j)));
        const Tensor fj = forward_sweep(r.leaves, vj, {r.y})[0];
        if (!same(row(fwd.value(), j), fj.value(), tol, res.max_error)) {
            res.ok = false;
            res.message = "batched_test: forward direction " + std::to_string(j) + " of " + std::to_string(k) +
                          " differs from its single sweep (max |diff| " + std::to_string(res.max_error) + ")";
            break;
        }
        const std::vector<Tensor> rj = reverse_sweep({r.y}, {Tensor(row(us.value(), j))}, r.leaves, {true, false});
        for (std::size_t i = 0; i < xs.size(); ++i) {
            if (!same(row(rev[i].value(), j), rj[i].value(), tol, res.max_error)) {
                res.ok = false;
                res.message = "batched_test: reverse direction " + std::to_string(j) + " of " + std::to_string(k) +
                              " differs from its single sweep at input " + std::to_string(i) + " (max |diff| " +
                              std::to_string(res.max_error) + ")";
                break;
            }
        }
    }
    return res;
}

}  // namespace adg
