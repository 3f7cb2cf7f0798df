#include <adgraph/autodiff/anomaly.hpp>

#include <cmath>

#include <adgraph/tensor/array.hpp>

namespace adg {

namespace {

thread_local bool anomaly = false;
thread_local Site current_site{};

}  // namespace

bool anomaly_enabled() { return anomaly; }

DetectAnomaly::DetectAnomaly(bool on) : prev_(anomaly) { anomaly = on; }
DetectAnomaly::~DetectAnomaly() { anomaly = prev_; }

CallSite::CallSite(Site site) : owner_(current_site.file == nullptr) {
    if (owner_) current_site = site;
}

CallSite::~CallSite() {
    if (owner_) current_site = Site{};
}

Site CallSite::current() { return current_site; }

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
            throw value_error("anomaly: '" + std::string(op) + "' produced " + (std::isnan(v) ? "NaN" : "Inf") +
                              " in its " + what + " at element " + std::to_string(i) + " of shape " +
                              shape_str(a.shape()) + "; the op was created at " + site_str(site));
        }
    }
}

}  // namespace adg
