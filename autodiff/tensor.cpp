#include <adgraph/autodiff/tensor.hpp>

#include <ostream>

#include <adgraph/autodiff/node.hpp>
#include <adgraph/autodiff/sweep.hpp>
#include <adgraph/tensor/dtype_range.hpp>
#include <adgraph/tensor/pool.hpp>

namespace adg {

Tensor::Tensor(Array value) : node_(make_pooled<Node>(std::move(value))) {}

namespace {

// The values a constructor is given as doubles, checked before they are stored in `dtype`.
void check_storable_all(const double* values, std::size_t n, Dtype dtype, const char* op) {
    for (std::size_t i = 0; i < n; ++i) check_storable(values[i], dtype, op, "element " + std::to_string(i));
}

}  // namespace

Tensor Tensor::from(std::initializer_list<double> values, Dtype dtype) {
    xt::xarray<double> a = xt::xarray<double>::from_shape({values.size()});
    std::copy(values.begin(), values.end(), a.data());
    check_storable_all(a.data(), a.size(), dtype, "Tensor::from");
    return Tensor(Array(std::move(a)).to(dtype));
}

Tensor Tensor::from(std::initializer_list<std::initializer_list<double>> rows, Dtype dtype) {
    const std::size_t cols = rows.size() ? rows.begin()->size() : 0;
    xt::xarray<double> a = xt::xarray<double>::from_shape({rows.size(), cols});
    std::size_t r = 0;
    for (const auto& row : rows) {
        if (row.size() != cols) {
            throw shape_error("Tensor::from: row " + std::to_string(r) + " has " + std::to_string(row.size()) +
                              " values but row 0 has " + std::to_string(cols) + "; all rows need equal length");
        }
        std::copy(row.begin(), row.end(), a.data() + r * cols);
        ++r;
    }
    check_storable_all(a.data(), a.size(), dtype, "Tensor::from");
    return Tensor(Array(std::move(a)).to(dtype));
}

Tensor Tensor::from(const std::vector<double>& values, const Shape& shape, Dtype dtype) {
    if (values.size() != numel(shape)) {
        throw shape_error("Tensor::from: " + std::to_string(values.size()) + " values do not fill shape " +
                          shape_str(shape) + " (" + std::to_string(numel(shape)) + " elements)");
    }
    check_storable_all(values.data(), values.size(), dtype, "Tensor::from");
    xt::xarray<double> a = xt::xarray<double>::from_shape(shape);
    std::copy(values.begin(), values.end(), a.data());
    return Tensor(Array(std::move(a)).to(dtype));
}

Tensor Tensor::scalar(double value, Dtype dtype) {
    check_storable(value, dtype, "Tensor::scalar", "value");
    return Tensor(Array::scalar(value, dtype));
}

Tensor Tensor::full(const Shape& shape, double value, Dtype dtype) {
    check_storable(value, dtype, "Tensor::full", "value");
    return Tensor(Array::full(shape, value, dtype, "Tensor::full"));
}

Tensor Tensor::zeros(const Shape& shape, Dtype dtype) {
    return Tensor(Array::full(shape, 0.0, dtype, "Tensor::zeros"));
}

Tensor Tensor::ones(const Shape& shape, Dtype dtype) { return Tensor(Array::full(shape, 1.0, dtype, "Tensor::ones")); }

Tensor Tensor::uniform(const Shape& shape, double lo, double hi, Generator& gen, Dtype dtype) {
    return Tensor(adg::uniform(shape, lo, hi, dtype, gen));
}

Tensor Tensor::normal(const Shape& shape, double mean, double std, Generator& gen, Dtype dtype) {
    return Tensor(adg::normal(shape, mean, std, dtype, gen));
}

const Node& Tensor::checked_node(const char* what) const {
    if (!node_) {
        throw graph_error(std::string(what) +
                          ": the tensor is undefined (default-constructed or moved from); "
                          "assign it a value first");
    }
    return *node_;
}

const Array& Tensor::value() const { return checked_node("value").value(); }

Array& Tensor::mutable_value() const {
    const Node& n = checked_node("mutable_value");
    if (n.has_op()) {
        throw graph_error(
            std::string("mutable_value: only leaves can be updated in place, but this tensor was made by '") +
            n.name() + "'; update the leaves it was computed from and run the forward pass again");
    }
    return node_->value_mut();
}

Tensor Tensor::requires_grad(bool on) const {
    const Node& n = checked_node("requires_grad");
    if (n.has_op()) {
        throw graph_error(std::string("requires_grad: only leaf tensors can be marked, but this one was made by '") +
                          n.name() + "'; use detach().requires_grad() to start a new leaf from its value");
    }
    node_->set_requires_grad(on);
    return *this;
}

bool Tensor::needs_grad() const { return checked_node("needs_grad").requires_grad(); }
bool Tensor::is_leaf() const { return !checked_node("is_leaf").has_op(); }
const char* Tensor::op_name() const { return checked_node("op_name").name(); }

Tensor Tensor::detach() const { return Tensor(checked_node("detach").value()); }

Tensor Tensor::grad() const {
    const Node& n = checked_node("grad");
    if (!n.grad) {
        throw graph_error(std::string("grad: no gradient has been accumulated in this ") +
                          (n.has_op() ? std::string("'") + n.name() + "' result (only leaves accumulate grad)"
                                      : std::string(n.requires_grad() ? "leaf yet; call backward() on an output "
                                                                        "that depends on it"
                                                                      : "leaf: it does not require grad; mark it "
                                                                        "with requires_grad() before the forward "
                                                                        "pass")));
    }
    return n.grad;
}

bool Tensor::has_grad() const { return static_cast<bool>(checked_node("has_grad").grad); }

void Tensor::zero_grad() const {
    checked_node("zero_grad");
    node_->grad = Tensor();
}

void Tensor::backward(const BackwardOptions& options) const {
    const Node& n = checked_node("backward");
    if (n.value().size() != 1) {
        throw graph_error("backward: the output has shape " + shape_str(n.value().shape()) +
                          "; backward() without a seed needs a one-element output. Reduce it (e.g. sum) or pass a "
                          "seed of shape " +
                          shape_str(n.value().shape()) + ": y.backward(seed)");
    }
    backward(Tensor(Array::full(n.value().shape(), 1.0, n.value().dtype())), options);
}

void Tensor::backward(const Tensor& seed, const BackwardOptions& options) const {
    accumulate_grad({*this}, {seed}, options);
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) {
    if (!t.defined()) return os << "Tensor(undefined)";
    os << "Tensor(" << dtype_name(t.dtype()) << " " << shape_str(t.shape());
    if (t.needs_grad()) os << ", " << (t.is_leaf() ? "requires_grad" : t.op_name());
    return os << ")\n" << t.value();
}

}  // namespace adg
