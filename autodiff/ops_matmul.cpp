// Bilinear ops: matmul (BLAS, transposes as flags) and the fused linear layer x·Wᵀ + b.

#include <adgraph/autodiff/internal/op_samples.hpp>
#include <adgraph/tensor/matmul.hpp>

namespace adg {

namespace {

Shape core_of(const Tensor& t) { return Shape(t.shape().begin() + 1, t.shape().end()); }

// Sparse rows d of a vector (direction r is vᵣ·e_{index r}) through a matrix W: vᵣ·W[:, index r] (`columns`, the
// JVP of W·x) or vᵣ·W[index r, :] (the VJP), as a dense (k, ·) batch; a gather, no GEMM. Arrays, not ops: callers
// take this path only when nothing is recorded (else they return no sparse result and the dense rule runs).
// `column`: the result is (k, width, 1), directions of a column vector, instead of (k, width).
Tensor scaled_slices(const Tensor& w, const Directions& d, bool columns, bool column = false) {
    const Array& wa = w.value();
    const std::size_t rows = wa.shape()[0], cols = wa.shape()[1], k = d.count(), width = columns ? rows : cols;
    Array out = Array::empty(column ? Shape{k, width, 1} : Shape{k, width}, wa.dtype());
    out.visit_mut([&](auto& o) {
        using T = typename std::decay_t<decltype(o)>::value_type;
        const T* m = wa.get<T>().data();
        const T* v = d.values().data<T>().data();
        T* dst = o.data();
        for (std::size_t r = 0; r < k; ++r, dst += width) {
            const std::size_t c = d.index()[r];
            if (columns) {
                for (std::size_t j = 0; j < rows; ++j) dst[j] = m[j * cols + c] * v[r];
            } else {
                for (std::size_t j = 0; j < cols; ++j) dst[j] = m[c * cols + j] * v[r];
            }
        }
    });
    return Tensor(std::move(out));
}

bool recording(const Tensor& a, const Tensor& b) { return grad_enabled() && (a.needs_grad() || b.needs_grad()); }

// Defined after MatMul, which it uses.
Tensor times_sparse_b(const Tensor& a, bool ta, const Directions& d, bool tb);

// C = op(A)·op(B) over the last two axes, leading axes broadcast.
// Ȧ-term: op(Ȧ)·op(B); Ḃ-term: op(A)·op(Ḃ). Cotangents: for C = A·B, Ā = C̄·Bᵀ and B̄ = Aᵀ·C̄; the flag cases
// below are the same identities with the transposes moved into the flags (no transposed copies).
// With `vb`, B is a batch of vectors (..., K) taken as the columns (..., K, 1) and C drops that axis: matmul(W, x)
// for a vector x is this op on x itself (no reshape to a column and back, which would copy every batch of
// directions twice), and the rules pass vectors on as vectors.
struct MatMul {
    static constexpr Custom kind{};
    static constexpr const char* name = "matmul";
    // Rows of op(A)·B come from the same rows of A when only A varies.
    Locality locality(const std::vector<Shape>& in, const Shape& out, const std::vector<char>& varies) const {
        return !ta && !varies[1] && in[0].size() == out.size() + (vb ? 1 : 0) ? Locality::rows : Locality::none;
    }
    bool ta = false, tb = false, vb = false;
    Array forward(const Array& a, const Array& b) const { return kernels::matmul(a, b, ta, tb, vb); }
    Tensor mm(const Tensor& a, const Tensor& b, bool fa, bool fb, bool v = false) const {
        return apply(MatMul{fa, fb, v}, a, b);
    }
    // C's shape with B's column axis kept, which A's tangents line up with.
    Shape full_out(const Tensor& y) const {
        Shape s = y.shape();
        if (vb) s.push_back(1);
        return s;
    }
    Tensor jvp(const std::vector<Tensor>& x, const Tensor& y, const std::vector<Tensor>& t) const {
        Tensor r;
        if (t[0].defined()) r = mm(align_core(t[0], x[0].shape(), full_out(y)), x[1], ta, tb, vb);
        if (t[1].defined()) {
            Tensor term = mm(x[0], align_core(t[1], x[1].shape(), y.shape()), ta, tb, vb);
            r = r.defined() ? r + term : term;
        }
        return r;
    }
    Tensor vjp(const std::vector<Tensor>& x, const Tensor& y, const Tensor& ct, std::size_t i) const {
        const Tensor& a = x[0];
        const Tensor& b = x[1];
        Tensor g;
        if (i == 0 && vb) {
            // B and C̄ as the columns they stand for: Ā = C̄·Bᵀ (or B·C̄ᵀ for op(A) = Aᵀ), outer products.
            const Tensor cc = reshape_core(ct, y.shape(), full_out(y));
            Shape bs = b.shape();
            bs.push_back(1);
            const Tensor bc = reshape(b, bs);
            g = ta ? mm(bc, cc, false, true) : mm(cc, bc, false, true);
        } else if (i == 0) {
            g = ta ? mm(b, ct, tb, true) : mm(ct, b, false, !tb);
        } else if (!ta && a.dim() > 2 && (vb ? b.dim() == 1 : !tb && b.dim() == 2)) {
            // A batched against one B: fold the batch into the rows, B̄ = A₂ᵀ·C̄₂ in one GEMM.
            const Shape& as = a.shape();
            const std::size_t rows = numel(Shape(as.begin(), as.end() - 1));
            const Shape cs = core_of(ct);
            const Shape c2 = vb ? Shape{rows} : Shape{rows, cs.back()};
            g = mm(reshape(a, {rows, as.back()}), reshape_core(ct, cs, c2), true, false, vb);
        } else if (vb) {
            g = mm(a, ct, !ta, false, true);
        } else {
            g = tb ? mm(ct, a, true, ta) : mm(a, ct, !ta, false);
        }
        return sum_to_core(g, core_of(g), x[i].shape());
    }

