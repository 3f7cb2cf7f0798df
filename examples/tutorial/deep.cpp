#include <adgraph/adgraph.hpp>
#include <adgraph/nn/sequential.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>

int main() {
    using namespace adg;
    Generator gen(0);
    // A deep net is a chain of layers: 4 inputs, two hidden layers of 8 tanh neurons, 3 outputs.
    nn::MlpOptions options;
    options.activation = "tanh";
    options.dtype = f64;
    auto net = nn::Sequential::mlp("4-8-8-3", gen, options);
    std::printf("%s\n%zu parameters:", net->to_string().c_str(), net->parameter_count());
    for (const auto& [name, p] : net->named_parameters())
        std::printf(" %s%s", name.c_str(), shape_str(p.shape()).c_str());

    // The same chain written out: h ← tanh(h·Wᵀ + b) per hidden layer, no activation after the last.
    Tensor X = Tensor::uniform({5, 4}, -1.0, 1.0, gen, f64);
    const auto params = net->parameters();
    Tensor h = X;
    for (std::size_t i = 0; i < params.size(); i += 2) {
        h = linear(h, params[i], params[i + 1]);
        if (i + 2 < params.size()) h = tanh(h);
    }
    Tensor out = (*net)(X);
    double worst = 0;
    for (std::size_t i = 0; i < out.size(); ++i)
        worst = std::max(worst, std::abs(out.value().flat(i) - h.value().flat(i)));
    std::printf("\noutput %s, largest difference to the written-out chain %.1e\n", shape_str(out.shape()).c_str(),
                worst);

    // One backward sweep through the whole chain gives every parameter a gradient of its own shape.
    sum(out).backward();
    for (const auto& [name, p] : net->named_parameters()) {
        std::printf("d sum(out) / d %-8s %-7s |grad| = %.6f\n", name.c_str(), shape_str(p.grad().shape()).c_str(),
                    std::sqrt(sum(square(p.grad())).item()));
    }
    return worst == 0 ? 0 : 1;
}
