#pragma once
/// \file Node: one vertex of the recorded graph. Leaves are plain Nodes; ops derive OpNode<Op> (op.hpp).

#include <memory>
#include <vector>

#include <adgraph/autodiff/anomaly.hpp>
#include <adgraph/autodiff/directions.hpp>
#include <adgraph/autodiff/tensor.hpp>

namespace adg {

/// How an op's output depends on the inputs that vary (for Jacobians that know their structure).
enum class Locality {
    none,         ///< any output element may depend on any input element
    rows,         ///< output row i (axis 0) depends only on row i of the varying inputs
    elementwise,  ///< output element i depends only on element i of the varying inputs (same shape)
};

/// A graph vertex: an evaluated value, the requires-grad flag, a leaf's accumulated grad and, for op results,
/// the input edges and the op's rules. Tangents and cotangents handed to rules carry a leading axis of k
/// directions: shape (k, value.shape).
class Node {
public:
    /// A leaf holding `value`.
    explicit Node(Array value, bool requires_grad = false);
    /// Frees the graph upstream iteratively (a 10^6-node chain must not recurse).
    virtual ~Node();
    Node(const Node&) = delete;
    Node& operator=(const Node&) = delete;

    /// The value.
    const Array& value() const { return value_; }
    /// The value, mutable (optimizers update leaves in place).
    Array& mutable_value() { return value_; }
    /// True if gradients flow to or through this node (Tensor::needs_grad reads it; Tensor::requires_grad sets it).
    bool needs_grad() const { return requires_grad_; }
    /// Sets the flag (leaves only; op nodes get it from their inputs).
    void set_requires_grad(bool on) { requires_grad_ = on; }
    /// True for nodes made by an op.
    virtual bool has_op() const { return false; }
    /// The op's name ("leaf" for leaves).
    virtual const char* name() const { return "leaf"; }
    /// Input edges (empty for leaves and after release).
    const std::vector<std::shared_ptr<Node>>& inputs() const { return inputs_; }
    /// True once a sweep without retain_graph has dropped this node's edges.
    bool released() const { return released_; }
    /// Drops the edges (and anything the op saved) after a sweep that does not retain the graph.
    void release();

    /// JVP rule: tangent of this node, shape (k, value.shape), from input tangents `t` (undefined = zero).
    virtual Tensor jvp(const std::vector<Tensor>& in, const Tensor& out, const std::vector<Tensor>& t) const;
    /// VJP rule: cotangent of input `i`, shape (k, in[i].shape), from this node's cotangent `ct`.
    virtual Tensor vjp(const std::vector<Tensor>& in, const Tensor& out, const Tensor& ct, std::size_t i) const;
    /// True if the op computes several input cotangents in one call of vjp_all() (op.hpp), which the reverse sweep
    /// then calls once per node instead of vjp() per input.
    virtual bool has_vjp_all() const { return false; }
    /// Joint VJP rule: the cotangent of every input i with wanted[i] (undefined for the others); by default vjp()
    /// per wanted input.
    virtual std::vector<Tensor> vjp_all(const std::vector<Tensor>& in, const Tensor& out, const Tensor& ct,
                                        const std::vector<char>& wanted) const {
        std::vector<Tensor> all(in.size());
        for (std::size_t i = 0; i < in.size(); ++i) {
            if (wanted[i]) all[i] = vjp(in, out, ct, i);
        }
        return all;
    }
    /// vjp() handed the only handle to its cotangent, which it may overwrite and return as its result (what eager
    /// reverse sweeps call for a node with one input); by default vjp().
    virtual Tensor vjp_reusing(const std::vector<Tensor>& in, const Tensor& out, Tensor ct, std::size_t i) const {
        return vjp(in, out, ct, i);
    }
    /// Adds the cotangent of input `i` into `acc` (shape (k, in[i].shape)) in place, with the values of acc + vjp(),
    /// where the op can do so without forming vjp() (slice adds ȳ into its block instead of padding it with
    /// zeros). Only for an eager sweep that holds the only handle to `acc`'s buffer. Returns false, touching
    /// nothing, when the op has no such rule or the shapes do not fit (the sweep then calls vjp() and adds).
    virtual bool vjp_add(const std::vector<Tensor>&, const Tensor&, const Tensor&, std::size_t, Tensor&) const {
        return false;
    }
    /// JVP rule for tangents of which some are sparse rows (directions.hpp); undefined when the op has no such rule
    /// for this case, and the sweep then makes the tangents dense and calls jvp().
    virtual Directions jvp_sparse(const std::vector<Tensor>&, const Tensor&, const std::vector<Directions>&) const {
        return {};
    }
    /// VJP rule for a cotangent of sparse rows; undefined when the op has no such rule (the sweep calls vjp()).
    virtual Directions vjp_sparse(const std::vector<Tensor>&, const Tensor&, const Directions&, std::size_t) const {
        return {};
    }
    /// The op's locality when the inputs flagged in `varies` vary and the others are constants.
    virtual Locality locality(const std::vector<char>& varies) const;

    /// Where the user created this op and the public function called there (recorded by the public op functions;
    /// see anomaly.hpp).
    const Site& site() const { return site_; }
    /// How errors name this node's op: the user's op, with this node's own op if that differs (op_label()).
    std::string label() const { return op_label(name(), site_); }

    /// Accumulated gradient of a leaf (undefined if none).
    Tensor grad;

protected:
    /// An op result with `inputs` as edges.
    Node(Array value, std::vector<std::shared_ptr<Node>> inputs);

private:
    Array value_;
    std::vector<std::shared_ptr<Node>> inputs_;
    Site site_{};
    bool requires_grad_ = false;
    bool released_ = false;
};

}  // namespace adg
