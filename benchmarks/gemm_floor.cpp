#include "gemm_floor.hpp"

#include <cblas.h>

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

namespace {

// C = A·B the cheapest way OpenBLAS offers, as adgraph does it: a vectorised fill and beta = 1, since OpenBLAS's
// own beta = 0 pass over C is scalar.
void zeroed(std::vector<float>& c, std::size_t n) { std::fill(c.begin(), c.begin() + static_cast<long>(n), 0.0f); }

}  // namespace

void GemmFloor::step(const float* x, std::size_t rows) {
    const auto r = static_cast<int>(rows);
    const std::size_t layers = w_.size();
    for (std::size_t l = 0; l < layers; ++l) {
        const int in = static_cast<int>(sizes_[l]), out = static_cast<int>(sizes_[l + 1]);
        const float* a = l == 0 ? x : y_[l - 1].data();
        zeroed(y_[l], rows * out);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, r, out, in, 1.0f, a, in, w_[l].data(), in, 1.0f,
                    y_[l].data(), out);
    }
    for (std::size_t l = layers; l-- > 0;) {
        const int in = static_cast<int>(sizes_[l]), out = static_cast<int>(sizes_[l + 1]);
        const float* a = l == 0 ? x : y_[l - 1].data();
        zeroed(dw_[l], dw_[l].size());
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, r, 1.0f, dy_[l].data(), out, a, in, 1.0f,
                    dw_[l].data(), in);
        if (l > 0) {
            // dY of the layer below is overwritten here only to be timed; its values do not matter.
            zeroed(dy_[l - 1], rows * in);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, r, in, out, 1.0f, dy_[l].data(), out, w_[l].data(),
                        in, 1.0f, dy_[l - 1].data(), in);
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

}  // namespace adg::bench
