#include <adgraph/nn/flatten.hpp>

#include <adgraph/autodiff/ops.hpp>

namespace adg::nn {

Tensor Flatten::forward(const Tensor& x) {
    if (x.dim() == 0) {
        throw shape_error("Flatten: input shape () has no batch axis; pass a batch (N, ...)");
    }
    std::size_t rest = 1;
    for (std::size_t i = 1; i < x.dim(); ++i) rest *= x.shape()[i];
    return reshape(x, {x.shape()[0], rest});
}

}  // namespace adg::nn
