#pragma once
/// \file Tensor: the user's handle to a value in the dynamic computation graph.

#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <vector>

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

    /// The node (engine use).
    const std::shared_ptr<Node>& node() const { return node_; }

private:
    const Node& checked_node(const char* what) const;
    std::shared_ptr<Node> node_;
};

/// Prints dtype, shape and values.
std::ostream& operator<<(std::ostream& os, const Tensor& t);

/// Number of graph nodes alive in the process (leaks and freeing are tested against it).
long live_node_count();

}  // namespace adg
