#include <adgraph/tensor/matmul.hpp>

#include <algorithm>
#include <array>

#include <xtensor-blas/xblas.hpp>
#include <xtensor/xadapt.hpp>

namespace adg::kernels {

namespace {

template <class T>
auto matrix(T* p, std::size_t rows, std::size_t cols) {
    return xt::adapt(static_cast<T*>(p), rows * cols, xt::no_ownership(), std::array<std::size_t, 2>{rows, cols});
}

// C (m×n, row-major at c) = alpha·op(A)·op(B) + beta·C for A stored (ar×ac) at a and B stored (br×bc) at b.
template <class T>
void gemm(const T* a, std::size_t ar, std::size_t ac, const T* b, std::size_t br, std::size_t bc, T* c, bool ta,
          bool tb, T beta) {
    const std::size_t m = ta ? ac : ar, n = tb ? br : bc, k = ta ? ar : ac;
    if (m == 0 || n == 0) return;
    if (k == 0) {
        if (beta == T(0)) std::fill(c, c + m * n, T(0));
        return;
    }
    const auto av = matrix(const_cast<T*>(a), ar, ac);
    const auto bv = matrix(const_cast<T*>(b), br, bc);
    auto cv = matrix(c, m, n);
    xt::blas::gemm(av, bv, cv, ta, tb, T(1), beta);
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
        auto r = xt::xarray<T>::from_shape(out);
        const std::size_t nb = numel(batch), nbb = numel(bb);
        if (nbb == 1 && !ta) {
            // One matrix on the right: fold every batch of the left operand into the rows of a single GEMM.
            gemm(x.data(), nb * ar, ac, y.data(), br, bc, r.data(), false, tb, T(0));
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
                gemm(x.data() + oa * ar * ac, ar, ac, y.data() + ob * br * bc, br, bc, r.data() + i * m * n, ta, tb,
                     T(0));
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
        auto r = xt::xarray<T>::from_shape(out);
        T beta = T(0);
        if (bias) {
            const T* bp = bias->get<T>().data();
            for (std::size_t i = 0; i < rows; ++i) std::copy(bp, bp + out_f, r.data() + i * out_f);
            beta = T(1);
        }
        gemm(xa.data(), rows, in_f, wa.data(), out_f, in_f, r.data(), false, true, beta);
        return Array(std::move(r));
    });
}

}  // namespace adg::kernels