    // Sparse rows (directions.hpp). With one matrix (or vector) B, axis 0 of C is axis 0 of A (its rows, or its
    // batch axis when A has more than two axes), so sparse rows of Ȧ are the same sparse rows of Ċ = op(Ȧ)·op(B),
    // and sparse rows of C̄ (with a matrix B) those of Ā: one GEMM over the k nonzero rows instead of k products.
    //
    // A matrix times a column B (a vector x, or a (K,1) matrix): direction r of Ḃ is vᵣ·e_{index r}, so
    // Ċᵣ = vᵣ·op(A)[:, index r], and for C̄ᵣ = vᵣ·e_{index r}, B̄ᵣ = vᵣ·op(A)[index r, :]ᵀ: columns or rows of A,
    // gathered without a GEMM (scaled_slices; only when nothing is recorded).
    //
    // A matrix B otherwise (A a matrix, or a batch of them folded into rows): Ḃ's term is times_sparse_b, dense;
    // Ȧ's (if any) is added by the dense rule.
    bool rows_follow_a(const std::vector<Tensor>& x) const {
        return x[1].dim() == (vb ? 1u : 2u) && (x[0].dim() > 2 || !ta);
    }
    bool column_b(const std::vector<Tensor>& x) const {
        if (x[0].dim() != 2) return false;
        return vb ? x[1].dim() == 1 : x[1].dim() == 2 && !tb && x[1].shape()[1] == 1;
    }
    Directions jvp_sparse(const std::vector<Tensor>& x, const Tensor& y, const std::vector<Directions>& t) const {
        if (!t[0].defined() && t[1].sparse() && column_b(x) && !recording(x[0], t[1].values())) {
            return Directions(scaled_slices(x[0], t[1], !ta, !vb));
        }
        if (t[1].sparse() && !vb && x[1].dim() == 2 && (x[0].dim() == 2 || !ta)) {
            const Tensor& a = x[0];
            const std::size_t inner = a.shape().back();
            const Tensor b_term =
                times_sparse_b(a.dim() == 2 ? a : reshape(a, {a.size() / inner, inner}), ta, t[1], tb);
            const Directions r(reshape(b_term, batched_shape(t[1].count(), y.shape())));
            return t[0].defined() ? r + Directions(jvp(x, y, {t[0].dense(), Tensor()})) : r;
        }
        if (t[1].defined() || !t[0].sparse() || !rows_follow_a(x)) return {};
        return t[0].with_values(mm(t[0].values(), x[1], ta, tb, vb));
    }
    Directions vjp_sparse(const std::vector<Tensor>& x, const Tensor&, const Directions& ct, std::size_t i) const {
        if (!ct.sparse()) return {};
        const Tensor& v = ct.values();
        if (i == 1) {
            if (!column_b(x) || recording(x[0], v)) return {};
            return Directions(scaled_slices(x[0], ct, ta, !vb));
        }
        if (vb || !rows_follow_a(x)) return {};
        return ct.with_values(ta ? mm(x[1], v, tb, true) : mm(v, x[1], false, !tb));
    }

