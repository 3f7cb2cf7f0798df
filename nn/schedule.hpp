#pragma once
/// \file Learning-rate schedulers as in libtorch and PyTorch: a scheduler attaches to an optimizer, sets its learning
/// rate at once, and sets it again at every step() (StepLR, CosineAnnealingLR with optional linear warm-up, LambdaLR).

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include <adgraph/nn/optim.hpp>

namespace adg::nn {

/// Base of the schedulers, as libtorch's torch::optim::LRScheduler: it keeps a reference to the optimizer (which must
/// outlive it), takes the optimizer's learning rate as the base rate, and after n calls of step() the optimizer's
/// rate is lr_at(n). Call step() after each optimizer.step() (per batch or per epoch: a step is whatever you count).
class LRScheduler {
public:
    virtual ~LRScheduler() = default;
    /// Advances one step and sets the optimizer's learning rate to lr_at(step_count()).
    void step();
    /// Steps taken so far (0 when attached).
    std::size_t step_count() const { return steps_; }
    /// Jumps to step `n` (e.g. when resuming a run) and sets the optimizer's learning rate to lr_at(n).
    void set_step_count(std::size_t n);
    /// The optimizer's learning rate when the scheduler was attached.
    double base_lr() const { return base_lr_; }
    /// The learning rate after `n` steps.
    virtual double lr_at(std::size_t n) const = 0;
    /// E.g. "cosine(lr=0.001, steps=9380, warmup=469, min=0)".
    virtual std::string to_string() const = 0;

protected:
    /// Attaches to `optimizer`; the derived constructor calls set_step_count(0) once its own members are set.
    explicit LRScheduler(Optimizer& optimizer);

private:
    Optimizer& optimizer_;
    double base_lr_;
    std::size_t steps_ = 0;
};

/// As libtorch's torch::optim::StepLR: the rate is base·gamma^⌊n / step_size⌋ after n steps (PyTorch's sequence: with
/// step_size 2, gamma 0.5 the rates after 0, 1, 2, 3 steps are 1, 1, 0.5, 0.5 times the base).
class StepLR : public LRScheduler {
public:
    /// Multiplies the rate by `gamma` every `step_size` steps; throws value_error unless step_size > 0 and gamma is
    /// finite and > 0.
    StepLR(Optimizer& optimizer, std::size_t step_size, double gamma = 0.1);
    double lr_at(std::size_t n) const override;
    std::string to_string() const override;

private:
    std::size_t step_size_;
    double gamma_;
};

/// As PyTorch's CosineAnnealingLR: eta_min + (base − eta_min)·(1 + cos(π·n / t_max)) / 2 after n steps, held at eta_min
/// from step t_max on. With `warmup` > 0 the first `warmup` steps ramp up linearly (base·(n + 1) / warmup) and the
/// half cosine then spans steps warmup to t_max.
class CosineAnnealingLR : public LRScheduler {
public:
    /// Anneals over `t_max` steps; throws value_error unless t_max > 0, warmup <= t_max and 0 <= eta_min (finite).
    CosineAnnealingLR(Optimizer& optimizer, std::size_t t_max, double eta_min = 0.0, std::size_t warmup = 0);
    double lr_at(std::size_t n) const override;
    std::string to_string() const override;

private:
    std::size_t t_max_, warmup_;
    double eta_min_;
};

/// As PyTorch's LambdaLR: the rate after n steps is base·factor(n).
class LambdaLR : public LRScheduler {
public:
    /// Scales the base rate by `factor(n)`; `label` names the schedule in to_string() ("lambda(lr=0.1)").
    LambdaLR(Optimizer& optimizer, std::function<double(std::size_t)> factor, std::string label = "lambda");
    double lr_at(std::size_t n) const override;
    std::string to_string() const override;

private:
    std::function<double(std::size_t)> factor_;
    std::string label_;
};

/// Throws value_error unless `name` is a schedule make_scheduler knows: constant, step or cosine.
void check_schedule_name(const std::string& name);

/// Attaches the schedule `name` to `optimizer` for a run of `total` steps: "constant" (the optimizer's rate
/// throughout), "step" (×0.1 every third of the run) or "cosine" (to 0 over the run, after `warmup` steps of linear
/// warm-up); throws value_error for another name.
std::unique_ptr<LRScheduler> make_scheduler(const std::string& name, Optimizer& optimizer, std::size_t total,
                                            std::size_t warmup);

}  // namespace adg::nn
