#pragma once
/// \file Activation modules: the nonlinearity after a neuron's affine map.

#include <adgraph/nn/module.hpp>

namespace adg::nn {

/// max(x, 0).
class ReLU : public Module {
public:
    /// relu(x).
    Tensor forward(const Tensor& x) override;
    /// "ReLU()".
    std::string to_string() const override { return "ReLU()"; }
};

/// x for x > 0, slope·x otherwise.
class LeakyReLU : public Module {
public:
    /// A leaky ReLU with the given negative slope.
    explicit LeakyReLU(double slope = 0.01) : slope_(slope) {}
    /// leaky_relu(x, slope).
    Tensor forward(const Tensor& x) override;
    /// "LeakyReLU(0.01)".
    std::string to_string() const override;
    /// PyTorch-style settings for operator<<: "negative_slope=0.01".
    std::string extra_repr() const override;

private:
    double slope_;
};

/// 1 / (1 + e⁻ˣ).
class Sigmoid : public Module {
public:
    /// sigmoid(x).
    Tensor forward(const Tensor& x) override;
    /// "Sigmoid()".
    std::string to_string() const override { return "Sigmoid()"; }
};

/// tanh x.
class Tanh : public Module {
public:
    /// tanh(x).
    Tensor forward(const Tensor& x) override;
    /// "Tanh()".
    std::string to_string() const override { return "Tanh()"; }
};

/// softmax along an axis (last by default).
class Softmax : public Module {
public:
    /// Softmax along `axis`.
    explicit Softmax(long axis = -1) : axis_(axis) {}
    /// softmax(x, axis).
    Tensor forward(const Tensor& x) override;
    /// "Softmax(axis=-1)".
    std::string to_string() const override;
    /// PyTorch-style settings for operator<<: "dim=-1".
    std::string extra_repr() const override { return "dim=" + std::to_string(axis_); }

private:
    long axis_;
};

}  // namespace adg::nn