    static std::vector<OpSample> samples(Generator& gen) {
        struct Case {
            Shape a, b;
            bool ta, tb, vb;
        };
        const std::vector<Case> cases = {
            {{2, 3}, {3, 4}, false, false, false},
            {{3, 2}, {3, 4}, true, false, false},
            {{2, 3}, {4, 3}, false, true, false},
            {{3, 2}, {4, 3}, true, true, false},
            {{2, 2, 3}, {3, 4}, false, false, false},
            {{2, 3}, {2, 3, 4}, false, false, false},
            {{2, 2, 3}, {2, 3, 2}, false, false, false},
            // B a vector (matmul(W, x)), a batch of vectors, against a batch of matrices, and with op(A) = Aᵀ.
            {{2, 3}, {3}, false, false, true},
            {{2, 3}, {2, 3}, false, false, true},
            {{2, 2, 3}, {3}, false, false, true},
            {{3, 2}, {3}, true, false, true}};
        std::vector<OpSample> out;
        for (const auto& c : cases) {
            out.push_back({"matmul " + shape_str(c.a) + (c.ta ? "ᵀ" : "") + "·" + shape_str(c.b) + (c.tb ? "ᵀ" : "") +
                               (c.vb ? " vectors" : ""),
                           {sample_tensor(c.a, {}, gen), sample_tensor(c.b, {}, gen)},
                           [c](const std::vector<Tensor>& xs) {
                               return apply(MatMul{c.ta, c.tb, c.vb}, xs[0], xs[1]);
                           }});
        }
        return out;
    }
};

// op(A)·op(Ḃ) for a matrix A (M, K) and sparse rows d of a matrix B (direction r is vᵣ in row i = index r), a dense
// (k, M, N) batch made without making Ḃ dense: Ċᵣ = (op(A)·vᵣ) ⊗ e_i if op(B) = Bᵀ, else op(A)[:, i] ⊗ vᵣ.
// O(k·M·(K + N)) against the dense rule's O(k·M·K·N); ops, so it records like the dense rule.
Tensor times_sparse_b(const Tensor& a, bool ta, const Directions& d, bool tb) {
    const Tensor& v = d.values();
    const std::vector<std::size_t>& index = d.index();
    const std::size_t k = d.count(), m = a.shape()[ta ? 1 : 0];
    if (!tb) {
        const Tensor cols = index_select(ta ? a : transpose(a), 0, index);
        // The outer products as k GEMMs of inner size 1 (exact; a broadcast multiply is several times slower).
        return apply(MatMul{}, reshape(cols, {k, m, 1}), reshape(v, {k, 1, v.shape()[1]}));
    }
    // Row r of op(A)·vᵣ scattered into column index r of (M, N), flat.
    const std::size_t n = d.rows();
    std::vector<std::size_t> at(k * m);
    for (std::size_t r = 0; r < k; ++r) {
        for (std::size_t j = 0; j < m; ++j) at[r * m + j] = (r * m + j) * n + index[r];
    }
    const Tensor p = apply(MatMul{false, !ta}, v, a);
    return reshape(index_add(reshape(p, {k * m}), 0, at, k * m * n), {k, m, n});
}

// y = x·Wᵀ + b: ẏ = ẋ·Wᵀ + x·Ẇᵀ + ḃ; x̄ = ȳ·W, W̄ = ȳᵀ·x, b̄ = Σ_rows ȳ
struct Linear {
    static constexpr Custom kind{};
    static constexpr const char* name = "linear";
    // Rows of x·Wᵀ + b come from the same rows of x when only x varies.
    Locality locality(const std::vector<Shape>& in, const Shape&, const std::vector<char>& varies) const {
        return varies[0] && !varies[1] && !varies[2] && in[0].size() == 2 ? Locality::rows : Locality::none;
    }
    Array forward(const Array& x, const Array& w, const Array& b) const { return kernels::linear(x, w, &b); }
    Tensor jvp(const std::vector<Tensor>& x, const Tensor& y, const std::vector<Tensor>& t) const {
        Tensor r;
        const auto add = [&r](const Tensor& term) { r = r.defined() ? r + term : term; };
        if (t[0].defined()) add(apply(MatMul{false, true}, t[0], x[1]));
        if (t[1].defined()) {
            // x (in) is treated as one row so the product is (k, 1, out), then reshaped to (k, out).
            Tensor term = apply(MatMul{false, true}, as_rows(x[0]), t[1]);
            add(reshape_core(term, core_of(term), y.shape()));
        }
        if (t[2].defined()) add(broadcast_to_core(t[2], x[2].shape(), y.shape()));
        return r;
    }
    Tensor vjp(const std::vector<Tensor>& x, const Tensor& y, const Tensor& ct, std::size_t i) const {
        if (i == 0) return apply(MatMul{}, ct, x[1]);
        if (i == 2) return sum_to_core(ct, y.shape(), x[2].shape());
        const Shape& ys = y.shape();
        const Tensor rows_ct = ys.size() == 1 ? reshape_core(ct, ys, {1, ys[0]}) : ct;
        return apply(MatMul{true, false}, rows_ct, as_rows(x[0]));
    }
    static Tensor as_rows(const Tensor& x) { return x.dim() == 1 ? reshape(x, {1, x.shape()[0]}) : x; }

