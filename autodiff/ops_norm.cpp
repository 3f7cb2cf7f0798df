// Batch normalisation (PyTorch's functional batch_norm), channels on axis 1 of x (N, C) or (N, C, H, W).
// Training: x̂ = (x − μ) / √(σ² + ε) with the batch's mean μ and biased variance σ² over every axis but 1, then
// y = γ·x̂ + β; composed of existing ops, so the gradient through μ and σ² and every higher derivative come from
// their rules. Evaluation: the per-channel affine map y = x·s + t with s = γ / √(running_var + ε) and
// t = β − running_mean·s.

#include <cmath>

#include <adgraph/autodiff/op.hpp>

namespace adg {

namespace {

// The shape (C) or (1, C, 1, 1) a per-channel vector takes to broadcast against x.
Shape channel_shape(const Tensor& x) {
    Shape s(x.dim(), 1);
    s[1] = x.shape()[1];
    return s;
}

// The axes a channel's statistics run over: all but 1.
Axes stat_axes(const Tensor& x) { return x.dim() == 2 ? Axes{0} : Axes{0, 2, 3}; }

void check_batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                      const Tensor& bias, bool training) {
    if (x.dim() != 2 && x.dim() != 4) {
        throw shape_error("batch_norm: input " + shape_str(x.shape()) +
                          " is neither (N, C) nor (N, C, H, W); channels must be on axis 1");
    }
    const std::size_t c = x.shape()[1];
    const std::pair<const char*, const Tensor*> params[] = {
        {"running_mean", &running_mean}, {"running_var", &running_var}, {"weight", &weight}, {"bias", &bias}};
    for (const auto& [what, t] : params) {
        if (!t->defined()) continue;
        if (t->shape() != Shape{c}) {
            throw shape_error(std::string("batch_norm: ") + what + " " + shape_str(t->shape()) + " does not fit x " +
                              shape_str(x.shape()) + " with " + std::to_string(c) +
                              " channels; running_mean, running_var, weight and bias must each be (" +
                              std::to_string(c) + ")");
        }
        check_same_dtype(x.value(), t->value(), "batch_norm");
    }
    if (training) {
        const std::size_t per_channel = c == 0 ? 0 : x.size() / c;
        if (per_channel <= 1) {
            throw value_error("batch_norm: training needs more than 1 value per channel, but x " +
                              shape_str(x.shape()) + " has " + std::to_string(per_channel) +
                              "; use a batch of at least 2 samples (or evaluation mode)");
        }
    } else if (!running_mean.defined() || !running_var.defined()) {
        throw value_error("batch_norm: evaluation mode normalises with running_mean and running_var, but " +
                          std::string(running_mean.defined() ? "running_var" : "running_mean") +
                          " is undefined; pass both (or use training mode)");
    }
}

// r ← (1 − m)·r + m·batch, in place in r's buffer (what every holder of r sees).
void update_running(const Tensor& running, const Array& batch, double momentum) {
    running.mutable_value().visit_mut([&](auto& r) {
        using T = typename std::decay_t<decltype(r)>::value_type;
        const auto& b = batch.get<T>();
        const T m = static_cast<T>(momentum);
        for (std::size_t i = 0; i < r.size(); ++i) r.flat(i) = (T(1) - m) * r.flat(i) + m * b.flat(i);
    });
}

Tensor affine(Tensor y, const Tensor& weight, const Tensor& bias, const Shape& cs) {
    if (weight.defined()) y = y * reshape(weight, cs);
    if (bias.defined()) y = y + reshape(bias, cs);
    return y;
}

Tensor batch_norm_training(const Tensor& x, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                           const Tensor& bias, double momentum, double eps) {
    const Axes axes = stat_axes(x);
    const Shape cs = channel_shape(x);
    const Tensor mu = mean(x, axes, true);
    const Tensor d = x - mu;
    const Tensor var = mean(square(d), axes, true);
    const Tensor y = d / sqrt(var + eps);
    const double n = static_cast<double>(x.size() / x.shape()[1]);
    if (running_mean.defined()) update_running(running_mean, mu.value(), momentum);
    if (running_var.defined()) {
        // The running variance is unbiased: n / (n − 1) times the batch's.
        NoGrad off;
        update_running(running_var, (var * (n / (n - 1))).value(), momentum);
    }
    return affine(y, weight, bias, cs);
}

Tensor batch_norm_eval(const Tensor& x, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                       const Tensor& bias, double eps) {
    const Shape cs = channel_shape(x);
    Tensor scale = 1.0 / sqrt(running_var + eps);
    if (weight.defined()) scale = scale * weight;
    Tensor shift = -(running_mean * scale);
    if (bias.defined()) shift = shift + bias;
    return x * reshape(scale, cs) + reshape(shift, cs);
}

OpSample sample(std::string label, std::vector<Tensor> inputs, MultiFn fn) {
    return {std::move(label), std::move(inputs), std::move(fn)};
}

struct BatchNormTraining {
    static constexpr const char* name = "batch_norm training";
    static std::vector<OpSample> samples(Generator& gen) {
        std::vector<OpSample> out;
        for (const Shape& s : {Shape{4, 3}, Shape{2, 3, 2, 2}}) {
            const Shape c{s[1]};
            out.push_back(sample("batch_norm training " + shape_str(s) + " with weight and bias",
                                 {sample_tensor(s, {}, gen), sample_tensor(c, {}, gen), sample_tensor(c, {}, gen)},
                                 [](const std::vector<Tensor>& xs) {
                                     return batch_norm(xs[0], Tensor(), Tensor(), xs[1], xs[2], true);
                                 }));
        }
        out.push_back(sample("batch_norm training (3,2) without weight and bias", {sample_tensor({3, 2}, {}, gen)},
                             [](const std::vector<Tensor>& xs) {
                                 return batch_norm(xs[0], Tensor(), Tensor(), Tensor(), Tensor(), true, 0.1, 0.5);
                             }));
        return out;
    }
};

struct BatchNormEvaluation {
    static constexpr const char* name = "batch_norm evaluation";
    static std::vector<OpSample> samples(Generator& gen) {
        std::vector<OpSample> out;
        const Domain positive{0.5, 2.0};
        for (const Shape& s : {Shape{2, 3}, Shape{2, 2, 2, 3}}) {
            const Shape c{s[1]};
            out.push_back(sample(
                "batch_norm evaluation " + shape_str(s),
                {sample_tensor(s, {}, gen), sample_tensor(c, {}, gen), sample_tensor(c, positive, gen),
                 sample_tensor(c, {}, gen), sample_tensor(c, {}, gen)},
                [](const std::vector<Tensor>& xs) { return batch_norm(xs[0], xs[1], xs[2], xs[3], xs[4], false); }));
        }
        return out;
    }
};

}  // namespace

Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                  const Tensor& bias, bool training, double momentum, double eps, Site site) {
    CallSite call(site);
    check_batch_norm(x, running_mean, running_var, weight, bias, training);
    return training ? batch_norm_training(x, running_mean, running_var, weight, bias, momentum, eps)
                    : batch_norm_eval(x, running_mean, running_var, weight, bias, eps);
}

const OpList& norm_ops() {
    static const OpList list = {OpInfo{BatchNormTraining::name, BatchNormTraining::samples},
                                OpInfo{BatchNormEvaluation::name, BatchNormEvaluation::samples}};
    return list;
}

}  // namespace adg
