#include <algorithm>
#include <cstdint>

#include <adgraph/mpi/data_parallel.hpp>
#include <adgraph/mpi/environment.hpp>
#include <adgraph/mpi/internal/call.hpp>

namespace adg::mpi {

RowRange shard(std::size_t rows, int rank, int size) {
    if (rank < 0 || rank >= size) throw detail::bad_rank("mpi::shard", rank, size);
    const auto s = static_cast<std::size_t>(size), r = static_cast<std::size_t>(rank);
    const std::size_t base = rows / s, extra = rows % s;
    const std::size_t begin = r * base + std::min(r, extra);
    return {begin, begin + base + (r < extra ? 1 : 0)};
}

void sum(std::vector<double>& values) {
    detail::require_mpi("mpi::sum");
    // The lengths first: ranks passing different lengths would otherwise read and write past the shorter buffers.
    const auto n = static_cast<std::uint64_t>(values.size());
    std::uint64_t bounds[2] = {n, ~n};  // max of n, and of ~n (whose max is ~min n)
    detail::check(MPI_Allreduce(MPI_IN_PLACE, bounds, 2, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD), "mpi::sum",
                  "MPI_Allreduce");
    if (bounds[0] != ~bounds[1]) throw detail::sum_lengths(~bounds[1], bounds[0]);
    detail::allreduce_sum(values.data(), values.size(), "mpi::sum");
}

int lowest_rank_where(bool flag) {
    const int me = rank(), n = size();
    int lowest = flag ? me : n;
    detail::check(MPI_Allreduce(MPI_IN_PLACE, &lowest, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD), "mpi::lowest_rank_where",
                  "MPI_Allreduce");
    return lowest == n ? -1 : lowest;
}

void broadcast_state(nn::Module& model, int root) {
    const int n = size();
    if (root < 0 || root >= n) throw detail::bad_rank("mpi::broadcast_state", root, n);
    detail::check_same_layout(model, "mpi::broadcast_state");
    detail::broadcast_values(detail::state_tensors(model), root, "mpi::broadcast_state");
}

}  // namespace adg::mpi
