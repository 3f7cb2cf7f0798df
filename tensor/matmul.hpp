#pragma once
/// \file Matrix products through BLAS (cblas): transposes are flags, never copies; large products are split over
/// adgraph's threads (tensor/parallel.hpp).

#include <adgraph/tensor/array.hpp>

namespace adg::kernels {

/// op(a) · op(b) over the last two axes, with numpy broadcasting of any leading (batch) axes;
/// op(m) is mᵀ when the flag is set. Both operands need at least 2 axes; throws shape_error naming "matmul".
/// Batch axes only one operand has (or is longer along) fold into one GEMM: a's into the rows of op(a), b's into
/// the columns of op(b); one GEMM per index of the batch axes both have (e.g. k directions of a tangent through a
/// fixed matrix are one GEMM, not k).
/// With `b_vector`, b is a batch of vectors (..., k) multiplied as the columns (..., k, 1) and the result drops
/// that axis: (..., m).
Array matmul(const Array& a, const Array& b, bool trans_a = false, bool trans_b = false, bool b_vector = false);

/// x·Wᵀ + bias for x of shape (..., in), W (out, in), bias (out) or an empty Array for none:
/// each block of the output starts as the bias and the GEMM accumulates onto it (beta = 1).
Array linear(const Array& x, const Array& w, const Array* bias);

/// C (m×n, row-major) = op(A)·op(B) + beta·C on the caller's buffers, for A stored row-major as (a_rows × a_cols)
/// and B as (b_rows × b_cols); split over adgraph's threads as matmul's products are. With `bias` (n values) C
/// starts as the bias on every row instead, as in linear (beta must then be 0: value_error otherwise).
void gemm(const float* a, std::size_t a_rows, std::size_t a_cols, const float* b, std::size_t b_rows,
          std::size_t b_cols, float* c, bool trans_a, bool trans_b, float beta, const float* bias = nullptr);

/// How many matrix products adgraph has handed to BLAS since start-up (each once, however many threads share it;
/// products with an empty side or inner dimension are not counted): lets a test check that a rule is one GEMM.
std::size_t gemm_products();

/// gemm() in the calling thread only (float or double), for callers that already split their work over threads
/// (the convolution kernels run one sample's product per part): no bias, C starts as beta·C.
template <class T>
void gemm_serial(const T* a, std::size_t a_rows, std::size_t a_cols, const T* b, std::size_t b_rows, std::size_t b_cols,
                 T* c, bool trans_a, bool trans_b, T beta);

}  // namespace adg::kernels
