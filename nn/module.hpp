#pragma once
/// \file Module: parameters and sub-modules registered by name; the base of every layer.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <adgraph/autodiff/anomaly.hpp>
#include <adgraph/autodiff/tensor.hpp>

namespace adg::nn {

/// A named parameter ("0.weight").
using NamedTensor = std::pair<std::string, Tensor>;

/// What a parameter (or buffer) is without its values: name, dtype and shape (for checking a file before building a
/// model).
struct ParameterShape {
    /// The dotted path ("0.weight").
    std::string name;
    /// The element type.
    Dtype dtype;
    /// The shape.
    Shape shape;
    /// True for a buffer (state saved with the model but not trained, e.g. BatchNorm's running mean).
    bool buffer = false;
};

/// A differentiable function with state: parameters (leaves that require grad), buffers (state that is not trained
/// but saved with the model, e.g. BatchNorm's running statistics) and sub-modules, all registered under names, so
/// parameters(), named_parameters(), buffers() and named_buffers() walk the whole tree.
class Module {
public:
    virtual ~Module() = default;
    /// The module's function of a batch.
    virtual Tensor forward(const Tensor& x) = 0;
    /// forward(x), with the caller's line recorded as the call site of the ops it runs (anomaly mode).
    Tensor operator()(const Tensor& x, Site site = Site::here()) {
        CallSite call(site);
        return forward(x);
    }
    /// A one-line description, e.g. "Linear(784 -> 256, bias)".
    virtual std::string to_string() const = 0;

    /// All parameters, depth first in registration order.
    std::vector<Tensor> parameters() const;
    /// All parameters with their dotted paths ("0.weight", "2.bias").
    std::vector<NamedTensor> named_parameters() const;
    /// All buffers, depth first in registration order.
    std::vector<Tensor> buffers() const;
    /// All buffers with their dotted paths ("1.running_mean").
    std::vector<NamedTensor> named_buffers() const;
    /// Switches this module and its sub-modules to training (true) or evaluation (false) behaviour.
    void train(bool on = true);
    /// Same as train(false).
    void eval() { train(false); }
    /// True in training mode (the default).
    bool training() const { return training_; }
    /// Forgets the accumulated gradients of all parameters.
    void zero_grad();
    /// Sub-modules with their names.
    const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& children() const { return children_; }
    /// Total number of parameter elements.
    std::size_t parameter_count() const;

protected:
    /// Registers `t` as a parameter named `name` (marks it requires_grad) and returns it.
    Tensor register_parameter(const std::string& name, Tensor t);
    /// Registers `t` as a buffer named `name` (it does not require grad) and returns it.
    Tensor register_buffer(const std::string& name, Tensor t);
    /// Registers `m` as a sub-module named `name` and returns it.
    template <class M>
    std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> m) {
        children_.emplace_back(name, m);
        return m;
    }

private:
    void collect(const std::string& prefix, bool buffers, std::vector<NamedTensor>& out) const;
    std::vector<NamedTensor> params_;
    std::vector<NamedTensor> buffers_;
    std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
    bool training_ = true;
};

}  // namespace adg::nn
