#pragma once
/// \file Classification metrics: a confusion matrix with per-class accuracy.

#include <string>
#include <vector>

namespace adg::nn {

/// Counts of (true class, predicted class) pairs.
class ConfusionMatrix {
public:
    /// An empty matrix for `classes` classes.
    explicit ConfusionMatrix(std::size_t classes);
    /// Records one prediction; throws value_error for a class out of range.
    void add(std::size_t truth, std::size_t predicted);
    /// Records a batch of predictions.
    void add(const std::vector<std::size_t>& truth, const std::vector<std::size_t>& predicted);
    /// Count of samples of class `truth` predicted as `predicted`.
    std::size_t at(std::size_t truth, std::size_t predicted) const { return counts_[truth * n_ + predicted]; }
    /// Number of classes.
    std::size_t classes() const { return n_; }
    /// Samples recorded.
    std::size_t total() const;
    /// Fraction predicted correctly.
    double accuracy() const;
    /// Fraction of class c predicted correctly (0 if the class has no samples).
    double class_accuracy(std::size_t c) const;
    /// A table with class names as rows (truth) and column numbers (predicted).
    std::string to_string(const std::vector<std::string>& names) const;
    /// The matrix as CSV with a header row of class names.
    std::string to_csv(const std::vector<std::string>& names) const;

private:
    std::size_t n_;
    std::vector<std::size_t> counts_;
};

}  // namespace adg::nn
