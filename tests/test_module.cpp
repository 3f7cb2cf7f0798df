// nn/module: operator<< prints a module tree as PyTorch's repr does (the expected strings are PyTorch 1.13's
// print(model) of the same layers, with C++'s true/false and without the fields adgraph's layers do not have:
// Dropout's inplace, BatchNorm's affine / track_running_stats, the pools' dilation / ceil_mode).

#include <doctest/doctest.h>

#include <memory>
#include <sstream>
#include <string>

#include <adgraph/adgraph.hpp>
#include <adgraph/nn/batch_norm.hpp>
#include <adgraph/nn/conv.hpp>
#include <adgraph/nn/flatten.hpp>
#include <adgraph/nn/pool.hpp>
#include <adgraph/nn/residual.hpp>

using namespace adg;
using namespace adg::nn;

namespace {

template <class T>
std::string printed(const T& m) {
    std::ostringstream s;
    s << m;
    return s.str();
}

// A user's module that overrides nothing about printing: its class name and its sub-modules.
class TwoLayer : public Module {
public:
    explicit TwoLayer(Generator& gen) {
        first_ = register_module("first", std::make_shared<Linear>(4, 3, gen));
        second_ = register_module("second", std::make_shared<Linear>(3, 1, gen, false));
    }
    Tensor forward(const Tensor& x) override { return (*second_)(relu((*first_)(x))); }
    std::string to_string() const override { return "TwoLayer"; }

private:
    std::shared_ptr<Linear> first_, second_;
};

}  // namespace

TEST_CASE("operator<<: a Sequential MLP prints as PyTorch's repr") {
    Generator gen(0);
    auto net = std::make_shared<Sequential>();
    net->add(std::make_shared<Linear>(784, 128, gen));
    net->add(std::make_shared<ReLU>());
    net->add(std::make_shared<Dropout>(0.5));
    net->add(std::make_shared<Linear>(128, 10, gen, false));
    const std::string expected =
        "Sequential(\n"
        "  (0): Linear(in_features=784, out_features=128, bias=true)\n"
        "  (1): ReLU()\n"
        "  (2): Dropout(p=0.5)\n"
        "  (3): Linear(in_features=128, out_features=10, bias=false)\n"
        ")";
    CHECK(printed(*net) == expected);
    CHECK(printed(net) == expected);  // a shared_ptr prints its module, not its address
    CHECK(printed(Sequential()) == "Sequential()");
    CHECK(printed(Linear(2, 3, gen)) == "Linear(in_features=2, out_features=3, bias=true)");
}

TEST_CASE("operator<<: every layer type, nested modules indented two spaces per level") {
    Generator gen(0);
    auto inner = std::make_shared<Sequential>();
    inner->add(std::make_shared<Conv2d>(4, 4, 3, gen, 1, 1, 1, 1, /*bias=*/false));
    inner->add(std::make_shared<Tanh>());
    auto net = std::make_shared<Sequential>();
    net->add(std::make_shared<Conv2d>(1, 4, 3, gen, 1, 1));
    net->add(std::make_shared<BatchNorm2d>(4));
    net->add(std::make_shared<ReLU>());
    net->add(std::make_shared<MaxPool2d>(2));
    net->add(std::make_shared<Residual>(inner));
    net->add(std::make_shared<AvgPool2d>(Size2(2, 1)));
    net->add(std::make_shared<Flatten>());
    net->add(std::make_shared<Linear>(16, 8, gen));
    net->add(std::make_shared<LeakyReLU>(0.2));
    net->add(std::make_shared<Dropout>(0.25));
    net->add(std::make_shared<Linear>(8, 3, gen, false));
    net->add(std::make_shared<Sigmoid>());
    net->add(std::make_shared<Softmax>(1));
    net->add(std::make_shared<Conv2d>(2, 6, Size2(3, 5), gen, 2, 0, 2, 2));
    net->add(std::make_shared<BatchNorm1d>(3, 0.2, 1e-3));
    net->add(std::make_shared<MaxPool2d>(3, 2, 1));
    CHECK(printed(*net) ==
          "Sequential(\n"
          "  (0): Conv2d(1, 4, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))\n"
          "  (1): BatchNorm2d(4, eps=1e-05, momentum=0.1)\n"
          "  (2): ReLU()\n"
          "  (3): MaxPool2d(kernel_size=2, stride=2, padding=0)\n"
          "  (4): Residual(\n"
          "    (inner): Sequential(\n"
          "      (0): Conv2d(4, 4, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=false)\n"
          "      (1): Tanh()\n"
          "    )\n"
          "  )\n"
          "  (5): AvgPool2d(kernel_size=(2, 1), stride=(2, 1), padding=0)\n"
          "  (6): Flatten(start_dim=1, end_dim=-1)\n"
          "  (7): Linear(in_features=16, out_features=8, bias=true)\n"
          "  (8): LeakyReLU(negative_slope=0.2)\n"
          "  (9): Dropout(p=0.25)\n"
          "  (10): Linear(in_features=8, out_features=3, bias=false)\n"
          "  (11): Sigmoid()\n"
          "  (12): Softmax(dim=1)\n"
          "  (13): Conv2d(2, 6, kernel_size=(3, 5), stride=(2, 2), dilation=(2, 2), groups=2)\n"
          "  (14): BatchNorm1d(3, eps=0.001, momentum=0.2)\n"
          "  (15): MaxPool2d(kernel_size=3, stride=2, padding=1)\n"
          ")");
    // The one-line summary the CLI prints is unchanged.
    CHECK(net->children()[0].second->to_string() == "Conv2d(1 -> 4, 3x3, padding 1, bias)");
}

TEST_CASE("operator<<: a user's module prints its class name and its registered sub-modules") {
    Generator gen(0);
    const TwoLayer m(gen);
    CHECK(m.type_name() == "TwoLayer");
    CHECK(printed(m) ==
          "TwoLayer(\n"
          "  (first): Linear(in_features=4, out_features=3, bias=true)\n"
          "  (second): Linear(in_features=3, out_features=1, bias=false)\n"
          ")");
}
