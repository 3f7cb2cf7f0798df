// A custom differentiable op: a numerically stable log(1 + eˣ) with a hand-written JVP only. adgraph derives its
// reverse rule by transposing the JVP; the library's own gradcheck and dot test confirm both modes, and the op
// then trains a small network.
#include <adgraph/adgraph.hpp>

#include <cmath>
#include <cstdio>

using namespace adg;

// log(1 + eˣ) = max(x, 0) + log(1 + e^-|x|): never overflows. Its derivative is σ(x).
CustomFunction stable_log1p_exp() {
    CustomFunction f;
    f.name = "log1p_exp";
    f.forward = [](const std::vector<Tensor>& x) { return relu(x[0]) + log(1.0 + exp(-abs(x[0]))); };
    f.jvp = [](const std::vector<Tensor>& x, const Tensor&, const std::vector<Tensor>& t) {
        return sigmoid(x[0]) * t[0];
    };
    return f;
}

int main() {
    const CustomFunction act = stable_log1p_exp();
    Generator gen(7);
    const Tensor probe = Tensor::from({{-50.0, -2.0, -0.3}, {0.4, 3.0, 60.0}}, f64);
    const CheckResult check = check_function(act, {probe}, gen);
    std::printf("%s\n", check.message.c_str());
    if (!check.ok) return 1;

    // y = sin(x) on [-3, 3] with a 1-32-1 network using the custom activation; minibatches, Adam.
    const nn::Linear l1(1, 32, gen), l2(32, 1, gen);
    nn::Adam opt({l1.weight(), l1.bias(), l2.weight(), l2.bias()}, nn::AdamOptions(0.01));
    const Tensor x = Tensor::uniform({256, 1}, -3, 3, gen);
    const Tensor y = sin(x);
    const auto model = [&](const Tensor& in) {
        return linear(call(act, {linear(in, l1.weight(), l1.bias())}), l2.weight(), l2.bias());
    };
    double first = 0, last = 0;
    for (int step = 0; step < 3000; ++step) {
        const std::size_t from = (step % 8) * 32;
        const Tensor xb = slice(x, 0, from, from + 32), yb = slice(y, 0, from, from + 32);
        opt.zero_grad();
        const Tensor loss = nn::mse_loss(model(xb), yb);
        loss.backward();
        opt.step();
        if (step == 0) first = nn::mse_loss(model(x), y).item();
    }
    last = nn::mse_loss(model(x), y).item();
    std::printf("training with the custom activation: mse %.4f -> %.5f\n", first, last);
    return last < 0.01 * first ? 0 : 1;
}
