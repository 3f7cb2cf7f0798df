#include <adgraph/tensor/matmul.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <optional>
#include <vector>

#include <cblas.h>
#include <limits>

#include <adgraph/tensor/parallel.hpp>

namespace adg::kernels {

namespace {

blasint blas_int(std::size_t v) {
    if (v > static_cast<std::size_t>(std::numeric_limits<blasint>::max())) {
        throw shape_error("matmul: a matrix side or leading dimension of " + std::to_string(v) +
                          " exceeds BLAS's integer range; split the product into smaller blocks");
    }
    return static_cast<blasint>(v);
}

void blas_gemm(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, const float* a, std::size_t lda,
               const float* b, std::size_t ldb, float beta, float* c, std::size_t ldc) {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, blas_int(m), blas_int(n),
                blas_int(k), 1.0f, a, blas_int(lda), b, blas_int(ldb), beta, c, blas_int(ldc));
}

void blas_gemm(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, const double* a, std::size_t lda,
               const double* b, std::size_t ldb, double beta, double* c, std::size_t ldc) {
    cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, blas_int(m), blas_int(n),
                blas_int(k), 1.0, a, blas_int(lda), b, blas_int(ldb), beta, c, blas_int(ldc));
}

std::atomic<std::size_t> products{0};

// Below this many multiply-adds a GEMM is not worth splitting over threads (a part costs a few µs to start).
constexpr std::size_t split_macs = std::size_t{1} << 16;

// C (m×n, row-major at c) = op(A)·op(B) + beta·C for A stored (ar×ac) at a and B stored (br×bc) at b.
// With several threads a large product is cut into blocks of whole rows of C (of columns when C has few rows);
// each element of C is still one dot product over all of k, so the result does not depend on the cut.
// cblas rather than xt::blas::gemm: the blocks need leading dimensions wider than their own width.
//
// With `bias` (length n), C starts as the bias broadcast over rows instead (beta must be 0): each block writes its
// own part, so the thread that multiplies into a block finds it in its own cache.
template <class T>
void split_gemm(const T* a, std::size_t ar, std::size_t ac, const T* b, std::size_t br, std::size_t bc, T* c, bool ta,
                bool tb, T beta, const T* bias = nullptr, bool split = true) {
    const std::size_t m = ta ? ac : ar, n = tb ? br : bc, k = ta ? ar : ac;
    if (m == 0 || n == 0) return;
    // OpenBLAS applies a beta other than 1 as a separate scalar pass over C (sgemm_beta, 4.7 % of a training run's
    // profile at beta = 0); a vectorised pass over each block (a fill, or a scaling by beta) and beta = 1 give the
    // same bits (0 + x = x, and one rounded product per element either way) in less time, e.g. 562 against 610 µs
    // for the 256×784 dW at beta = 0.
    // The start of C's rows i0..i1, columns j0..j1: zeros, the bias, or beta·C.
    const auto start = [&](std::size_t i0, std::size_t i1, std::size_t j0, std::size_t j1) {
        if (!bias && beta == T(1)) return;
        if (!bias && beta == T(0) && j0 == 0 && j1 == n) {
            std::fill(c + i0 * n, c + i1 * n, T(0));
            return;
        }
        for (std::size_t i = i0; i < i1; ++i) {
            T* row = c + i * n;
            if (bias) {
                std::copy(bias + j0, bias + j1, row + j0);
            } else if (beta == T(0)) {
                std::fill(row + j0, row + j1, T(0));
            } else {
                for (std::size_t j = j0; j < j1; ++j) row[j] *= beta;
            }
        }
    };
    if (k == 0) {
        start(0, m, 0, n);
        return;
    }
    products.fetch_add(1, std::memory_order_relaxed);
    if (!split) {
        start(0, m, 0, n);
        blas_gemm(ta, tb, m, n, k, a, ac, b, bc, T(1), c, n);
        return;
    }
    const std::size_t grain = m * n * k >= split_macs ? 32 : m + n + 1;
    // Rows when there are enough of them: in a side-by-side test of the MLP's products, blocks of rows were as
    // fast as blocks of columns or faster (the 128×256·128 dX: 71 against 78 µs; the 256×784 dW: 457 against 615).
    if (m < 2 * 32 && n > m) {
        parallel_for(n, grain, 16, [&](std::size_t j0, std::size_t j1) {
            // Columns j0..j1 of op(B): B's columns, or B's rows when B is stored transposed.
            start(0, m, j0, j1);
            blas_gemm(ta, tb, m, j1 - j0, k, a, ac, tb ? b + j0 * bc : b + j0, bc, T(1), c + j0, n);
        });
    } else {
        parallel_for(m, grain, 16, [&](std::size_t i0, std::size_t i1) {
            // Rows i0..i1 of op(A): A's rows, or A's columns when A is stored transposed.
            start(i0, i1, 0, n);
            blas_gemm(ta, tb, i1 - i0, n, k, ta ? a + i0 : a + i0 * ac, ac, b, bc, T(1), c + i0 * n, n);
        });
    }
}

