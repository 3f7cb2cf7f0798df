#pragma once
/// \file Runs a gnuplot script (gnuplot-nox), for the PNG plots the benchmarks write.

#include <string>

namespace adg::bench {

/// Feeds `script` to gnuplot; returns "" on success, else why no plot was drawn.
std::string run_gnuplot(const std::string& script);

}  // namespace adg::bench
