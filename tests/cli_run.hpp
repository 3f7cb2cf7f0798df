#pragma once
/// \file Test support: the adgraph command line run in-process, and the dataset check its smoke runs share.

#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include <adgraph/nn/data.hpp>

#include "adgraph/cli.hpp"

namespace adg::testing {

/// Exit code, stdout and stderr of one `adgraph` invocation.
struct CliResult {
    int code;
    std::string out, err;
};

/// Runs `adgraph args...` in this process.
inline CliResult run_cli(std::vector<std::string> args) {
    args.insert(args.begin(), "adgraph");
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    std::ostringstream out, err;
    const int code = adg::cli::run(static_cast<int>(argv.size()), argv.data(), out, err);
    return {code, out.str(), err.str()};
}

/// True if Debian's dataset-fashion-mnist is installed. Outside CI a missing dataset lets smoke runs skip; in CI
/// (which installs it) it is a failure, so they can never pass by not running.
inline bool have_fashion_mnist() {
    const bool present = std::filesystem::exists(std::filesystem::path(adg::nn::default_fashion_mnist_dir) /
                                                 "t10k-labels-idx1-ubyte.gz");
    if (!present && std::getenv("CI")) FAIL("CI must install dataset-fashion-mnist (scripts/install-deps.sh does)");
    return present;
}

}  // namespace adg::testing
