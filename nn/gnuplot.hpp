#pragma once
/// \file PNG plots drawn by gnuplot (Debian's gnuplot-nox) without a shell and without any path in the script.

#include <chrono>
#include <string>

namespace adg::nn {

/// Runs gnuplot (through run_process) with `script` on its stdin and writes the PNG it prints on stdout to `png`
/// with write_file_atomically, so `png` is either written whole or left as it was. The script selects a PNG
/// terminal (`set terminal pngcairo ...`), does not `set output`, and holds its data inline as datablocks
/// (`$data << EOD` ... `EOD`), so no file name ever reaches gnuplot. Returns "" when `png` was written, else why
/// not, for a warning: gnuplot is not installed, it failed (with what it printed on stderr), it did not finish
/// within `time_limit` (then it is killed), it printed no PNG, or `png` could not be written (with the system's
/// reason). The limit is generous: a working gnuplot draws these plots in well under a second, so it only
/// stops a hung or fake gnuplot from hanging the caller.
std::string plot_png(const std::string& script, const std::string& png,
                     std::chrono::milliseconds time_limit = std::chrono::seconds(60));

}  // namespace adg::nn
