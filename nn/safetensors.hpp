#pragma once
/// \file The safetensors file format (https://github.com/huggingface/safetensors), float32/float64 only.
///
/// Layout: an 8-byte little-endian header length N, N bytes of UTF-8 JSON (padded with spaces to a multiple of
/// 8), then the data buffer. The JSON maps each tensor name to {"dtype", "shape", "data_offsets": [begin, end]}
/// (byte offsets into the data buffer, end exclusive) and may hold "__metadata__": {string: string}.
/// docs/checkpoints.md describes how adgraph uses it.

#include <map>
#include <string>
#include <utility>
#include <vector>

#include <adgraph/tensor/array.hpp>

namespace adg::nn {

/// Tensors with their names, in a chosen order.
using NamedArrays = std::vector<std::pair<std::string, Array>>;

/// The "__metadata__" strings of a safetensors file.
using Metadata = std::map<std::string, std::string>;

/// Writes `tensors` and `metadata` to `path` atomically: a temporary file in the same directory is written,
/// fsynced and renamed over `path`, so `path` holds either its old content or the complete new file.
/// float64 tensors are laid out before float32 ones (each group in the given order) so that every tensor starts
/// at a multiple of its element size. Throws value_error for a duplicate name, the reserved name "__metadata__"
/// or a name or metadata string that is not valid UTF-8; io_error when the file cannot be written.
void save_safetensors(const std::string& path, const NamedArrays& tensors, const Metadata& metadata = {});

/// The bytes save_safetensors would write for `tensors` and `metadata` (the same encoding), e.g. to send a model
/// over HTTP without a file. Throws value_error as save_safetensors does, its messages starting with
/// "safetensors_bytes: ".
std::string safetensors_bytes(const NamedArrays& tensors, const Metadata& metadata = {});

/// The content of a safetensors file.
struct SafetensorsFile {
    /// The tensors in the order of their data in the file.
    NamedArrays tensors;
    /// The "__metadata__" strings (empty if the file has none).
    Metadata metadata;
};

/// Reads `path`, validating every field of the header against the file before allocating any array.
/// Throws io_error naming the file, the tensor and the byte offset at fault when the file is missing, truncated
/// or malformed, or holds a dtype other than F32/F64.
SafetensorsFile load_safetensors(const std::string& path);

}  // namespace adg::nn
