#include <adgraph/nn/sequence.hpp>

#include <adgraph/autodiff/ops.hpp>

namespace adg::nn {

Tensor Rows::forward(const Tensor& x) {
    if (x.dim() != 4) {
        throw shape_error("Rows: input shape " + shape_str(x.shape()) +
                          " is not a batch of images (N, C, H, W); pass images, e.g. (N, 1, 28, 28)");
    }
    const Shape& s = x.shape();
    // One channel (Fashion-MNIST) needs no copy: the rows are already contiguous.
    const Tensor by_row = s[1] == 1 ? x : permute(x, {0, 2, 1, 3});
    return reshape(by_row, {s[0], s[2], s[1] * s[3]});
}

Tensor LastStep::forward(const Tensor& x) {
    if (x.dim() != 3 || x.shape()[1] == 0) {
        throw shape_error("LastStep: input shape " + shape_str(x.shape()) +
                          " is not a batch of sequences (N, T, F) with T >= 1; pass a recurrent layer's output");
    }
    return select(x, 1, -1);
}

}  // namespace adg::nn
