#include "fused_trainer.hpp"

#include <adgraph/tensor/matmul.hpp>
#include <adgraph/tensor/parallel.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace adg::bench {

FusedTrainer::FusedTrainer(const std::vector<LayerInit>& init, std::size_t batch, float lr, float momentum)
    : batch_(batch), lr_(lr), momentum_(momentum) {
    for (const LayerInit& l : init) {
        Layer L;
        L.in = l.in;
        L.out = l.out;
        L.w = l.weight;
        L.b = l.bias;
        L.v.assign(l.weight.size(), 0.0f);
        L.vb.assign(l.bias.size(), 0.0f);
        L.h.assign(batch * l.out, 0.0f);
        L.dh.assign(batch * l.out, 0.0f);
        layers_.push_back(std::move(L));
    }
}

double FusedTrainer::step(const float* x, const std::int64_t* labels, std::size_t rows) {
    if (rows == 0 || rows > batch_) {
        throw std::invalid_argument("FusedTrainer::step: " + std::to_string(rows) + " rows; pass 1 to " +
                                    std::to_string(batch_));
    }
    const std::size_t depth = layers_.size();
    // Forward: h = relu(a·Wᵀ + b), the bias as the GEMM's starting C, ReLU in place (not on the logits).
    const float* a = x;
    for (std::size_t l = 0; l < depth; ++l) {
        Layer& L = layers_[l];
        float* h = L.h.data();
        kernels::gemm(a, rows, L.in, L.w.data(), L.out, L.in, h, false, true, 0.0f, L.b.data());
        if (l + 1 < depth) {
            parallel_for(rows * L.out, parallel_grain, 16, [&](std::size_t j0, std::size_t j1) {
                for (std::size_t j = j0; j < j1; ++j) h[j] = std::max(h[j], 0.0f);
            });
        }
        a = h;
    }
    // Mean cross-entropy of the logits z and its cotangent (softmax(z) − onehot) / rows.
    Layer& top = layers_.back();
    const std::size_t classes = top.out;
    double loss = 0;
    for (std::size_t r = 0; r < rows; ++r) {
        const float* z = top.h.data() + r * classes;
        float* g = top.dh.data() + r * classes;
        if (labels[r] < 0 || static_cast<std::size_t>(labels[r]) >= classes) {
            throw std::invalid_argument("FusedTrainer::step: label " + std::to_string(labels[r]) + " of row " +
                                        std::to_string(r) + " is not one of the " + std::to_string(classes) +
                                        " classes");
        }
        const float zmax = *std::max_element(z, z + classes);
        float total = 0;
        for (std::size_t c = 0; c < classes; ++c) total += (g[c] = std::exp(z[c] - zmax));
        const auto y = static_cast<std::size_t>(labels[r]);
        loss += std::log(total) + zmax - z[y];
        for (std::size_t c = 0; c < classes; ++c) {
            g[c] = (g[c] / total - (c == y ? 1.0f : 0.0f)) / static_cast<float>(rows);
        }
    }
    // Backward, top layer first. v = keep·v + ḡᵀ·a in one GEMM; the cotangent below (ḡ·W, masked by ReLU's
    // derivative in place) uses W before its update.
    const float keep = steps_ == 0 ? 0.0f : momentum_;
    for (std::size_t l = depth; l-- > 0;) {
        Layer& L = layers_[l];
        const float* in = l == 0 ? x : layers_[l - 1].h.data();
        const float* g = L.dh.data();
        kernels::gemm(g, rows, L.out, in, rows, L.in, L.v.data(), true, false, keep);
        // vb = keep·vb + the column sums of ḡ, in parts of whole columns.
        parallel_for(L.out, std::max<std::size_t>(1, parallel_grain / rows), 16, [&](std::size_t o0, std::size_t o1) {
            for (std::size_t o = o0; o < o1; ++o) L.vb[o] *= keep;
            for (std::size_t r = 0; r < rows; ++r) {
                for (std::size_t o = o0; o < o1; ++o) L.vb[o] += g[r * L.out + o];
            }
        });
        if (l > 0) {
            Layer& below = layers_[l - 1];
            float* d = below.dh.data();
            const float* h = below.h.data();
            kernels::gemm(g, rows, L.out, L.w.data(), L.out, L.in, d, false, false, 0.0f);
            parallel_for(rows * L.in, parallel_grain, 16, [&](std::size_t j0, std::size_t j1) {
                for (std::size_t j = j0; j < j1; ++j) d[j] = h[j] > 0.0f ? d[j] : 0.0f;
            });
        }
        float* w = L.w.data();
        const float* v = L.v.data();
        parallel_for(L.w.size(), parallel_grain, 16, [&](std::size_t j0, std::size_t j1) {
            for (std::size_t j = j0; j < j1; ++j) w[j] -= lr_ * v[j];
        });
        for (std::size_t o = 0; o < L.out; ++o) L.b[o] -= lr_ * L.vb[o];
    }
    ++steps_;
    return loss / static_cast<double>(rows);
}

}  // namespace adg::bench
