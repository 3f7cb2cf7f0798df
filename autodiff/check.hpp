#pragma once
/// \file Checking derivatives: central-difference gradcheck (both modes), the adjoint dot test, and the
/// batched-directions test. Users check their own functions and ops with them.

#include <string>

#include <adgraph/autodiff/op_list.hpp>

namespace adg {

/// Outcome of a check: `ok`, and a message naming the worst mismatch.
struct CheckResult {
    /// True if every comparison held.
    bool ok = true;
    /// What was compared and, on failure, where and by how much it failed.
    std::string message;
    /// Largest |analytic - reference| seen.
    double max_error = 0.0;
    /// Same as ok.
    explicit operator bool() const { return ok; }
};

/// Tolerances of gradcheck: |analytic - numeric| <= atol + rtol·|numeric|, central differences with step eps.
struct GradcheckOptions {
    double eps = 1e-6;
    double atol = 1e-5;
    double rtol = 1e-3;
};

/// Compares the full Jacobian of f at xs (float64) from forward sweeps (JVP) with central differences.
CheckResult gradcheck_jvp(const MultiFn& f, const std::vector<Tensor>& xs, const GradcheckOptions& options = {});
/// Compares the full Jacobian of f at xs (float64) from reverse sweeps (VJP) with central differences.
CheckResult gradcheck_vjp(const MultiFn& f, const std::vector<Tensor>& xs, const GradcheckOptions& options = {});
/// Both of the above.
CheckResult gradcheck(const MultiFn& f, const std::vector<Tensor>& xs, const GradcheckOptions& options = {});

/// Dot test without finite differences: for random u, v, ⟨u, J·v⟩ (forward sweep) = ⟨Jᵀ·u, v⟩ (reverse sweep)
/// within rtol relative to Σ|terms|; rtol 0 picks 1e-12 for float64 and 1e-4 for float32.
CheckResult dot_test(const MultiFn& f, const std::vector<Tensor>& xs, Generator& gen, double rtol = 0.0);

/// One sweep with k random directions equals k single-direction sweeps stacked, in both modes; tol 0 means
/// bitwise equality.
CheckResult batched_test(const MultiFn& f, const std::vector<Tensor>& xs, Generator& gen, std::size_t k = 3,
                         double tol = 0.0);

}  // namespace adg