// The output batch axes of a matmul, in three groups: axes along which only A varies (their batches fold into the
// rows of op(A), so into C's rows), axes along which only B varies (they fold into the columns of op(B)), and
// axes both operands have (a true batch: one GEMM per index). Each group lists, for each of its indices in
// row-major order, where that index starts in A, B and C, counted in whole matrices.
struct BatchGroup {
    std::vector<std::size_t> a{0}, b{0}, c{0};
    void add(std::size_t extent, std::size_t sa, std::size_t sb, std::size_t sc) {
        std::vector<std::size_t> na, nb, nc;
        na.reserve(a.size() * extent);
        nb.reserve(a.size() * extent);
        nc.reserve(a.size() * extent);
        for (std::size_t i = 0; i < a.size(); ++i) {
            for (std::size_t j = 0; j < extent; ++j) {
                na.push_back(a[i] + j * sa);
                nb.push_back(b[i] + j * sb);
                nc.push_back(c[i] + j * sc);
            }
        }
        a.swap(na);
        b.swap(nb);
        c.swap(nc);
    }
    std::size_t size() const { return c.size(); }
};

// True if the i-th index lies i matrices after the first: the group's matrices are one block in that operand.
bool consecutive(const std::vector<std::size_t>& off) {
    for (std::size_t i = 0; i < off.size(); ++i) {
        if (off[i] != i) return false;
    }
    return true;
}

struct Folding {
    BatchGroup shared, a_only, b_only;
    // A has an axis that B lacks, or is longer along one: A's batches fold into rows. Decided from the operands'
    // axes rather than the group sizes, so a batch of one direction (k = 1) takes the same path as k directions.
    bool a_struct = false;
};

// The extent of batch axes `s` at position d counted from the last axis (numpy alignment): 1 where s is shorter.
std::size_t extent_from_end(const Shape& s, std::size_t d) { return d < s.size() ? s[s.size() - 1 - d] : 1; }

// Folding::a_struct for these batch axes.
bool a_struct(const Shape& ab, const Shape& bb) {
    for (std::size_t d = 0; d < ab.size(); ++d) {
        if (d >= bb.size() || (extent_from_end(ab, d) > 1 && extent_from_end(bb, d) == 1)) return true;
    }
    return false;
}

Folding fold_batches(const Shape& batch, const Shape& ab, const Shape& bb) {
    Folding f;
    f.a_struct = a_struct(ab, bb);
    const std::size_t rank = batch.size();
    std::vector<std::size_t> sa(rank), sb(rank), sc(rank);
    for (std::size_t d = 0, pa = 1, pb = 1, pc = 1; d < rank; ++d) {
        const std::size_t axis = rank - 1 - d;
        sa[axis] = pa;
        sb[axis] = pb;
        sc[axis] = pc;
        pa *= extent_from_end(ab, d);
        pb *= extent_from_end(bb, d);
        pc *= batch[axis];
    }
    for (std::size_t axis = 0; axis < rank; ++axis) {
        const std::size_t da = extent_from_end(ab, rank - 1 - axis), db = extent_from_end(bb, rank - 1 - axis);
        if (da > 1 && db > 1) {
            f.shared.add(batch[axis], sa[axis], sb[axis], sc[axis]);
        } else if (da > 1) {
            f.a_only.add(batch[axis], sa[axis], 0, sc[axis]);
        } else if (db > 1) {
            f.b_only.add(batch[axis], 0, sb[axis], sc[axis]);
        }
    }
    return f;
}

