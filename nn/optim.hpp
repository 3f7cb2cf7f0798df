#pragma once
/// \file Optimizers: SGD (momentum, Nesterov, weight decay) and Adam/AdamW. Updates are in place, unrecorded.

#include <string>
#include <utility>
#include <vector>

#include <adgraph/nn/module.hpp>
#include <adgraph/nn/safetensors.hpp>

namespace adg::nn {

/// Base of the optimizers: the parameters it updates, its learning rate and step count, and its state.
class Optimizer {
public:
    /// Updates `params` (named, for state and error messages).
    Optimizer(std::vector<NamedTensor> params, double lr);
    virtual ~Optimizer() = default;
    /// One update from the parameters' accumulated grad(); parameters without a grad are left alone.
    void step();
    /// Forgets the parameters' gradients.
    void zero_grad();
    /// Current learning rate.
    double lr() const { return lr_; }
    /// Sets the learning rate (schedules call this); throws value_error unless lr > 0 and finite.
    void set_lr(double lr);
    /// Updates done so far.
    std::size_t steps() const { return steps_; }
    /// E.g. "adam".
    virtual std::string name() const = 0;
    /// State for checkpoints: slots named "<param>.<slot>" and the step count as "step".
    NamedArrays state() const;
    /// Restores state(); throws io_error naming a missing or mis-shaped slot.
    void load_state(const NamedArrays& state);

protected:
    /// Updates parameter `i` (value `p`, gradient `g`) at step number `t` (1-based).
    virtual void update(std::size_t i, Array& p, const Array& g, std::size_t t) = 0;
    /// Slot names this optimizer keeps per parameter (e.g. {"m", "v"}).
    virtual std::vector<std::string> slot_names() const = 0;
    /// The slot arrays of parameter `i`, created as zeros of its shape on first use.
    std::vector<Array>& slots(std::size_t i);

    std::vector<NamedTensor> params_;

private:
    std::vector<std::vector<Array>> slots_;
    double lr_;
    std::size_t steps_ = 0;
};

/// SGD options; momentum as in PyTorch (v = μv + g, first v = g).
struct SgdOptions {
    double lr = 0.01;
    double momentum = 0.0;
    bool nesterov = false;
    double weight_decay = 0.0;
};

/// Stochastic gradient descent on minibatches: p -= lr·(g + wd·p), with optional (Nesterov) momentum.
class SGD : public Optimizer {
public:
    /// An SGD optimizer over `params`.
    SGD(std::vector<NamedTensor> params, const SgdOptions& options);
    /// "sgd".
    std::string name() const override { return "sgd"; }

private:
    void update(std::size_t i, Array& p, const Array& g, std::size_t t) override;
    std::vector<std::string> slot_names() const override;
    SgdOptions o_;
};

/// Adam options; `decoupled` makes it AdamW (weight decay applied to the weights, not the gradient).
struct AdamOptions {
    double lr = 1e-3;
    double beta1 = 0.9;
    double beta2 = 0.999;
    double eps = 1e-8;
    double weight_decay = 0.0;
    bool decoupled = false;
};

/// Adam / AdamW with bias-corrected moment estimates.
class Adam : public Optimizer {
public:
    /// An Adam (or AdamW) optimizer over `params`.
    Adam(std::vector<NamedTensor> params, const AdamOptions& options);
    /// "adam" or "adamw".
    std::string name() const override { return o_.decoupled ? "adamw" : "adam"; }

private:
    void update(std::size_t i, Array& p, const Array& g, std::size_t t) override;
    std::vector<std::string> slot_names() const override { return {"m", "v"}; }
    AdamOptions o_;
};

}  // namespace adg::nn
