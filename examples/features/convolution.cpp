#include <adgraph/adgraph.hpp>
#include <adgraph/nn/model_spec.hpp>
#include <cmath>
#include <cstdio>

int main() {
    using namespace adg;
    bool ok = true;

    // 1. The lecture's Laplacian [0 1 0; 1 -4 1; 0 1 0] on a 5x5 image with a vertical edge (columns 2-4 bright):
    //    it answers +1 just left of the edge, -1 just right of it, 0 on flat ground (padding 1 keeps 5x5, and the
    //    zero padding makes the right border an edge too).
    const Tensor image =
        Tensor::from({0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1}, {1, 1, 5, 5}, f64);
    const Tensor laplacian = Tensor::from({0, 1, 0, 1, -4, 1, 0, 1, 0}, {1, 1, 3, 3}, f64);
    const Tensor edges = conv2d(image, laplacian, Tensor(), /*stride=*/1, /*padding=*/1);
    const double want[5] = {0, 1, -1, 0, -1};
    std::printf("Laplacian response, middle row:");
    for (std::size_t j = 0; j < 5; ++j) {
        const double got = edges.value().flat(2 * 5 + j);
        std::printf(" %g", got);
        ok &= got == want[j];
    }
    std::printf("\n");

    // 2. Both modes on one convolution: the forward sweep's J·v equals the reverse sweep's gradient dotted with v.
    Generator gen(3);
    const Tensor x = Tensor::uniform({2, 3, 6, 6}, -1.0, 1.0, gen, f64);
    const Tensor w = Tensor::uniform({4, 3, 3, 3}, -1.0, 1.0, gen, f64);
    const Tensor v = Tensor::uniform({4, 3, 3, 3}, -1.0, 1.0, gen, f64);
    const auto loss = [&](const Tensor& weight) { return sum(tanh(conv2d(x, weight, Tensor(), 2, 1))); };
    const Tensor g = grad(loss)(w);                 // reverse: x̄ by the transposed convolution, w̄ by a correlation
    const auto [value, forward] = jvp(loss, w, v);  // forward: conv(x, v), by bilinearity
    const double reverse = sum(g * v).item();
    std::printf("loss %.6f  J·v forward %.12f  reverse %.12f\n", value.item(), forward.item(), reverse);
    ok &= std::abs(forward.item() - reverse) < 1e-12 * (1 + std::abs(reverse));

    // 3. The CLI's cnn preset as a library model. In evaluation mode (batch norm on its running statistics) each
    //    image's scores depend on that image only, so jacobian() finds one block per sample instead of a dense
    //    (2·10)×(2·784) matrix; in training mode batch norm couples the samples and the Jacobian is dense.
    auto net = nn::build_model("cnn", gen);
    std::printf("%s\n", net->to_string().c_str());
    const Tensor batch = Tensor::uniform({2, 1, 28, 28}, 0.0, 1.0, gen);
    net->eval();
    const Jacobian J = jacobian([&](const Tensor& b) { return (*net)(b); }, batch);
    std::printf("eval:  %s (%s)\n", structure_name(J.structure), J.why.c_str());
    ok &= J.structure == Structure::blocks && J.values.shape() == Shape{2, 10, 1, 28, 28};
    net->train();
    const Jacobian Jt = jacobian([&](const Tensor& b) { return (*net)(b); }, batch);
    std::printf("train: %s (%s)\n", structure_name(Jt.structure), Jt.why.c_str());
    ok &= Jt.structure == Structure::dense;

    std::printf(ok ? "all checks hold\n" : "A CHECK FAILED\n");
    return ok ? 0 : 1;
}
