#include <adgraph/adgraph.hpp>
#include <adgraph/nn/loss.hpp>
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <vector>

int main() {
    using namespace adg;
    // Network outputs for a batch of B = 2 samples and K = 3 classes, with labels 0 and 2.
    const std::vector<std::size_t> labels = {0, 2};
    Tensor y = Tensor::from({{2.0, -1.0, 0.5}, {0.3, 0.8, -0.4}}, f64).requires_grad();
    Tensor t = one_hot(labels, 3, f64);
    std::cout << "one-hot targets " << t << "\n";

    Tensor squared = nn::mse_loss(y, t), absolute = nn::l1_loss(y, t), xent = nn::cross_entropy(y, labels);
    std::printf("squared %.6f  absolute %.6f  cross-entropy %.6f\n", squared.item(), absolute.item(), xent.item());

    // Their gradients with respect to the outputs, by backward() and by the textbook formulas:
    // squared 2(y - t)/(B·K), cross-entropy (softmax(y) - t)/B.
    squared.backward();
    Tensor g_squared = y.grad();
    y.zero_grad();
    xent.backward();
    Tensor g_xent = y.grad();
    Tensor d_squared = g_squared - 2.0 * (y - t) / 6.0, d_xent = g_xent - (softmax(y) - t) / 2.0;
    std::cout << "d squared / dy " << g_squared << "\nd cross-entropy / dy " << g_xent << "\n";
    const double worst = std::max(max(abs(d_squared)).item(), max(abs(d_xent)).item());
    std::printf("largest difference to the formulas %.1e\n", worst);
    return worst < 1e-12 ? 0 : 1;
}
