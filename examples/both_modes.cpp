// The same gradient by reverse mode (backward), forward mode (jvp per direction) and both Jacobian transforms.
#include <adgraph/adgraph.hpp>

#include <cstdio>

int main() {
    using namespace adg;
    Tensor x = Tensor::from({0.5, -1.0, 2.0}, f64).requires_grad();
    auto f = [](const Tensor& v) { return sum(tanh(v) * v); };  // f(x) = Σ tanh(xᵢ)·xᵢ

    f(x).backward();  // reverse mode: one sweep gives the whole gradient
    std::printf("%-28s", "reverse (backward):");
    for (std::size_t i = 0; i < 3; ++i) std::printf(" %+.12f", x.grad().value().flat(i));

    std::printf("\n%-28s", "forward (jvp, e_i):");  // forward mode: one sweep per input direction
    for (std::size_t i = 0; i < 3; ++i) {
        Tensor e = reshape(one_hot({i}, 3, f64), {3});
        std::printf(" %+.12f", jvp(f, x.detach(), e).second.item());
    }
    Tensor jf = jacfwd(f)(x.detach()), jr = jacrev(f)(x.detach());  // one batched sweep each
    std::printf("\n%-28s", "jacfwd / jacrev:");
    for (std::size_t i = 0; i < 3; ++i) std::printf(" %+.12f/%+.12f", jf.value().flat(i), jr.value().flat(i));
    std::printf("\n");
    return 0;
}
