// Fused losses: softmax cross-entropy from logits and integer labels, one op instead of log_softmax, one_hot,
// a product and a sum (a training step's loss was half a dozen nodes and as many passes over the logits).

#include <cmath>
#include <limits>
#include <memory>

#include <adgraph/autodiff/internal/op_samples.hpp>

namespace adg {

namespace {

using Labels = std::shared_ptr<const std::vector<std::size_t>>;

// r = s·(softmax(x) − one_hot(labels)) row by row, the cross-entropy's gradient with respect to its logits, as one
// pass over x (the rule as separate ops was softmax, one_hot, a difference and two products: 25 µs of every MLP
// step on 128×10 logits). With P = softmax(x), linear in the residual's softmax part:
// ṙ = s·P ⊙ (ẋ − Σ_c P ⊙ ẋ), x̄ = s·P ⊙ (r̄ − Σ_c P ⊙ r̄) (the softmax's own rule, scaled).
struct SoftmaxResidual {
    static constexpr Custom kind{};
    static constexpr const char* name = "softmax_residual";
    Locality locality(const std::vector<Shape>&, const Shape&, const std::vector<char>&) const {
        return Locality::rows;
    }
    Labels labels;
    double s = 1.0;

    Array forward(const Array& x) const {
        return x.visit([&](const auto& a) {
            using T = typename std::decay_t<decltype(a)>::value_type;
            const std::size_t rows = a.shape()[0], cols = a.shape()[1];
            auto out = new_xarray<T>(a.shape(), name);
            const T* p = a.data();
            T* q = out.data();
            const T scale = static_cast<T>(s);
            for (std::size_t r = 0; r < rows; ++r, p += cols, q += cols) {
                // Shifted by the row's maximum as softmax is (NaN wins the maximum and so reaches the output).
                T m = -std::numeric_limits<T>::infinity();
                for (std::size_t c = 0; c < cols; ++c) m = (p[c] > m || p[c] != p[c]) ? p[c] : m;
                T sum = 0;
                for (std::size_t c = 0; c < cols; ++c) sum += (q[c] = std::exp(p[c] - m));
                for (std::size_t c = 0; c < cols; ++c) q[c] = scale * (q[c] / sum);
                q[(*labels)[r]] -= scale;
            }
            return Array(std::move(out));
        });
    }
    Tensor jvp(const std::vector<Tensor>& x, const Tensor&, const std::vector<Tensor>& t) const {
        const Tensor p = softmax(x[0], -1);
        return (p * (t[0] - sum_to_core(p * t[0], x[0].shape(), {x[0].shape()[0], 1}))) * s;
    }
    Tensor vjp(const std::vector<Tensor>& x, const Tensor&, const Tensor& ct, std::size_t) const {
        const Tensor p = softmax(x[0], -1);
        return (p * (ct - sum_to_core(ct * p, x[0].shape(), {x[0].shape()[0], 1}))) * s;
    }
    static std::vector<OpSample> samples(Generator& gen) {
        std::vector<OpSample> out;
        const SoftmaxResidual op{std::make_shared<const std::vector<std::size_t>>(std::vector<std::size_t>{2, 0, 1}),
                                 1.0 / 3.0};
        out.push_back({std::string(name) + " (3,4)",
                       {sample_tensor({3, 4}, {-3.0, 3.0}, gen)},
                       [op](const std::vector<Tensor>& xs) { return apply(op, xs[0]); }});
        return out;
    }
};

// y = s·Σᵣ (logsumexp(xᵣ) − xᵣ,ₗᵣ) with s = 1/rows (mean) or 1, so with P = softmax(x) and Y = one_hot(labels):
// ẏ = s·Σ (P − Y) ⊙ ẋ, x̄ = ȳ·s·(P − Y).
struct SoftmaxCrossEntropy {
    static constexpr Custom kind{};
    static constexpr const char* name = "softmax_cross_entropy";
    Labels labels;
    bool mean = true;

