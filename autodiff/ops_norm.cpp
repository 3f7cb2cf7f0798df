// Batch normalisation (PyTorch's functional batch_norm), channels on axis 1 of x (N, C) or (N, C, H, W).
// Training: one fused op (kernels in tensor/batch_norm) whose rules run as array kernels when nothing is recorded
// and as compositions of ops otherwise (create_graph), so every higher derivative is exact. Composed of ops it
// took 258 ms forward and backward on (128,32,28,28) float32 (a dozen passes, most through xtensor's broadcasting),
// fused 21 ms (docs/design.md, "Written by hand").
// Evaluation: the per-channel affine map y = x·s + t with s = γ / √(running_var + ε) and t = β − running_mean·s.

#include <cmath>
#include <memory>

#include <adgraph/autodiff/internal/op_samples.hpp>
#include <adgraph/tensor/batch_norm.hpp>

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

// r ← (1 − m)·r + m·scale·batch, in place in r's buffer (what every holder of r sees).
void update_running(const Tensor& running, const Array& batch, double scale, double momentum) {
    running.mutable_value().visit_mut([&](auto& r) {
        using T = typename std::decay_t<decltype(r)>::value_type;
        const auto& b = batch.get<T>();
        for (std::size_t i = 0; i < r.size(); ++i) {
            r.flat(i) = static_cast<T>((1 - momentum) * static_cast<double>(r.flat(i)) +
                                       momentum * scale * static_cast<double>(b.flat(i)));
        }
    });
}

// The axes of a channel's statistics counted from the end, so that they also hold for a batch of directions
// (k, N, C, H, W): N, H and W, or N of (N, C).
Axes stat_axes_from_end(const Tensor& x) { return x.dim() == 2 ? Axes{-2} : Axes{-4, -2, -1}; }

// x̂ = (x − μ)·r and r = 1/√(σ² + ε) (kept as (1, C, 1, 1) or (1, C)), composed of ops: what the recorded rules
// differentiate through.
std::pair<Tensor, Tensor> normalized(const Tensor& x, double eps) {
    const Axes axes = stat_axes(x);
    const Tensor d = x - mean(x, axes, true);
    const Tensor r = 1.0 / sqrt(mean(square(d), axes, true) + eps);
    return {d * r, r};
}

// Training mode: y = γ·x̂ + β with x̂ = (x − μ)·r, μ and σ² the batch's per channel, r = 1/√(σ² + ε), m = N·H·W:
// ẏ = γ·r·(ẋ − mean ẋ − x̂·mean(ẋ·x̂)) + γ̇·x̂ + β̇ (means per channel over N, H, W);
// x̄ = γ·r·(ȳ − mean ȳ − x̂·mean(ȳ·x̂)), γ̄ = Σ ȳ·x̂, β̄ = Σ ȳ.
struct BatchNormTrain {
    static constexpr Custom kind{};
    static constexpr const char* name = "batch_norm";
    double eps = 1e-5;
    // The batch's statistics, filled by forward (a fresh object per call, made with the op) and read by the rules.
    std::shared_ptr<kernels::BatchStats> stats = std::make_shared<kernels::BatchStats>();
    Array forward(const Array& x, const Array& w, const Array& b) const {
        return kernels::batch_norm_forward(x, w, b, eps, *stats);
    }
    // Array kernels when nothing is recorded and no anomaly check wants to see each op; ops otherwise.
    static bool eager() { return !grad_enabled() && !anomaly_enabled(); }
    static Shape lead(const Tensor& t, std::size_t core) {
        return Shape(t.shape().begin(), t.shape().end() - static_cast<long>(core));
    }
    // γ·r·(t − mean t − x̂·mean(t·x̂)) with ops, for t of shape (k, x.shape).
    Tensor project(const std::vector<Tensor>& x, const Tensor& t) const {
        const auto [xh, r] = normalized(x[0], eps);
        const Axes ax = stat_axes_from_end(x[0]);
        const Tensor centred = t - mean(t, ax, true) - xh * mean(t * xh, ax, true);
        return centred * (reshape(x[1], channel_shape(x[0])) * r);
    }
    Tensor jvp(const std::vector<Tensor>& x, const Tensor& y, const std::vector<Tensor>& t) const {
        if (eager()) {
            const Shape l = t[0].defined() ? lead(t[0], x[0].dim()) : lead(t[1].defined() ? t[1] : t[2], 1);
            const auto arr = [](const Tensor& v) { return v.defined() ? &v.value() : nullptr; };
            return Tensor(
                kernels::batch_norm_project(x[0].value(), *stats, x[1].value(), arr(t[0]), arr(t[1]), arr(t[2]), l));
        }
        const Shape cs = channel_shape(x[0]);
        Tensor r;
        const auto add = [&r](const Tensor& term) { r = r.defined() ? r + term : term; };
        if (t[0].defined()) add(project(x, t[0]));
        if (t[1].defined()) add(reshape_core(t[1], x[1].shape(), cs) * normalized(x[0], eps).first);
        if (t[2].defined()) add(reshape_core(t[2], x[2].shape(), cs));
        return broadcast_to_core(r, Shape(r.shape().begin() + 1, r.shape().end()), y.shape());
    }
    // One rule for x̄, γ̄ and β̄: eagerly one kernel computes the sums Σȳ, Σȳ·x̂ once (they are β̄ and γ̄) and x̄
    // from them, two passes over (x, ȳ) where a rule per input would make four.
    std::vector<Tensor> vjp_all(const std::vector<Tensor>& x, const Tensor&, const Tensor& ct,
                                const std::vector<char>& wanted) const {
        std::vector<Tensor> g(3);
        if (eager()) {
            auto k = kernels::batch_norm_backward(x[0].value(), *stats, x[1].value(), ct.value(), wanted[0]);
            if (wanted[0]) g[0] = Tensor(std::move(k.x));
            if (wanted[1]) g[1] = Tensor(std::move(k.gamma));
            if (wanted[2]) g[2] = Tensor(std::move(k.beta));
            return g;
        }
        const Axes ax = stat_axes_from_end(x[0]);
        if (wanted[0]) g[0] = project(x, ct);
        if (wanted[1]) g[1] = sum(ct * normalized(x[0], eps).first, ax);
        if (wanted[2]) g[2] = sum(ct, ax);
        return g;
    }
};