    // Sparse rows (directions.hpp), one varying input at a time except for Ẇ. A batch x (B, in) keeps its rows: ẏ's
    // values are ẋ's values·Wᵀ, x̄'s are ȳ's·W. A vector x (in): direction r of ẋ is vᵣ·e_{index r}, so ẏᵣ = vᵣ·W[:,
    // index r] and x̄ᵣ = vᵣ·W[index r, :], columns or rows of W without a GEMM. Ẇ with rows in W's rows gives ẏ those
    // rows (x a vector), or for a batch x ẏᵣ = (x·vᵣ) ⊗ e_{index r} (times_sparse_b, dense), with ẋ's and ḃ's terms (if
    // any) added by the dense rule; b passes straight through; for a vector y, W̄ᵣ = vᵣ·e_{index r} ⊗ x, sparse
    // rows of W.
    Directions jvp_sparse(const std::vector<Tensor>& x, const Tensor& y, const std::vector<Directions>& t) const {
        const bool tx = t[0].defined(), tw = t[1].defined(), tbias = t[2].defined();
        if (tx && !tw && !tbias && t[0].sparse()) {
            const Tensor& v = t[0].values();
            if (x[0].dim() == 2) return t[0].with_values(apply(MatMul{false, true}, v, x[1]));
            return recording(x[1], v) ? Directions() : Directions(scaled_slices(x[1], t[0], true));
        }
        if (tw && t[1].sparse()) {
            const Directions w_term = x[0].dim() == 1 ? t[1].with_values(matmul(t[1].values(), x[0]), y.shape()[0])
                                                      : Directions(times_sparse_b(x[0], false, t[1], true));
            if (!tx && !tbias) return w_term;
            return w_term +
                   Directions(jvp(x, y, {tx ? t[0].dense() : Tensor(), Tensor(), tbias ? t[2].dense() : Tensor()}));
        }
        if (tbias && !tx && !tw && t[2].sparse() && y.dim() == 1) return t[2];
        return {};
    }
    Directions vjp_sparse(const std::vector<Tensor>& x, const Tensor& y, const Directions& ct, std::size_t i) const {
        if (!ct.sparse()) return {};
        const Tensor& v = ct.values();
        const std::size_t k = v.shape()[0];
        if (i == 0) {
            if (y.dim() == 2) return ct.with_values(apply(MatMul{}, v, x[1]));
            return recording(x[1], v) ? Directions() : Directions(scaled_slices(x[1], ct, false));
        }
        if (y.dim() == 2) return i == 2 ? Directions(v) : Directions();
        if (i == 2) return ct;
        return ct.with_values(reshape(v, {k, 1}) * reshape(x[0], {1, x[0].shape()[0]}));
    }
    static std::vector<OpSample> samples(Generator& gen) {
        return {{"linear (2,3)·(4,3)ᵀ+(4)",
                 {sample_tensor({2, 3}, {}, gen), sample_tensor({4, 3}, {}, gen), sample_tensor({4}, {}, gen)},
                 [](const std::vector<Tensor>& xs) { return apply(Linear{}, xs[0], xs[1], xs[2]); }},
                {"linear (3)·(2,3)ᵀ+(2)",
                 {sample_tensor({3}, {}, gen), sample_tensor({2, 3}, {}, gen), sample_tensor({2}, {}, gen)},
                 [](const std::vector<Tensor>& xs) { return apply(Linear{}, xs[0], xs[1], xs[2]); }}};
    }
};

void check_linear_input(const Tensor& x, const Tensor& w) {
    if (x.dim() < 1 || x.dim() > 2 || w.dim() != 2 || x.shape().back() != w.shape()[1]) {
        throw shape_error("linear: input " + shape_str(x.shape()) + " and weight " + shape_str(w.shape()) +
                          " do not fit: need input (in) or (batch, in) and weight (out, in) with equal in");
    }
}

Tensor numpy_matmul(const Tensor& a, const Tensor& b) {
    if (a.dim() == 0 || b.dim() == 0) {
        throw shape_error("matmul: shapes " + shape_str(a.shape()) + " and " + shape_str(b.shape()) +
                          " include a scalar; use * to scale");
    }
    // numpy semantics: a vector on the left is a row (1,n), on the right a column (n,1); that axis is dropped.
    // MatMul takes a vector on the right as it is (vb), so W·x records one op.
    const bool va = a.dim() == 1, vb = b.dim() == 1;
    const Tensor a2 = va ? reshape(a, {1, a.shape()[0]}) : a;
    Tensor r = apply(MatMul{false, false, vb}, a2, b);
    if (!va) return r;
    Shape s = r.shape();
    s.erase(s.end() - (vb ? 1 : 2));
    return reshape(r, s);
}

Tensor affine(const Tensor& x, const Tensor& w, const Tensor& b) {
    check_linear_input(x, w);
    return apply(Linear{}, x, w, b);
}

Tensor affine(const Tensor& x, const Tensor& w) {
    check_linear_input(x, w);
    if (x.dim() == 2) return apply(MatMul{false, true}, x, w);
    // A vector x is W·x, not the row of x·Wᵀ: basis directions of x stay sparse rows and take MatMul's gather of
    // W's columns (rows, in reverse), as linear with a bias does, with no reshape.
    return apply(MatMul{false, false, true}, w, x);
}

}  // namespace

#define ADG_OP_FUNCTIONS  // the public functions of the op table
#include <adgraph/autodiff/ops_matmul.def>

const OpList& matmul_ops() {
    static const OpList list = {
#define ADG_OP_LIST  // the entries of the op table
#include <adgraph/autodiff/ops_matmul.def>
    };
    return list;
}

}  // namespace adg
