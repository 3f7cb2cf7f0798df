#pragma once
/// \file Model specs: the text that names a network on the command line and in a checkpoint. Three forms:
///  - MLP layer sizes joined by '-': "784-256-128-10" (Sequential::mlp);
///  - a layer list joined by ',', applied to images (C, H, W), e.g.
///    "conv32k3p1,bn,relu,maxpool2,flatten,linear10" or "rows,gru128,last,linear10" (see layer_spec_grammar);
///    between its layers a sample is an image (C, H, W), a sequence (T, F) (`rows` makes one of an image, a
///    recurrent layer maps one to another, `last` keeps its last step) or features (F);
///  - a preset name: "cnn" or "gru" (see preset_layers).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <adgraph/nn/sequential.hpp>

namespace adg::nn {

/// The layer-list grammar in one line, as messages and --help quote it.
extern const char* const layer_spec_grammar;

/// True if `spec` is meant as MLP layer sizes: no preset name, no ',' or parentheses, and it starts with a digit or
/// holds a '-' (so "784-x-10" is a malformed MLP, "linear10" a layer list).
bool is_mlp_spec(const std::string& spec);

/// The layer list a preset stands for, or "" if `spec` is no preset. The preset "cnn": conv32k3p1,bn,relu,maxpool2,
/// conv64k3p1,bn,relu,maxpool2,flatten,linear128,relu,dropout,linear10 (its bare "dropout" takes the options' p);
/// the preset "gru": rows,gru128,last,linear10 (an image read as a sequence of its rows, classified from a GRU's
/// last state).
std::string preset_layers(const std::string& spec);

/// What a spec builds, worked out without allocating any parameter.
struct ModelPlan {
    /// True for an MLP spec.
    bool mlp = true;
    /// The shape of one sample as the model takes it: (784) for the MLP 784-..., (1, 28, 28) for a layer list on
    /// Fashion-MNIST.
    Shape input;
    /// The shape of one sample's output ((10) for a classifier of 10 classes).
    Shape output;
    /// Every parameter and buffer the model will hold, with its name, dtype and shape.
    std::vector<ParameterShape> tensors;
    /// Values one sample keeps for the backward pass over all layers (outputs, for convolutions their unfolded
    /// inputs, for recurrent layers every step's gate pre-activations and state): an estimate for memory checks.
    std::uint64_t activation_values = 0;
};

/// Plans `spec` (any of the three forms) for samples of shape `image` (layer lists) with `options` (MLP: all of
/// them; layer lists: the init, the dtype and the p of a bare "dropout"). Throws value_error naming the spec, the
/// layer at fault and what is allowed: an unknown or malformed layer, sizes that do not fit (e.g. linear on
/// images without flatten, a kernel larger than its input, a res(...) block that changes the shape), a layer given
/// the wrong kind of sample (e.g. gru on images without rows). Parameter names are those of the built Sequential,
/// PyTorch's inside each layer ("1.weight_ih_l0" for the GRU of rows,gru128,last,linear10).
ModelPlan plan_model(const std::string& spec, const MlpOptions& options = {}, const Shape& image = {1, 28, 28});

/// Bytes the model of `plan` needs: its parameters and buffers, `state_copies` more copies of the parameters
/// (gradients, optimizer moments) and the activations of `rows` samples with their gradients. Saturates at
/// UINT64_MAX.
std::uint64_t model_memory_bytes(const ModelPlan& plan, std::size_t state_copies, std::size_t rows);

/// The model `spec` names, for samples of shape `image` (layer lists): weights drawn from `gen` as `options.init`
/// says. Throws what plan_model throws, and value_error before allocating when the parameters do not fit into
/// memory.
std::shared_ptr<Sequential> build_model(const std::string& spec, Generator& gen, const MlpOptions& options = {},
                                        const Shape& image = {1, 28, 28});

}  // namespace adg::nn
