#pragma once
// The outlook programs' command-line parsing, written once.

#include <cstdlib>

#include <CLI/CLI.hpp>

namespace outlook {

/// Parses argv into `app`: --help prints and exits 0; a usage error prints CLI11's message and returns false
/// (the program then exits 2).
inline bool parse(CLI::App& app, int argc, char** argv) {
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (app.exit(e) == 0) std::exit(0);
        return false;
    }
    return true;
}

}  // namespace outlook
