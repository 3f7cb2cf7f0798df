#include <adgraph/adgraph.hpp>
#include <cstdio>

int main() {
    using namespace adg;
    auto f = [](const Tensor& x) { return sum(tanh(x) * x); };  // f(x) = Σ tanh(xᵢ)·xᵢ
    Tensor x = Tensor::from({0.5, -1.0, 2.0}, f64).requires_grad();
    f(x).backward();                   // reverse mode: one sweep from the output gives ∇f
    Tensor g = jacfwd(f)(x.detach());  // forward mode: one sweep with 3 basis tangents
    auto [fx, dfv] = jvp(f, x.detach(), Tensor::from({1.0, 1.0, 1.0}, f64));  // one direction: ⟨∇f, 1⟩
    for (std::size_t i = 0; i < 3; ++i)
        std::printf("df/dx%zu  reverse %+.15f  forward %+.15f\n", i, x.grad().value().flat(i), g.value().flat(i));
    std::printf("f(x) = %.15f, sum of df/dx = %+.15f (jvp along (1,1,1))\n", fx.item(), dfv.item());
}
