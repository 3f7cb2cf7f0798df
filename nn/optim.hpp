#pragma once
/// \file Optimizers as in libtorch's C++ frontend: SGD (momentum, dampening, Nesterov, weight decay), Adam and AdamW,
/// over `module.parameters()` or named parameters, with options set by chained calls (`SGDOptions(0.1).momentum(0.9)`).
/// Updates are in place and unrecorded.

#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <adgraph/nn/module.hpp>
#include <adgraph/nn/safetensors.hpp>

namespace adg::nn {

/// Base of the optimizers: the parameters it updates, its learning rate and step count, and its state.
class Optimizer {
public:
    virtual ~Optimizer() = default;
    /// One update from the parameters' accumulated grad(); parameters without a grad are left alone.
    void step();
    /// Forgets the parameters' gradients.
    void zero_grad();
    /// Current learning rate.
    double lr() const { return lr_; }
    /// Sets the learning rate (schedulers call this; 0 is allowed, e.g. at the end of a cosine schedule); throws
    /// value_error unless lr >= 0 and finite.
    void set_lr(double lr);
    /// Updates done so far.
    std::size_t steps() const { return steps_; }
    /// The parameters with the names their state is saved under: the given names, or "0", "1", ... (the position in
    /// the list) for an optimizer built from plain tensors such as `module.parameters()`.
    const std::vector<NamedTensor>& named_parameters() const { return params_; }
    /// The name saved with checkpoints: "sgd", "adam" or "adamw".
    virtual std::string name() const = 0;
    /// State for checkpoints: slots named "<param>.<slot>" and the step count as "step".
    NamedArrays state() const;
    /// Restores state(); throws io_error naming a missing or mis-shaped slot.
    void load_state(const NamedArrays& state);

protected:
    /// Checks `params` (non-empty, each a distinct leaf that requires grad) and `lr` (finite, > 0); `label` is the
    /// class name used in messages ("SGD").
    Optimizer(std::vector<NamedTensor> params, double lr, std::string label);
    /// Updates parameter `i` (value `p`, gradient `g`) at step number `t` (1-based).
    virtual void update(std::size_t i, Array& p, const Array& g, std::size_t t) = 0;
    /// Slot names this optimizer keeps per parameter (e.g. {"m", "v"}).
    virtual std::vector<std::string> slot_names() const = 0;
    /// True once parameter `i`'s slots exist (created by its first update or by load_state).
    bool has_slots(std::size_t i) const { return !slots_[i].empty(); }
    /// The slot arrays of parameter `i`, created as zeros of its shape on first use.
    std::vector<Array>& slots(std::size_t i);

