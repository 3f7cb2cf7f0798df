#include <adgraph/autodiff/anomaly.hpp>

#include <cmath>
#include <cstring>

#include <adgraph/tensor/array.hpp>

namespace adg {

namespace {

thread_local bool anomaly = false;
thread_local Site current_site{};
thread_local bool site_active = false;

}  // namespace

bool anomaly_enabled() { return anomaly; }

DetectAnomaly::DetectAnomaly(bool on) : prev_(anomaly) { anomaly = on; }
DetectAnomaly::~DetectAnomaly() { anomaly = prev_; }

CallSite::CallSite(Site site, const char* op) : owner_(!site_active) {
    if (!owner_) return;
    if (op) site.op = op;
    current_site = site;
    site_active = true;
}

CallSite::~CallSite() {
    if (!owner_) return;
    current_site = Site{};
    site_active = false;
}

Site CallSite::current() { return current_site; }

std::string op_label(const char* op, const Site& site) {
    const std::string own = std::string("'") + op + "'";
    if (!site.op || std::strcmp(site.op, op) == 0) return own;
    return std::string("'") + site.op + "' (its internal " + own + ")";
}

std::string site_str(const Site& s) {
    if (!s.file)
        return "a call without a recorded site (an operator such as * or +; the named function, e.g. mul, records one)";
    return std::string(s.file) + ":" + std::to_string(s.line);
}

void check_anomaly(const Array& a, const char* op, const char* what, const Site& site) {
    if (!anomaly) return;
    const std::size_t n = a.size();
    std::size_t bad = n;
    a.visit([&](const auto& x) {
        for (std::size_t i = 0; i < n && bad == n; ++i) {
            if (!std::isfinite(x.data()[i])) bad = i;
        }
    });
    for (std::size_t i = bad; i < n; i = n) {
        const double v = a.flat(i);
        {
            throw value_error("anomaly: " + op_label(op, site) + " produced " + (std::isnan(v) ? "NaN" : "Inf") +
                              " in its " + what + " at element " + std::to_string(i) + " of shape " +
                              shape_str(a.shape()) + "; the op was created at " + site_str(site));
        }
    }
}

}  // namespace adg