    Array forward(const Array& x) const {
        return x.visit([&](const auto& a) {
            using T = typename std::decay_t<decltype(a)>::value_type;
            const std::size_t rows = a.shape()[0], cols = a.shape()[1];
            const T* p = a.data();
            double total = 0;
            for (std::size_t r = 0; r < rows; ++r, p += cols) {
                // Shift by the row's maximum when it is finite (NaN wins the maximum and so reaches the loss).
                T m = -std::numeric_limits<T>::infinity();
                for (std::size_t c = 0; c < cols; ++c) m = (p[c] > m || p[c] != p[c]) ? p[c] : m;
                if (!std::isfinite(m)) m = T(0);
                T s = 0;
                for (std::size_t c = 0; c < cols; ++c) s += std::exp(p[c] - m);
                // log s − (x − m), not (log s + m) − x: that sum is rounded at the scale of the logits.
                total += static_cast<double>(std::log(s) - (p[(*labels)[r]] - m));
            }
            // An empty batch's mean is NaN (a mean of nothing), reached without dividing by zero.
            const double value = !mean       ? total
                                 : rows == 0 ? std::numeric_limits<double>::quiet_NaN()
                                             : total / static_cast<double>(rows);
            return Array::scalar(value, dtype_of<T>());
        });
    }
    // 1/rows, NaN for an empty batch (its gradient, of shape (0, classes), is empty anyway).
    static double scale(std::size_t rows) {
        return rows == 0 ? std::numeric_limits<double>::quiet_NaN() : 1.0 / static_cast<double>(rows);
    }
    double scale(const Tensor& x) const { return mean ? scale(x.shape()[0]) : 1.0; }
    // s·(P − Y): the gradient of the loss with respect to the logits for s = scale(x).
    Tensor residual(const Tensor& x, double s) const { return apply(SoftmaxResidual{labels, s}, x); }
    Tensor jvp(const std::vector<Tensor>& x, const Tensor& y, const std::vector<Tensor>& t) const {
        // Scaled after the sum: an empty batch's mean has the tangent NaN, not a sum of nothing.
        return sum_to_core(residual(x[0], 1.0) * t[0], x[0].shape(), y.shape()) * scale(x[0]);
    }
    Tensor vjp(const std::vector<Tensor>& x, const Tensor&, const Tensor& ct, std::size_t) const {
        // ct is (k): one scalar per direction, reshaped to (k, 1, 1) to broadcast over the logits.
        return reshape_core(ct, {}, {1, 1}) * residual(x[0], scale(x[0]));
    }
    static std::vector<OpSample> samples(Generator& gen) {
        struct Case {
            Shape shape;
            std::vector<std::size_t> labels;
            bool mean;
        };
        const std::vector<Case> cases = {
            {{2, 3}, {1, 0}, true}, {{4, 5}, {4, 0, 2, 2}, true}, {{3, 4}, {3, 1, 0}, false}, {{1, 2}, {1}, true}};
        std::vector<OpSample> out;
        for (const auto& c : cases) {
            const SoftmaxCrossEntropy op{std::make_shared<const std::vector<std::size_t>>(c.labels), c.mean};
            out.push_back({std::string(name) + " " + shape_str(c.shape) + (c.mean ? " mean" : " sum"),
                           {sample_tensor(c.shape, {-3.0, 3.0}, gen)},
                           [op](const std::vector<Tensor>& xs) { return apply(op, xs[0]); }});
        }
        return out;
    }
};

Tensor cross_entropy(const Tensor& logits, const std::vector<std::size_t>& labels, bool mean) {
    if (logits.dim() != 2 || logits.shape()[0] != labels.size() || logits.shape()[1] == 0) {
        throw shape_error("softmax_cross_entropy: logits " + shape_str(logits.shape()) + " and " +
                          std::to_string(labels.size()) +
                          " labels do not fit; need logits (batch, classes) with at least one class and one label "
                          "per row");
    }
    const std::size_t classes = logits.shape()[1];
    for (std::size_t i = 0; i < labels.size(); ++i) {
        if (labels[i] >= classes) {
            throw value_error("softmax_cross_entropy: label " + std::to_string(labels[i]) + " at position " +
                              std::to_string(i) + " is out of range for " + std::to_string(classes) + " classes (" +
                              index_range_str(classes) + ")");
        }
    }
    return apply(SoftmaxCrossEntropy{std::make_shared<const std::vector<std::size_t>>(labels), mean}, logits);
}

}  // namespace

#define ADG_OP_FUNCTIONS  // the public functions of the op table
#include <adgraph/autodiff/ops_loss.def>

const OpList& loss_ops() {
    static const OpList list = {
#define ADG_OP_LIST  // the entries of the op table
#include <adgraph/autodiff/ops_loss.def>
    };
    return list;
}

}  // namespace adg
