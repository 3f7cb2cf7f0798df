#pragma once
/// \file Conv2d: the lecture's local filter, one small kernel shared across every position of the image.

#include <adgraph/autodiff/ops.hpp>
#include <adgraph/nn/init.hpp>
#include <adgraph/nn/module.hpp>

namespace adg::nn {

/// 2-D convolution layer (PyTorch's Conv2d): weight (out, in/groups, kh, kw), optional bias (out); forward is
/// conv2d of an (N, in, H, W) batch.
class Conv2d : public Module {
public:
    /// A layer from `in` to `out` channels with `kernel`-sized filters. Weight and bias are drawn from U(−c, c)
    /// with c = init_bound(init, fan_in, fan_out), fan_in = in/groups·kh·kw and fan_out = out/groups·kh·kw, the bias
    /// with the default c = 1/√fan_in: with Init::uniform this is PyTorch's default (kaiming-uniform with a = √5).
    /// Throws value_error for a zero size, stride, dilation or groups, or groups not dividing in and out.
    Conv2d(std::size_t in, std::size_t out, Size2 kernel, Generator& gen, Size2 stride = 1, Size2 padding = 0,
           Size2 dilation = 1, std::size_t groups = 1, bool bias = true, Init init = Init::uniform, Dtype dtype = f32);
    /// conv2d(x, weight, bias, stride, padding, dilation, groups) for x of shape (N, in, H, W).
    Tensor forward(const Tensor& x) override;
    /// "Conv2d(1 -> 32, 3x3, stride 1, padding 1, bias)".
    std::string to_string() const override;
    /// PyTorch-style settings for operator<<: "1, 32, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1)".
    std::string extra_repr() const override;
    /// The weight (out, in/groups, kh, kw).
    const Tensor& weight() const { return weight_; }
    /// The bias (out); undefined without bias.
    const Tensor& bias() const { return bias_; }
    /// Input channels.
    std::size_t in_channels() const { return in_; }
    /// Output channels.
    std::size_t out_channels() const { return out_; }

private:
    std::size_t in_, out_;
    Size2 kernel_, stride_, padding_, dilation_;
    std::size_t groups_;
    Tensor weight_, bias_;
};

}  // namespace adg::nn
