#pragma once
// MPI plumbing shared by adgraph_mpi's sources: checked calls, chunked collectives and the layout check.

#include <mpi.h>

#include <string>
#include <vector>

#include <adgraph/autodiff/tensor.hpp>
#include <adgraph/mpi/internal/errors.hpp>
#include <adgraph/nn/module.hpp>

namespace adg::mpi::detail {

/// Throws call_failed unless `code` is MPI_SUCCESS.
void check(int code, const std::string& what, const char* call);

/// Throws not_initialised unless MPI is running.
void require_mpi(const std::string& what);

/// MPI_Allreduce(MPI_IN_PLACE, data, n, MPI_SUM) in calls of under 2 GiB each (INT_MAX bytes: MPI counts are int,
/// and some implementations overflow an int with count × extent above that).
void allreduce_sum(float* data, std::size_t n, const std::string& what);
void allreduce_sum(double* data, std::size_t n, const std::string& what);
/// MPI_Bcast(data, n, root) in calls of under 2 GiB each, as allreduce_sum.
void broadcast(float* data, std::size_t n, int root, const std::string& what);
void broadcast(double* data, std::size_t n, int root, const std::string& what);

/// `model`'s parameters then buffers.
std::vector<Tensor> state_tensors(const nn::Module& model);

/// The layout of `model`'s parameters and buffers.
Layout layout_of(const nn::Module& model);

/// Checks that every rank's `model` has rank 0's layout (one MPI_Allgather); throws layout_mismatch naming the
/// lowest rank that differs, on every rank alike; returns the layout.
Layout check_same_layout(const nn::Module& model, const std::string& what);

/// Copies root's values of `tensors` (the same layout everywhere) to every rank: one MPI_Bcast per dtype over a
/// flat buffer.
void broadcast_values(const std::vector<Tensor>& tensors, int root, const std::string& what);

}  // namespace adg::mpi::detail
