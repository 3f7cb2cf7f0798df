#pragma once
/// \file Evaluation shared by `adgraph train`, `adgraph eval` and `adgraph predict`.

#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include <adgraph/nn/checkpoint.hpp>
#include <adgraph/nn/data.hpp>
#include <adgraph/nn/load_model.hpp>
#include <adgraph/nn/metrics.hpp>
#include <adgraph/nn/sequential.hpp>

namespace adg::cli {

using nn::LoadedModel;

/// Loss, accuracy and confusion matrix of a model on a dataset.
struct EvalResult {
    double loss = 0.0;
    double accuracy = 0.0;
    nn::ConfusionMatrix confusion{10};
};

/// Evaluates `model` (in eval mode, nothing recorded) on `data` in batches, each reshaped to (rows, `input`...)
/// unless `input` is empty; throws value_error if an output is not finite (weights so large that the forward pass
/// overflows) instead of reporting a NaN loss, naming the image as `first_image` + its row (`data` may be a part of
/// a larger set starting at `first_image`).
EvalResult evaluate(nn::Module& model, const nn::Dataset& data, std::size_t batch = 1000, const Shape& input = {},
                    std::size_t first_image = 0);

/// The rows `x` (B, features) as the model takes them: (B, `input`...), e.g. (B, 1, 28, 28) for a CNN; `x` itself
/// if `input` is empty or one axis (an MLP).
Tensor model_batch(const Tensor& x, const Shape& input);

/// Throws value_error naming the image and class unless every value of `logits` (rows: images `first_row`, ...)
/// is finite.
void check_finite_outputs(const Tensor& logits, std::size_t first_row);

/// Throws shape_error naming `data`'s file and image shape unless its images are 28x28 (Fashion-MNIST's shape) and
/// have `inputs` values, as the first layer of `model` (described as e.g. "the model 784-16-10") takes.
void check_images_fit(const nn::Dataset& data, std::size_t inputs, const std::string& model);

/// The Fashion-MNIST class names.
std::vector<std::string> class_names();

/// "class  accuracy" lines for every class.
std::string per_class_table(const nn::ConfusionMatrix& m);

/// nn::load_model, refusing (naming the checkpoint) a model without one output per Fashion-MNIST class.
LoadedModel load_model(const std::string& path, const std::string& spec = "");

/// `adgraph eval`: test accuracy, per-class accuracy and confusion matrix of a checkpoint.
int eval_command(const std::string& path, const std::string& spec, const std::string& data, std::size_t limit,
                 std::ostream& out);

/// `adgraph graph`: the graph of one cross-entropy step of the model `spec` names (an MLP, a layer list or a
/// preset) on a dummy batch, as Graphviz DOT.
int graph_command(const std::string& spec, std::size_t batch, const std::string& path, std::ostream& out);

/// `adgraph predict`: one test image as text art, its true class and the predicted probabilities.
int predict_command(const std::string& path, const std::string& data, std::size_t index, std::ostream& out);

}  // namespace adg::cli
