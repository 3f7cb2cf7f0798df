#pragma once
// What the outlook programs (docs/outlook.md) share: the data, a trained classifier, pictures of tensors, the
// process's resident memory and the engine checks made while an input is optimised. Not installed: a fixture of the
// examples.

#include <cstddef>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include <adgraph/adgraph.hpp>
#include <adgraph/nn/data.hpp>
#include <adgraph/nn/load_model.hpp>
#include <adgraph/nn/png.hpp>

namespace outlook {

/// Fashion-MNIST's side in pixels.
inline constexpr std::size_t side = 28;

/// Loads a Fashion-MNIST split (the first `limit` images if > 0); on failure prints "<program>: <error>" and exits
/// with 77 if `dir` does not exist (the data is not installed: CTest counts a skip), else 1.
adg::nn::Dataset load_split(const std::string& program, const std::string& dir, adg::nn::Split split,
                            std::size_t limit);

/// A classifier written by `adgraph train` (MLP or layer list), in evaluation mode with every parameter frozen
/// (requires_grad false): the outlook programs differentiate with respect to inputs only. Prints the error and
/// exits 1 if the checkpoint cannot be loaded.
adg::nn::LoadedModel load_classifier(const std::string& program, const std::string& path);

/// Rows (B, 784) of normalised pixels as `input` says the model takes them: (B, 1, 28, 28) for a CNN, unchanged
/// for an MLP.
adg::Tensor as_model_input(const adg::Tensor& rows, const adg::Shape& input);

/// Normalised pixels (as nn::load_fashion_mnist makes them) back to [0, 1].
adg::Tensor to_unit(const adg::Tensor& normalised);
/// Pixels in [0, 1] to normalised pixels, the reverse of to_unit.
adg::Tensor from_unit(const adg::Tensor& unit);

/// A tensor of normalised pixels holding a square image (s² values in any shape, e.g. (28, 28), (784) or
/// (1, 1, s, s)) as a gray image in pixel space (values clamped to [0, 1], a non-finite value drawn black), each
/// pixel a `scale` x `scale` block. Throws value_error if the size is not a square.
adg::nn::Image gray_picture(const adg::Tensor& normalised, std::size_t scale);

/// A (3, H, W) tensor in [0, 1] (clamped, a non-finite value drawn black) as an RGB image.
adg::nn::Image rgb_picture(const adg::Tensor& chw);

/// The process's resident set size in bytes (/proc/self/statm), 0 if unreadable.
std::size_t rss_bytes();

/// The number of `parameters` holding a gradient: after a backward pass through a frozen model (load_classifier
/// freezes it) it must be 0, the sweep stopping at the input and storing nothing in the weights.
std::size_t parameters_with_grad(const std::vector<adg::Tensor>& parameters);
/// The same for a model's parameters (a template so that any Module matches it exactly).
template <class Model, class = std::enable_if_t<std::is_base_of_v<adg::nn::Module, Model>>>
std::size_t parameters_with_grad(const Model& model) {
    return parameters_with_grad(model.parameters());
}

/// What a program optimising an input checks about the engine: the frozen model collects no gradient, and neither
/// the graph (live nodes) nor the process (resident memory) grows from one step to the next. The first `settle`
/// steps may allocate (optimizer state, the allocator's pools); from then on the live nodes between steps are the
/// baseline, and any step ending with more alive is a leak. RSS is compared within one phase (an image size: see
/// new_phase), from its `settle`-th step to its last.
class Probe {
public:
    /// `model` names the frozen model in the messages ("classifier", "feature network").
    explicit Probe(std::string model = "classifier", std::size_t settle = 3);

    /// Call after each backward pass through the frozen model with parameters_with_grad of it.
    void after_backward(std::size_t parameters_with_grad);
    /// Call after each step, when the step's tensors are out of scope.
    void after_step();
    /// Starts a phase whose buffers differ in size from the previous one's (a new image size): the RSS comparison
    /// restarts with it. `what` says which (printed with the RSS line).
    void new_phase(std::string what);

    /// Prints the memory report (`rss: start X MiB, end Y MiB over N steps`, `live nodes: before A, after B`) and,
    /// if after_backward was called, the frozen model's gradient count, each line after `prefix`; returns false,
    /// printing "<program>: FAIL: ..." to stderr, if the live nodes grew or a parameter held a gradient.
    bool report(const std::string& program, const std::string& prefix = "") const;

private:
    std::string model_, phase_;
    std::size_t settle_, steps_ = 0, phase_steps_ = 0, rss_start_ = 0, rss_end_ = 0;
    std::size_t backwards_ = 0, parameter_grads_ = 0;
    long nodes_before_ = 0, nodes_after_ = 0, nodes_most_ = 0;
};

}  // namespace outlook