// A stored matrix for split_gemm: rows × cols at p, read transposed when `t`.
template <class T>
struct Stored {
    const T* p;
    std::size_t rows, cols;
    bool t;
};

// C = op(A)·op(B) for every batch index, one GEMM per index of the shared axes (ar×ac, br×bc: the stored matrices).
// op(A) of every A-only index stacked is (Pa·m × k), op(B) of every B-only index side by side (k × Pb·n); where an
// operand's matrices are not already one block of that layout they are packed (copies of whole rows, O(size)
// against the GEMM's O(size·k)), and the product lands in C directly when its layout is C's, else in a buffer
// whose rows are then copied to their places in C. A matrix with one row is the same memory read transposed or
// not, so a column B (n = 1) is read as the row Bᵀ: k stacked columns are then the rows of one (k × inner)
// matrix, and C's k (m×1) results the rows of op(B)ᵀ·op(A)ᵀ, with no copy at all.
template <class T>
void batched_gemm(const Folding& f, const T* a, std::size_t ar, std::size_t ac, const T* b, std::size_t br,
                  std::size_t bc, T* c, bool ta, bool tb) {
    if ((tb ? br : bc) == 1 && !tb) {
        tb = true;
        std::swap(br, bc);
    }
    if ((ta ? ac : ar) == 1 && ta) {
        ta = false;
        std::swap(ar, ac);
    }
    const std::size_t m = ta ? ac : ar, n = tb ? br : bc;
    const std::size_t pa = f.a_only.size(), pb = f.b_only.size(), a_mat = ar * ac, b_mat = br * bc, c_mat = m * n;
    // The transposed form writes C's rows as (Pb, m) when n = 1 and A has no batches of its own.
    const bool transposed = n == 1 && !f.a_struct;
    const bool a_direct = pa == 1 || (!ta && consecutive(f.a_only.a));
    const bool b_direct = pb == 1 || (tb && consecutive(f.b_only.b));
    const bool c_direct = transposed ? consecutive(f.b_only.c) : pb == 1 && consecutive(f.a_only.c);
    xt::xarray<T> a_pack, b_pack, c_buf;
    if (!a_direct) a_pack = new_xarray<T>({pa * a_mat}, "matmul");
    if (!b_direct) b_pack = new_xarray<T>({pb * b_mat}, "matmul");
    if (!c_direct) c_buf = new_xarray<T>({pa * pb * c_mat}, "matmul");
    for (std::size_t s = 0; s < f.shared.size(); ++s) {
        const T* as = a + f.shared.a[s] * a_mat;
        const T* bs = b + f.shared.b[s] * b_mat;
        T* cs = c + f.shared.c[s] * c_mat;
        // Direct operands: a block of Pa (or Pb) consecutive matrices, or a single one read with its own flag.
        Stored<T> x{as, pa * ar, ac, ta}, y{bs, pb * br, bc, tb};
        if (!a_direct) {
            // op(A)'s rows stay rows: (Pa, m, k) from whole matrices, or (k, Pa, m) from rows of the stored Aᵀ.
            T* dst = a_pack.data();
            for (std::size_t i = 0; i < pa; ++i) {
                const T* src = as + f.a_only.a[i] * a_mat;
                if (!ta) {
                    std::copy(src, src + a_mat, dst + i * a_mat);
                } else {
                    for (std::size_t r = 0; r < ar; ++r)
                        std::copy(src + r * ac, src + (r + 1) * ac, dst + (r * pa + i) * ac);
                }
            }
            x = ta ? Stored<T>{dst, ar, pa * ac, true} : Stored<T>{dst, pa * ar, ac, false};
        }
        if (!b_direct) {
            // op(B)'s columns stay columns: (Pb, n, k) from whole matrices of the stored Bᵀ, or (k, Pb, n) from rows.
            T* dst = b_pack.data();
            for (std::size_t i = 0; i < pb; ++i) {
                const T* src = bs + f.b_only.b[i] * b_mat;
                if (tb) {
                    std::copy(src, src + b_mat, dst + i * b_mat);
                } else {
                    for (std::size_t r = 0; r < br; ++r)
                        std::copy(src + r * bc, src + (r + 1) * bc, dst + (r * pb + i) * bc);
                }
            }
            y = tb ? Stored<T>{dst, pb * br, bc, true} : Stored<T>{dst, br, pb * bc, false};
        }
        T* dst = c_direct ? cs : c_buf.data();
        if (transposed) {
            split_gemm(y.p, y.rows, y.cols, x.p, x.rows, x.cols, dst, !y.t, !x.t, T(0));
        } else {
            split_gemm(x.p, x.rows, x.cols, y.p, y.rows, y.cols, dst, x.t, y.t, T(0));
        }
        if (c_direct) continue;
        // The product's rows to their matrices in C: (Pb, m) rows of length m when transposed (n = 1, Pa = 1),
        // else (Pa, m, Pb, n) rows of length n.
        if (transposed) {
            for (std::size_t j = 0; j < pb; ++j) std::copy(dst + j * m, dst + (j + 1) * m, cs + f.b_only.c[j] * c_mat);
        } else {
            for (std::size_t i = 0; i < pa; ++i) {
                for (std::size_t r = 0; r < m; ++r) {
                    const T* row = dst + ((i * m + r) * pb) * n;
                    for (std::size_t j = 0; j < pb; ++j) {
                        std::copy(row + j * n, row + (j + 1) * n, cs + (f.a_only.c[i] + f.b_only.c[j]) * c_mat + r * n);
                    }
                }
            }
        }
    }
}

