#include <adgraph/nn/schedule.hpp>

#include <algorithm>
#include <cmath>
#include <sstream>

#include <adgraph/tensor/error.hpp>

namespace adg::nn {

LRScheduler::LRScheduler(Optimizer& optimizer) : optimizer_(optimizer), base_lr_(optimizer.lr()) {}

void LRScheduler::step() { set_step_count(steps_ + 1); }

void LRScheduler::set_step_count(std::size_t n) {
    optimizer_.set_lr(lr_at(n));
    steps_ = n;
}

// PyTorch's sequence, not libtorch 1.13's: libtorch's StepLR counts from 0 without PyTorch's initial step, so each
// decay there comes one step() later than step_size says (measured: step_size 2 gives 1, 1, 1, 0.5, ...).
StepLR::StepLR(Optimizer& optimizer, std::size_t step_size, double gamma)
    : LRScheduler(optimizer), step_size_(step_size), gamma_(gamma) {
    if (step_size == 0) {
        throw value_error("StepLR: step_size must be > 0 (got 0); pass the number of steps between decays");
    }
    if (!(gamma > 0) || !std::isfinite(gamma)) {
        throw value_error("StepLR: gamma must be a finite number > 0 (got " + number_str(gamma) +
                          "); pass the factor applied every step_size steps, e.g. 0.1");
    }
    set_step_count(0);
}

double StepLR::lr_at(std::size_t n) const { return base_lr() * std::pow(gamma_, static_cast<double>(n / step_size_)); }

std::string StepLR::to_string() const {
    std::ostringstream s;
    s << "step(lr=" << base_lr() << ", every=" << step_size_ << ", gamma=" << gamma_ << ")";
    return s.str();
}

CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, std::size_t t_max, double eta_min, std::size_t warmup)
    : LRScheduler(optimizer), t_max_(t_max), warmup_(warmup), eta_min_(eta_min) {
    if (t_max == 0) {
        throw value_error("CosineAnnealingLR: t_max must be > 0 (got 0); pass the number of steps to anneal over");
    }
    if (warmup > t_max) {
        throw value_error("CosineAnnealingLR: warmup " + std::to_string(warmup) + " is longer than t_max " +
                          std::to_string(t_max) + "; pass warmup <= t_max");
    }
    if (!(eta_min >= 0) || !std::isfinite(eta_min)) {
        throw value_error("CosineAnnealingLR: eta_min must be a finite number >= 0 (got " + number_str(eta_min) +
                          "); pass the lowest rate, e.g. 0");
    }
    set_step_count(0);
}

double CosineAnnealingLR::lr_at(std::size_t n) const {
    const double base = base_lr();
    if (n < warmup_) return base * static_cast<double>(n + 1) / static_cast<double>(warmup_);
    // warmup == t_max leaves no span to anneal over: the rate drops to eta_min after the warm-up.
    if (warmup_ == t_max_) return eta_min_;
    const double t = std::min(1.0, static_cast<double>(n - warmup_) / static_cast<double>(t_max_ - warmup_));
    return eta_min_ + 0.5 * (base - eta_min_) * (1.0 + std::cos(M_PI * t));
}

std::string CosineAnnealingLR::to_string() const {
    std::ostringstream s;
    s << "cosine(lr=" << base_lr() << ", steps=" << t_max_ << ", warmup=" << warmup_ << ", min=" << eta_min_ << ")";
    return s.str();
}

LambdaLR::LambdaLR(Optimizer& optimizer, std::function<double(std::size_t)> factor, std::string label)
    : LRScheduler(optimizer), factor_(std::move(factor)), label_(std::move(label)) {
    set_step_count(0);
}

double LambdaLR::lr_at(std::size_t n) const { return base_lr() * factor_(n); }

std::string LambdaLR::to_string() const {
    std::ostringstream s;
    s << label_ << "(lr=" << base_lr() << ")";
    return s.str();
}

void check_schedule_name(const std::string& name) {
    if (name != "constant" && name != "step" && name != "cosine") {
        throw value_error("schedule '" + name + "' is unknown; choose constant, step or cosine");
    }
}

std::unique_ptr<LRScheduler> make_scheduler(const std::string& name, Optimizer& optimizer, std::size_t total,
                                            std::size_t warmup) {
    check_schedule_name(name);
    if (name == "constant")
        return std::make_unique<LambdaLR>(
            optimizer, [](std::size_t) { return 1.0; }, "constant");
    if (name == "step") return std::make_unique<StepLR>(optimizer, std::max<std::size_t>(total / 3, 1), 0.1);
    return std::make_unique<CosineAnnealingLR>(optimizer, std::max<std::size_t>(total, 1), 0.0,
                                               std::min(warmup, std::max<std::size_t>(total, 1)));
}

}  // namespace adg::nn
