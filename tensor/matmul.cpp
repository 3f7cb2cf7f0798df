#include <adgraph/tensor/matmul.hpp>

#include <algorithm>
#include <array>

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

std::string mm_operands(const Shape& a, const Shape& b, bool ta, bool tb) {
    return "shapes " + shape_str(a) + (ta ? "ᵀ" : "") + " and " + shape_str(b) + (tb ? "ᵀ" : "");
}

}  // namespace

Array matmul(const Array& a, const Array& b, bool ta, bool tb) {
    check_same_dtype(a, b, "matmul");
    const Shape& as = a.shape();
    const Shape& bs = b.shape();
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
    out.push_back(n);
    return a.visit([&](const auto& x) {
        using T = typename std::decay_t<decltype(x)>::value_type;
        const auto& y = b.get<T>();
        auto r = new_xarray<T>(out, "matmul");
        const std::size_t nb = numel(batch), nbb = numel(bb);
        if (nbb == 1 && !ta) {
            // One matrix on the right: fold every batch of the left operand into the rows of a single GEMM.
            split_gemm(x.data(), nb * ar, ac, y.data(), br, bc, r.data(), false, tb, T(0));
        } else {
            // Broadcast batch axes: walk the output batch index and map it to each operand's batch offset.
            const std::size_t rank = batch.size();
            Shape idx(rank, 0);
            for (std::size_t i = 0; i < nb; ++i) {
                std::size_t oa = 0, ob = 0;
                for (std::size_t d = 0, sa = 1, sb = 1; d < rank; ++d) {
                    const std::size_t axis = rank - 1 - d;
                    const std::size_t da = d < ab.size() ? ab[ab.size() - 1 - d] : 1;
                    const std::size_t db = d < bb.size() ? bb[bb.size() - 1 - d] : 1;
                    if (da != 1) oa += idx[axis] * sa;
                    if (db != 1) ob += idx[axis] * sb;
                    sa *= da;
                    sb *= db;
                }
                split_gemm(x.data() + oa * ar * ac, ar, ac, y.data() + ob * br * bc, br, bc, r.data() + i * m * n, ta,
                           tb, T(0));
                for (std::size_t d = rank; d-- > 0;) {
                    if (++idx[d] < batch[d]) break;
                    idx[d] = 0;
                }
            }
        }
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