    /// The class name used in messages ("SGD", "Adam", "AdamW").
    std::string label_;
    std::vector<NamedTensor> params_;

private:
    std::vector<std::vector<Array>> slots_;
    double lr_;
    std::size_t steps_ = 0;
};

/// Names plain tensors by their position ("0", "1", ...): the names an optimizer over `module.parameters()` saves its
/// state under.
std::vector<NamedTensor> named_by_position(std::vector<Tensor> params);

/// SGD's options, as libtorch's: `SGDOptions(0.1).momentum(0.9).nesterov(true).weight_decay(1e-4)`. Each setter
/// returns the options (so calls chain); the same name without an argument reads the value.
class SGDOptions {
public:
    /// Learning rate `lr`, no momentum, dampening or weight decay.
    SGDOptions(double lr) : lr_(lr) {}  // NOLINT(google-explicit-constructor): `{0.1}` reads as libtorch's
    /// Sets the learning rate.
    SGDOptions& lr(double v) {
        lr_ = v;
        return *this;
    }
    /// Sets the momentum μ in [0, 1): the buffer is b = μ·b + (1 − dampening)·g (b = g on the first step).
    SGDOptions& momentum(double v) {
        momentum_ = v;
        return *this;
    }
    /// Sets the dampening in [0, 1] of the gradient added to the momentum buffer.
    SGDOptions& dampening(double v) {
        dampening_ = v;
        return *this;
    }
    /// Sets the L2 penalty coefficient (added to the gradient as wd·p).
    SGDOptions& weight_decay(double v) {
        weight_decay_ = v;
        return *this;
    }
    /// Sets Nesterov momentum (the step is g + μ·b instead of b); needs momentum > 0 and dampening 0.
    SGDOptions& nesterov(bool v) {
        nesterov_ = v;
        return *this;
    }
    /// The learning rate.
    double lr() const { return lr_; }
    /// The momentum.
    double momentum() const { return momentum_; }
    /// The dampening.
    double dampening() const { return dampening_; }
    /// The weight decay.
    double weight_decay() const { return weight_decay_; }
    /// Whether the momentum is Nesterov's.
    bool nesterov() const { return nesterov_; }

private:
    double lr_;
    double momentum_ = 0.0;
    double dampening_ = 0.0;
    double weight_decay_ = 0.0;
    bool nesterov_ = false;
};

/// Stochastic gradient descent as PyTorch's: d = g + wd·p; with momentum b = μ·b + (1 − dampening)·d (b = d on a
/// parameter's first update) and d = b (or d + μ·b with Nesterov); p -= lr·d.
class SGD : public Optimizer {
public:
    /// SGD over plain tensors, e.g. `SGD opt(net->parameters(), SGDOptions(0.1).momentum(0.9))`; state slots are
    /// named by position ("0.momentum"). Throws value_error for a bad option or parameter.
    SGD(std::vector<Tensor> params, const SGDOptions& options);
    /// SGD over named parameters (`net->named_parameters()`); state slots are named "<name>.momentum".
    SGD(std::vector<NamedTensor> params, const SGDOptions& options);
    /// The options.
    const SGDOptions& options() const { return o_; }
    /// "sgd".
    std::string name() const override { return "sgd"; }

private:
    void update(std::size_t i, Array& p, const Array& g, std::size_t t) override;
    std::vector<std::string> slot_names() const override;
    SGDOptions o_;
};

/// The options Adam and AdamW share; each setter returns the derived options so calls chain.
template <class Self>
class AdamFamilyOptions {
public:
    /// Sets the learning rate.
    Self& lr(double v) {
        lr_ = v;
        return self();
    }
    /// Sets the decay rates (β1, β2) of the moment estimates, each in [0, 1).
    Self& betas(const std::tuple<double, double>& v) {
        betas_ = v;
        return self();
    }
    /// Sets the term eps > 0 added to the denominator.
    Self& eps(double v) {
        eps_ = v;
        return self();
    }
    /// Sets the weight decay (Adam: added to the gradient; AdamW: p -= lr·wd·p, decoupled).
    Self& weight_decay(double v) {
        weight_decay_ = v;
        return self();
    }
    /// Sets AMSGrad: the denominator uses the largest v seen so far (a third state slot, "v_max").
    Self& amsgrad(bool v) {
        amsgrad_ = v;
        return self();
    }
    /// The learning rate.
    double lr() const { return lr_; }
    /// (β1, β2).
    const std::tuple<double, double>& betas() const { return betas_; }
    /// The denominator term.
    double eps() const { return eps_; }
    /// The weight decay.
    double weight_decay() const { return weight_decay_; }
    /// Whether AMSGrad is on.
    bool amsgrad() const { return amsgrad_; }

protected:
    AdamFamilyOptions(double lr, double weight_decay) : lr_(lr), weight_decay_(weight_decay) {}

private:
    Self& self() { return static_cast<Self&>(*this); }
    double lr_;
    std::tuple<double, double> betas_{0.9, 0.999};
    double eps_ = 1e-8;
    double weight_decay_;
    bool amsgrad_ = false;
};

/// Adam's options, as libtorch's: `AdamOptions(1e-3).betas({0.9, 0.999}).eps(1e-8).weight_decay(0)`.
class AdamOptions : public AdamFamilyOptions<AdamOptions> {
public:
    /// Learning rate `lr` (default 1e-3), betas (0.9, 0.999), eps 1e-8, no weight decay.
    AdamOptions(double lr = 1e-3)  // NOLINT(google-explicit-constructor): `{}` and `{1e-3}` read as libtorch's
        : AdamFamilyOptions(lr, 0.0) {}
};

/// AdamW's options, as libtorch's: the same as Adam's but the weight decay defaults to 1e-2.
class AdamWOptions : public AdamFamilyOptions<AdamWOptions> {
public:
    /// Learning rate `lr` (default 1e-3), betas (0.9, 0.999), eps 1e-8, weight decay 1e-2.
    AdamWOptions(double lr = 1e-3)  // NOLINT(google-explicit-constructor)
        : AdamFamilyOptions(lr, 1e-2) {}
};

/// Adam's update with bias-corrected moment estimates m and v (and v_max with AMSGrad); `decoupled` makes it AdamW's.
class AdamFamily : public Optimizer {
protected:
    AdamFamily(std::vector<NamedTensor> params, double lr, const std::tuple<double, double>& betas, double eps,
               double weight_decay, bool amsgrad, bool decoupled, std::string label);

private:
    void update(std::size_t i, Array& p, const Array& g, std::size_t t) override;
    std::vector<std::string> slot_names() const override;
    double beta1_, beta2_, eps_, weight_decay_;
    bool amsgrad_, decoupled_;
};

/// Adam as PyTorch's: d = g + wd·p, m = β1·m + (1 − β1)·d, v = β2·v + (1 − β2)·d², p -= lr·m̂ / (√v̂ + eps) with
/// m̂ = m / (1 − β1ᵗ), v̂ = v / (1 − β2ᵗ); with AMSGrad v̂ uses v_max = max(v_max, v) instead of v.
class Adam : public AdamFamily {
public:
    /// Adam over plain tensors (`net->parameters()`); slots named by position ("0.m", "0.v").
    Adam(std::vector<Tensor> params, const AdamOptions& options = {});
    /// Adam over named parameters; slots named "<name>.m", "<name>.v".
    Adam(std::vector<NamedTensor> params, const AdamOptions& options = {});
    /// The options.
    const AdamOptions& options() const { return o_; }
    /// "adam".
    std::string name() const override { return "adam"; }

private:
    AdamOptions o_;
};

/// AdamW as PyTorch's: Adam without the decay in the gradient, and p -= lr·wd·p (decoupled weight decay) first.
class AdamW : public AdamFamily {
public:
    /// AdamW over plain tensors (`net->parameters()`); slots named by position ("0.m", "0.v").
    AdamW(std::vector<Tensor> params, const AdamWOptions& options = {});
    /// AdamW over named parameters; slots named "<name>.m", "<name>.v".
    AdamW(std::vector<NamedTensor> params, const AdamWOptions& options = {});
    /// The options.
    const AdamWOptions& options() const { return o_; }
    /// "adamw".
    std::string name() const override { return "adamw"; }

private:
    AdamWOptions o_;
};

/// Gradient clipping by global norm, as PyTorch's clip_grad_norm_: the total norm of all the gradients of `params`
/// together (order `norm_type`: 2 by default, any p > 0, or INFINITY for the largest |g|; parameters without a grad
/// are skipped), and, if it exceeds max_norm, every gradient scaled in place by max_norm / (total + 1e-6). Returns
/// the total norm before scaling (accumulated in double, also for float32 gradients). Unrecorded; one pass over each
/// gradient for the norm and one to scale. Throws value_error for max_norm <= 0 or not finite and for a norm_type
/// that is not > 0, and, unlike PyTorch's default (which scales by NaN), for a gradient holding NaN or ±inf: it names
/// the parameter and changes nothing, so a diverged step cannot silently corrupt the weights. Throws graph_error for
/// a gradient recorded by backward with create_graph (clip a detached copy instead).
double clip_grad_norm(const std::vector<Tensor>& params, double max_norm, double norm_type = 2);

}  // namespace adg::nn
