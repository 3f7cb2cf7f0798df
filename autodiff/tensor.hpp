#pragma once
/// \file Tensor: the user's handle to a value in the dynamic computation graph.

#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <optional>
#include <type_traits>
#include <vector>

#include <adgraph/autodiff/anomaly.hpp>
#include <adgraph/tensor/array.hpp>
#include <adgraph/tensor/random.hpp>

namespace adg {

class Node;

/// Options of a reverse sweep started from `Tensor::backward`.
struct BackwardOptions {
    /// Keep the graph so it can be swept again (forward or backward).
    bool retain_graph = false;
    /// Record the sweep itself so the gradient can be differentiated again (implies retain_graph).
    bool create_graph = false;
};

/// A cheap handle to a graph node: its value, whether it requires grad, its accumulated grad (leaves) and, for
/// a recorded result, the op that made it. Copies share the node.
class Tensor {
public:
    /// An undefined tensor (no node); `defined()` is false.
    Tensor() = default;
    /// A constant leaf holding `value` (shared, not copied).
    explicit Tensor(Array value);
    /// A constant leaf holding `a`. Only a moved-in array is adopted without copying (`Tensor(std::move(a))`);
    /// an lvalue `a` is copied (once, into the parameter), so later changes to `a` do not reach the tensor.
    explicit Tensor(xt::xarray<float> a) : Tensor(Array(std::move(a))) {}
    /// As the float overload: adopts a moved-in array, copies an lvalue.
    explicit Tensor(xt::xarray<double> a) : Tensor(Array(std::move(a))) {}
    /// A handle to an existing node.
    explicit Tensor(std::shared_ptr<Node> node) : node_(std::move(node)) {}

    /// A 1-D tensor from values.
    static Tensor from(std::initializer_list<double> values, Dtype dtype = f32);
    /// A 2-D tensor from rows (all rows of equal length).
    static Tensor from(std::initializer_list<std::initializer_list<double>> rows, Dtype dtype = f32);
    /// A tensor of `shape` from values in row-major order (as many values as elements).
    static Tensor from(const std::vector<double>& values, const Shape& shape, Dtype dtype = f32);
    /// A 0-d tensor.
    static Tensor scalar(double value, Dtype dtype = f32);
    /// A tensor of `shape` filled with `value`.
    static Tensor full(const Shape& shape, double value, Dtype dtype = f32);
    /// Zeros of `shape`.
    static Tensor zeros(const Shape& shape, Dtype dtype = f32);
    /// Ones of `shape`.
    static Tensor ones(const Shape& shape, Dtype dtype = f32);
    /// U(lo, hi) values drawn from `gen`.
    static Tensor uniform(const Shape& shape, double lo, double hi, Generator& gen, Dtype dtype = f32);
    /// N(mean, std²) values drawn from `gen`.
    static Tensor normal(const Shape& shape, double mean, double std, Generator& gen, Dtype dtype = f32);

    /// True if this handle refers to a node.
    bool defined() const { return static_cast<bool>(node_); }
    /// Same as defined().
    explicit operator bool() const { return defined(); }

    /// The value (shared with the node; never a lazy expression).
    const Array& value() const;
    /// The value as an xtensor array; throws dtype_error if T does not match.
    template <class T>
    const xt::xarray<T>& data() const {
        return value().get<T>();
    }
    /// The value of a leaf for in-place updates (optimizers, loading checkpoints); throws graph_error on an op
    /// result. Graphs recorded from this leaf see the new value.
    Array& mutable_value() const;
    /// Element type.
    Dtype dtype() const { return value().dtype(); }
    /// Shape.
    const Shape& shape() const { return value().shape(); }
    /// Number of axes.
    std::size_t dim() const { return value().dim(); }
    /// Number of elements.
    std::size_t size() const { return value().size(); }
    /// The single element as double (throws shape_error otherwise).
    double item() const { return value().item(); }
    /// The element at (i, j, ...) as double, one index per axis, negative ones counting from the end: `x.item(1, 2)`
    /// reads what `x.value().flat(1 * cols + 2)` does. Throws shape_error for the wrong number of indices,
    /// value_error for one out of range.
    template <class... I, class = std::enable_if_t<(sizeof...(I) > 0) && (std::is_integral_v<I> && ...)>>
    double item(I... index) const {
        return item_at({static_cast<long>(index)...});
    }

