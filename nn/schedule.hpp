#pragma once
/// \file Learning-rate schedules over optimizer steps: constant, step decay, cosine (with linear warm-up).

#include <memory>
#include <string>

namespace adg::nn {

/// A learning rate for each optimizer step.
class LrSchedule {
public:
    virtual ~LrSchedule() = default;
    /// The learning rate at step `step` (0-based).
    virtual double at(std::size_t step) const = 0;
    /// E.g. "cosine(lr=0.001, steps=9380, warmup=469, min=0)".
    virtual std::string to_string() const = 0;
};

/// The same rate throughout.
class ConstantLr : public LrSchedule {
public:
    /// Rate `lr` at every step.
    explicit ConstantLr(double lr) : lr_(lr) {}
    double at(std::size_t) const override { return lr_; }
    std::string to_string() const override;

private:
    double lr_;
};

/// lr · gammaᵏ after k·every steps.
class StepLr : public LrSchedule {
public:
    /// Multiplies `lr` by `gamma` every `every` steps.
    StepLr(double lr, std::size_t every, double gamma);
    double at(std::size_t step) const override;
    std::string to_string() const override;

private:
    double lr_;
    std::size_t every_;
    double gamma_;
};

/// Linear warm-up to lr over `warmup` steps, then half a cosine down to `min_lr` at step `total`.
class CosineLr : public LrSchedule {
public:
    /// A cosine schedule over `total` steps.
    CosineLr(double lr, std::size_t total, std::size_t warmup = 0, double min_lr = 0.0);
    double at(std::size_t step) const override;
    std::string to_string() const override;

private:
    double lr_;
    std::size_t total_, warmup_;
    double min_;
};

/// "constant", "step" (×0.1 every third of the run) or "cosine" over `total` steps; throws value_error otherwise.
std::unique_ptr<LrSchedule> make_schedule(const std::string& name, double lr, std::size_t total, std::size_t warmup);

}  // namespace adg::nn
