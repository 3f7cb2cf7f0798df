#pragma once
/// \file 8-bit gray and RGB images written as PNG through libpng and read from any PNG, and the helpers the
/// lecture demos draw with: a float tensor as gray levels, integer upscaling, and a grid of images.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <adgraph/autodiff/tensor.hpp>

namespace adg::nn {

/// An 8-bit image in memory: `height` rows of `width` pixels, the top row first, each pixel `channels` bytes
/// (1: gray; 3: red, green, blue).
struct Image {
    std::size_t width = 0;
    std::size_t height = 0;
    std::size_t channels = 1;
    std::vector<std::uint8_t> pixels;

    /// A `width` x `height` image of `channels` (1 or 3) with every byte `value`; the byte count is checked
    /// (value_error naming `op` when it overflows or the allocation fails).
    static Image filled(std::size_t width, std::size_t height, std::size_t channels, std::uint8_t value,
                        const char* op = "Image::filled");
};

/// The largest width or height write_png accepts (libpng's default limit for a side).
inline constexpr std::size_t max_png_side = 1000000;

/// Writes `image` to `path` as an 8-bit, non-interlaced gray or RGB PNG encoded by libpng, replaced atomically
/// (write_file_atomically): `path` ends up with the whole file or keeps what it held. Checked first, so nothing
/// is written: width and height in 1..max_png_side, channels 1 or 3, and exactly width x height x channels bytes
/// of pixels (value_error "write_png: '<path>': ..."). Failures of the file system are the atomic writer's
/// io_error prefixed with "write_png: "; a failed encoding (out of memory) is an io_error naming `path`.
void write_png(const std::string& path, const Image& image);

/// Reads the PNG file at `path` through libpng into an 8-bit image: gray (1 channel) for a gray file, RGB (3
/// channels) for a colour or palette file, whatever its bit depth or interlacing. Transparency is composited on
/// white (as a picture viewer shows it on a white page). A file that states its gamma (a gAMA, sRGB or iCCP chunk)
/// is converted to sRGB, as libpng's simplified API does; without one its samples are taken as sRGB: 8-bit ones
/// unchanged, 16-bit ones rounded to the nearest of 256 levels (v x 255 / 65535, so 0x8000 is 128).
/// The file must begin with the PNG signature and the image header and end with the end chunk (IEND; bytes after
/// it are refused). Before the file or its pixels get memory, the header is checked against the file's size s:
/// width and height in 1..max_png_side, and both the rows the header claims and the 8-bit pixels read_png returns
/// (width x height x channels) at most 1032 x s bytes (deflate expands at most 1032:1; a file packing its pixels
/// tighter, with a low bit depth or a palette, is refused: write it as 8-bit gray or RGB). So, besides libpng's few
/// rows, read_png holds at most s + 2 x 1032 x s bytes: the file, the pixels as decoded and their copy in the Image.
/// The decoded pixels are not filled beforehand, so a file whose image data fails early commits little of them.
/// Throws io_error "read_png: '<path>': ..." for a missing or unreadable file, a file that is not a PNG, such a
/// header, a truncated or corrupt file (libpng's reason quoted) or no memory for it: never a partial image.
Image read_png(const std::string& path);

/// How to_gray maps values to gray levels.
enum class GrayScale {
    min_max,   ///< the smallest value is black (0), the largest white (255): for images
    symmetric  ///< 0 is mid gray (128), ±max|x| are black and white: for filters and responses, whose sign matters
};

/// A 2-D tensor (height, width) of float32 or float64 as a gray image, scaled linearly by `scale` and rounded to
/// the nearest level. A constant tensor (no range to scale) is mid gray for min_max, and all 128 for symmetric when
/// it is 0. shape_error unless 2-D with both sides at least 1; value_error for NaN or ±Inf.
Image to_gray(const Tensor& t, GrayScale scale);

/// `image` with each pixel repeated into a `factor` x `factor` block (nearest neighbour), so a 28 x 28 image can
/// be seen; value_error if factor is 0.
Image upscale(const Image& image, std::size_t factor);

/// One image holding `images` row by row, `columns` per row, each centred in its cell (an odd spare pixel goes
/// right and below), with `gap` pixels of `background` between the cells and around the grid. Each column is as
/// wide as its widest image and each row as tall as its tallest, so images of one size make a regular grid and
/// one column stacks images of different sizes. The images must have the same number of channels; value_error for
/// no images, 0 columns, mixed channels, a malformed image or a result with a side outside 1..max_png_side.
Image tile(const std::vector<Image>& images, std::size_t columns, std::size_t gap, std::uint8_t background = 255);

}  // namespace adg::nn
