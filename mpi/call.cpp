#include <adgraph/mpi/internal/call.hpp>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstring>

namespace adg::mpi::detail {

namespace {

template <class T>
MPI_Datatype mpi_type() {
    return std::is_same_v<T, float> ? MPI_FLOAT : MPI_DOUBLE;
}

// MPI counts are int, and some MPI implementations compute count × extent in an int inside their collectives
// (Open MPI has had such overflows above 2 GiB): a larger buffer goes in several calls of under 2 GiB each.
template <class T, class F>
void in_chunks(T* data, std::size_t n, F&& call) {
    constexpr std::size_t max_count = static_cast<std::size_t>(INT_MAX) / sizeof(T);
    for (std::size_t at = 0; at < n;) {
        const std::size_t count = std::min<std::size_t>(n - at, max_count);
        call(data + at, static_cast<int>(count));
        at += count;
    }
}

template <class T>
void allreduce_sum_impl(T* data, std::size_t n, const std::string& what) {
    in_chunks(data, n, [&](T* p, int count) {
        check(MPI_Allreduce(MPI_IN_PLACE, p, count, mpi_type<T>(), MPI_SUM, MPI_COMM_WORLD), what, "MPI_Allreduce");
    });
}

template <class T>
void broadcast_impl(T* data, std::size_t n, int root, const std::string& what) {
    in_chunks(data, n, [&](T* p, int count) {
        check(MPI_Bcast(p, count, mpi_type<T>(), root, MPI_COMM_WORLD), what, "MPI_Bcast");
    });
}

// FNV-1a over 64-bit words.
void mix(std::uint64_t& h, std::uint64_t v) {
    for (int b = 0; b < 8; ++b) {
        h ^= (v >> (8 * b)) & 0xff;
        h *= 0x100000001b3ULL;
    }
}

template <class T>
void broadcast_dtype(const std::vector<Tensor>& tensors, int root, const std::string& what) {
    const bool is_root = [&] {
        int r = 0;
        MPI_Comm_rank(MPI_COMM_WORLD, &r);
        return r == root;
    }();
    std::size_t n = 0;
    for (const Tensor& t : tensors) n += t.dtype() == dtype_of<T>() ? t.size() : 0;
    if (n == 0) return;
    std::vector<T> flat(n);
    if (is_root) {
        std::size_t at = 0;
        for (const Tensor& t : tensors) {
            if (t.dtype() != dtype_of<T>()) continue;
            std::memcpy(flat.data() + at, t.data<T>().data(), t.size() * sizeof(T));
            at += t.size();
        }
    }
    broadcast_impl(flat.data(), n, root, what);
    if (is_root) return;
    std::size_t at = 0;
    for (const Tensor& t : tensors) {
        if (t.dtype() != dtype_of<T>()) continue;
        // In place, as an optimizer step: the module's tensors keep their identity.
        std::memcpy(t.mutable_value().get_mut<T>().data(), flat.data() + at, t.size() * sizeof(T));
        at += t.size();
    }
}

}  // namespace

void check(int code, const std::string& what, const char* call) {
    if (code == MPI_SUCCESS) return;
    char text[MPI_MAX_ERROR_STRING] = {};
    int length = 0;
    if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) std::strcpy(text, "unknown error");
    throw call_failed(what, call, code, text);
}

Layout layout_of(const nn::Module& model) {
    Layout l;
    l.hash = 0xcbf29ce484222325ULL;
    const auto add = [&](const std::vector<Tensor>& tensors, std::uint64_t kind) {
        for (const Tensor& t : tensors) {
            mix(l.hash, kind);
            mix(l.hash, static_cast<std::uint64_t>(t.dtype()));
            mix(l.hash, t.dim());
            for (std::size_t d : t.shape()) mix(l.hash, d);
            (t.dtype() == f32 ? l.f32_elements : l.f64_elements) += t.size();
        }
    };
    const std::vector<Tensor> params = model.parameters();
    const std::vector<Tensor> buffers = model.buffers();
    l.parameters = params.size();
    l.buffers = buffers.size();
    add(params, 1);
    add(buffers, 2);
    return l;
}

void require_mpi(const std::string& what) {
    int initialised = 0, finalised = 0;
    MPI_Initialized(&initialised);
    MPI_Finalized(&finalised);
    if (!initialised || finalised) throw not_initialised(what);
}

void allreduce_sum(float* data, std::size_t n, const std::string& what) { allreduce_sum_impl(data, n, what); }
void allreduce_sum(double* data, std::size_t n, const std::string& what) { allreduce_sum_impl(data, n, what); }
void broadcast(float* data, std::size_t n, int root, const std::string& what) { broadcast_impl(data, n, root, what); }
void broadcast(double* data, std::size_t n, int root, const std::string& what) { broadcast_impl(data, n, root, what); }

std::vector<Tensor> state_tensors(const nn::Module& model) {
    std::vector<Tensor> all = model.parameters();
    const std::vector<Tensor> buffers = model.buffers();
    all.insert(all.end(), buffers.begin(), buffers.end());
    return all;
}

Layout check_same_layout(const nn::Module& model, const std::string& what) {
    require_mpi(what);
    const Layout mine = layout_of(model);
    const std::uint64_t words[5] = {mine.parameters, mine.buffers, mine.f32_elements, mine.f64_elements, mine.hash};
    int size = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    std::vector<std::uint64_t> all(static_cast<std::size_t>(size) * 5);
    check(MPI_Allgather(words, 5, MPI_UINT64_T, all.data(), 5, MPI_UINT64_T, MPI_COMM_WORLD), what, "MPI_Allgather");
    // Every rank sees the same table, so every rank throws the same error (none is left waiting in a collective).
    const auto at = [&](int r) {
        const std::uint64_t* w = all.data() + static_cast<std::size_t>(r) * 5;
        return Layout{w[0], w[1], w[2], w[3], w[4]};
    };
    const Layout first = at(0);
    for (int r = 1; r < size; ++r) {
        const Layout l = at(r);
        if (!(l == first)) throw layout_mismatch(what, first, r, l);
    }
    return mine;
}

void broadcast_values(const std::vector<Tensor>& tensors, int root, const std::string& what) {
    broadcast_dtype<float>(tensors, root, what);
    broadcast_dtype<double>(tensors, root, what);
}

}  // namespace adg::mpi::detail
