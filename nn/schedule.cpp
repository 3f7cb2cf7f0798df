#include <adgraph/nn/schedule.hpp>

#include <algorithm>
#include <cmath>
#include <sstream>

#include <adgraph/tensor/error.hpp>

namespace adg::nn {

std::string ConstantLr::to_string() const {
    std::ostringstream s;
    s << "constant(lr=" << lr_ << ")";
    return s.str();
}

StepLr::StepLr(double lr, std::size_t every, double gamma)
    : lr_(lr), every_(std::max<std::size_t>(every, 1)), gamma_(gamma) {}

double StepLr::at(std::size_t step) const { return lr_ * std::pow(gamma_, static_cast<double>(step / every_)); }

std::string StepLr::to_string() const {
    std::ostringstream s;
    s << "step(lr=" << lr_ << ", every=" << every_ << ", gamma=" << gamma_ << ")";
    return s.str();
}

CosineLr::CosineLr(double lr, std::size_t total, std::size_t warmup, double min_lr)
    : lr_(lr), total_(std::max<std::size_t>(total, 1)), warmup_(std::min(warmup, total)), min_(min_lr) {}

double CosineLr::at(std::size_t step) const {
    if (step < warmup_) return lr_ * static_cast<double>(step + 1) / static_cast<double>(warmup_);
    const double span = static_cast<double>(std::max<std::size_t>(total_ - warmup_, 1));
    const double t = std::min(1.0, static_cast<double>(step - warmup_) / span);
    // Keep a tiny positive rate at the very end: optimizers reject lr = 0.
    return std::max(min_ + 0.5 * (lr_ - min_) * (1.0 + std::cos(M_PI * t)), lr_ * 1e-6);
}

std::string CosineLr::to_string() const {
    std::ostringstream s;
    s << "cosine(lr=" << lr_ << ", steps=" << total_ << ", warmup=" << warmup_ << ", min=" << min_ << ")";
    return s.str();
}

std::unique_ptr<LrSchedule> make_schedule(const std::string& name, double lr, std::size_t total, std::size_t warmup) {
    if (name == "constant") return std::make_unique<ConstantLr>(lr);
    if (name == "step") return std::make_unique<StepLr>(lr, std::max<std::size_t>(total / 3, 1), 0.1);
    if (name == "cosine") return std::make_unique<CosineLr>(lr, total, warmup);
    throw value_error("schedule '" + name + "' is unknown; choose constant, step or cosine");
}

}  // namespace adg::nn
