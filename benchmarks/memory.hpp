#pragma once
/// \file Resident memory of this process (Linux /proc), for peak-RSS comparisons between engines.

#include <cstddef>

namespace adg::bench {

/// Current resident set size in bytes (VmRSS).
std::size_t current_rss();
/// Peak resident set size in bytes since start or the last reset_peak_rss() (VmHWM).
std::size_t peak_rss();
/// Restarts the peak at the current RSS (writes 5 to /proc/self/clear_refs); false if the kernel refused.
bool reset_peak_rss();

}  // namespace adg::bench
