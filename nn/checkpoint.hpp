#pragma once
/// \file Checkpoints: a model's parameters and buffers, its optimizer's state and a metadata block in one safetensors
/// file, built on Module::state_dict() / load_state_dict(). Tensor names: parameters and buffers under their module
/// path ("0.weight", "1.running_mean"), optimizer state under "optim.<slot path>" ("optim.0.weight.m", "optim.step").
/// See docs/checkpoints.md.

#include <string>
#include <vector>

#include <adgraph/nn/module.hpp>
#include <adgraph/nn/optim.hpp>
#include <adgraph/nn/safetensors.hpp>

namespace adg::nn {

/// Writes `model`'s state_dict() (parameters and buffers), `optimizer`'s state (if given) and `metadata` (if any) to
/// `path`, atomically: `save_checkpoint("model.safetensors", *net)` is enough. Throws value_error, writing nothing,
/// if any of them holds NaN or ±Inf (such a checkpoint would be refused on load).
void save_checkpoint(const std::string& path, const Module& model, const Optimizer* optimizer = nullptr,
                     const Metadata& metadata = {});
/// Same as save_checkpoint(path, model, nullptr, metadata): a model and its metadata, without optimizer state.
void save_checkpoint(const std::string& path, const Module& model, const Metadata& metadata);

/// The bytes save_checkpoint would write for `model`, `optimizer` (if given) and `metadata`, e.g. to send a model
/// over HTTP without a file. Throws value_error "checkpoint_bytes: ..." if any tensor holds NaN or ±Inf.
std::string checkpoint_bytes(const Module& model, const Optimizer* optimizer = nullptr, const Metadata& metadata = {});

/// The model part of a checkpoint file as a state dict: its tensors other than optimizer state ("optim.*"), in file
/// order, sharing the file's arrays.
StateDict checkpoint_state_dict(const SafetensorsFile& file);

/// Loads a checkpoint into `model` (and `optimizer`, if given) and returns its metadata. Every parameter and
/// buffer must be present with the model's dtype and shape, and the file may hold no others; otherwise io_error
/// names the file, the tensor and both shapes. Nothing is modified unless everything matches.
/// Same as load_checkpoint(path, read_checkpoint(path), model, optimizer).
Metadata load_checkpoint(const std::string& path, Module& model, Optimizer* optimizer = nullptr);

/// Reads a checkpoint file (one read, one parse of its header; see load_safetensors) and checks what every
/// checkpoint must hold: finite values. A tensor (parameter or optimizer state) holding NaN or ±Inf is refused
/// with io_error naming the tensor, the first bad element (flat and multi-index) and how many there are.
SafetensorsFile read_checkpoint(const std::string& path);

/// Checks that `file` (read from `path` by read_checkpoint) holds exactly the parameters and buffers `expected`, by
/// name, dtype and shape, as load_checkpoint does for a model, but without one: a model is built only once the file
/// has been shown to fit it, so a header declaring a huge layer never sizes an allocation. Throws io_error naming
/// the tensor and both shapes, or the missing parameter (or buffer) with its shape and size in bytes. Allocates
/// nothing.
void check_checkpoint_parameters(const std::string& path, const SafetensorsFile& file,
                                 const std::vector<ParameterShape>& expected);

/// Loads `file`, read from `path` by read_checkpoint, into `model` (and `optimizer`, if given) and returns its
/// metadata; the checks and errors of load_checkpoint(path, model, optimizer).
Metadata load_checkpoint(const std::string& path, const SafetensorsFile& file, Module& model,
                         Optimizer* optimizer = nullptr);

/// The metadata block of a checkpoint (validates the whole file, as read_checkpoint does).
Metadata read_checkpoint_metadata(const std::string& path);

/// The full state of `gen` as text (for the metadata block).
std::string generator_state(const Generator& gen);
/// Restores a state written by generator_state(); throws io_error if `state` is not one.
void set_generator_state(Generator& gen, const std::string& state);

}  // namespace adg::nn
