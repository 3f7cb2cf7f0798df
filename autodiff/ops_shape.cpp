// Shape and indexing ops. All are linear: each states its value (on the trailing axes it was recorded with,
// keeping any leading direction axes) and its transpose; the Linear kind derives jvp = op(ẋ), vjp = opᵀ(ȳ).

#include <numeric>

#include <adgraph/autodiff/internal/op_samples.hpp>
#include <adgraph/tensor/kernels.hpp>

namespace adg {

namespace {

// The leading axes of `x` in front of the core shape `core` the op was recorded with.
Shape lead_of(const Array& x, const Shape& core, const char* op) {
    const Shape& s = x.shape();
    if (s.size() < core.size() || !std::equal(core.begin(), core.end(), s.end() - static_cast<long>(core.size()))) {
        throw shape_error(std::string(op) + ": input shape " + shape_str(s) + " does not end with the shape " +
                          shape_str(core) + " the op was recorded for");
    }
    return Shape(s.begin(), s.end() - static_cast<long>(core.size()));
}

// Rows when the op keeps axis 0 of a rank ≥ 2 value in place (rows of the output come from the same rows).
Locality rows_if(bool keeps_axis0) { return keeps_axis0 ? Locality::rows : Locality::none; }

bool leading_kept(const Shape& from, const Shape& to) {
    return from.size() >= 2 && to.size() == from.size() && from[0] == to[0];
}

// Position of a negative (from the end) axis in an array of rank `rank`.
std::size_t at(long axis, std::size_t rank) { return static_cast<std::size_t>(static_cast<long>(rank) + axis); }

OpSample sample(std::string label, std::vector<Tensor> inputs, MultiFn fn) {
    return {std::move(label), std::move(inputs), std::move(fn)};
}

// (from) → (to), equal element counts; transpose: (to) → (from)
struct Reshape {
    static constexpr LinearMap kind{};
    static constexpr const char* name = "reshape";
    Locality locality(const std::vector<Shape>&, const Shape&, const std::vector<char>&) const {
        return rows_if(from.size() >= 2 && to.size() >= 2 && from[0] == to[0]);
    }
    Shape from, to;
    Array forward(const Array& x) const { return x.reshaped(concat_shapes(lead_of(x, from, name), to)); }
    Tensor transpose(const Tensor& ct) const { return reshape_core(ct, to, from); }
    // Sparse rows (directions.hpp) stay sparse rows when axis 0 is kept, as from a vector (n) to a column (n,1) and
    // back: each direction's values reshape from from[1:] to to[1:].
    Directions jvp_sparse(const std::vector<Tensor>& x, const Tensor& y, const std::vector<Directions>& t) const {
        if (!t[0].sparse() || !keeps_rows(x[0], y)) return {};
        return t[0].with_values(reshape_core(t[0].values(), tail(from), tail(to)));
    }
    Directions vjp_sparse(const std::vector<Tensor>& x, const Tensor& y, const Directions& ct, std::size_t) const {
        if (!ct.sparse() || !keeps_rows(x[0], y)) return {};
        return ct.with_values(reshape_core(ct.values(), tail(to), tail(from)));
    }
    bool keeps_rows(const Tensor& x, const Tensor& y) const {
        return !from.empty() && !to.empty() && from[0] == to[0] && x.shape() == from && y.shape() == to;
    }
    static Shape tail(const Shape& s) { return Shape(s.begin() + 1, s.end()); }
    static std::vector<OpSample> samples(Generator& gen) {
        std::vector<OpSample> out;
        const std::vector<std::pair<Shape, Shape>> cases = {
            {{2, 3}, {3, 2}}, {{6}, {2, 3}}, {{}, {1, 1}}, {{2, 3}, {6}}};
        for (const auto& [f, t] : cases) {
            out.push_back(sample("reshape " + shape_str(f) + "->" + shape_str(t), {sample_tensor(f, {}, gen)},
                                 [f = f, t = t](const std::vector<Tensor>& xs) {
                                     return apply(Reshape{f, t}, xs[0]);
                                 }));
        }
        return out;
    }
};

// axes permuted by perm; transpose: the inverse permutation
struct Permute {
    static constexpr LinearMap kind{};
    static constexpr const char* name = "permute";
    Locality locality(const std::vector<Shape>& in, const Shape&, const std::vector<char>&) const {
        return rows_if(in[0].size() >= 2 && perm[0] == 0);
    }
    std::vector<std::size_t> perm;
    Array forward(const Array& x) const {
        const std::size_t lead = x.dim() - perm.size();
        std::vector<std::size_t> full(lead);
        std::iota(full.begin(), full.end(), std::size_t{0});
        for (auto p : perm) full.push_back(lead + p);
        return kernels::permute(x, full);
    }
    Tensor transpose(const Tensor& ct) const {
        std::vector<std::size_t> inv(perm.size());
        for (std::size_t i = 0; i < perm.size(); ++i) inv[perm[i]] = i;
        return apply(Permute{inv}, ct);
    }
    static std::vector<OpSample> samples(Generator& gen) {
        std::vector<OpSample> out;
        const std::vector<std::pair<Shape, std::vector<std::size_t>>> cases = {{{2, 3}, {1, 0}},
                                                                               {{2, 3, 4}, {2, 0, 1}}};
        for (const auto& [s, p] : cases) {
            out.push_back(sample("permute " + shape_str(s), {sample_tensor(s, {}, gen)},
                                 [p = p](const std::vector<Tensor>& xs) { return apply(Permute{p}, xs[0]); }));
        }
        return out;
    }
};

// (from) broadcast to (to); transpose: sum_to (to) → (from)
struct BroadcastTo {
    static constexpr LinearMap kind{};
    static constexpr const char* name = "broadcast_to";
    Locality locality(const std::vector<Shape>&, const Shape&, const std::vector<char>&) const {
        return rows_if(leading_kept(from, to));
    }
    Shape from, to;
    Array forward(const Array& x) const {
        const Shape lead = lead_of(x, from, name);
        Shape padded(to.size() - from.size(), 1);
        padded.insert(padded.end(), from.begin(), from.end());
        const Array aligned = padded == from ? x : x.reshaped(concat_shapes(lead, padded));
        return kernels::broadcast_to(aligned, concat_shapes(lead, to));
    }
    Tensor transpose(const Tensor& ct) const { return sum_to_core(ct, to, from); }
    static std::vector<std::pair<Shape, Shape>> cases() {
        return {{{3}, {2, 3}}, {{2, 1}, {2, 3}}, {{}, {2, 2}}, {{1, 3}, {4, 2, 3}}};
    }
    static std::vector<OpSample> samples(Generator& gen) {
        std::vector<OpSample> out;
        for (const auto& [f, t] : cases()) {
            out.push_back(sample("broadcast_to " + shape_str(f) + "->" + shape_str(t), {sample_tensor(f, {}, gen)},
                                 [f = f, t = t](const std::vector<Tensor>& xs) {
                                     return apply(BroadcastTo{f, t}, xs[0]);
                                 }));
        }
        return out;
    }
};

// (from) summed down to (to); transpose: broadcast (to) → (from)
struct SumTo {
    static constexpr LinearMap kind{};
    static constexpr const char* name = "sum_to";
    Locality locality(const std::vector<Shape>&, const Shape&, const std::vector<char>&) const {
        return rows_if(leading_kept(from, to));
    }
    Shape from, to;
    Array forward(const Array& x) const {
        const Shape lead = lead_of(x, from, name);
        Shape padded(from.size() - to.size(), 1);
        padded.insert(padded.end(), to.begin(), to.end());
        return kernels::sum_to(x, concat_shapes(lead, padded)).reshaped(concat_shapes(lead, to));
    }
    Tensor transpose(const Tensor& ct) const { return broadcast_to_core(ct, to, from); }
    static std::vector<OpSample> samples(Generator& gen) {
        std::vector<OpSample> out;
        for (const auto& [t, f] : BroadcastTo::cases()) {
            out.push_back(sample("sum_to " + shape_str(f) + "->" + shape_str(t), {sample_tensor(f, {}, gen)},
                                 [f = f, t = t](const std::vector<Tensor>& xs) {
                                     return apply(SumTo{f, t}, xs[0]);
                                 }));
        }
        return out;
    }
};

// entries start..stop-1 along axis (negative); transpose: zero-pad back to size
struct Slice {
    static constexpr LinearMap kind{};
    static constexpr const char* name = "slice";
    Locality locality(const std::vector<Shape>& in, const Shape&, const std::vector<char>&) const {
        return rows_if(in[0].size() >= 2 && axis != -static_cast<long>(in[0].size()));
    }
    long axis = -1;
    std::size_t start = 0, stop = 0, size = 0;
    Array forward(const Array& x) const { return kernels::slice(x, at(axis, x.dim()), start, stop); }
    Tensor transpose(const Tensor& ct) const;
    // ā += transpose(ȳ): ȳ added into its block of ā, no padded copy
    bool transpose_add(const Tensor& ct, Array& acc) const {
        const std::size_t rank = acc.dim();
        if (axis >= 0 || static_cast<std::size_t>(-axis) > rank || ct.value().dim() != rank ||
            acc.shape()[at(axis, rank)] != size || ct.value().shape()[at(axis, rank)] != stop - start) {
            return false;
        }
        return kernels::add_into_slice(acc, ct.value(), at(axis, rank), start);
    }
    static std::vector<OpSample> samples(Generator& gen);
};

// x placed at start along axis (negative) in zeros of length total; transpose: the slice it fills
struct Pad {
    static constexpr LinearMap kind{};
    static constexpr const char* name = "pad";
    Locality locality(const std::vector<Shape>& in, const Shape&, const std::vector<char>&) const {
        return rows_if(in[0].size() >= 2 && axis != -static_cast<long>(in[0].size()));
    }
    long axis = -1;
    std::size_t start = 0, len = 0, total = 0;
    Array forward(const Array& x) const { return kernels::pad(x, at(axis, x.dim()), start, total); }
    Tensor transpose(const Tensor& ct) const { return apply(Slice{axis, start, start + len, total}, ct); }
    static std::vector<OpSample> samples(Generator& gen) {
        return {sample("pad (2,3) axis 0", {sample_tensor({2, 3}, {}, gen)},
                       [](const std::vector<Tensor>& xs) {
                           return apply(Pad{-2, 1, 2, 4}, xs[0]);
                       }),
                sample("pad (3) axis -1", {sample_tensor({3}, {}, gen)}, [](const std::vector<Tensor>& xs) {
                    return apply(Pad{-1, 0, 3, 5}, xs[0]);
                })};
    }
};

Tensor Slice::transpose(const Tensor& ct) const { return apply(Pad{axis, start, stop - start, size}, ct); }

std::vector<OpSample> Slice::samples(Generator& gen) {
    return {sample("slice (4,3) axis 0", {sample_tensor({4, 3}, {}, gen)},
                   [](const std::vector<Tensor>& xs) {
                       return apply(Slice{-2, 1, 3, 4}, xs[0]);
                   }),
            sample("slice (4,3) axis -1", {sample_tensor({4, 3}, {}, gen)},
                   [](const std::vector<Tensor>& xs) {
                       return apply(Slice{-1, 0, 2, 3}, xs[0]);
                   }),
            sample("slice (5)", {sample_tensor({5}, {}, gen)}, [](const std::vector<Tensor>& xs) {
                return apply(Slice{-1, 2, 5, 5}, xs[0]);
            })};
}

// inputs joined along axis (negative); transpose: the slice of ȳ each input filled
struct Concat {
    static constexpr Custom kind{};
    static constexpr const char* name = "concat";
    long axis = -1;
    // Where each input starts along the axis, noted by forward (which runs on the op before the node copies it), so
    // the reverse sweep over T inputs costs O(T), not O(T²) (a recurrent net stacks one output per step).
    mutable std::vector<std::size_t> starts{};
    Array forward(const std::vector<Array>& xs) const {
        const std::size_t ax = at(axis, xs.at(0).dim());
        starts.assign(1, 0);
        for (const Array& x : xs) starts.push_back(starts.back() + (x.dim() > ax ? x.shape()[ax] : 0));
        return kernels::concat(xs, ax, name);
    }
    // ẏ = concat(ẋᵢ), absent tangents as zeros
    Tensor jvp(const std::vector<Tensor>& x, const Tensor&, const std::vector<Tensor>& t) const {
        std::size_t k = 0;
        for (const auto& ti : t) {
            if (ti.defined()) k = ti.shape()[0];
        }
        std::vector<Tensor> parts;
        for (std::size_t i = 0; i < x.size(); ++i) {
            parts.push_back(t[i].defined() ? t[i] : Tensor::zeros(batched_shape(k, x[i].shape()), x[i].dtype()));
        }
        return apply_list(Concat{axis}, parts);  // a fresh op: forward notes starts, and this node's op stays as it is
    }
    Tensor vjp(const std::vector<Tensor>& x, const Tensor& y, const Tensor& ct, std::size_t i) const {
        const std::size_t ax = at(axis, x[i].dim());
        std::size_t offset = 0;
        if (starts.size() == x.size() + 1) {
            offset = starts[i];
        } else {
            for (std::size_t j = 0; j < i; ++j) offset += x[j].shape()[ax];
        }
        return apply(Slice{axis, offset, offset + x[i].shape()[ax], y.shape()[ax]}, ct);
    }
    static std::vector<OpSample> samples(Generator& gen) {
        return {sample("concat (2,3)+(1,3) axis 0", {sample_tensor({2, 3}, {}, gen), sample_tensor({1, 3}, {}, gen)},
                       [](const std::vector<Tensor>& xs) { return apply_list(Concat{-2}, xs); }),
                sample("concat (2,1)+(2,2)+(2,3) axis -1",
                       {sample_tensor({2, 1}, {}, gen), sample_tensor({2, 2}, {}, gen), sample_tensor({2, 3}, {}, gen)},
                       [](const std::vector<Tensor>& xs) { return apply_list(Concat{-1}, xs); })};
    }
};

// entries `index` along axis (negative); transpose: index_add back into `size` entries
struct IndexSelect {
    static constexpr LinearMap kind{};
    static constexpr const char* name = "index_select";
    Locality locality(const std::vector<Shape>& in, const Shape&, const std::vector<char>&) const {
        return rows_if(in[0].size() >= 2 && axis != -static_cast<long>(in[0].size()));
    }
    long axis = -1;
    std::vector<std::size_t> index;
    std::size_t size = 0;
    Array forward(const Array& x) const { return kernels::index_select(x, at(axis, x.dim()), index); }
    Tensor transpose(const Tensor& ct) const;
    static std::vector<OpSample> samples(Generator& gen);
};

// zeros of `size` entries along axis with entry j of x added at index[j]; transpose: index_select
struct IndexAdd {
    static constexpr LinearMap kind{};
    static constexpr const char* name = "index_add";
    Locality locality(const std::vector<Shape>& in, const Shape&, const std::vector<char>&) const {
        return rows_if(in[0].size() >= 2 && axis != -static_cast<long>(in[0].size()));
    }
    long axis = -1;
    std::vector<std::size_t> index;
    std::size_t size = 0;
    Array forward(const Array& x) const { return kernels::index_add(x, at(axis, x.dim()), index, size); }
    Tensor transpose(const Tensor& ct) const { return apply(IndexSelect{axis, index, size}, ct); }
    static std::vector<OpSample> samples(Generator& gen) {
        return {sample("index_add (3,2) axis 0", {sample_tensor({3, 2}, {}, gen)}, [](const std::vector<Tensor>& xs) {
            return apply(IndexAdd{-2, {1, 1, 0}, 2}, xs[0]);
        })};
    }
};

Tensor IndexSelect::transpose(const Tensor& ct) const { return apply(IndexAdd{axis, index, size}, ct); }

std::vector<OpSample> IndexSelect::samples(Generator& gen) {
    return {sample("index_select rows (4,3)", {sample_tensor({4, 3}, {}, gen)},
                   [](const std::vector<Tensor>& xs) {
                       return apply(IndexSelect{-2, {2, 0, 2}, 4}, xs[0]);
                   }),
            sample("index_select (2,4) axis -1", {sample_tensor({2, 4}, {}, gen)}, [](const std::vector<Tensor>& xs) {
                return apply(IndexSelect{-1, {3, 1}, 4}, xs[0]);
            })};
}

Tensor permuted(const Tensor& x, const std::vector<std::size_t>& perm) {
    std::vector<std::size_t> sorted = perm;
    std::sort(sorted.begin(), sorted.end());
    bool ok = perm.size() == x.dim();
    for (std::size_t i = 0; ok && i < sorted.size(); ++i) ok = sorted[i] == i;
    if (!ok) {
        throw value_error("permute: the permutation must list each of the " + std::to_string(x.dim()) +
                          " axes of shape " + shape_str(x.shape()) + " exactly once");
    }
    return apply(Permute{perm}, x);
}

Tensor transposed(const Tensor& x) {
    if (x.dim() < 2) {
        throw shape_error("transpose: shape " + shape_str(x.shape()) +
                          " has fewer than 2 axes; transpose swaps the last two (use reshape for vectors)");
    }
    std::vector<std::size_t> perm(x.dim());
    std::iota(perm.begin(), perm.end(), std::size_t{0});
    std::swap(perm[x.dim() - 1], perm[x.dim() - 2]);
    return apply(Permute{perm}, x);
}

Tensor sliced(const Tensor& x, long axis, std::size_t start, std::size_t stop) {
    const long ax = negative_axis(axis, x.dim(), "slice");
    const std::size_t size = x.shape()[at(ax, x.dim())];
    if (start > stop || stop > size) {
        throw value_error("slice: range [" + std::to_string(start) + ", " + std::to_string(stop) +
                          ") does not fit axis " + std::to_string(axis) + " of size " + std::to_string(size) +
                          " in shape " + shape_str(x.shape()) + "; need start <= stop <= size");
    }
    return apply(Slice{ax, start, stop, size}, x);
}

Tensor padded(const Tensor& x, long axis, std::size_t start, std::size_t total) {
    const long ax = negative_axis(axis, x.dim(), "pad");
    const std::size_t len = x.shape()[at(ax, x.dim())];
    if (start > total || len > total - start) {
        throw value_error("pad: " + std::to_string(len) + " entries at offset " + std::to_string(start) +
                          " do not fit in length " + std::to_string(total) + " (axis " + std::to_string(axis) +
                          " of shape " + shape_str(x.shape()) + "); need offset + entries <= length");
    }
    return apply(Pad{ax, start, len, total}, x);
}

Tensor concatenated(const std::vector<Tensor>& xs, long axis) {
    if (xs.empty()) throw value_error("concat: needs at least one tensor");
    return apply_list(Concat{negative_axis(axis, xs[0].dim(), "concat")}, xs);
}

Tensor stacked(const std::vector<Tensor>& xs, long axis) {
    if (xs.empty()) throw value_error("stack: needs at least one tensor");
    const std::size_t ax = normalize_axis(axis, xs[0].dim() + 1, "stack");
    std::vector<Tensor> parts;
    for (const auto& x : xs) {
        if (x.shape() != xs[0].shape()) {
            throw shape_error("stack: shapes " + shape_str(xs[0].shape()) + " and " + shape_str(x.shape()) +
                              " differ; stack needs tensors of one shape");
        }
        const auto cut = x.shape().begin() + static_cast<long>(ax);
        Shape s(x.shape().begin(), cut);
        s.push_back(1);
        s.insert(s.end(), cut, x.shape().end());
        parts.push_back(reshape(x, s));
    }
    return concat(parts, static_cast<long>(ax));
}

Tensor selected(const Tensor& x, long axis, const std::vector<std::size_t>& index) {
    const long ax = negative_axis(axis, x.dim(), "index_select");
    return apply(IndexSelect{ax, index, x.shape()[at(ax, x.dim())]}, x);
}

Tensor added_at(const Tensor& x, long axis, const std::vector<std::size_t>& index, std::size_t size) {
    const long ax = negative_axis(axis, x.dim(), "index_add");
    return apply(IndexAdd{ax, index, size}, x);
}

Tensor one_hot_rows(const std::vector<std::size_t>& labels, std::size_t classes, Dtype dtype) {
    // Labels first: a bad label is refused before the (possibly large) array is allocated.
    if (classes == 0 && !labels.empty()) {
        throw value_error("one_hot: classes is 0, so none of the " + std::to_string(labels.size()) +
                          " labels has a column; pass the number of classes (at least 1)");
    }
    for (std::size_t i = 0; i < labels.size(); ++i) {
        if (labels[i] >= classes) {
            throw value_error("one_hot: label " + std::to_string(labels[i]) + " at position " + std::to_string(i) +
                              " is out of range for " + std::to_string(classes) + " classes (" +
                              index_range_str(classes) + ")");
        }
    }
    Array out = Array::zeros({labels.size(), classes}, dtype, "one_hot");
    out.visit_mut([&](auto& a) {
        for (std::size_t i = 0; i < labels.size(); ++i) a.data()[i * classes + labels[i]] = 1;
    });
    return Tensor(std::move(out));
}

}  // namespace

Tensor reshape_core(const Tensor& x, const Shape& from, const Shape& to) {
    if (from == to) return x;
    check_reshape(from, to);
    return apply(Reshape{from, to}, x);
}

Tensor broadcast_to_core(const Tensor& x, const Shape& from, const Shape& to) {
    if (from == to) return x;
    check_broadcastable(from, to);
    return apply(BroadcastTo{from, to}, x);
}

Tensor sum_to_core(const Tensor& x, const Shape& from, const Shape& to) {
    if (from == to) return x;
    check_summable(from, to);
    return apply(SumTo{from, to}, x);
}

Tensor align_core(const Tensor& t, const Shape& in, const Shape& out) {
    if (in.size() >= out.size()) return t;
    Shape padded(out.size() - in.size(), 1);
    padded.insert(padded.end(), in.begin(), in.end());
    return reshape_core(t, in, padded);
}

#define ADG_OP_FUNCTIONS  // the public functions of the op table
#include <adgraph/autodiff/ops_shape.def>

const OpList& shape_ops() {
    static const OpList list = {
#define ADG_OP_LIST  // the entries of the op table
#include <adgraph/autodiff/ops_shape.def>
    };
    return list;
}

}  // namespace adg
