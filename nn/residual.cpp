#include <adgraph/nn/residual.hpp>

#include <adgraph/autodiff/ops.hpp>

namespace adg::nn {

Residual::Residual(std::shared_ptr<Module> inner) {
    if (!inner) throw value_error("Residual: the inner module is null; pass a module");
    inner_ = register_module("inner", std::move(inner));
}

Tensor Residual::forward(const Tensor& x) {
    const Tensor y = inner_->forward(x);
    // Broadcasting would hide a block that changes the shape, so the shapes must be equal.
    if (y.shape() != x.shape()) {
        throw shape_error("Residual: the inner module maps " + shape_str(x.shape()) + " to " + shape_str(y.shape()) +
                          ", but x + inner(x) needs equal shapes; make the block keep channels and size (e.g. 3x3 "
                          "convolutions with padding 1)");
    }
    return x + y;
}

}  // namespace adg::nn