std::string mm_operands(const Shape& a, const Shape& b, bool ta, bool tb) {
    return "shapes " + shape_str(a) + (ta ? "ᵀ" : "") + " and " + shape_str(b) + (tb ? "ᵀ" : "");
}

}  // namespace

Array matmul(const Array& a, const Array& b, bool ta, bool tb, bool b_vector) {
    check_same_dtype(a, b, "matmul");
    const Shape& as = a.shape();
    // A batch of vectors (..., k) is the batch of columns (..., k, 1), or of rows (..., 1, k) read transposed:
    // the same memory either way.
    Shape bs = b.shape();
    if (b_vector && !bs.empty()) {
        bs.push_back(1);
        if (tb) std::swap(bs[bs.size() - 1], bs[bs.size() - 2]);
    }
    if (as.size() < 2 || bs.size() < 2) {
        throw shape_error("matmul: " + mm_operands(as, bs, ta, tb) +
                          ": the kernel needs matrices (2 or more axes); reshape vectors to (n,1) or (1,n)");
    }
    const std::size_t ar = as[as.size() - 2], ac = as.back(), br = bs[bs.size() - 2], bc = bs.back();
    const std::size_t m = ta ? ac : ar, ka = ta ? ar : ac, kb = tb ? bc : br, n = tb ? br : bc;
    if (ka != kb) {
        throw shape_error("matmul: " + mm_operands(as, bs, ta, tb) + " cannot be multiplied: inner dimensions " +
                          std::to_string(ka) + " != " + std::to_string(kb) +
                          "; the first's last axis must equal the second's next-to-last (transpose or reshape one)");
    }
    const Shape ab(as.begin(), as.end() - 2), bb(bs.begin(), bs.end() - 2);
    Shape batch;
    try {
        batch = broadcast_shape(ab, bb, "matmul");
    } catch (const shape_error&) {
        throw shape_error("matmul: " + mm_operands(as, bs, ta, tb) + " have batch axes " + shape_str(ab) + " and " +
                          shape_str(bb) + " that do not broadcast; each batch size must be equal or 1");
    }
    Shape out = batch;
    out.push_back(m);
    if (!b_vector) out.push_back(n);
    return a.visit([&](const auto& x) {
        using T = typename std::decay_t<decltype(x)>::value_type;
        auto r = new_xarray<T>(out, "matmul");
        if (r.size() == 0) return Array(std::move(r));
        if (ka == 0) {
            std::fill(r.begin(), r.end(), T(0));
            return Array(std::move(r));
        }
        // The index lists (built only now, when C holds at least one element per batch index) are not needed for
        // one batch index, the common case (two matrices, or one direction): shared read-only foldings serve it.
        static const Folding single, single_a{{}, {}, {}, true};
        std::optional<Folding> folded;
        if (numel(batch) > 1) folded = fold_batches(batch, ab, bb);
        const Folding& f = folded ? *folded : a_struct(ab, bb) ? single_a : single;
        batched_gemm(f, x.data(), ar, ac, b.get<T>().data(), br, bc, r.data(), ta, tb);
        return Array(std::move(r));
    });
}

