#pragma once
/// \file How the playground sends heat maps: values quantised to bytes, maps reduced by block averages, bytes as
/// base64 text (docs/playground.md, "maps").

#include <cstddef>
#include <string>
#include <vector>

namespace adg::playground {

/// One byte per value: v clamped to [-1, 1], stored as round((v + 1) · 127.5) (0..255); NaN becomes 128 (≈ 0).
/// The page decodes v = byte / 127.5 − 1.
std::string quantise_map(const std::vector<float>& values);

/// A `side` × `side` map (row by row) reduced to (side / factor)² cells, each the mean of a factor × factor block.
/// value_error unless `side` is a multiple of `factor` and `values` holds side² values.
std::vector<float> block_average(const std::vector<float>& values, std::size_t side, std::size_t factor);

/// `bytes` in base64 (RFC 4648, the standard alphabet, with '=' padding).
std::string base64(const std::string& bytes);

}  // namespace adg::playground
