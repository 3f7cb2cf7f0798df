#include <adgraph/adgraph.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <vector>

int main() {
    using namespace adg;
    // f(x) = ½ xᵀAx + Σ cos xᵢ on R⁴, so ∇f(x) = Ax − sin x and H(x) = A − diag(cos x).
    const Tensor A =
        Tensor::from({{4.0, 1.0, 0.0, 0.5}, {1.0, 3.0, -1.0, 0.0}, {0.0, -1.0, 5.0, 1.0}, {0.5, 0.0, 1.0, 3.0}}, f64);
    const auto f = [&](const Tensor& x) { return 0.5 * sum(x * matmul(A, x)) + sum(cos(x)); };
    const Tensor x = Tensor::from({0.3, -1.2, 2.0, 0.7}, f64), v = Tensor::from({1.0, 0.0, -1.0, 0.5}, f64);
    std::vector<double> h(16);
    for (std::size_t i = 0; i < 16; ++i)
        h[i] = A.value().flat(i) - (i % 5 == 0 ? std::cos(x.value().flat(i / 4)) : 0.0);
    const Tensor H_exact = Tensor::from(h, {4, 4}, f64), Hv_exact = matmul(H_exact, v);
    double worst = 0;
    const auto check = [&](const char* what, const Tensor& got, const Tensor& want) {
        const double d = max(abs(got - want)).item();
        worst = std::max(worst, d);
        std::cout << what << " " << got << "   (off by " << d << ")\n";
    };

    // 1. Grad of grad with create_graph: backward() records its own sweep, so x.grad() has a graph of its own.
    const Tensor xg = x.detach().requires_grad();
    f(xg).backward(BackwardOptions{/*retain_graph=*/false, /*create_graph=*/true});
    const Tensor g = xg.grad();  // ∇f(x), recorded
    xg.zero_grad();
    sum(g * v).backward();  // ∇⟨∇f(x), v⟩ = H·v (reverse over reverse)
    check("create_graph, grad of <grad, v>:", xg.grad(), Hv_exact);

    // The transforms nest the same way: tanh', tanh'' and tanh''' at 0.5 by grad of grad of grad.
    const Fn d1 = grad([](const Tensor& z) { return tanh(z); });
    const Fn d2 = grad(d1), d3 = grad(d2);
    const Tensor s = Tensor::scalar(0.5, f64);
    const double t = std::tanh(0.5), dt = 1 - t * t;
    std::printf("tanh' tanh'' tanh''' at 0.5: %.12f %.12f %.12f\n", d1(s).item(), d2(s).item(), d3(s).item());
    worst = std::max({worst, std::abs(d1(s).item() - dt), std::abs(d2(s).item() + 2 * t * dt),
                      std::abs(d3(s).item() + 2 * dt * (1 - 3 * t * t))});

    // 2. hvp: forward over reverse, one forward sweep over the recorded gradient sweep.
    check("hvp(f, x, v):                  ", hvp(f, x, v), Hv_exact);

    // 3. jvp of grad is the same sweep, and returns the gradient too.
    const auto [gx, Hv] = jvp(grad(f), x, v);
    check("jvp(grad(f), x, v).second:     ", Hv, Hv_exact);
    check("jvp(grad(f), x, v).first = ∇f: ", gx, matmul(A, x) - sin(x));

    // 4. hessian: forward over reverse with the n basis directions in one sweep.
    const Tensor H = hessian(f)(x);
    check("hessian(f)(x):", H, H_exact);

    // 5. linearize(grad(f), x): the gradient sweep is recorded once; each call is one forward sweep (an H·v).
    //    Conjugate gradients with it solve the Newton system H·p = −∇f without forming H.
    const auto [g0, Hop] = linearize(grad(f), x);
    Tensor p = Tensor::zeros({4}, f64), r = -g0, d = r;
    double rr = sum(r * r).item();
    int calls = 0;
    while (rr > 1e-26 && calls < 10) {
        const Tensor Hd = Hop(d);
        ++calls;
        const double alpha = rr / sum(d * Hd).item();
        p = p + alpha * d;
        r = r - alpha * Hd;
        const double rr_next = sum(r * r).item();
        d = r + (rr_next / rr) * d;
        rr = rr_next;
    }
    const double residual = max(abs(matmul(H_exact, p) + g0)).item();
    std::printf("Newton step by CG: %d H·v products from one linearize, |H·p + grad| = %.1e\n", calls, residual);
    worst = std::max(worst, residual);

    std::printf("largest error %.1e\n", worst);
    return worst < 1e-12 && calls <= 5 ? 0 : 1;
}
