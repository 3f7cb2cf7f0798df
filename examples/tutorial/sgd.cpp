#include <adgraph/adgraph.hpp>
#include <adgraph/nn/data.hpp>
#include <adgraph/nn/init.hpp>
#include <adgraph/nn/loss.hpp>
#include <adgraph/nn/optim.hpp>
#include <adgraph/nn/sequential.hpp>
#include <cmath>
#include <cstdio>

int main() {
    using namespace adg;
    Generator gen(1);
    // 2000 points in the square [-3, 3]²; the class is the ring the point lies in (radius < 1.2, < 2.2, beyond).
    nn::Dataset data;
    data.classes = 3;
    data.images = Tensor::uniform({2000, 2}, -3.0, 3.0, gen);
    for (std::size_t i = 0; i < 2000; ++i) {
        const double r = std::hypot(data.images.value().flat(2 * i), data.images.value().flat(2 * i + 1));
        data.labels.push_back(r < 1.2 ? 0 : r < 2.2 ? 1 : 2);
    }

    // Weights start in U(-c, c) with c = 1/√fan_in (nn::Init::uniform, the default); biases start at 0.
    auto net = nn::Sequential::mlp("2-32-32-3", gen);
    for (const auto& [name, p] : net->named_parameters()) {
        if (p.dim() != 2) continue;
        const double c = nn::init_bound(nn::Init::uniform, p.shape()[1], p.shape()[0]);
        std::printf("%-8s c = 1/sqrt(%3zu) = %.4f, drawn in [%+.4f, %+.4f]\n", name.c_str(), p.shape()[1], c,
                    -max(-p).item(), max(p).item());
    }

    // Minibatch SGD: each step follows the gradient of the loss on 50 shuffled samples.
    nn::DataLoader loader(data, 50, /*shuffle=*/true, /*seed=*/1);
    nn::SGD sgd(net->parameters(), nn::SGDOptions(/*lr=*/0.1));
    double acc = 0;
    for (std::size_t epoch = 0; epoch < 60; ++epoch) {
        double total = 0;
        for (const nn::Batch& b : loader.epoch(epoch)) {
            Tensor loss = nn::cross_entropy((*net)(b.x), b.labels);
            loss.backward();
            sgd.step();
            sgd.zero_grad();
            total += loss.item();
        }
        NoGrad no_grad;
        acc = nn::accuracy((*net)(data.images), data.labels);
        if (epoch % 10 == 9)
            std::printf("epoch %2zu  loss %.4f  train accuracy %.1f %%\n", epoch + 1, total / loader.batches(),
                        100 * acc);
    }
    return acc > 0.9 ? 0 : 1;
}
