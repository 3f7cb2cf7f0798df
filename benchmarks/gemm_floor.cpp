#include "gemm_floor.hpp"

#include <cblas.h>
#include <adgraph/tensor/matmul.hpp>
#include <adgraph/tensor/parallel.hpp>

#include "machine.hpp"

#include <algorithm>

namespace adg::bench {

GemmFloor::GemmFloor(const std::vector<std::size_t>& sizes, std::size_t batch) : sizes_(sizes) {
    for (std::size_t l = 0; l + 1 < sizes.size(); ++l) {
        w_.emplace_back(sizes[l] * sizes[l + 1], 0.01f);
        dw_.emplace_back(sizes[l] * sizes[l + 1], 0.0f);
        y_.emplace_back(batch * sizes[l + 1], 0.0f);
        dy_.emplace_back(batch * sizes[l + 1], 0.001f);
    }
}

// With OpenBLAS's threads: the cheapest way OpenBLAS offers, as adgraph does it, a vectorised fill and beta = 1,
// since OpenBLAS's own beta = 0 pass over C is scalar. With adgraph's threads: adgraph's blocks (which do the same
// inside).
void floor_product(const float* a, std::size_t ar, std::size_t ac, const float* b, std::size_t br, std::size_t bc,
                   float* c, bool ta, bool tb, GemmFloor::Threads threads) {
    if (threads == GemmFloor::Threads::adgraph) {
        kernels::gemm(a, ar, ac, b, br, bc, c, ta, tb, 0.0f);
        return;
    }
    const std::size_t m = ta ? ac : ar, n = tb ? br : bc, k = ta ? ar : ac;
    std::fill(c, c + m * n, 0.0f);
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, static_cast<int>(m),
                static_cast<int>(n), static_cast<int>(k), 1.0f, a, static_cast<int>(ac), b, static_cast<int>(bc), 1.0f,
                c, static_cast<int>(n));
}

void GemmFloor::step(const float* x, std::size_t rows, Threads threads) {
    const std::size_t layers = w_.size();
    for (std::size_t l = 0; l < layers; ++l) {
        const std::size_t in = sizes_[l], out = sizes_[l + 1];
        const float* a = l == 0 ? x : y_[l - 1].data();
        floor_product(a, rows, in, w_[l].data(), out, in, y_[l].data(), false, true, threads);  // Y = X·Wᵀ
    }
    for (std::size_t l = layers; l-- > 0;) {
        const std::size_t in = sizes_[l], out = sizes_[l + 1];
        const float* a = l == 0 ? x : y_[l - 1].data();
        floor_product(dy_[l].data(), rows, out, a, rows, in, dw_[l].data(), true, false, threads);  // dW = dYᵀ·X
        if (l > 0) {
            // dX = dY·W, written over the dY of the layer below only to be timed; its values do not matter.
            floor_product(dy_[l].data(), rows, out, w_[l].data(), out, in, dy_[l - 1].data(), false, false, threads);
        }
    }
}

double GemmFloor::flops(std::size_t rows) const {
    double f = 0;
    for (std::size_t l = 0; l + 1 < sizes_.size(); ++l) {
        const double mn = static_cast<double>(sizes_[l] * sizes_[l + 1]) * static_cast<double>(rows);
        f += 2 * mn * (l == 0 ? 2 : 3);
    }
    return f;
}

void use_floor_threads(int threads, GemmFloor::Threads how) {
    if (how == GemmFloor::Threads::adgraph) {
        set_num_threads(threads);
    } else {
        set_blas_threads(threads);
    }
}

std::vector<GemmFloor::Threads> floor_kinds(int threads) {
    if (threads > 1) return {GemmFloor::Threads::blas, GemmFloor::Threads::adgraph};
    return {GemmFloor::Threads::blas};
}

}  // namespace adg::bench
