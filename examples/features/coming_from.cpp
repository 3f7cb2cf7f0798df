#include <adgraph/adgraph.hpp>
#include <cmath>
#include <cstdio>
#include <sstream>

int main() {
    using namespace adg;
    int failures = 0;
    const auto expect = [&](bool ok, const char* what) {
        std::printf("%-58s %s\n", what, ok ? "ok" : "FAILED");
        failures += ok ? 0 : 1;
    };
    Generator gen(0);

    // 1. Tensors: creation, indexing, element reads, method forms, small reductions, in place without a gradient.
    Tensor x = arange(6.0, f64).reshape({2, 3});  // [[0, 1, 2], [3, 4, 5]]
    expect(x[1][2].item() == 5.0 && x.item(0, 1) == 1.0, "x[1][2].item(), x.item(0, 1)");
    expect(x.sum().item() == 15.0 && x.mean({1}).item(1) == 4.0, "x.sum(), x.mean({1})");
    expect(argmax(x, 1).item(0) == 2.0 && x.min().item() == 0.0, "argmax(x, 1), x.min()");
    expect(std::abs(x.var().item() - 3.5) < 1e-12 && std::abs(adg::std(x).item() - std::sqrt(3.5)) < 1e-12,
           "x.var() (unbiased, as torch), adg::std(x)");
    Tensor I = eye(3, f64), line = linspace(0.0, 1.0, 5, f64), noise = randn_like(x, gen);
    x += 1.0;  // x needs no gradient: changed in place, as under torch::NoGradGuard
    expect(x.item(1, 2) == 6.0 && I.item(2, 2) == 1.0 && line.item(4) == 1.0 && noise.shape() == x.shape(),
           "x += 1, eye, linspace, randn_like");

    // 2. JAX's transforms over functions of several tensors: argnums picks the inputs, one result each.
    const auto loss = [](const Tensor& w, const Tensor& b, const Tensor& v) { return sum(square(tanh(w * v + b))); };
    const Tensor w = Tensor::from({0.5, -1.0}, f64), b = Tensor::from({0.1, 0.2}, f64),
                 v = Tensor::from({1.0, 2.0}, f64);
    const std::vector<Tensor> g = grad(loss, argnums(0, 1))(w, b, v);                  // {∂/∂w, ∂/∂b}
    const Tensor gb = grad(loss, 1)(w, b, v);                                          // one position: one tensor
    const std::vector<std::vector<Tensor>> H = hessian(loss, argnums(0, 1))(w, b, v);  // blocks ∂²/∂wᵢ∂wⱼ
    expect(max(abs(g[1] - gb)).item() == 0.0 && H[0][1].shape() == Shape{2, 2}, "grad/hessian with argnums");

    // 3. A model, its optimizer and scheduler, data, state_dict and printing, as in libtorch.
    const Tensor X = Tensor::uniform({64, 2}, -1, 1, gen), Y = sum(X * X, {1}, true);  // regression targets (64, 1)
    auto net = nn::Sequential::mlp("2-16-1", gen, {"tanh"});
    nn::SGD opt(net->parameters(), nn::SGDOptions(0.1).momentum(0.9));
    nn::StepLR sched(opt, /*step_size=*/10, /*gamma=*/0.5);
    nn::DataLoader loader(nn::TensorDataset(X, Y), nn::DataLoaderOptions(16).shuffle(true).seed(1));
    const nn::StateDict start = net->state_dict().clone();
    double first = 0, last = 0;
    for (std::size_t epoch = 0; epoch < 20; ++epoch) {
        double total = 0;
        for (const nn::Batch& batch : loader.epoch(epoch)) {
            opt.zero_grad();
            Tensor l = nn::mse_loss((*net)(batch.x), batch.y);
            l.backward();
            opt.step();
            total += l.item();
        }
        sched.step();
        (epoch == 0 ? first : last) = total;
    }
    expect(last < 0.5 * first && opt.lr() == 0.025, "loss falls, StepLR halved the rate twice");
    net->load_state_dict(start);  // back to the initial weights, copied in
    expect(max(abs(net->state_dict()["0.weight"] - start["0.weight"])).item() == 0.0, "load_state_dict");
    std::ostringstream printed;
    printed << net;
    std::printf("%s\n", printed.str().c_str());
    expect(printed.str().rfind("Sequential(", 0) == 0, "operator<< prints the module tree");
    return failures == 0 ? 0 : 1;
}
