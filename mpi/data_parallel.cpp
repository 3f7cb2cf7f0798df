#include <adgraph/mpi/data_parallel.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>

#include <adgraph/autodiff/node.hpp>
#include <adgraph/mpi/environment.hpp>
#include <adgraph/mpi/internal/call.hpp>
#include <adgraph/nn/dropout.hpp>

namespace adg::mpi {

namespace {

constexpr const char* allreduce_what = "DataParallel::allreduce_gradients";

// Σ_ranks share · grad for the parameters of dtype T: one flat buffer, one MPI_Allreduce (per 2 GiB),
// and fresh gradient arrays (a gradient's array may be shared with a handle the caller still holds). The buffer ends
// with one "has a gradient" flag per parameter (1 or 0, summed: exact in either dtype), so knowing which parameters
// some rank has a gradient for costs no collective of its own. A parameter that does not require grad, or that no
// rank has a gradient for, is left as it is: the optimizer then skips it, as it does in one process.
template <class T>
void allreduce_dtype(const std::vector<Tensor>& params, double share, std::vector<T>& scratch) {
    std::size_t n = 0, count = 0;
    for (const Tensor& p : params) {
        if (p.dtype() != dtype_of<T>()) continue;
        n += p.size();
        ++count;
    }
    // Every rank has the same layout (checked before), so every rank skips alike. Frozen parameters keep their
    // place in the buffer (as zeros), so the buffers line up whatever each rank's requires_grad flags are.
    if (count == 0) return;
    scratch.resize(n + count);
    T* const flat = scratch.data();
    T* const flags = flat + n;
    std::size_t at = 0, i = 0;
    for (const Tensor& p : params) {
        if (p.dtype() != dtype_of<T>()) continue;
        const std::size_t m = p.size();  // once: Tensor::size() is not a free load
        T* const to = flat + at;
        const bool has = p.needs_grad() && p.has_grad();
        if (has) {
            const Tensor g = p.grad();
            const T* const from = g.data<T>().data();
            // share = 1 (one rank, or all rows here) copies exactly: -np 1 is bitwise the single-process run.
            if (share == 1.0) {
                std::copy(from, from + m, to);
            } else {
                for (std::size_t k = 0; k < m; ++k) to[k] = static_cast<T>(static_cast<double>(from[k]) * share);
            }
        } else {
            std::fill(to, to + m, T(0));
        }
        flags[i++] = has ? T(1) : T(0);
        at += m;
    }
    detail::allreduce_sum(flat, n + count, allreduce_what);
    at = 0;
    i = 0;
    for (const Tensor& p : params) {
        if (p.dtype() != dtype_of<T>()) continue;
        const std::size_t m = p.size();
        const bool some_rank_has = flags[i++] > T(0);
        if (p.needs_grad() && some_rank_has) {
            Array g = Array::empty(p.shape(), p.dtype(), allreduce_what);
            std::copy(flat + at, flat + at + m, g.get_mut<T>().data());
            p.node()->grad = Tensor(std::move(g));
        }
        at += m;
    }
}

}  // namespace

DataParallel::DataParallel(nn::Module& model) : model_(model), share_(1.0 / size()) {
    const detail::Layout l = detail::check_same_layout(model_, "DataParallel");
    const std::uint64_t words[5] = {l.parameters, l.buffers, l.f32_elements, l.f64_elements, l.hash};
    std::copy(words, words + 5, layout_);
    detail::broadcast_values(detail::state_tensors(model_), 0, "DataParallel");
}

nn::Batch DataParallel::local_batch(const nn::Epoch& epoch, std::size_t i) {
    const std::size_t batches = epoch.size();
    if (i >= batches) throw detail::batch_out_of_range(i, batches);
    const std::vector<std::size_t>& order = epoch.order();
    const std::size_t start = i * epoch.batch_size();
    const std::size_t rows = std::min(epoch.batch_size(), order.size() - start);
    const RowRange mine = shard(rows, rank(), size());
    nn::Batch b = epoch.dataset().gather(order.data() + start + mine.begin, mine.size());
    // This rank's rows are rows [begin, end) of the global batch: keyed so, Dropout draws the masks one process
    // draws for them.
    nn::key_dropout(model_, steps_, mine.begin);
    share_ = static_cast<double>(mine.size()) / static_cast<double>(rows);
    ++steps_;
    return b;
}

void DataParallel::allreduce_gradients() { allreduce_gradients(share_); }

void DataParallel::allreduce_gradients(double share) {
    const auto start = std::chrono::steady_clock::now();
    // Every rank's layout was rank 0's in the constructor: unchanged here, it still is, and the flat buffers of all
    // ranks line up.
    const detail::Layout before{layout_[0], layout_[1], layout_[2], layout_[3], layout_[4]};
    const detail::Layout now = detail::layout_of(model_);
    const bool share_ok = std::isfinite(share), layout_ok = now == before;
    // Checked together (one MPI_Allreduce of two ints): a rank that threw alone would leave the others waiting in
    // the flat buffer's MPI_Allreduce, and a caller that caught the error would then hang in MPI_Finalize. So every
    // rank throws: the rank at fault its own error, the others one naming it.
    const int me = rank(), n = size();
    int lowest[2] = {share_ok ? n : me, layout_ok ? n : me};
    detail::check(MPI_Allreduce(MPI_IN_PLACE, lowest, 2, MPI_INT, MPI_MIN, MPI_COMM_WORLD), allreduce_what,
                  "MPI_Allreduce");
    if (!share_ok) throw detail::bad_share(share);
    if (!layout_ok) throw detail::layout_changed(allreduce_what, me, before, now);
    if (lowest[0] < n || lowest[1] < n) {
        const bool share_first = lowest[0] <= lowest[1];
        throw detail::peer_refused(allreduce_what, share_first ? lowest[0] : lowest[1], share_first);
    }
    const std::vector<Tensor> params = model_.parameters();
    allreduce_dtype<float>(params, share, flat_f32_);
    allreduce_dtype<double>(params, share, flat_f64_);
    allreduce_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void DataParallel::broadcast_buffers() {
    detail::check_same_layout(model_, "DataParallel::broadcast_buffers");
    detail::broadcast_values(model_.buffers(), 0, "DataParallel::broadcast_buffers");
}

}  // namespace adg::mpi
