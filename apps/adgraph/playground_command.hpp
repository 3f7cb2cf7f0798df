#pragma once
/// \file `adgraph playground`: the web server, or a headless run when --steps or --png is given.

#include <iosfwd>
#include <string>

#include <CLI/CLI.hpp>

#include "playground/headless.hpp"
#include "playground/server.hpp"

namespace adg::cli {

/// What `adgraph playground` was asked for.
struct PlaygroundOptions {
    playground::ServerOptions server;      ///< --host, --port, --max-sessions, --idle-seconds
    playground::HeadlessOptions headless;  ///< the headless run's settings
    std::string features = "x1,x2";        ///< --features as written
    std::string layers = "4,2";            ///< --layers as written
};

/// Adds the subcommand's options to `cmd`, ranges checked as they are parsed.
void add_playground_options(CLI::App& cmd, PlaygroundOptions& o);

/// Runs the parsed subcommand: a headless run (printing its epoch lines to `out`) when --steps or --png was given,
/// else the server, printing "adgraph playground: serving on http://HOST:PORT/" and serving until SIGINT or
/// SIGTERM. Returns 0; throws UsageError for options that do not fit together or a bad configuration, io_error
/// when the server cannot bind.
int playground_command(const CLI::App& cmd, PlaygroundOptions& o, std::ostream& out);

}  // namespace adg::cli
