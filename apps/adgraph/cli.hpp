#pragma once
/// \file The adgraph command line, callable in-process.

#include <iosfwd>

namespace adg::cli {

/// Exit code of a usage error (bad option or value).
inline constexpr int exit_usage = 2;
/// Exit code of a runtime failure (missing data, unreadable file, non-finite loss).
inline constexpr int exit_failure = 1;

/// Parses `argv` and runs the subcommand; reports to `out` and `err`; returns the exit code.
int run(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace adg::cli
