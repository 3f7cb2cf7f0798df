// 2-D convolution: conv2d, its transpose (the input gradient) and its weight correlation (the weight gradient).
//
// The three are one trilinear form ⟨y, x ⋆ w⟩ read three ways, so each op's rules are written with the other two:
//   conv2d            y = x ⋆ w (+ b)      ẏ = ẋ ⋆ w + x ⋆ ẇ + ḃ     x̄ = convᵀ(ȳ, w)   w̄ = corr(x, ȳ)   b̄ = Σ_{N,H,W} ȳ
//   conv2d_transpose  x̄ = convᵀ(g, w)      ẋ̄ = convᵀ(ġ, w) + convᵀ(g, ẇ)   ḡ = c ⋆ w        w̄ = corr(c, g)
//   conv2d_weight     w̄ = corr(x, g)       ẇ̄ = corr(ẋ, g) + corr(x, ġ)     x̄ = convᵀ(g, c)  ḡ = x ⋆ c
// so under create_graph every rule records these ops again and derivatives of any order follow. Leading axes
// broadcast as matmul's batch axes do (tensor/conv.hpp): a batch of k tangents on the image folds into the samples
// (one GEMM sweep over k·N samples), a batch on the weight into the GEMM's rows.

#include <adgraph/autodiff/internal/op_samples.hpp>
#include <adgraph/tensor/conv.hpp>

