#pragma once
/// \file Checkpoints: a model's parameters, its optimizer's state and a metadata block in one safetensors file.
/// Tensor names: parameters under their module path ("0.weight"), optimizer state under "optim.<slot path>"
/// ("optim.0.weight.m", "optim.step"). See docs/checkpoints.md.

#include <string>

#include <adgraph/nn/module.hpp>
#include <adgraph/nn/optim.hpp>
#include <adgraph/nn/safetensors.hpp>

namespace adg::nn {

/// Writes `model`'s parameters, `optimizer`'s state (if given) and `metadata` to `path`, atomically.
void save_checkpoint(const std::string& path, const Module& model, const Optimizer* optimizer,
                     const Metadata& metadata);

/// Loads a checkpoint into `model` (and `optimizer`, if given) and returns its metadata. Every parameter must be
/// present with the model's dtype and shape, and the file may hold no other parameters; otherwise io_error
/// names the file, the tensor and both shapes. Nothing is modified unless everything matches.
Metadata load_checkpoint(const std::string& path, Module& model, Optimizer* optimizer);

/// The metadata block of a checkpoint (validates the whole file).
Metadata read_checkpoint_metadata(const std::string& path);

/// The full state of `gen` as text (for the metadata block).
std::string generator_state(const Generator& gen);
/// Restores a state written by generator_state(); throws io_error if `state` is not one.
void set_generator_state(Generator& gen, const std::string& state);

}  // namespace adg::nn
