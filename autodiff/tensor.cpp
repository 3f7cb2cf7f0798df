#include <adgraph/autodiff/tensor.hpp>

#include <ostream>

#include <xtensor/xnoalias.hpp>

#include <adgraph/autodiff/dual.hpp>
#include <adgraph/autodiff/grad_mode.hpp>
#include <adgraph/autodiff/node.hpp>
#include <adgraph/autodiff/ops.hpp>
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
    return node_->mutable_value();
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

bool Tensor::needs_grad() const { return checked_node("needs_grad").needs_grad(); }
bool Tensor::is_leaf() const { return !checked_node("is_leaf").has_op(); }
const char* Tensor::op_name() const { return checked_node("op_name").name(); }

Tensor Tensor::detach() const { return Tensor(checked_node("detach").value()); }

Tensor Tensor::grad() const {
    const Node& n = checked_node("grad");
    if (!n.grad) {
        throw graph_error(std::string("grad: no gradient has been accumulated in this ") +
                          (n.has_op() ? std::string("'") + n.name() + "' result (only leaves accumulate grad)"
                                      : std::string(n.needs_grad() ? "leaf yet; call backward() on an output "
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

double Tensor::item_at(const std::vector<long>& index) const {
    const Array& v = checked_node("item").value();
    const Shape& s = v.shape();
    if (index.size() != s.size()) {
        throw shape_error("item: " + std::to_string(index.size()) + (index.size() == 1 ? " index" : " indices") +
                          " given for a tensor of shape " + shape_str(s) + "; give one index per axis (" +
                          std::to_string(s.size()) + ")");
    }
    std::size_t flat = 0;
    for (std::size_t d = 0; d < s.size(); ++d) {
        const long n = static_cast<long>(s[d]);
        const long i = index[d];
        if (i < -n || i >= n) {
            throw value_error("item: index " + std::to_string(i) + " is out of range for axis " + std::to_string(d) +
                              " of shape " + shape_str(s) + "; " +
                              (n > 0 ? "valid: " + std::to_string(-n) + ".." + std::to_string(n - 1)
                                     : std::string("none is valid: the axis is empty")));
        }
        flat = flat * s[d] + static_cast<std::size_t>(i < 0 ? i + n : i);
    }
    return v.flat(flat);
}

// ---- method forms ----

Tensor Tensor::sum(const Axes& axes, bool keepdims, Site site) const { return adg::sum(*this, axes, keepdims, site); }
Tensor Tensor::mean(const Axes& axes, bool keepdims, Site site) const { return adg::mean(*this, axes, keepdims, site); }
Tensor Tensor::max(const Axes& axes, bool keepdims, Site site) const { return adg::max(*this, axes, keepdims, site); }
Tensor Tensor::min(const Axes& axes, bool keepdims, Site site) const { return adg::min(*this, axes, keepdims, site); }
Tensor Tensor::logsumexp(const Axes& axes, bool keepdims, Site site) const {
    return adg::logsumexp(*this, axes, keepdims, site);
}
Tensor Tensor::var(const Axes& axes, double correction, bool keepdims, Site site) const {
    return adg::var(*this, axes, correction, keepdims, site);
}
Tensor Tensor::var(const Axes& axes, bool unbiased, bool keepdims, Site site) const {
    return adg::var(*this, axes, unbiased, keepdims, site);
}
Tensor Tensor::std(const Axes& axes, double correction, bool keepdims, Site site) const {
    return adg::std(*this, axes, correction, keepdims, site);
}
Tensor Tensor::std(const Axes& axes, bool unbiased, bool keepdims, Site site) const {
    return adg::std(*this, axes, unbiased, keepdims, site);
}
Tensor Tensor::argmax(std::optional<long> axis, bool keepdims, Site site) const {
    return adg::argmax(*this, axis, keepdims, site);
}
Tensor Tensor::argmin(std::optional<long> axis, bool keepdims, Site site) const {
    return adg::argmin(*this, axis, keepdims, site);
}
Tensor Tensor::softmax(long axis, Site site) const { return adg::softmax(*this, axis, site); }
Tensor Tensor::log_softmax(long axis, Site site) const { return adg::log_softmax(*this, axis, site); }

Tensor Tensor::neg(Site site) const { return adg::neg(*this, site); }
Tensor Tensor::exp(Site site) const { return adg::exp(*this, site); }
Tensor Tensor::log(Site site) const { return adg::log(*this, site); }
Tensor Tensor::sqrt(Site site) const { return adg::sqrt(*this, site); }
Tensor Tensor::abs(Site site) const { return adg::abs(*this, site); }
Tensor Tensor::square(Site site) const { return adg::square(*this, site); }
Tensor Tensor::pow(double p, Site site) const { return adg::pow(*this, p, site); }
Tensor Tensor::sin(Site site) const { return adg::sin(*this, site); }
Tensor Tensor::cos(Site site) const { return adg::cos(*this, site); }
Tensor Tensor::tanh(Site site) const { return adg::tanh(*this, site); }
Tensor Tensor::sigmoid(Site site) const { return adg::sigmoid(*this, site); }
Tensor Tensor::relu(Site site) const { return adg::relu(*this, site); }
Tensor Tensor::leaky_relu(double slope, Site site) const { return adg::leaky_relu(*this, slope, site); }
Tensor Tensor::softplus(Site site) const { return adg::softplus(*this, site); }
Tensor Tensor::clamp(double lo, double hi, Site site) const { return adg::clamp(*this, lo, hi, site); }
Tensor Tensor::to(Dtype dtype, Site site) const { return adg::cast(*this, dtype, site); }
Tensor Tensor::maximum(const Tensor& other, Site site) const { return adg::maximum(*this, other, site); }
Tensor Tensor::minimum(const Tensor& other, Site site) const { return adg::minimum(*this, other, site); }
Tensor Tensor::matmul(const Tensor& other, Site site) const { return adg::matmul(*this, other, site); }

Tensor Tensor::reshape(const Shape& shape, Site site) const { return adg::reshape(*this, shape, site); }
Tensor Tensor::permute(const std::vector<std::size_t>& perm, Site site) const {
    return adg::permute(*this, perm, site);
}
Tensor Tensor::transpose(Site site) const { return adg::transpose(*this, site); }
Tensor Tensor::broadcast_to(const Shape& shape, Site site) const { return adg::broadcast_to(*this, shape, site); }
Tensor Tensor::slice(long axis, std::size_t start, std::size_t stop, Site site) const {
    return adg::slice(*this, axis, start, stop, site);
}
Tensor Tensor::select(long axis, long index, Site site) const { return adg::select(*this, axis, index, site); }
Tensor Tensor::operator[](long i) const { return adg::select(*this, 0, i, Site{}); }
Tensor Tensor::index_select(long axis, const std::vector<std::size_t>& index, Site site) const {
    return adg::index_select(*this, axis, index, site);
}

// ---- in place ----

// x ← f(x, y) on x's node, after checking that nothing recorded could miss the change.
template <class F>
Tensor& Tensor::update(const char* op, const Tensor& y, F&& f) {
    const Node& n = checked_node(op);
    y.checked_node(op);
    if (n.has_op()) {
        throw graph_error(std::string(op) + ": this tensor was made by '" + n.name() +
                          "' and is part of a recorded graph, whose rules read its value; compute out of place "
                          "(x = x + y) or change a new leaf (x = x.detach())");
    }
    if (grad_enabled() && n.needs_grad()) {
        throw graph_error(std::string(op) +
                          ": this leaf requires grad and an in-place change is not recorded; change it under NoGrad "
                          "(as an optimizer step does), or change a copy (x.detach()) or compute out of place");
    }
    if (grad_enabled() && y.needs_grad()) {
        throw graph_error(std::string(op) +
                          ": the right operand requires grad and an in-place change is not recorded; compute out of "
                          "place (x = x + y), or pass y.detach(), or run under NoGrad");
    }
    if (detail::dual_tangent(*this).defined() || detail::dual_tangent(y).defined()) {
        throw graph_error(std::string(op) +
                          ": a running jvp carries a tangent on this tensor or the operand and an in-place change "
                          "would lose it; compute out of place (x = x + y)");
    }
    Array& v = node_->mutable_value();
    check_same_dtype(v, y.value(), op);
    if (broadcast_shape(v.shape(), y.shape(), op) != v.shape()) {
        throw shape_error(std::string(op) + ": the operand's shape " + shape_str(y.shape()) +
                          " does not broadcast to the tensor's shape " + shape_str(v.shape()) +
                          ", which an in-place change keeps; compute out of place (x = x + y)");
    }
    // Copy on write: arrays that share this buffer (a detach() of this tensor, a value saved in a graph) keep theirs.
    if (!v.unique()) v = v.clone();
    v.visit_mut([&](auto& a) {
        using T = typename std::decay_t<decltype(a)>::value_type;
        f(a, y.value().get<T>());
    });
    return *this;
}

Tensor& Tensor::operator+=(const Tensor& y) {
    return update("operator+=", y, [](auto& a, const auto& b) { xt::noalias(a) += b; });
}
Tensor& Tensor::operator-=(const Tensor& y) {
    return update("operator-=", y, [](auto& a, const auto& b) { xt::noalias(a) -= b; });
}
Tensor& Tensor::operator*=(const Tensor& y) {
    return update("operator*=", y, [](auto& a, const auto& b) { xt::noalias(a) *= b; });
}
Tensor& Tensor::operator/=(const Tensor& y) {
    return update("operator/=", y, [](auto& a, const auto& b) { xt::noalias(a) /= b; });
}
// A scalar is a 0-d operand of x's dtype (as in x * c), which broadcasts.
Tensor& Tensor::operator+=(double c) { return *this += Tensor(Array::scalar(c, dtype())); }
Tensor& Tensor::operator-=(double c) { return *this -= Tensor(Array::scalar(c, dtype())); }
Tensor& Tensor::operator*=(double c) { return *this *= Tensor(Array::scalar(c, dtype())); }
Tensor& Tensor::operator/=(double c) { return *this /= Tensor(Array::scalar(c, dtype())); }

std::ostream& operator<<(std::ostream& os, const Tensor& t) {
    if (!t.defined()) return os << "Tensor(undefined)";
    os << "Tensor(" << dtype_name(t.dtype()) << " " << shape_str(t.shape());
    if (t.needs_grad()) os << ", " << (t.is_leaf() ? "requires_grad" : t.op_name());
    return os << ")\n" << t.value();
}

}  // namespace adg
