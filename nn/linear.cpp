#include <adgraph/nn/linear.hpp>

#include <adgraph/autodiff/ops.hpp>

namespace adg::nn {

Linear::Linear(std::size_t in, std::size_t out, Generator& gen, bool bias, Init init, Dtype dtype)
    : in_(in), out_(out) {
    weight_ = register_parameter("weight", init_weight(in, out, init, gen, dtype));
    if (bias) bias_ = register_parameter("bias", Tensor::zeros({out}, dtype));
}

Tensor Linear::forward(const Tensor& x) {
    if (x.dim() == 0 || x.shape().back() != in_) {
        throw shape_error("Linear(" + std::to_string(in_) + " -> " + std::to_string(out_) + "): input shape " +
                          shape_str(x.shape()) + " does not end in " + std::to_string(in_) +
                          " features; pass (batch, " + std::to_string(in_) + ")");
    }
    return bias_.defined() ? linear(x, weight_, bias_) : linear(x, weight_);
}

std::string Linear::to_string() const {
    return "Linear(" + std::to_string(in_) + " -> " + std::to_string(out_) + (bias_.defined() ? ", bias)" : ")");
}

std::string Linear::extra_repr() const {
    return "in_features=" + std::to_string(in_) + ", out_features=" + std::to_string(out_) +
           ", bias=" + (bias_.defined() ? "true" : "false");
}

}  // namespace adg::nn
