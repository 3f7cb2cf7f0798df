#include <adgraph/nn/activation.hpp>

#include <sstream>

#include <adgraph/autodiff/ops.hpp>

namespace adg::nn {

Tensor ReLU::forward(const Tensor& x) { return relu(x); }

Tensor LeakyReLU::forward(const Tensor& x) { return leaky_relu(x, slope_); }

std::string LeakyReLU::to_string() const {
    std::ostringstream s;
    s << "LeakyReLU(" << slope_ << ")";
    return s.str();
}

std::string LeakyReLU::extra_repr() const {
    std::ostringstream s;
    s << "negative_slope=" << slope_;
    return s.str();
}

Tensor Sigmoid::forward(const Tensor& x) { return sigmoid(x); }

Tensor Tanh::forward(const Tensor& x) { return tanh(x); }

Tensor Softmax::forward(const Tensor& x) { return softmax(x, axis_); }

std::string Softmax::to_string() const { return "Softmax(axis=" + std::to_string(axis_) + ")"; }

}  // namespace adg::nn
