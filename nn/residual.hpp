#pragma once
/// \file Residual: a skip connection, x + f(x), the block that lets very deep networks train.

#include <memory>

#include <adgraph/nn/module.hpp>

namespace adg::nn {

/// x + inner(x); the inner module is registered as "inner", so its parameters are "inner.0.weight", ...
class Residual : public Module {
public:
    /// A block around `inner`, which must map its input to the same shape.
    explicit Residual(std::shared_ptr<Module> inner);
    /// x + inner(x); throws shape_error naming both shapes if inner(x) has another shape than x.
    Tensor forward(const Tensor& x) override;
    /// "Residual(Sequential(...))".
    std::string to_string() const override { return "Residual(" + inner_->to_string() + ")"; }
    /// The inner module.
    const std::shared_ptr<Module>& inner() const { return inner_; }

private:
    std::shared_ptr<Module> inner_;
};

}  // namespace adg::nn
