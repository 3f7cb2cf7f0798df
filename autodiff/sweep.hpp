#pragma once
/// \file The two sweeps over one recorded graph: forward (JVP, tangents inputs → outputs) and reverse
/// (VJP, cotangents outputs → inputs), both in an iteratively computed topological order.

#include <vector>

#include <adgraph/autodiff/directions.hpp>
#include <adgraph/autodiff/tensor.hpp>

namespace adg {

/// Options of a sweep.
struct SweepOptions {
    /// Keep edges for later sweeps (reverse sweeps release the graph otherwise).
    bool retain_graph = false;
    /// Record the sweep itself so its results can be differentiated again (implies retain_graph).
    bool create_graph = false;
};

/// Reverse sweep (VJP): `seeds[i]` is a batch of k cotangents for `outputs[i]`, shape (k, outputs[i].shape).
/// Returns the cotangents at `inputs`, shape (k, inputs[j].shape) (zeros where no path leads). Leaves' grad()
/// is not touched.
std::vector<Tensor> reverse_sweep(const std::vector<Tensor>& outputs, const std::vector<Tensor>& seeds,
                                  const std::vector<Tensor>& inputs, const SweepOptions& options = {});

/// Forward sweep (JVP): `tangents[j]` is a batch of k tangents for `inputs[j]`, shape (k, inputs[j].shape).
/// Returns the tangents of `outputs`, shape (k, outputs[i].shape) (zeros where no path leads).
std::vector<Tensor> forward_sweep(const std::vector<Tensor>& inputs, const std::vector<Tensor>& tangents,
                                  const std::vector<Tensor>& outputs, const SweepOptions& options = {});

/// reverse_sweep with seeds that may be sparse rows (e.g. Directions::basis): rules with a sparse form skip the
/// zeros; the others get dense cotangents. Same results as the dense seeds; a recorded sweep (create_graph) makes the
/// seeds dense first. Results are dense.
std::vector<Tensor> reverse_sweep_directions(const std::vector<Tensor>& outputs, std::vector<Directions> seeds,
                                             const std::vector<Tensor>& inputs, const SweepOptions& options = {});

/// forward_sweep with tangents that may be sparse rows (e.g. Directions::basis), as reverse_sweep_directions.
std::vector<Tensor> forward_sweep_directions(const std::vector<Tensor>& inputs, std::vector<Directions> tangents,
                                             const std::vector<Tensor>& outputs, const SweepOptions& options = {});

/// Reverse sweep seeded with `seeds[i]` (shape of outputs[i], one direction) that accumulates into the grad()
/// of every leaf requiring grad: what Tensor::backward runs.
void accumulate_grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& seeds,
                     const BackwardOptions& options = {});

}  // namespace adg
