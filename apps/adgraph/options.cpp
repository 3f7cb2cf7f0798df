#include "adgraph/options.hpp"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include <adgraph/tensor/error.hpp>

namespace adg::cli {

namespace {

// A bound as written: whole numbers without an exponent ("1000000", not "1e+06").
std::string bound_str(double v) {
    if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
    return number_str(v);
}

}  // namespace

std::string NumberRange::text() const {
    if (whole)
        return "a whole number from " + std::to_string(static_cast<std::uint64_t>(lo)) + " to " +
               std::to_string(whole_hi);
    if (std::isinf(hi)) return std::string("a finite number ") + (lo_open ? "> " : ">= ") + bound_str(lo);
    return std::string("a number in ") + (lo_open ? "(" : "[") + bound_str(lo) + ", " + bound_str(hi) +
           (hi_open ? ")" : "]");
}

NumberRange whole_range(std::uint64_t lo, std::uint64_t hi) {
    NumberRange r;
    r.whole = true;
    r.lo = static_cast<double>(lo);
    r.whole_hi = hi;
    return r;
}

NumberRange real_range(double lo, double hi, bool lo_open, bool hi_open) {
    NumberRange r;
    r.whole = false;
    r.lo = lo;
    r.hi = hi;
    r.lo_open = lo_open;
    r.hi_open = hi_open;
    return r;
}

std::string check_number(std::string& text, const NumberRange& range) {
    const std::string refused = text + " is not " + range.text();
    if (text.empty()) return "an empty value is not " + range.text();
    if (range.whole) {
        // Digits only: strtoull (which CLI11 uses) would take "-1" as 2^64 - 1, "010" as octal and " 7" as 7.
        if (text.find_first_not_of("0123456789") != std::string::npos) return refused;
        std::uint64_t v = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (ec != std::errc() || end != text.data() + text.size()) return refused;  // beyond 2^64 - 1
        if (v < static_cast<std::uint64_t>(range.lo) || v > range.whole_hi) return refused;
        text = std::to_string(v);
        return "";
    }
    if (std::isspace(static_cast<unsigned char>(text.front()))) return refused;
    errno = 0;
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (end != text.c_str() + text.size() || !std::isfinite(v)) return refused;  // junk, nan, inf, 1e999
    const bool above_lo = range.lo_open ? v > range.lo : v >= range.lo;
    const bool below_hi = range.hi_open ? v < range.hi : v <= range.hi;
    if (!above_lo || !below_hi) return refused;
    char canonical[40];
    std::snprintf(canonical, sizeof canonical, "%.17g", v);
    text = canonical;
    return "";
}

CLI::Validator in_range(const NumberRange& range) {
    return CLI::Validator([range](std::string& text) { return check_number(text, range); }, range.text());
}

}  // namespace adg::cli