Tensor batch_norm_training(const Tensor& x, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                           const Tensor& bias, double momentum, double eps) {
    const Shape c{x.shape()[1]};
    const BatchNormTrain op{eps};
    // Absent γ and β are constants 1 and 0: the same kernels, and no gradient is asked of them.
    const Tensor y = apply(op, x, weight.defined() ? weight : Tensor::ones(c, x.dtype()),
                           bias.defined() ? bias : Tensor::zeros(c, x.dtype()));
    if (running_mean.defined()) update_running(running_mean, op.stats->mean, 1.0, momentum);
    if (running_var.defined()) {
        // The running variance is unbiased: n / (n − 1) times the batch's.
        const double n = static_cast<double>(x.size() / x.shape()[1]);
        update_running(running_var, op.stats->var, n / (n - 1), momentum);
    }
    return y;
}

// Evaluation mode: y = x·s + t per channel (s and t of shape (C)): ẏ = ẋ·s + x·ṡ + ṫ; x̄ = ȳ·s, s̄ = Σ ȳ·x,
// t̄ = Σ ȳ (sums per channel over N, H, W).
struct ChannelAffine {
    static constexpr Custom kind{};
    static constexpr const char* name = "batch_norm_eval";
    // The number of x's axes (2 or 4): a tangent carries direction axes in front of them.
    std::size_t rank = 4;
    // Elementwise in x alone; a varying s or t mixes nothing across samples but reaches every element.
    Locality locality(const std::vector<Shape>&, const Shape&, const std::vector<char>& varies) const {
        return varies[1] || varies[2] ? Locality::none : Locality::elementwise;
    }
    Array forward(const Array& x, const Array& s, const Array& t) const {
        return kernels::channel_affine(x, s, &t, rank);
    }
    // ẋ·s (or ȳ·s): this op with no shift, so that it is recorded with s as an input under create_graph.
    Tensor scaled(const Tensor& v, const Tensor& s) const {
        return apply(ChannelAffine{rank}, v, s, Tensor::zeros(s.shape(), s.dtype()));
    }
    Tensor jvp(const std::vector<Tensor>& x, const Tensor& y, const std::vector<Tensor>& t) const {
        const Shape cs = channel_shape(x[0]);
        Tensor r;
        const auto add = [&r](const Tensor& term) { r = r.defined() ? r + term : term; };
        if (t[0].defined()) add(scaled(t[0], x[1]));
        if (t[1].defined()) add(reshape_core(t[1], x[1].shape(), cs) * x[0]);
        if (t[2].defined()) add(reshape_core(t[2], x[2].shape(), cs));
        return broadcast_to_core(r, Shape(r.shape().begin() + 1, r.shape().end()), y.shape());
    }
    Tensor vjp(const std::vector<Tensor>& x, const Tensor&, const Tensor& ct, std::size_t i) const {
        if (i == 0) return scaled(ct, x[1]);
        const Axes ax = stat_axes_from_end(x[0]);
        return i == 1 ? sum(ct * x[0], ax) : sum(ct, ax);
    }
};

Tensor batch_norm_eval(const Tensor& x, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                       const Tensor& bias, double eps) {
    // s = γ / √(running_var + ε), t = β − running_mean·s: small ops on (C), then one pass over x.
    Tensor scale = 1.0 / sqrt(running_var + eps);
    if (weight.defined()) scale = scale * weight;
    Tensor shift = -(running_mean * scale);
    if (bias.defined()) shift = shift + bias;
    return apply(ChannelAffine{x.dim()}, x, scale, shift);
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
        for (const Shape& s : {Shape{2, 3}, Shape{2, 2, 2, 3}}) {
            const Shape c{s[1]};
            out.push_back(sample(
                "batch_norm evaluation " + shape_str(s),
                {sample_tensor(s, {}, gen), sample_tensor(c, {}, gen), sample_tensor(c, {0.5, 2.0}, gen),
                 sample_tensor(c, {}, gen), sample_tensor(c, {}, gen)},
                [](const std::vector<Tensor>& xs) { return batch_norm(xs[0], xs[1], xs[2], xs[3], xs[4], false); }));
        }
        return out;
    }
};

Tensor normalized(const Tensor& x, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                  const Tensor& bias, bool training, double momentum, double eps) {
    check_batch_norm(x, running_mean, running_var, weight, bias, training);
    return training ? batch_norm_training(x, running_mean, running_var, weight, bias, momentum, eps)
                    : batch_norm_eval(x, running_mean, running_var, weight, bias, eps);
}

}  // namespace

#define ADG_OP_FUNCTIONS  // the public functions of the op table
#include <adgraph/autodiff/ops_norm.def>

const OpList& norm_ops() {
    static const OpList list = {
#define ADG_OP_LIST  // the entries of the op table
#include <adgraph/autodiff/ops_norm.def>
    };
    return list;
}

}  // namespace adg
