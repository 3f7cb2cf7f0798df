#pragma once
// The messages of adgraph_mpi's errors, built here without MPI so that tests/test_error_catalog.cpp (which does not
// link MPI) raises the very text the library does.

#include <cstdint>
#include <cstdio>
#include <string>

#include <adgraph/tensor/error.hpp>

namespace adg::mpi::detail {

/// A rank's parameters and buffers as far as the collectives care: counts, elements per dtype, and a hash of the
/// dtypes and shapes in order.
struct Layout {
    std::uint64_t parameters = 0;
    std::uint64_t buffers = 0;
    std::uint64_t f32_elements = 0;
    std::uint64_t f64_elements = 0;
    std::uint64_t hash = 0;
};

inline std::string layout_str(const Layout& l) {
    char hash[24];
    std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(l.hash));
    return std::to_string(l.parameters) + " parameters, " + std::to_string(l.buffers) + " buffers, " +
           std::to_string(l.f32_elements) + " float32 and " + std::to_string(l.f64_elements) +
           " float64 elements, shapes " + hash;
}

inline bool operator==(const Layout& a, const Layout& b) {
    return a.parameters == b.parameters && a.buffers == b.buffers && a.f32_elements == b.f32_elements &&
           a.f64_elements == b.f64_elements && a.hash == b.hash;
}

/// value_error: rank `rank`'s model has another layout than rank 0's.
inline value_error layout_mismatch(const std::string& what, const Layout& first, int rank, const Layout& other) {
    return value_error(what + ": rank " + std::to_string(rank) + "'s model does not match rank 0's (rank 0: " +
                       layout_str(first) + "; rank " + std::to_string(rank) + ": " + layout_str(other) +
                       "); build the same model, with the same dtypes, on every rank");
}

/// value_error: the model's layout on rank `rank` changed after its DataParallel was made.
inline value_error layout_changed(const std::string& what, int rank, const Layout& before, const Layout& now) {
    return value_error(what + ": rank " + std::to_string(rank) + "'s model changed after its DataParallel was made (" +
                       layout_str(before) + " then, " + layout_str(now) +
                       " now); make the DataParallel once the model is complete");
}

/// io_error: the MPI call `call` returned `code` (`text` is MPI_Error_string's).
inline io_error call_failed(const std::string& what, const char* call, int code, const std::string& text) {
    return io_error(what + ": " + call + " failed (MPI error " + std::to_string(code) + ": " + text +
                    "); MPI's text says which: fix the argument it names, the rank that failed, or the ranks' calls "
                    "(every rank must make the same adg::mpi calls in the same order)");
}

/// value_error: MPI is not running in this process.
inline value_error not_initialised(const std::string& what) {
    return value_error(what +
                       ": MPI is not initialised (or already finalised); create an adg::mpi::Environment at "
                       "the start of main and use adg::mpi while it lives");
}

/// value_error: `rank` is not a rank of a world of `size`.
inline value_error bad_rank(const std::string& what, long long rank, int size) {
    return value_error(what + ": rank " + std::to_string(rank) + " is out of range for " + std::to_string(size) +
                       " ranks; pass a rank in [0, " + std::to_string(size) + ")");
}

/// value_error: the ranks passed different numbers of values to sum().
inline value_error sum_lengths(std::uint64_t lo, std::uint64_t hi) {
    return value_error("mpi::sum: the ranks pass different numbers of values (from " + std::to_string(lo) + " to " +
                       std::to_string(hi) + "); pass the same number on every rank");
}

/// value_error: the share given to allreduce_gradients is not a finite number.
inline value_error bad_share(double share) {
    return value_error("DataParallel::allreduce_gradients: share " + number_str(share) +
                       " is not a finite number; pass this rank's rows over the global batch's");
}

/// value_error: local_batch was asked for a batch past the epoch's end.
inline value_error batch_out_of_range(std::size_t i, std::size_t batches) {
    return value_error("DataParallel::local_batch: batch " + std::to_string(i) + " is out of range for an epoch of " +
                       std::to_string(batches) + " batches; pass i < epoch.size()");
}

/// value_error on the ranks whose own checks passed: rank `rank`'s share was not finite (`share`) or its model
/// changed after its DataParallel was made (else), so no rank averaged (allreduce_gradients checks collectively).
inline value_error peer_refused(const std::string& what, int rank, bool share) {
    const std::string r = "rank " + std::to_string(rank);
    return value_error(
        what + ": " + r +
        (share ? "'s share is not a finite number" : "'s model changed after its DataParallel was made") +
        ", so no rank averaged its gradients; see " + r + "'s own error and " +
        (share ? "pass it its rows over the global batch's" : "make its DataParallel once the model is complete"));
}

}  // namespace adg::mpi::detail
