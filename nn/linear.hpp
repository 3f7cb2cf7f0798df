#pragma once
/// \file Linear: the lecture's layer of neurons, y = x·Wᵀ + b (an affine map per neuron).

#include <adgraph/nn/init.hpp>
#include <adgraph/nn/module.hpp>

namespace adg::nn {

/// Fully connected layer: weight (out, in), optional bias (out); forward is one fused GEMM.
class Linear : public Module {
public:
    /// A layer from `in` to `out` features with weights drawn by `init` from `gen`; the bias starts at 0.
    Linear(std::size_t in, std::size_t out, Generator& gen, bool bias = true, Init init = Init::uniform,
           Dtype dtype = f32);
    /// x·Wᵀ + b for x of shape (in) or (batch, in).
    Tensor forward(const Tensor& x) override;
    /// "Linear(784 -> 256, bias)".
    std::string to_string() const override;
    /// PyTorch-style settings for operator<<: "in_features=784, out_features=128, bias=true".
    std::string extra_repr() const override;
    /// The weight (out, in).
    const Tensor& weight() const { return weight_; }
    /// The bias (out); undefined without bias.
    const Tensor& bias() const { return bias_; }
    /// Input features.
    std::size_t in_features() const { return in_; }
    /// Output features.
    std::size_t out_features() const { return out_; }

private:
    std::size_t in_, out_;
    Tensor weight_, bias_;
};

}  // namespace adg::nn
