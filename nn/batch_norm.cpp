#include <adgraph/nn/batch_norm.hpp>

#include <sstream>

#include <adgraph/autodiff/ops.hpp>

namespace adg::nn {

BatchNorm::BatchNorm(const char* name, std::size_t rank, std::size_t channels, double momentum, double eps, Dtype dtype)
    : name_(name), rank_(rank), channels_(channels), momentum_(momentum), eps_(eps) {
    const std::string layer = std::string(name) + "(" + std::to_string(channels) + ")";
    if (channels == 0) throw value_error(layer + ": the number of channels must be positive");
    if (!(momentum >= 0 && momentum <= 1)) {
        throw value_error(layer + ": momentum must be in [0, 1] (got " + number_str(momentum) + ")");
    }
    if (!(eps > 0 && eps < 1e300))
        throw value_error(layer + ": eps must be a positive number (got " + number_str(eps) + ")");
    weight_ = register_parameter("weight", Tensor::ones({channels}, dtype));
    bias_ = register_parameter("bias", Tensor::zeros({channels}, dtype));
    running_mean_ = register_buffer("running_mean", Tensor::zeros({channels}, dtype));
    running_var_ = register_buffer("running_var", Tensor::ones({channels}, dtype));
}

Tensor BatchNorm::forward(const Tensor& x) {
    if (x.dim() != rank_ || x.shape()[1] != channels_) {
        const std::string expected =
            rank_ == 2 ? "(N, " + std::to_string(channels_) + ")" : "(N, " + std::to_string(channels_) + ", H, W)";
        throw shape_error(to_string() + ": input shape " + shape_str(x.shape()) + " is not " + expected + "; use " +
                          (rank_ == 2 ? "BatchNorm2d for images" : "BatchNorm1d for features") +
                          " or a layer of as many channels as the input has");
    }
    return batch_norm(x, running_mean_, running_var_, weight_, bias_, training(), momentum_, eps_);
}

std::string BatchNorm::to_string() const {
    std::ostringstream s;
    s << name_ << "(" << channels_;
    if (momentum_ != 0.1) s << ", momentum " << momentum_;
    if (eps_ != 1e-5) s << ", eps " << eps_;
    s << ")";
    return s.str();
}

std::string BatchNorm::extra_repr() const {
    std::ostringstream s;
    s << channels_ << ", eps=" << eps_ << ", momentum=" << momentum_;
    return s.str();
}

}  // namespace adg::nn
