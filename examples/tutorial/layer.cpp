#include <adgraph/adgraph.hpp>
#include <adgraph/nn/linear.hpp>
#include <algorithm>
#include <cmath>
#include <iostream>

int main() {
    using namespace adg;
    Generator gen(0);
    // A layer of 3 neurons on 4 inputs: row i of W and entry i of b are neuron i's affine map.
    Tensor W = Tensor::uniform({3, 4}, -0.5, 0.5, gen, f64);
    Tensor b = Tensor::from({0.1, 0.0, -0.1}, f64);
    Tensor x = Tensor::from({1.0, 2.0, 3.0, 4.0}, f64);
    Tensor y = tanh(matmul(W, x) + b);  // all three neurons in one matrix-vector product
    std::cout << "one input:  " << y << "\n";

    // A batch is a matrix too: rows of X are inputs, linear(X, W, b) = X·Wᵀ + b is one GEMM.
    Tensor X = Tensor::from({{1.0, 2.0, 3.0, 4.0}, {0.0, -1.0, 0.5, 2.0}}, f64);
    Tensor Y = tanh(linear(X, W, b));
    std::cout << "batch of 2: " << Y << "\n";

    // nn::Linear is the same layer with W drawn from U(-c, c) and b = 0, both registered as parameters.
    nn::Linear layer(4, 3, gen, true, nn::Init::uniform, f64);
    Tensor Z = layer(X), Z_by_hand = linear(X, layer.weight(), layer.bias());
    std::cout << layer.to_string() << ", weight " << shape_str(layer.weight().shape()) << "\n";

    double worst = 0;  // row 0 of the batch is the single input; the module is linear() on its parameters
    for (std::size_t i = 0; i < 3; ++i) worst = std::max(worst, std::abs(Y.value().flat(i) - y.value().flat(i)));
    for (std::size_t i = 0; i < Z.size(); ++i) {
        worst = std::max(worst, std::abs(Z.value().flat(i) - Z_by_hand.value().flat(i)));
    }
    return worst < 1e-12 ? 0 : 1;
}
