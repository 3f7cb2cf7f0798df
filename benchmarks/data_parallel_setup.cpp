#include "data_parallel_setup.hpp"

#include <adgraph/nn/init.hpp>
#include <adgraph/nn/model_spec.hpp>

#include <stdexcept>

#include "output.hpp"

namespace adg::bench {

std::string DpCase::line() const {
    const std::string model = name == "mlp" ? spec + " relu" : std::string("cnn preset");
    return format("%s, dropout %g, %s init; adamw lr %g weight decay %g", model.c_str(), dropout, init.c_str(), lr,
                  weight_decay);
}

DpCase dp_case(const std::string& name) {
    // adgraph train's defaults (apps/adgraph/train.hpp) and those of its cnn preset (cnn_preset_options).
    if (name == "mlp") return {"mlp", "784-256-128-10", 0.1, "he", 1e-3, 0.05, {784}};
    if (name == "cnn") return {"cnn", "cnn", 0.3, "uniform", 2e-3, 0.05, {1, 28, 28}};
    throw std::invalid_argument("bench_data_parallel: no case '" + name + "' (mlp or cnn)");
}

nn::Dataset dp_data(const std::string& dir, std::size_t limit, std::string& source) {
    try {
        nn::Dataset d = nn::load_fashion_mnist(dir, nn::Split::train, limit);
        source = "fashion-mnist (" + std::to_string(d.size()) + ")";
        return d;
    } catch (const io_error&) {
        // CI has no data set: the same shapes, so the same work per step.
        const std::size_t rows = limit ? limit : 60000;
        nn::Dataset d;
        Generator gen(42);
        d.images = Tensor::uniform({rows, 784}, -1.0, 1.0, gen, f32);
        for (std::size_t i = 0; i < rows; ++i) d.labels.push_back((i * 7919) % 10);
        source = "synthetic (" + std::to_string(rows) + ")";
        return d;
    }
}

std::shared_ptr<nn::Sequential> dp_model(const DpCase& c) {
    nn::MlpOptions mo;
    mo.dropout = c.dropout;
    mo.init = nn::parse_init(c.init);
    Generator gen(1);
    return nn::build_model(c.spec, gen, mo);
}

std::unique_ptr<nn::Optimizer> dp_optimizer(const DpCase& c, nn::Module& model) {
    return std::make_unique<nn::AdamW>(model.named_parameters(), nn::AdamWOptions(c.lr).weight_decay(c.weight_decay));
}

Tensor dp_input(const DpCase& c, const Tensor& x) {
    if (c.input.size() <= 1) return x;
    Shape s{x.shape()[0]};
    s.insert(s.end(), c.input.begin(), c.input.end());
    return reshape(x, s);
}

std::size_t gradient_bytes(nn::Module& model) { return 4 * model.parameter_count(); }

}  // namespace adg::bench