    /// Marks this leaf as requiring grad (or not) and returns it; throws graph_error on a non-leaf.
    Tensor requires_grad(bool on = true) const;
    /// True if gradients flow to or through this tensor.
    bool needs_grad() const;
    /// True if no op made this tensor (user-created, detached, or computed without recording).
    bool is_leaf() const;
    /// Name of the op that made this tensor ("leaf" for leaves).
    const char* op_name() const;
    /// A new leaf sharing this value, cut from the graph.
    Tensor detach() const;

    /// The gradient accumulated by backward(); throws graph_error if none has been accumulated.
    Tensor grad() const;
    /// True if backward() has accumulated a gradient here.
    bool has_grad() const;
    /// Forgets the accumulated gradient.
    void zero_grad() const;
    /// Reverse sweep from this scalar (one-element) output; accumulates into leaves' grad().
    void backward(const BackwardOptions& options = {}) const;
    /// Reverse sweep seeded with `seed` (same shape as this tensor); accumulates into leaves' grad().
    void backward(const Tensor& seed, const BackwardOptions& options = {}) const;

    // ---- method forms of the free functions (ops.hpp): x.sum() is sum(x), and so on ----

    /// sum(x, axes, keepdims).
    Tensor sum(const Axes& axes = {}, bool keepdims = false, Site site = Site::here()) const;
    /// mean(x, axes, keepdims).
    Tensor mean(const Axes& axes = {}, bool keepdims = false, Site site = Site::here()) const;
    /// max(x, axes, keepdims).
    Tensor max(const Axes& axes = {}, bool keepdims = false, Site site = Site::here()) const;
    /// min(x, axes, keepdims).
    Tensor min(const Axes& axes = {}, bool keepdims = false, Site site = Site::here()) const;
    /// logsumexp(x, axes, keepdims).
    Tensor logsumexp(const Axes& axes = {}, bool keepdims = false, Site site = Site::here()) const;
    /// var(x, axes, correction, keepdims).
    Tensor var(const Axes& axes, double correction, bool keepdims = false, Site site = Site::here()) const;
    /// var(x, axes, unbiased, keepdims).
    Tensor var(const Axes& axes = {}, bool unbiased = true, bool keepdims = false, Site site = Site::here()) const;
    /// std(x, axes, correction, keepdims).
    Tensor std(const Axes& axes, double correction, bool keepdims = false, Site site = Site::here()) const;
    /// std(x, axes, unbiased, keepdims).
    Tensor std(const Axes& axes = {}, bool unbiased = true, bool keepdims = false, Site site = Site::here()) const;
    /// argmax(x, axis, keepdims).
    Tensor argmax(std::optional<long> axis = std::nullopt, bool keepdims = false, Site site = Site::here()) const;
    /// argmin(x, axis, keepdims).
    Tensor argmin(std::optional<long> axis = std::nullopt, bool keepdims = false, Site site = Site::here()) const;
    /// softmax(x, axis).
    Tensor softmax(long axis = -1, Site site = Site::here()) const;
    /// log_softmax(x, axis).
    Tensor log_softmax(long axis = -1, Site site = Site::here()) const;

