#pragma once
/// \file Text taken from a file or a user, made safe to quote in an error message.

#include <string>

namespace adg::nn {

/// `s` cut to at most 512 characters ("..." marks the cut), so a hostile name or metadata string cannot make a
/// megabyte-long message.
inline std::string clip(const std::string& s) { return s.size() > 512 ? s.substr(0, 509) + "..." : s; }

}  // namespace adg::nn
