#pragma once
/// \file Op lists: each op file ends with the list of its ops; the test suite iterates all lists, so listing an
/// op puts it under gradcheck (both modes), the dot test and the batched-directions test.

#include <functional>
#include <string>
#include <vector>

#include <adgraph/autodiff/tensor.hpp>

namespace adg {

/// A function of several tensors (what gradcheck, the dot test and the samples below take).
using MultiFn = std::function<Tensor(const std::vector<Tensor>&)>;

/// One way to call an op, with inputs chosen off its kinks (float64).
struct OpSample {
    /// E.g. "mul (2,3)·(3)".
    std::string label;
    /// float64 inputs; convert for other dtypes.
    std::vector<Tensor> inputs;
    /// Applies the op (with the sample's parameters) to inputs.
    MultiFn fn;
};

/// An entry of an op list: the op's name and its samples.
struct OpInfo {
    /// The op's name as recorded in the graph.
    std::string name;
    /// Sample calls, drawn from `gen`.
    std::function<std::vector<OpSample>(Generator& gen)> samples;
};

/// A list of ops.
using OpList = std::vector<OpInfo>;

/// Unary elementwise ops (value + derivative) and the tensor∘scalar forms.
const OpList& elementwise_ops();
/// Binary broadcasting ops (add, sub, mul, div, maximum, minimum, where).
const OpList& binary_ops();
/// Linear shape ops (value + transpose).
const OpList& shape_ops();
/// Reductions (max, logsumexp) and the softmax family.
const OpList& reduction_ops();
/// matmul and linear.
const OpList& matmul_ops();
/// Fused losses (softmax cross-entropy).
const OpList& loss_ops();
/// conv2d.
const OpList& conv_ops();
/// max_pool2d, avg_pool2d and global_avg_pool2d.
const OpList& pool_ops();
/// batch_norm in training and evaluation mode.
const OpList& norm_ops();
/// Recurrent cells (gru_gates).
const OpList& rnn_ops();
/// Public functions composed of other ops (sum over axes, mean, stack, ...), checked the same way.
const OpList& composite_ops();
/// select, min, var, std (ops_index.cpp).
const OpList& index_ops();
/// Every list above, concatenated.
OpList all_ops();

}  // namespace adg
