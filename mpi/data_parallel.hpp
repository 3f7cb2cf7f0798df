#pragma once
/// \file Synchronous data-parallel training over MPI, as PyTorch's DistributedDataParallel: every rank holds the
/// whole model, takes its own rows of each global batch, and the gradients are averaged over the global batch in
/// one MPI_Allreduce before the optimizer step, so every rank takes the same step. See docs/distributed.md.

#include <cstddef>
#include <cstdint>
#include <vector>

#include <adgraph/nn/data_loader.hpp>
#include <adgraph/nn/module.hpp>

namespace adg::mpi {

/// Rows [begin, end) of a batch.
struct RowRange {
    std::size_t begin = 0;
    std::size_t end = 0;
    /// end - begin.
    std::size_t size() const { return end - begin; }
};

/// The rows of a batch of `rows` rows that rank `rank` of `size` takes: contiguous, in rank order, as even as can
/// be (the first rows % size ranks take one more); empty for the last ranks when rows < size.
RowRange shard(std::size_t rows, int rank, int size);

/// Sums `values` elementwise over all ranks, in place (MPI_Allreduce in double); every rank gets the sums.
void sum(std::vector<double>& values);

/// The lowest rank on which `flag` is true, the same on every rank; -1 if it is false everywhere.
int lowest_rank_where(bool flag);

/// Copies rank `root`'s parameters and buffers into every other rank's `model` (same architecture on every rank).
void broadcast_state(nn::Module& model, int root = 0);

/// Data parallelism for one model over MPI_COMM_WORLD. A training step on every rank:
///
///     const nn::Batch b = dp.local_batch(epoch, i);   // this rank's rows of global batch i
///     if (!b.labels.empty()) nn::cross_entropy(model(b.x), b.labels).backward();
///     dp.allreduce_gradients();                      // now every rank holds the global batch's mean gradient
///     opt.step(); opt.zero_grad();
///
/// With the same seed and global batch, N ranks take the steps one process takes, up to the rounding of sums
/// split across ranks (docs/distributed.md states the bound). Every rank must make the same calls in the same
/// order: each is collective.
class DataParallel {
public:
    /// Takes `model` (which must outlive this object) and broadcasts its parameters and buffers from rank 0, so
    /// no rank starts apart.
    explicit DataParallel(nn::Module& model);

    /// This rank's rows (shard()) of batch `i` of `epoch`, an epoch of the same DataLoader on every rank; keys the
    /// model's Dropout layers by (global step, first row) (nn::key_dropout), so their masks are those of one
    /// process; and remembers this rank's share of the batch for allreduce_gradients(). The batch may be empty
    /// (a last batch smaller than the number of ranks): skip the forward and backward then, but not the
    /// allreduce. The global step counts local_batch calls.
    nn::Batch local_batch(const nn::Epoch& epoch, std::size_t i);

    /// Replaces every parameter's gradient by Σ_ranks share · gradient, where share is this rank's rows over the
    /// global batch's from the last local_batch() (1/size() before any): the global batch's mean gradient when
    /// each rank's loss is the mean over its rows. A rank without a gradient for a parameter counts zeros for
    /// it; a parameter no rank has a gradient for keeps none, and one that does not require grad is left as it is
    /// (the optimizer skips both, as in one process; requires_grad must agree on every rank). One MPI_Allreduce
    /// per dtype over one flat buffer, which carries a "has a gradient" flag per parameter too, after one of two
    /// ints that checks every rank's share and model together: a share that is not finite, or a model changed
    /// since the constructor, on any rank makes every rank throw value_error (that rank its own error, the others
    /// one naming it), so no rank is left waiting in the collective.
    void allreduce_gradients();
    /// As allreduce_gradients(), with this rank's gradients weighted by `share` instead.
    void allreduce_gradients(double share);

    /// Broadcasts the buffers (e.g. BatchNorm's running statistics, which each rank updates from its own rows)
    /// from rank 0, as DDP does before each forward: call it before evaluating or saving.
    void broadcast_buffers();

    /// Seconds spent in allreduce_gradients() so far (copies and the MPI call).
    double allreduce_seconds() const { return allreduce_seconds_; }
    /// Global steps so far (local_batch calls).
    std::uint64_t steps() const { return steps_; }
    /// Sets the global step count, when resuming a run after `n` steps (dropout masks are keyed by it).
    void set_steps(std::uint64_t n) { steps_ = n; }

private:
    nn::Module& model_;
    double share_;
    double allreduce_seconds_ = 0;
    std::uint64_t steps_ = 0;
    // The layout (detail::Layout's words) all ranks agreed on in the constructor; allreduce_gradients() checks
    // this rank's against it without another collective.
    std::uint64_t layout_[5] = {};
    // The flat buffers of allreduce_gradients(), kept from step to step: a fresh buffer each step costs its page
    // faults, and MPI's shared-memory transport copies large messages faster between pages it has seen.
    std::vector<float> flat_f32_;
    std::vector<double> flat_f64_;
};

}  // namespace adg::mpi
