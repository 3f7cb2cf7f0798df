#pragma once
/// \file Module: parameters and sub-modules registered by name; the base of every layer.

#include <memory>
#include <ostream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <adgraph/autodiff/anomaly.hpp>
#include <adgraph/autodiff/tensor.hpp>
#include <adgraph/nn/state_dict.hpp>

namespace adg::nn {

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
    /// The name operator<< prints for this module ("Linear"); by default the C++ class name without namespaces.
    virtual std::string type_name() const;
    /// The settings operator<< prints in the parentheses, PyTorch's extra_repr ("in_features=784,
    /// out_features=128, bias=true"); empty by default.
    virtual std::string extra_repr() const { return ""; }

    /// All parameters, depth first in registration order.
    std::vector<Tensor> parameters() const;
    /// All parameters with their dotted paths ("0.weight", "2.bias").
    std::vector<NamedTensor> named_parameters() const;
    /// All buffers, depth first in registration order.
    std::vector<Tensor> buffers() const;
    /// All buffers with their dotted paths ("1.running_mean").
    std::vector<NamedTensor> named_buffers() const;
    /// Every parameter and buffer by its dotted path, each module's parameters then its buffers then its
    /// sub-modules' (PyTorch's order). The tensors are detached handles sharing the module's arrays, as in PyTorch:
    /// later training changes them; clone() the result for a snapshot.
    StateDict state_dict() const;
    /// Copies `state`'s values into the parameters and buffers of the same names (in place: the module's tensors
    /// keep their identity, and the state dict's arrays are not shared afterwards). Every entry that matches a name
    /// must have its dtype and shape (else dtype_error / shape_error naming it); with `strict`, the names must
    /// match exactly (else value_error listing the missing and unexpected keys); without, the others are skipped
    /// and returned. Nothing is changed unless every check passes.
    LoadStateResult load_state_dict(const StateDict& state, bool strict = true);
    /// Switches this module and its sub-modules to training (true) or evaluation (false) behaviour.
    void train(bool on = true);
    /// Same as train(false).
    void eval() { train(false); }
    /// True in training mode (the default).
    bool training() const { return training_; }
    /// Forgets the accumulated gradients of all parameters.
    void zero_grad();
    /// Marks every parameter as requiring grad or not (PyTorch's requires_grad_): with `on` false, ops on the
    /// parameters record nothing for them, so a backward pass through the module computes and stores no parameter
    /// gradient (only those of its inputs); an existing optimizer leaves them alone (they hold no grad), and a new
    /// one refuses them (value_error) as parameters it could never update.
    void requires_grad(bool on = true);
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
    void collect_state(const std::string& prefix, StateDict& out) const;
    void collect(const std::string& prefix, bool buffers, std::vector<NamedTensor>& out) const;
    std::vector<NamedTensor> params_;
    std::vector<NamedTensor> buffers_;
    std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
    bool training_ = true;
};

/// Prints `m` as a tree, as PyTorch's repr: "Sequential(\n  (0): Linear(in_features=4, out_features=2,
/// bias=true)\n  (1): ReLU()\n)"; a module without sub-modules on one line, "Linear(...)".
std::ostream& operator<<(std::ostream& os, const Module& m);

/// Prints the module `m` points to (not the pointer), as libtorch does for a module holder.
template <class M, class = std::enable_if_t<std::is_convertible_v<M*, const Module*>>>
std::ostream& operator<<(std::ostream& os, const std::shared_ptr<M>& m) {
    return os << static_cast<const Module&>(*m);
}

}  // namespace adg::nn