Array linear(const Array& x, const Array& w, const Array* bias) {
    check_same_dtype(x, w, "linear");
    const Shape& xs = x.shape();
    const Shape& ws = w.shape();
    if (xs.empty() || ws.size() != 2 || xs.back() != ws[1]) {
        throw shape_error("linear: input " + shape_str(xs) + " and weight " + shape_str(ws) +
                          " do not fit: the weight must be (out, in) with in = the input's last axis");
    }
    const std::size_t out_f = ws[0], in_f = ws[1], rows = numel(Shape(xs.begin(), xs.end() - 1));
    if (bias) {
        check_same_dtype(x, *bias, "linear");
        if (bias->dim() != 1 || bias->shape()[0] != out_f) {
            throw shape_error("linear: bias " + shape_str(bias->shape()) + " does not fit weight " + shape_str(ws) +
                              "; the bias must be (" + std::to_string(out_f) + ")");
        }
    }
    Shape out(xs.begin(), xs.end() - 1);
    out.push_back(out_f);
    return x.visit([&](const auto& xa) {
        using T = typename std::decay_t<decltype(xa)>::value_type;
        const auto& wa = w.get<T>();
        auto r = new_xarray<T>(out, "linear");
        split_gemm(xa.data(), rows, in_f, wa.data(), out_f, in_f, r.data(), false, true, T(0),
                   bias ? bias->get<T>().data() : nullptr);
        return Array(std::move(r));
    });
}

void gemm(const float* a, std::size_t a_rows, std::size_t a_cols, const float* b, std::size_t b_rows,
          std::size_t b_cols, float* c, bool trans_a, bool trans_b, float beta, const float* bias) {
    if (bias && beta != 0.0f) {
        throw value_error("gemm: a bias starts C, so beta must be 0 (got " + number_str(beta) +
                          "); add beta·C separately or pass no bias");
    }
    split_gemm(a, a_rows, a_cols, b, b_rows, b_cols, c, trans_a, trans_b, beta, bias);
}

std::size_t gemm_products() { return products.load(std::memory_order_relaxed); }

template <class T>
void gemm_serial(const T* a, std::size_t a_rows, std::size_t a_cols, const T* b, std::size_t b_rows, std::size_t b_cols,
                 T* c, bool trans_a, bool trans_b, T beta) {
    split_gemm(a, a_rows, a_cols, b, b_rows, b_cols, c, trans_a, trans_b, beta, static_cast<const T*>(nullptr), false);
}

template void gemm_serial<float>(const float*, std::size_t, std::size_t, const float*, std::size_t, std::size_t, float*,
                                 bool, bool, float);
template void gemm_serial<double>(const double*, std::size_t, std::size_t, const double*, std::size_t, std::size_t,
                                  double*, bool, bool, double);

}  // namespace adg::kernels
