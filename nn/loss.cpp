#include <adgraph/nn/loss.hpp>

#include <adgraph/autodiff/ops.hpp>

namespace adg::nn {

namespace {

void check_same_shape(const Tensor& pred, const Tensor& target, const char* loss) {
    if (pred.shape() != target.shape()) {
        throw shape_error(std::string(loss) + ": prediction " + shape_str(pred.shape()) + " and target " +
                          shape_str(target.shape()) +
                          " differ; give targets of the prediction's shape (one_hot for class labels)");
    }
}

Tensor reduce(const Tensor& per_element, Reduction r) {
    return r == Reduction::mean ? mean(per_element) : sum(per_element);
}

void check_labels(const Tensor& logits, const std::vector<std::size_t>& labels, const char* who) {
    if (logits.dim() != 2 || logits.shape()[0] != labels.size()) {
        throw shape_error(std::string(who) + ": logits " + shape_str(logits.shape()) + " and " +
                          std::to_string(labels.size()) +
                          " labels do not fit; need logits (batch, classes) with one "
                          "label per row");
    }
}

}  // namespace

Tensor mse_loss(const Tensor& pred, const Tensor& target, Reduction reduction) {
    check_same_shape(pred, target, "mse_loss");
    return reduce(square(pred - target), reduction);
}

Tensor l1_loss(const Tensor& pred, const Tensor& target, Reduction reduction) {
    check_same_shape(pred, target, "l1_loss");
    return reduce(abs(pred - target), reduction);
}

Tensor cross_entropy(const Tensor& logits, const std::vector<std::size_t>& labels, Reduction reduction) {
    check_labels(logits, labels, "cross_entropy");
    return softmax_cross_entropy(logits, labels, reduction == Reduction::mean);
}

std::vector<std::size_t> argmax_rows(const Tensor& logits) {
    if (logits.dim() != 2) {
        throw shape_error("argmax_rows: needs (batch, classes), got " + shape_str(logits.shape()));
    }
    const std::size_t rows = logits.shape()[0], cols = logits.shape()[1];
    std::vector<std::size_t> out(rows);
    for (std::size_t r = 0; r < rows; ++r) {
        std::size_t best = 0;
        for (std::size_t c = 1; c < cols; ++c) {
            if (logits.value().flat(r * cols + c) > logits.value().flat(r * cols + best)) best = c;
        }
        out[r] = best;
    }
    return out;
}

double accuracy(const Tensor& logits, const std::vector<std::size_t>& labels) {
    check_labels(logits, labels, "accuracy");
    const auto pred = argmax_rows(logits);
    std::size_t hits = 0;
    for (std::size_t i = 0; i < labels.size(); ++i) hits += pred[i] == labels[i];
    return labels.empty() ? 0.0 : static_cast<double>(hits) / static_cast<double>(labels.size());
}

}  // namespace adg::nn
