#include <adgraph/adgraph.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>

int main() {
    using namespace adg;
    Generator gen(0);
    // f: R³ → R², one tanh layer without bias. Its Jacobian J is 2×3.
    Tensor W = Tensor::uniform({2, 3}, -1.0, 1.0, gen, f64);
    auto f = [&](const Tensor& x) { return tanh(matmul(W, x)); };
    Tensor x = Tensor::from({0.5, -0.3, 0.2}, f64);

    Tensor J_fwd = jacfwd(f)(x);  // forward mode: one tangent direction per input, 3 here
    Tensor J_rev = jacrev(f)(x);  // reverse mode: one cotangent direction per output, 2 here
    std::cout << "J by forward mode " << J_fwd << "\nJ by reverse mode " << J_rev << "\n";

    // Single directions: jvp pushes v forward to J·v, vjp pulls u back to Jᵀ·u. Neither builds J.
    Tensor v = Tensor::from({1.0, 0.0, -1.0}, f64), u = Tensor::from({1.0, 2.0}, f64);
    auto [fx, Jv] = jvp(f, x, v);
    auto pullback = vjp(f, x).second;
    Tensor JTu = pullback(u);
    std::cout << "J·v  " << Jv << "\nJᵀ·u " << JTu << "\n";

    // An elementwise op has a diagonal Jacobian: tanh'(x) = 1 - tanh²(x) on the diagonal, zeros elsewhere.
    std::cout << "Jacobian of tanh at x " << jacrev([](const Tensor& z) { return tanh(z); })(x) << "\n";

    // Backprop is a chain of vjps: the gradient of L(x) = Σ f(x)² is Jᵀ·(2 f(x)), one reverse sweep.
    Tensor xg = x.detach().requires_grad();
    sum(square(f(xg))).backward();  // the sweep hands vectors from node to node; no Jacobian is formed
    Tensor chain = pullback(2.0 * fx);
    std::cout << "backward()   " << xg.grad() << "\nJᵀ·(2 f(x)) " << chain << "\n";

    // The cost: a gradient of g: R⁵¹² → R is one reverse sweep, but 512 tangent directions forward.
    Tensor A = Tensor::uniform({256, 512}, -0.05, 0.05, gen, f64), z = Tensor::uniform({512}, -1, 1, gen, f64);
    auto g = [&](const Tensor& s) { return sum(tanh(matmul(A, s))); };
    using ms = std::chrono::duration<double, std::milli>;
    const auto t0 = std::chrono::steady_clock::now();
    Tensor g_rev = grad(g)(z);  // one reverse sweep with one cotangent
    const auto t1 = std::chrono::steady_clock::now();
    Tensor g_fwd = jacfwd(g)(z);  // one forward sweep carrying 512 tangents
    const auto t2 = std::chrono::steady_clock::now();
    const double diff = max(abs(g_rev - g_fwd)).item();
    std::printf("gradient by reverse mode %.2f ms, by forward mode %.2f ms, largest difference %.1e\n",
                ms(t1 - t0).count(), ms(t2 - t1).count(), diff);

    const double worst =
        std::max({max(abs(J_fwd - J_rev)).item(), max(abs(matmul(J_fwd, v) - Jv)).item(),
                  max(abs(matmul(transpose(J_rev), u) - JTu)).item(), max(abs(xg.grad() - chain)).item(), diff});
    return worst < 1e-12 ? 0 : 1;
}
