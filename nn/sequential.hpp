#pragma once
/// \file Sequential: a chain of modules, the lecture's deep network as a composition of layers.

#include <adgraph/nn/init.hpp>
#include <adgraph/nn/message_text.hpp>
#include <adgraph/nn/module.hpp>

namespace adg::nn {

/// Options for building an MLP from a spec string.
struct MlpOptions {
    /// Activation after every hidden layer: relu, leaky_relu, tanh or sigmoid.
    std::string activation = "relu";
    /// Dropout probability after every hidden activation (0: none).
    double dropout = 0.0;
    /// Weight initialisation.
    Init init = Init::uniform;
    /// Parameter dtype.
    Dtype dtype = f32;
};

/// Modules applied in order; sub-modules are named "0", "1", ...
class Sequential : public Module {
public:
    /// An empty chain.
    Sequential() = default;
    /// Appends `m` and returns this chain.
    Sequential& add(std::shared_ptr<Module> m);
    /// Each module applied to the previous one's output.
    Tensor forward(const Tensor& x) override;
    /// "Sequential(Linear(784 -> 256, bias), ReLU(), ...)".
    std::string to_string() const override;
    /// Number of modules.
    std::size_t size() const { return children().size(); }

    /// An MLP from "784-256-128-10": Linear layers between consecutive sizes with `options.activation` (and
    /// dropout) after each hidden layer; throws value_error naming the spec and what is wrong, or, before
    /// allocating, the bytes its parameters need when they exceed this process's memory (nn/memory.hpp).
    static std::shared_ptr<Sequential> mlp(const std::string& spec, Generator& gen, const MlpOptions& options = {});
};

/// The parameters (names, dtypes, shapes) that Sequential::mlp(spec, gen, options) would create, computed
/// without allocating any of them; throws the same value_error as Sequential::mlp for a bad spec or activation.
std::vector<ParameterShape> mlp_parameter_shapes(const std::string& spec, const MlpOptions& options = {});

/// The layer sizes of an MLP spec ("784-256-128-10" → {784, 256, 128, 10}); throws value_error when malformed.
std::vector<std::size_t> parse_mlp_spec(const std::string& spec);

}  // namespace adg::nn
