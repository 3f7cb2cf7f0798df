#pragma once
/// \file Losses from the lecture: squared (mse), absolute (l1) and cross-entropy from logits.

#include <vector>

#include <adgraph/autodiff/tensor.hpp>

namespace adg::nn {

/// How per-element losses are combined.
enum class Reduction {
    mean,  ///< average over elements (mse, l1) or samples (cross_entropy); NaN over none, as in numpy
    sum,   ///< total
};

/// Squared error (pred - target)², reduced; the lecture's quadratic loss (also on one-hot targets).
Tensor mse_loss(const Tensor& pred, const Tensor& target, Reduction reduction = Reduction::mean);
/// Absolute error |pred - target|, reduced.
Tensor l1_loss(const Tensor& pred, const Tensor& target, Reduction reduction = Reduction::mean);
/// −log softmax(logits)[label] per row of logits (batch, classes), reduced; stable (fused log-softmax).
Tensor cross_entropy(const Tensor& logits, const std::vector<std::size_t>& labels,
                     Reduction reduction = Reduction::mean);

/// Fraction of rows whose largest logit is at the label (0 for no rows).
double accuracy(const Tensor& logits, const std::vector<std::size_t>& labels);
/// Index of the largest entry of each row of a (batch, classes) tensor.
std::vector<std::size_t> argmax_rows(const Tensor& logits);

}  // namespace adg::nn