    /// neg(x).
    Tensor neg(Site site = Site::here()) const;
    /// exp(x).
    Tensor exp(Site site = Site::here()) const;
    /// log(x).
    Tensor log(Site site = Site::here()) const;
    /// sqrt(x).
    Tensor sqrt(Site site = Site::here()) const;
    /// abs(x).
    Tensor abs(Site site = Site::here()) const;
    /// square(x).
    Tensor square(Site site = Site::here()) const;
    /// pow(x, p).
    Tensor pow(double p, Site site = Site::here()) const;
    /// sin(x).
    Tensor sin(Site site = Site::here()) const;
    /// cos(x).
    Tensor cos(Site site = Site::here()) const;
    /// tanh(x).
    Tensor tanh(Site site = Site::here()) const;
    /// sigmoid(x).
    Tensor sigmoid(Site site = Site::here()) const;
    /// relu(x).
    Tensor relu(Site site = Site::here()) const;
    /// leaky_relu(x, slope).
    Tensor leaky_relu(double slope = 0.01, Site site = Site::here()) const;
    /// softplus(x).
    Tensor softplus(Site site = Site::here()) const;
    /// clamp(x, lo, hi).
    Tensor clamp(double lo, double hi, Site site = Site::here()) const;
    /// cast(x, dtype) (libtorch's x.to(dtype)).
    Tensor to(Dtype dtype, Site site = Site::here()) const;
    /// maximum(x, other).
    Tensor maximum(const Tensor& other, Site site = Site::here()) const;
    /// minimum(x, other).
    Tensor minimum(const Tensor& other, Site site = Site::here()) const;
    /// matmul(x, other).
    Tensor matmul(const Tensor& other, Site site = Site::here()) const;

    /// reshape(x, shape).
    Tensor reshape(const Shape& shape, Site site = Site::here()) const;
    /// permute(x, perm).
    Tensor permute(const std::vector<std::size_t>& perm, Site site = Site::here()) const;
    /// transpose(x): the last two axes swapped.
    Tensor transpose(Site site = Site::here()) const;
    /// broadcast_to(x, shape).
    Tensor broadcast_to(const Shape& shape, Site site = Site::here()) const;
    /// slice(x, axis, start, stop).
    Tensor slice(long axis, std::size_t start, std::size_t stop, Site site = Site::here()) const;
    /// select(x, axis, index): entry `index` along `axis`, the axis removed (differentiable).
    Tensor select(long axis, long index, Site site = Site::here()) const;
    /// select(x, 0, i): `x[i]` is row i of a matrix, element i of a vector (a 0-d tensor); negative i counts from
    /// the end. Differentiable; `x[i][j].item()` reads an element as libtorch code does.
    Tensor operator[](long i) const;
    /// index_select(x, axis, index).
    Tensor index_select(long axis, const std::vector<std::size_t>& index, Site site = Site::here()) const;

    // ---- in place, on tensors that need no gradient (libtorch's x.add_(y) under no_grad) ----

    /// x ← x + y in place (y broadcasts to x's shape). Allowed on a leaf that needs no gradient here: one that
    /// does not require grad, or any leaf under NoGrad (an optimizer-style update). Every handle to this tensor
    /// sees the new value; a buffer shared with another tensor (a detach() of it, a graph's saved value) is copied
    /// first, so those keep theirs. Throws graph_error, naming the remedy, on a recorded result, on a leaf requiring
    /// grad while grad mode is on and for a y requiring grad; shape_error if y does not broadcast to x's shape;
    /// dtype_error for mixed dtypes.
    Tensor& operator+=(const Tensor& y);
    /// x ← x − y in place (as +=).
    Tensor& operator-=(const Tensor& y);
    /// x ← x · y in place (as +=).
    Tensor& operator*=(const Tensor& y);
    /// x ← x / y in place (as +=).
    Tensor& operator/=(const Tensor& y);
    /// x ← x + c in place (as +=; c in x's dtype).
    Tensor& operator+=(double c);
    /// x ← x − c in place (as +=).
    Tensor& operator-=(double c);
    /// x ← x · c in place (as +=).
    Tensor& operator*=(double c);
    /// x ← x / c in place (as +=).
    Tensor& operator/=(double c);

    /// The node (engine use).
    const std::shared_ptr<Node>& node() const { return node_; }

private:
    const Node& checked_node(const char* what) const;
    double item_at(const std::vector<long>& index) const;
    template <class F>
    Tensor& update(const char* op, const Tensor& y, F&& f);
    std::shared_ptr<Node> node_;
};

/// Prints dtype, shape and values.
std::ostream& operator<<(std::ostream& os, const Tensor& t);

/// Number of graph nodes alive in the process (leaks and freeing are tested against it).
long live_node_count();

}  // namespace adg
