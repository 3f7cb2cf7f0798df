#pragma once
/// \file Grad mode: whether running ops records them (per thread).

namespace adg {

/// True when ops record nodes (the default); false inside a NoGrad scope.
bool grad_enabled();

/// Sets grad mode for this thread; prefer the scoped guards below.
void set_grad_enabled(bool on);

/// Scope in which nothing is recorded: ops just compute.
class NoGrad {
public:
    /// Turns recording off until destruction.
    NoGrad() : prev_(grad_enabled()) { set_grad_enabled(false); }
    /// Restores the previous mode.
    ~NoGrad() { set_grad_enabled(prev_); }
    NoGrad(const NoGrad&) = delete;
    NoGrad& operator=(const NoGrad&) = delete;

private:
    bool prev_;
};

/// Scope with recording set to `on` (default on), e.g. inside a transform called under NoGrad.
class GradMode {
public:
    /// Sets recording to `on` until destruction.
    explicit GradMode(bool on = true) : prev_(grad_enabled()) { set_grad_enabled(on); }
    /// Restores the previous mode.
    ~GradMode() { set_grad_enabled(prev_); }
    GradMode(const GradMode&) = delete;
    GradMode& operator=(const GradMode&) = delete;

private:
    bool prev_;
};

}  // namespace adg
