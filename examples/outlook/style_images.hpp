#pragma once
// The pictures style_transfer works on: a PNG file or one of ImageMagick's built-in images ("rose:", "granite:"),
// brought to a square working size by ImageMagick's convert (run through nn::run_process, never a shell) and read
// with nn::read_png.

#include <cstddef>
#include <string>

#include <adgraph/adgraph.hpp>

namespace style {

/// True if `convert` on PATH is ImageMagick's (its -version says so); `found` says what was there otherwise.
bool have_imagemagick(std::string& found);

/// `spec` (a PNG path, or a built-in name ending in ':') as a (1, 3, size, size) float32 tensor in [0, 1]: a built-in
/// or a PNG of another size is scaled by convert to cover size x size and cropped to its centre; a PNG of that size
/// is used as it is, gray replicated to three channels. `scratch` is a directory for convert's output. Throws
/// io_error if convert fails (naming the image and convert's message) or the PNG cannot be read.
adg::Tensor load_picture(const std::string& spec, std::size_t size, const std::string& scratch);

/// Whether `spec` names a built-in image of ImageMagick (ends in ':').
bool is_builtin(const std::string& spec);

}  // namespace style
