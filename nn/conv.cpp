#include <adgraph/nn/conv.hpp>

namespace adg::nn {

namespace {

std::string pair_str(Size2 s) {
    return s.h == s.w ? std::to_string(s.h) : std::to_string(s.h) + "x" + std::to_string(s.w);
}

}  // namespace

Conv2d::Conv2d(std::size_t in, std::size_t out, Size2 kernel, Generator& gen, Size2 stride, Size2 padding,
               Size2 dilation, std::size_t groups, bool bias, Init init, Dtype dtype)
    : in_(in), out_(out), kernel_(kernel), stride_(stride), padding_(padding), dilation_(dilation), groups_(groups) {
    const auto bad = [&](const std::string& why) {
        return value_error("Conv2d(" + std::to_string(in) + " -> " + std::to_string(out) + ", " +
                           std::to_string(kernel.h) + "x" + std::to_string(kernel.w) + "): " + why);
    };
    if (in == 0 || out == 0 || kernel.h == 0 || kernel.w == 0) {
        throw bad("channels and kernel sizes must be positive");
    }
    if (stride.h == 0 || stride.w == 0 || dilation.h == 0 || dilation.w == 0) {
        throw bad("stride and dilation must be positive");
    }
    if (groups == 0 || in % groups != 0 || out % groups != 0) {
        throw bad("groups " + std::to_string(groups) + " must divide both channel counts; pass groups = 1");
    }
    const std::size_t taps = kernel.h * kernel.w;
    const std::size_t fan_in = in / groups * taps, fan_out = out / groups * taps;
    const double c = init_bound(init, fan_in, fan_out);
    weight_ = register_parameter("weight", Tensor::uniform({out, in / groups, kernel.h, kernel.w}, -c, c, gen, dtype));
    if (bias) {
        // PyTorch's Conv2d draws its bias from U(±1/√fan_in) whatever the weight's init.
        const double cb = init_bound(Init::uniform, fan_in, fan_out);
        bias_ = register_parameter("bias", Tensor::uniform({out}, -cb, cb, gen, dtype));
    }
}

Tensor Conv2d::forward(const Tensor& x) {
    if (x.dim() != 4 || x.shape()[1] != in_) {
        throw shape_error(to_string() + ": input shape " + shape_str(x.shape()) + " is not (N, " + std::to_string(in_) +
                          ", H, W); pass a batch of " + std::to_string(in_) + "-channel images");
    }
    return conv2d(x, weight_, bias_, stride_, padding_, dilation_, groups_);
}

std::string Conv2d::to_string() const {
    std::string s = "Conv2d(" + std::to_string(in_) + " -> " + std::to_string(out_) + ", " + std::to_string(kernel_.h) +
                    "x" + std::to_string(kernel_.w);
    if (stride_.h != 1 || stride_.w != 1) s += ", stride " + pair_str(stride_);
    if (padding_.h != 0 || padding_.w != 0) s += ", padding " + pair_str(padding_);
    if (dilation_.h != 1 || dilation_.w != 1) s += ", dilation " + pair_str(dilation_);
    if (groups_ != 1) s += ", groups " + std::to_string(groups_);
    return s + (bias_.defined() ? ", bias)" : ")");
}

std::string Conv2d::extra_repr() const {
    // PyTorch's fields: stride always, padding / dilation / groups / bias only when not their defaults.
    const auto pair = [](Size2 s) { return "(" + std::to_string(s.h) + ", " + std::to_string(s.w) + ")"; };
    std::string s = std::to_string(in_) + ", " + std::to_string(out_) + ", kernel_size=" + pair(kernel_) +
                    ", stride=" + pair(stride_);
    if (padding_.h != 0 || padding_.w != 0) s += ", padding=" + pair(padding_);
    if (dilation_.h != 1 || dilation_.w != 1) s += ", dilation=" + pair(dilation_);
    if (groups_ != 1) s += ", groups=" + std::to_string(groups_);
    return s + (bias_.defined() ? "" : ", bias=false");
}

}  // namespace adg::nn
