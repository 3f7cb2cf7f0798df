#include <adgraph/adgraph.hpp>
#include <algorithm>
#include <cstdio>

int main() {
    using namespace adg;
    Generator gen(0);
    double worst = 0;
    const auto show = [&](const char* what, const Jacobian& J, const Tensor& reference) {
        const Tensor full = J.dense();  // the (y.shape..., x.shape...) tensor, built from the structured values
        std::printf("%s\n  %s, %s mode, %zu direction(s), values %s, dense() %s\n  why: %s\n", what,
                    structure_name(J.structure), mode_name(J.mode), J.directions, shape_str(J.values.shape()).c_str(),
                    shape_str(full.shape()).c_str(), J.why.c_str());
        worst = std::max(worst, max(abs(full - reference)).item());
    };

    // 1. An activation chain acts elementwise: output i depends on input i only, so J is diagonal.
    const auto act = [](const Tensor& x) { return tanh(2.0 * sin(x)) + sigmoid(x) * x; };
    const Tensor x = Tensor::uniform({1000}, -2.0, 2.0, gen, f64);
    const Tensor J_act = jacfwd(act)(x);  // the dense 1000x1000 matrix, from 1000 directions
    const Jacobian Ja = jacobian(act, x);
    show("activation chain on R^1000:", Ja, J_act);
    // Backprop never needs the 1000x1000 matrix: one reverse sweep of Σ act(x) hands d ⊙ 1 from op to op and
    // arrives at the same 1000 numbers, the diagonal.
    const Tensor g = grad([&](const Tensor& z) { return sum(act(z)); })(x);
    worst = std::max(worst, max(abs(g - Ja.values)).item());
    std::printf("  grad of sum(act) = the diagonal: |difference| %.1e\n", max(abs(g - Ja.values)).item());

    // 2. A per-sample network over a batch: row i of the output depends on row i of the input only.
    const Tensor W1 = Tensor::uniform({16, 4}, -0.5, 0.5, gen, f64), b1 = Tensor::uniform({16}, -0.5, 0.5, gen, f64);
    const Tensor W2 = Tensor::uniform({3, 16}, -0.5, 0.5, gen, f64);
    const auto mlp = [&](const Tensor& X) { return log_softmax(linear(tanh(linear(X, W1, b1)), W2), -1); };
    const Tensor X = Tensor::uniform({8, 4}, -1.0, 1.0, gen, f64);
    const Tensor J_mlp = jacrev(mlp)(X);
    show("MLP 4-16-3 on a batch of 8 (automatic):", jacobian(mlp, X), J_mlp);
    show("the same, Mode::forward:", jacobian(mlp, X, Mode::forward), J_mlp);

    // 3. A matrix product mixes all inputs: dense; the mode follows n and m unless forced.
    const Tensor W = Tensor::uniform({2, 6}, -1.0, 1.0, gen, f64);
    const auto layer = [&](const Tensor& z) { return tanh(matmul(W, z)); };  // R^6 -> R^2
    const Tensor z = Tensor::uniform({6}, -1.0, 1.0, gen, f64);
    const Tensor J_layer = jacfwd(layer)(z);
    show("tanh(W z), R^6 -> R^2 (automatic):", jacobian(layer, z), J_layer);
    show("the same, Mode::forward:", jacobian(layer, z, Mode::forward), J_layer);

    // 4. jacfwd/jacrev in chunks: at most `chunk` directions per sweep bounds the memory of the tangent batch.
    JacobianOptions chunks;
    chunks.chunk = 128;
    const Tensor J_act_chunked = jacfwd(act, chunks)(x);              // 8 sweeps instead of 1
    const Tensor J_rev_chunked = jacrev(mlp, JacobianOptions{5})(X);  // 24 outputs: 5 sweeps
    const double d_fwd = max(abs(J_act - J_act_chunked)).item(), d_rev = max(abs(J_mlp - J_rev_chunked)).item();
    std::printf("jacfwd with chunk 128 vs one sweep: |difference| %.1e; jacrev with chunk 5: %.1e\n", d_fwd, d_rev);
    worst = std::max({worst, d_fwd, d_rev});

    std::printf("largest difference to jacfwd/jacrev %.1e\n", worst);
    return worst < 1e-12 ? 0 : 1;
}
