#pragma once
/// \file Anomaly mode (off by default): every op output, tangent and cotangent is checked for NaN/Inf, and the
/// error names the op, the sweep and the call site where the op was created.

#include <string>

namespace adg {

class Array;

/// A source location, captured at the call of a public op by a default argument (__builtin_FILE/LINE), and the
/// public op called there (set by CallSite).
struct Site {
    const char* file = nullptr;
    int line = 0;
    /// The public function the user called ("sum"), or nullptr.
    const char* op = nullptr;
    /// The caller's location when used as a default argument.
    static constexpr Site here(const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
        return {file, line, nullptr};
    }
};

/// True while anomaly detection is on (per thread).
bool anomaly_enabled();

/// Scope with anomaly detection on (or set to `on`); restores the previous setting.
class DetectAnomaly {
public:
    /// Turns detection on (or sets it to `on`) until destruction.
    explicit DetectAnomaly(bool on = true);
    /// Restores the previous setting.
    ~DetectAnomaly();
    DetectAnomaly(const DetectAnomaly&) = delete;
    DetectAnomaly& operator=(const DetectAnomaly&) = delete;

private:
    bool prev_;
};

/// Marks the user's call of a public op: ops recorded while it lives carry `site` and the name `op` of the public
/// function (the outermost mark wins, so ops a public function composes internally report the user's line and
/// the user's op, not the library's).
class CallSite {
public:
    /// Records `site`, with `op` as its public op when given, unless an outer CallSite is active.
    explicit CallSite(Site site, const char* op = nullptr);
    /// Clears the mark if this one set it.
    ~CallSite();
    CallSite(const CallSite&) = delete;
    CallSite& operator=(const CallSite&) = delete;
    /// The active call site ({nullptr, 0, nullptr} outside any).
    static Site current();

private:
    bool owner_;
};

/// How errors name an op: "'sum'" for the op `op` recorded at `site`, or "'sum' (its internal 'reshape')" when the
/// public function the user called there (site.op) is another.
std::string op_label(const char* op, const Site& site);

/// "file:line", or a note that the op was written with an operator (which cannot take a call site).
std::string site_str(const Site& s);

/// In anomaly mode, throws value_error if `a` holds NaN or Inf: names `op`, `what` (e.g. "output" or "tangent
/// (forward_sweep)") and `site`. Does nothing when anomaly mode is off.
void check_anomaly(const Array& a, const char* op, const char* what, const Site& site);

}  // namespace adg
