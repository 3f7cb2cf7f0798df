#pragma once
// The pictures style_transfer works on: a PNG file or one of ImageMagick's built-in images ("rose:", "granite:"),
// brought to a square working size by ImageMagick's convert (run through nn::run_process, never a shell) and read
// with nn::read_png.
//
// convert gives names meaning ("|cmd" may run a shell, "coder:path" reads a file with that coder, "-x" is an option),
// so it never sees a name from the command line other than a built-in of the allow-list below, and a PNG file only
// as "png:<path>" of a copy in the scratch directory of the pixels read_png accepted.

#include <cstddef>
#include <string>

#include <adgraph/adgraph.hpp>

namespace style {

/// ImageMagick's convert on PATH, found (or not) once: `available` if its -version says ImageMagick, else `found`
/// says what was there.
struct Converter {
    Converter();
    bool available = false;
    std::string found;
};

/// The built-in pictures accepted (ImageMagick's documented built-in images and patterns):
/// - the images logo:, rose:, wizard:, granite:, netscape:;
/// - the generated plasma:, gradient:, radial-gradient:, each optionally with a colour or two of lower-case
///   letters (plasma:fractal, plasma:red-yellow, gradient:blue-white), the only arguments let through;
/// - pattern:<name> for the built-in patterns (pattern:checkerboard, pattern:hexagons, pattern:bricks, ...).
/// Any other name ending in ':' or containing ':' before any '/' is refused.
bool is_builtin(const std::string& spec);

/// "" if `spec` may be given (a built-in of the list or a path), else why not and what to give instead: a
/// CLI11 validator.
std::string refusal(const std::string& spec);

/// `spec` (a PNG path or a built-in) as a (1, 3, size, size) float32 tensor in [0, 1]: a built-in or a PNG of
/// another size is scaled by convert to cover size x size and cropped to its centre; a PNG of that size is used as
/// it is, gray replicated to three channels. `scratch` is a directory for convert's input and output. Throws
/// io_error if convert is needed but not available (saying so), if it fails (naming the image and convert's
/// message), or if the PNG cannot be read.
adg::Tensor load_picture(const std::string& spec, std::size_t size, const std::string& scratch,
                         const Converter& convert);

}  // namespace style
