#include "cnn_floor.hpp"

#include <array>

namespace adg::bench {

namespace {
constexpr std::size_t kk = 9;  // 3×3 kernels
}

CnnGemmFloor::CnnGemmFloor(std::size_t batch) {
    for (auto [c, o, hw] : {std::array<std::size_t, 3>{1, 32, 28 * 28}, std::array<std::size_t, 3>{32, 64, 14 * 14}}) {
        Conv l{c, o, hw, {}, {}, {}, {}, {}};
        l.w.assign(o * c * kk, 0.01f);
        l.dw.assign(o * c * kk, 0.0f);
        l.cols.assign(c * kk * batch * hw, 0.5f);
        l.y.assign(o * batch * hw, 0.0f);
        l.dy.assign(o * batch * hw, 0.001f);
        conv_.push_back(std::move(l));
    }
    w1_.assign(128 * 3136, 0.01f);
    dw1_.assign(128 * 3136, 0.0f);
    h1_.assign(batch * 128, 0.0f);
    dh1_.assign(batch * 128, 0.001f);
    w2_.assign(10 * 128, 0.01f);
    dw2_.assign(10 * 128, 0.0f);
    y2_.assign(batch * 10, 0.0f);
    dy2_.assign(batch * 10, 0.001f);
}

void CnnGemmFloor::step(std::size_t rows, GemmFloor::Threads t) {
    // Forward: each conv layer Y (O × rows·HW) = W (O × C·9) · cols (C·9 × rows·HW).
    for (Conv& l : conv_) {
        const std::size_t ck = l.c * kk, px = rows * l.hw;
        floor_product(l.w.data(), l.o, ck, l.cols.data(), ck, px, l.y.data(), false, false, t);
    }
    // The linears read the second conv's output as (rows × 3136) (after pooling it is a quarter of it; the
    // values do not matter, only the shapes).
    const float* flat = conv_[1].y.data();
    floor_product(flat, rows, 3136, w1_.data(), 128, 3136, h1_.data(), false, true, t);     // H = X·W1ᵀ
    floor_product(h1_.data(), rows, 128, w2_.data(), 10, 128, y2_.data(), false, true, t);  // Y = H·W2ᵀ
    // Backward.
    floor_product(dy2_.data(), rows, 10, h1_.data(), rows, 128, dw2_.data(), true, false, t);  // dW2 = dYᵀ·H
    floor_product(dy2_.data(), rows, 10, w2_.data(), 10, 128, dh1_.data(), false, false, t);   // dH = dY·W2
    floor_product(dh1_.data(), rows, 128, flat, rows, 3136, dw1_.data(), true, false, t);      // dW1 = dHᵀ·X
    // dX = dH·W1 (rows × 3136), written over the second conv's dY only to be timed.
    floor_product(dh1_.data(), rows, 128, w1_.data(), 128, 3136, conv_[1].dy.data(), false, false, t);
    for (std::size_t i = conv_.size(); i-- > 0;) {
        Conv& l = conv_[i];
        const std::size_t ck = l.c * kk, px = rows * l.hw;
        floor_product(l.dy.data(), l.o, px, l.cols.data(), ck, px, l.dw.data(), false, true, t);  // dW = dY·colsᵀ
        // dcols = Wᵀ·dY, written over cols (already used by dW) only to be timed; the input needs none.
        if (i > 0) floor_product(l.w.data(), l.o, ck, l.dy.data(), l.o, px, l.cols.data(), true, false, t);
    }
}

}  // namespace adg::bench