namespace adg {

namespace {

using kernels::ConvParams;

Shape core_of(const Tensor& t) { return Shape(t.shape().begin() + 1, t.shape().end()); }

Tensor plus(const Tensor& r, const Tensor& term) { return r.defined() ? r + term : term; }

std::string params_str(const ConvParams& p) {
    std::string s;
    if (p.stride_h != 1 || p.stride_w != 1)
        s += " stride " + std::to_string(p.stride_h) + "x" + std::to_string(p.stride_w);
    if (p.pad_h != 0 || p.pad_w != 0) s += " pad " + std::to_string(p.pad_h) + "x" + std::to_string(p.pad_w);
    if (p.dil_h != 1 || p.dil_w != 1) s += " dilation " + std::to_string(p.dil_h) + "x" + std::to_string(p.dil_w);
    if (p.groups != 1) s += " groups " + std::to_string(p.groups);
    return s;
}

Tensor conv_op(const ConvParams& p, const Tensor& x, const Tensor& w);
Tensor conv_transpose_op(const ConvParams& p, const Tensor& g, const Tensor& w, std::size_t h, std::size_t wd);
Tensor conv_weight_op(const ConvParams& p, const Tensor& x, const Tensor& g, std::size_t kh, std::size_t kw);
Tensor bias_grad_op(const Shape& core, const Tensor& g);

std::size_t axis_from_end(const Tensor& t, std::size_t i) { return t.shape()[t.dim() - i]; }

// y = x ⋆ w + b: ẏ = ẋ ⋆ w + x ⋆ ẇ + ḃ; x̄ = convᵀ(ȳ, w), w̄ = corr(x, ȳ), b̄ = Σ_{N,Ho,Wo} ȳ.
// Inputs (x, w) or (x, w, b).
struct Conv2d {
    static constexpr Custom kind{};
    static constexpr const char* name = "conv2d";
    ConvParams p;
    // Each sample's output depends on its own input only when just x varies.
    Locality locality(const std::vector<Shape>& in, const Shape& out, const std::vector<char>& varies) const {
        const bool only_x = varies[0] && !varies[1] && (in.size() < 3 || !varies[2]);
        return only_x && in[1].size() == 4 && in[0].size() == out.size() ? Locality::rows : Locality::none;
    }
    Array forward(const std::vector<Array>& in) const {
        return kernels::conv2d(in[0], in[1], in.size() > 2 ? &in[2] : nullptr, p);
    }
    Tensor jvp(const std::vector<Tensor>& x, const Tensor& y, const std::vector<Tensor>& t) const {
        Tensor r;
        if (t[0].defined()) r = plus(r, conv_op(p, align_core(t[0], x[0].shape(), y.shape()), x[1]));
        if (t[1].defined()) r = plus(r, conv_op(p, x[0], align_core(t[1], x[1].shape(), y.shape())));
        if (x.size() > 2 && t[2].defined()) {
            const Shape column = {x[2].shape()[0], 1, 1};
            r = plus(r, broadcast_to_core(reshape_core(t[2], x[2].shape(), column), column, y.shape()));
        }
        return r;
    }
    Tensor vjp(const std::vector<Tensor>& x, const Tensor& y, const Tensor& ct, std::size_t i) const {
        if (i == 2) return bias_grad_op(y.shape(), ct);
        const Tensor g = i == 0 ? conv_transpose_op(p, ct, x[1], axis_from_end(x[0], 2), axis_from_end(x[0], 1))
                                : conv_weight_op(p, x[0], ct, axis_from_end(x[1], 2), axis_from_end(x[1], 1));
        return sum_to_core(g, core_of(g), x[i].shape());
    }
    static std::vector<OpSample> samples(Generator& gen);
};

// x̄ = convᵀ(g, w), the adjoint of x ↦ x ⋆ w: ẋ̄ = convᵀ(ġ, w) + convᵀ(g, ẇ); ḡ = c ⋆ w, w̄ = corr(c, g).
struct Conv2dTranspose {
    static constexpr Custom kind{};
    static constexpr const char* name = "conv2d_transpose";
    ConvParams p;
    std::size_t h = 0, w = 0;  // the spatial size of the convolution's input (several give one output size)
    Locality locality(const std::vector<Shape>& in, const Shape& out, const std::vector<char>& varies) const {
        return varies[0] && !varies[1] && in[1].size() == 4 && in[0].size() == out.size() ? Locality::rows
                                                                                          : Locality::none;
    }
    Array forward(const Array& g, const Array& wt) const { return kernels::conv2d_transpose(g, wt, p, h, w); }
    Tensor jvp(const std::vector<Tensor>& x, const Tensor& y, const std::vector<Tensor>& t) const {
        Tensor r;
        if (t[0].defined()) r = plus(r, conv_transpose_op(p, align_core(t[0], x[0].shape(), y.shape()), x[1], h, w));
        if (t[1].defined()) r = plus(r, conv_transpose_op(p, x[0], align_core(t[1], x[1].shape(), y.shape()), h, w));
        return r;
    }
    Tensor vjp(const std::vector<Tensor>& x, const Tensor&, const Tensor& ct, std::size_t i) const {
        const Tensor g =
            i == 0 ? conv_op(p, ct, x[1]) : conv_weight_op(p, ct, x[0], axis_from_end(x[1], 2), axis_from_end(x[1], 1));
        return sum_to_core(g, core_of(g), x[i].shape());
    }
    static std::vector<OpSample> samples(Generator& gen);
};

// w̄ = corr(x, g) = Σₙ gₙ ⋆ xₙ, the adjoint of w ↦ x ⋆ w: ẇ̄ = corr(ẋ, g) + corr(x, ġ); x̄ = convᵀ(g, c), ḡ = x ⋆ c.
struct Conv2dWeight {
    static constexpr Custom kind{};
    static constexpr const char* name = "conv2d_weight";
    ConvParams p;
    std::size_t kh = 0, kw = 0;
    Array forward(const Array& x, const Array& g) const { return kernels::conv2d_weight(x, g, p, kh, kw); }
    Tensor jvp(const std::vector<Tensor>& x, const Tensor& y, const std::vector<Tensor>& t) const {
        Tensor r;
        if (t[0].defined()) r = plus(r, conv_weight_op(p, align_core(t[0], x[0].shape(), y.shape()), x[1], kh, kw));
        if (t[1].defined()) r = plus(r, conv_weight_op(p, x[0], align_core(t[1], x[1].shape(), y.shape()), kh, kw));
        return r;
    }
    Tensor vjp(const std::vector<Tensor>& x, const Tensor&, const Tensor& ct, std::size_t i) const {
        const Tensor g = i == 0 ? conv_transpose_op(p, x[1], ct, axis_from_end(x[0], 2), axis_from_end(x[0], 1))
                                : conv_op(p, x[0], ct);
        return sum_to_core(g, core_of(g), x[i].shape());
    }
    static std::vector<OpSample> samples(Generator& gen);
};

// b̄ = Σ_{N,Ho,Wo} ȳ, linear; its transpose broadcasts each channel's value back over the output (y's shape `core`).
struct Conv2dBiasGrad {
    static constexpr LinearMap kind{};
    static constexpr const char* name = "conv2d_bias_grad";
    Shape core;
    Array forward(const Array& g) const { return kernels::conv2d_bias_grad(g, core); }
    Tensor transpose(const Tensor& ct) const {
        const Shape column = {core[core.size() - 3], 1, 1};
        return broadcast_to_core(reshape_core(ct, {column[0]}, column), column, core);
    }
    static std::vector<OpSample> samples(Generator& gen) {
        std::vector<OpSample> out;
        for (const Shape& core : {Shape{2, 3, 2, 2}, Shape{2, 1, 3, 1, 2}}) {
            out.push_back({"conv2d_bias_grad " + shape_str(core),
                           {sample_tensor(core, {}, gen)},
                           [core](const std::vector<Tensor>& xs) { return apply(Conv2dBiasGrad{core}, xs[0]); }});
        }
        return out;
    }
};

Tensor conv_op(const ConvParams& p, const Tensor& x, const Tensor& w) { return apply_list(Conv2d{p}, {x, w}); }
Tensor bias_grad_op(const Shape& core, const Tensor& g) { return apply(Conv2dBiasGrad{core}, g); }
Tensor conv_transpose_op(const ConvParams& p, const Tensor& g, const Tensor& w, std::size_t h, std::size_t wd) {
    return apply(Conv2dTranspose{p, h, wd}, g, w);
}
Tensor conv_weight_op(const ConvParams& p, const Tensor& x, const Tensor& g, std::size_t kh, std::size_t kw) {
    return apply(Conv2dWeight{p, kh, kw}, x, g);
}

// Test cases: tiny (the suite runs twice, once under ASan), covering stride, padding, dilation, groups, a 1×1 kernel,
// non-square images and kernels, bias or none, and leading axes on either operand.
struct ConvCase {
    Shape x, w;
    ConvParams p;
    bool bias;
};

const std::vector<ConvCase>& conv_cases() {
    static const std::vector<ConvCase> cases = {
        {{2, 2, 4, 4}, {3, 2, 3, 3}, {}, true},
        {{1, 2, 5, 4}, {2, 2, 3, 2}, {2, 1, 1, 1, 1, 1, 1}, false},
        {{1, 1, 5, 5}, {2, 1, 2, 2}, {1, 1, 1, 0, 2, 2, 1}, true},
        {{2, 4, 3, 3}, {4, 2, 2, 2}, {1, 2, 0, 1, 1, 1, 2}, true},
        {{2, 3, 2, 2}, {2, 3, 1, 1}, {}, false},
        {{2, 1, 1, 3, 3}, {2, 1, 2, 2}, {}, false},
        {{1, 1, 3, 3}, {2, 2, 1, 2, 2}, {}, false},
    };
    return cases;
}

std::vector<OpSample> Conv2d::samples(Generator& gen) {
    std::vector<OpSample> out;
    for (const auto& c : conv_cases()) {
        std::vector<Tensor> in = {sample_tensor(c.x, {}, gen), sample_tensor(c.w, {}, gen)};
        if (c.bias) in.push_back(sample_tensor({c.w[c.w.size() - 4]}, {}, gen));
        out.push_back({"conv2d " + shape_str(c.x) + "⋆" + shape_str(c.w) + (c.bias ? "+b" : "") + params_str(c.p),
                       std::move(in), [p = c.p](const std::vector<Tensor>& xs) { return apply_list(Conv2d{p}, xs); }});
    }
    return out;
}

std::vector<OpSample> Conv2dTranspose::samples(Generator& gen) {
    std::vector<OpSample> out;
    for (const auto& c : conv_cases()) {
        if (c.x.size() != 4 || c.w.size() != 4) continue;
        const std::size_t ho = kernels::conv_out_size(c.x[2], c.w[2], c.p.stride_h, c.p.pad_h, c.p.dil_h);
        const std::size_t wo = kernels::conv_out_size(c.x[3], c.w[3], c.p.stride_w, c.p.pad_w, c.p.dil_w);
        const Shape g = {c.x[0], c.w[0], ho, wo};
        out.push_back(
            {"conv2d_transpose " + shape_str(g) + "·" + shape_str(c.w) + "→" + shape_str(c.x) + params_str(c.p),
             {sample_tensor(g, {}, gen), sample_tensor(c.w, {}, gen)},
             [c](const std::vector<Tensor>& xs) {
                 return apply(Conv2dTranspose{c.p, c.x[2], c.x[3]}, xs[0], xs[1]);
             }});
    }
    return out;
}

std::vector<OpSample> Conv2dWeight::samples(Generator& gen) {
    std::vector<OpSample> out;
    for (const auto& c : conv_cases()) {
        if (c.x.size() != 4 || c.w.size() != 4) continue;
        const std::size_t ho = kernels::conv_out_size(c.x[2], c.w[2], c.p.stride_h, c.p.pad_h, c.p.dil_h);
        const std::size_t wo = kernels::conv_out_size(c.x[3], c.w[3], c.p.stride_w, c.p.pad_w, c.p.dil_w);
        const Shape g = {c.x[0], c.w[0], ho, wo};
        out.push_back({"conv2d_weight " + shape_str(c.x) + "·" + shape_str(g) + "→" + shape_str(c.w) + params_str(c.p),
                       {sample_tensor(c.x, {}, gen), sample_tensor(g, {}, gen)},
                       [c](const std::vector<Tensor>& xs) {
                           return apply(Conv2dWeight{c.p, c.w[2], c.w[3]}, xs[0], xs[1]);
                       }});
    }
    return out;
}

std::string hw(std::size_t h, std::size_t w) { return std::to_string(h) + "x" + std::to_string(w); }

void check_conv_args(const Tensor& x, const Tensor& w, const Tensor& b, Size2 stride, Size2 padding, Size2 dilation,
                     std::size_t groups) {
    if (x.dim() != 4) {
        throw shape_error("conv2d: input " + shape_str(x.shape()) +
                          " is not 4-D; pass images as (N, C, H, W) (reshape one image to (1, C, H, W))");
    }
    if (w.dim() != 4) {
        throw shape_error("conv2d: weight " + shape_str(w.shape()) +
                          " is not 4-D; pass the weight as (out_channels, in_channels / groups, kh, kw)");
    }
    const auto positive = [](const char* what, Size2 s) {
        if (s.h == 0 || s.w == 0) {
            throw value_error(std::string("conv2d: ") + what + " " + hw(s.h, s.w) + " has a zero; pass " + what +
                              " of at least 1 along both axes");
        }
    };
    positive("stride", stride);
    positive("dilation", dilation);
    if (groups == 0) throw value_error("conv2d: groups is 0; pass groups of at least 1 (1: an ordinary convolution)");
    kernels::check_conv_params({stride.h, stride.w, padding.h, padding.w, dilation.h, dilation.w, groups}, "conv2d");
    check_same_dtype(x.value(), w.value(), "conv2d");
    if (b.defined()) check_same_dtype(x.value(), b.value(), "conv2d");
    const Shape &xs = x.shape(), &ws = w.shape();
    const std::size_t c = xs[1], o = ws[0];
    if (c % groups != 0 || o % groups != 0) {
        throw shape_error("conv2d: groups " + std::to_string(groups) + " does not divide both the input channels " +
                          std::to_string(c) + " of input " + shape_str(xs) + " and the output channels " +
                          std::to_string(o) + " of weight " + shape_str(ws) + "; choose groups dividing both");
    }
    if (ws[1] != c / groups) {
        throw shape_error("conv2d: input " + shape_str(xs) + " has " + std::to_string(c) + " channels but weight " +
                          shape_str(ws) + " with groups " + std::to_string(groups) + " expects " +
                          std::to_string(ws[1] * groups) +
                          " (weight axis 1 · groups); make the weight (O, C / groups, kh, kw)");
    }
    if (b.defined() && b.shape() != Shape{o}) {
        throw shape_error("conv2d: bias " + shape_str(b.shape()) + " does not fit weight " + shape_str(ws) +
                          "; the bias must be (" + std::to_string(o) + ") or left out");
    }
    // Stride, padding and dilation are at most 2^31 here and the sizes are those of arrays, so only the dilated
    // kernel's span can overflow; conv_out_size says whether it fits.
    const std::size_t ph = xs[2] + 2 * padding.h, pw = xs[3] + 2 * padding.w;
    if (kernels::conv_out_size(xs[2], ws[2], 1, padding.h, dilation.h) == 0 ||
        kernels::conv_out_size(xs[3], ws[3], 1, padding.w, dilation.w) == 0) {
        const auto span = [](std::size_t d, std::size_t k) {
            std::size_t s = 0;
            if (k == 0) return std::string("0");
            return __builtin_mul_overflow(d, k - 1, &s) ? std::string("more than 2^64") : std::to_string(s + 1);
        };
        throw shape_error("conv2d: kernel " + hw(ws[2], ws[3]) + " with dilation " + hw(dilation.h, dilation.w) +
                          " spans " + span(dilation.h, ws[2]) + "x" + span(dilation.w, ws[3]) + " but input " +
                          shape_str(xs) + " with padding " + hw(padding.h, padding.w) + " is only " + hw(ph, pw) +
                          "; use a smaller kernel or dilation, or more padding");
    }
}

Tensor convolved(const Tensor& x, const Tensor& w, const Tensor& b, Size2 stride, Size2 padding, Size2 dilation,
                 std::size_t groups) {
    check_conv_args(x, w, b, stride, padding, dilation, groups);
    const ConvParams p{stride.h, stride.w, padding.h, padding.w, dilation.h, dilation.w, groups};
    return b.defined() ? apply_list(Conv2d{p}, {x, w, b}) : apply_list(Conv2d{p}, {x, w});
}

}  // namespace

#define ADG_OP_FUNCTIONS  // the public functions of the op table
#include <adgraph/autodiff/ops_conv.def>

const OpList& conv_ops() {
    static const OpList list = {
#define ADG_OP_LIST  // the entries of the op table
#include <adgraph/autodiff/ops_conv.def>
    };
    return list;
}

}  // namespace adg
