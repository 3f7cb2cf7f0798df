#pragma once
/// \file Checks and number text shared by the playground's own sources (not part of its interface).

#include <string>

namespace adg::playground {

/// The shortest text that reads back as `v` (std::to_chars), for numbers in messages and metadata.
std::string number_text(double v);

/// value_error "playground: noise <v> is out of range; use 0..50 (percent)" unless 0 ≤ noise ≤ 50.
void check_noise(double noise);

}  // namespace adg::playground
