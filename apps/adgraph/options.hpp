#pragma once
/// \file Numeric command-line options with their valid range, checked as the command line is parsed.

#include <cstdint>
#include <limits>
#include <string>

#include <CLI/CLI.hpp>

namespace adg::cli {

/// The valid values of a numeric option: whole numbers from `lo` to `hi`, or real numbers between `lo` and `hi`
/// (each end open or closed; an infinite end means "no bound", but the value must still be finite).
struct NumberRange {
    /// True for whole numbers (written in decimal digits only: no sign, no exponent, no hex).
    bool whole = true;
    /// Smallest valid value (or the open lower bound).
    double lo = 0;
    /// Largest valid value (or the open upper bound); whole ranges use `whole_hi` instead.
    double hi = std::numeric_limits<double>::infinity();
    /// Largest valid whole number.
    std::uint64_t whole_hi = 0;
    /// True if `lo` itself is not valid.
    bool lo_open = false;
    /// True if `hi` itself is not valid.
    bool hi_open = false;
    /// "a whole number from 1 to 1000000", "a number in [0, 1)", "a finite number > 0", ...
    std::string text() const;
};

/// Whole numbers from `lo` to `hi`.
NumberRange whole_range(std::uint64_t lo, std::uint64_t hi);
/// Finite real numbers from `lo` to `hi`, each end open or closed (`hi` may be infinite: no upper bound).
NumberRange real_range(double lo, double hi, bool lo_open = false, bool hi_open = false);

/// Checks `text` against `range`; returns "" and rewrites `text` in plain decimal if it is valid (so that CLI11's
/// own conversion, which would read "010" as octal and "-1" as 2^64 - 1 for an unsigned, sees only that), else
/// "<text> is not <range.text()>".
std::string check_number(std::string& text, const NumberRange& range);

/// A CLI11 validator applying check_number; CLI11 reports its message as "--option: <message>" (exit 2).
CLI::Validator in_range(const NumberRange& range);

/// Adds the numeric option `name` storing into `value`, with `range` enforced and its default shown in --help
/// unless `show_default` is false (a required option has none).
template <class T>
CLI::Option* add_number(CLI::App& cmd, const std::string& name, T& value, const std::string& help,
                        const NumberRange& range, bool show_default = true) {
    CLI::Option* option = cmd.add_option(name, value, help)->check(in_range(range));
    return show_default ? option->capture_default_str() : option;
}

/// Upper bound of counts given on the command line (batch rows, --limit, --index): far above any dataset here,
/// low enough that products of counts cannot overflow.
inline constexpr std::uint64_t max_count = 1'000'000'000;
/// Upper bound of --epochs.
inline constexpr std::uint64_t max_epochs = 1'000'000;

}  // namespace adg::cli
