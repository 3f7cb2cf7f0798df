#pragma once
/// \file The GEMM floor of an MLP training step: only the cblas_sgemm calls any engine must make (forward X·Wᵀ,
/// backward dW = dYᵀ·X and dX = dY·W except for the first layer), on preallocated buffers, each C zeroed by a
/// vectorised fill and accumulated with beta = 1 as adgraph does (OpenBLAS's beta = 0 pass is slower); threaded
/// either by OpenBLAS or in adgraph's blocks, so that the faster of the two can serve as the floor.

#include <cstddef>
#include <vector>

namespace adg::bench {

/// Buffers for the GEMMs of one step of an MLP with layer sizes `sizes` and up to `batch` rows.
class GemmFloor {
public:
    GemmFloor(const std::vector<std::size_t>& sizes, std::size_t batch);
    /// Who splits the GEMMs over threads: OpenBLAS (its thread count) or adgraph (set_num_threads, BLAS
    /// single-threaded inside each block).
    enum class Threads { blas, adgraph };
    /// The step's GEMMs for `rows` input rows starting at `x` (rows × sizes[0], row-major).
    void step(const float* x, std::size_t rows, Threads threads);
    /// Multiply-adds of one step with `rows` rows.
    double flops(std::size_t rows) const;

private:
    std::vector<std::size_t> sizes_;
    std::vector<std::vector<float>> w_, dw_, y_, dy_;
};

/// C (m×n, row-major) = op(A)·op(B) for A stored (ar × ac), B stored (br × bc), the way the floors do it:
/// threaded by OpenBLAS or in adgraph's blocks.
void floor_product(const float* a, std::size_t ar, std::size_t ac, const float* b, std::size_t br, std::size_t bc,
                   float* c, bool ta, bool tb, GemmFloor::Threads threads);

/// Gives a floor run of kind `how` its `threads` threads: adgraph's (set_num_threads) or OpenBLAS's.
void use_floor_threads(int threads, GemmFloor::Threads how);

/// The floor's runs at `threads` threads: OpenBLAS's threads alone at one; at more, also adgraph's blocks, so that
/// adgraph's own way of splitting a GEMM cannot make it look better than the floor (the faster run is the floor).
std::vector<GemmFloor::Threads> floor_kinds(int threads);

}  // namespace adg::bench
