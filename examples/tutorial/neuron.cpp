#include <adgraph/adgraph.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>

int main() {
    using namespace adg;
    // A neuron: an affine map z = w·x + b followed by an activation y = sigmoid(z).
    Tensor x = Tensor::from({1.0, -2.0, 0.5}, f64);
    Tensor w = Tensor::from({0.4, 0.1, -0.6}, f64).requires_grad();
    Tensor b = Tensor::scalar(0.5, f64).requires_grad();
    Tensor z = sum(w * x) + b;
    Tensor y = sigmoid(z);
    y.backward();  // one reverse sweep fills w.grad() and b.grad()

    // By hand: dy/dz = y(1 - y), so dy/dw = y(1 - y)·x and dy/db = y(1 - y).
    const double dz = y.item() * (1 - y.item());
    std::printf("z = %.6f, y = sigmoid(z) = %.6f\n", z.item(), y.item());
    double worst = std::abs(b.grad().item() - dz);
    for (std::size_t i = 0; i < 3; ++i) {
        const double by_hand = dz * x.value().flat(i);
        std::printf("dy/dw%zu  backward %+.12f  by hand %+.12f\n", i, w.grad().value().flat(i), by_hand);
        worst = std::max(worst, std::abs(w.grad().value().flat(i) - by_hand));
    }
    std::printf("dy/db   backward %+.12f  by hand %+.12f\n", b.grad().item(), dz);
    return worst < 1e-14 ? 0 : 1;
}
