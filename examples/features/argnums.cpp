#include <adgraph/adgraph.hpp>
#include <algorithm>
#include <cstdio>

int main() {
    using namespace adg;
    Generator gen(0);
    const Tensor x = Tensor::uniform({3}, -1, 1, gen, f64);
    const Tensor W = Tensor::uniform({4, 3}, -1, 1, gen, f64);
    const Tensor b = Tensor::uniform({4}, -1, 1, gen, f64);
    const auto layer = [](const Tensor& x, const Tensor& W, const Tensor& b) { return tanh(matmul(W, x) + b); };
    const auto loss = [&](const Tensor& x, const Tensor& W, const Tensor& b) { return sum(square(layer(x, W, b))); };
    double worst = 0;
    const auto diff = [&](const Tensor& a, const Tensor& c) { worst = std::max(worst, max(abs(a - c)).item()); };

    // 1. Gradients with respect to x and b, in that order; a single position gives one tensor.
    const std::vector<Tensor> g = grad(loss, argnums(0, 2))(x, W, b);
    const Tensor gW = grad(loss, 1)(x, W, b);
    diff(g[0], grad([&](const Tensor& z) { return loss(z, W, b); })(x));  // the same as closing over W and b
    diff(gW, grad([&](const Tensor& z) { return loss(x, z, b); })(W));
    std::printf("grad: dx %s, db %s, dW %s\n", shape_str(g[0].shape()).c_str(), shape_str(g[1].shape()).c_str(),
                shape_str(gW.shape()).c_str());

    // 2. The value with the gradients, from one run of the function.
    const auto [value, gs] = value_and_grad(loss, argnums(1, 2))(x, W, b);
    diff(value, loss(x, W, b));
    diff(gs[0], gW);

    // 3. Jacobians of the layer in both modes: one result per argument, each (4, argument shape...).
    const std::vector<Tensor> Jf = jacfwd(layer, argnums(0, 1, 2))(x, W, b);
    const std::vector<Tensor> Jr = jacrev(layer, argnums(0, 1, 2))(x, W, b);
    for (std::size_t i = 0; i < 3; ++i) diff(Jf[i], Jr[i]);
    std::printf("jacrev: %s %s %s\n", shape_str(Jr[0].shape()).c_str(), shape_str(Jr[1].shape()).c_str(),
                shape_str(Jr[2].shape()).c_str());

    // 4. Hessian blocks d2f/dxi dxj; the off-diagonal blocks are each other's transposes.
    const auto H = hessian(loss, argnums(0, 2))(x, W, b);
    diff(H[0][1], transpose(H[1][0]));
    diff(H[0][0], hessian([&](const Tensor& z) { return loss(z, W, b); })(x));
    std::printf("hessian blocks: %s %s / %s %s\n", shape_str(H[0][0].shape()).c_str(),
                shape_str(H[0][1].shape()).c_str(), shape_str(H[1][0].shape()).c_str(),
                shape_str(H[1][1].shape()).c_str());

    // 5. Structured Jacobians: the layer acts elementwise on b, densely on x.
    const std::vector<Jacobian> S = jacobian(layer, argnums(2, 0))(x, W, b);
    diff(S[0].dense(), Jr[2]);
    diff(S[1].dense(), Jr[0]);
    std::printf("jacobian: b %s, x %s\n", structure_name(S[0].structure), structure_name(S[1].structure));

    std::printf("largest difference: %.3g\n", worst);
    return worst <= 1e-12 && S[0].structure == Structure::diagonal ? 0 : 1;
}
