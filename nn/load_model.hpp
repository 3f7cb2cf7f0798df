#pragma once
/// \file Loading a model from a checkpoint written by `adgraph train` (or save_checkpoint with a "model" metadata
/// entry): the model is rebuilt from the spec in its metadata, then filled with the file's values.

#include <functional>
#include <memory>
#include <string>

#include <adgraph/nn/checkpoint.hpp>
#include <adgraph/nn/model_spec.hpp>
#include <adgraph/nn/sequential.hpp>

namespace adg::nn {

/// A model rebuilt from a checkpoint's metadata, with the checkpoint's parameters.
struct LoadedModel {
    /// The model, in evaluation mode.
    std::shared_ptr<Sequential> model;
    /// The checkpoint's metadata block.
    Metadata metadata;
    /// The spec the model was built from (the checkpoint's, or the one passed in).
    std::string spec;
    /// The shape of one sample as the model takes it ((784) for an MLP, (1, 28, 28) for a CNN).
    Shape input;
};

/// Reads the checkpoint at `path` and rebuilds its model from the metadata ("model", "activation", "dropout");
/// `spec` overrides the stored model spec. The file's tensors are checked against the planned model before it is
/// built, so a lying header never sizes an allocation. Throws io_error naming the checkpoint for a missing spec,
/// corrupt metadata, a `spec` of another kind (MLP or layer list) than the file's model or tensors that do not fit;
/// value_error for a model too large for memory; what read_checkpoint throws for a malformed file. `check_plan`, if
/// given, sees the spec and its planned model first and may throw to refuse it (its error gets the checkpoint as
/// context).
LoadedModel load_model(const std::string& path, const std::string& spec = "",
                       const std::function<void(const std::string& spec, const ModelPlan& plan)>& check_plan = {});

}  // namespace adg::nn
