#pragma once
/// \file IDX files (the MNIST family's format), raw or gzip-compressed: strict reading and atomic writing.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace adg::nn {

/// The contents of an IDX file of unsigned bytes: its dimensions and its row-major payload.
struct IdxArray {
    /// The dimensions, outermost first (1 to 4 of them, each > 0).
    std::vector<std::size_t> dims;
    /// The payload, exactly the product of `dims` bytes.
    std::vector<std::uint8_t> data;
};

/// Largest payload read_idx accepts, in bytes (2^31).
inline constexpr std::uint64_t max_idx_payload = std::uint64_t{1} << 31;

/// Reads an IDX file of unsigned bytes (type 0x08), raw or gzip-compressed (recognised by its first bytes
/// 1f 8b, not by its name). Throws io_error naming the path, the byte offset in the uncompressed stream and
/// what is wrong: bad magic, another element type, 0 or more than 4 dimensions, a zero dimension, a payload
/// over max_idx_payload, a truncated or corrupt file, or bytes after the payload.
IdxArray read_idx(const std::string& path);

/// Writes `a` as an IDX file of unsigned bytes, gzip-compressed if `gzip`. The bytes go to a temporary file
/// beside `path` that is renamed over it when complete, so `path` is never seen half-written. Throws
/// value_error if `a` is not a valid IDX array and io_error if the file cannot be written.
void write_idx(const std::string& path, const IdxArray& a, bool gzip);

}  // namespace adg::nn
