#include <adgraph/nn/png.hpp>

#include <png.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csetjmp>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>
#include <system_error>

#include <sys/stat.h>
#include <unistd.h>

#include <adgraph/nn/atomic_file.hpp>
#include <adgraph/nn/regular_file.hpp>
#include <adgraph/tensor/error.hpp>
#include <adgraph/tensor/shape.hpp>

namespace adg::nn {

namespace {

static_assert(max_png_side <= PNG_USER_WIDTH_MAX && max_png_side <= PNG_USER_HEIGHT_MAX,
              "write_png must refuse every side libpng would");

void check_sides(const std::string& op, std::size_t width, std::size_t height) {
    if (width < 1 || height < 1 || width > max_png_side || height > max_png_side) {
        throw value_error(op + ": width and height must each be in 1.." + std::to_string(max_png_side) + ", got " +
                          std::to_string(width) + " x " + std::to_string(height));
    }
}

void check_channels(const std::string& op, std::size_t channels) {
    if (channels != 1 && channels != 3) {
        throw value_error(op + ": channels must be 1 (gray) or 3 (RGB), got " + std::to_string(channels));
    }
}

// "1 channel", "3 channels".
std::string plural(std::size_t n, const std::string& word) {
    return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

// Sides, channels, and exactly width x height x channels bytes of pixels.
void check_image(const std::string& op, const Image& image) {
    check_sides(op, image.width, image.height);
    check_channels(op, image.channels);
    const std::size_t bytes = image.width * image.height * image.channels;  // <= 3 * 10^12: no overflow
    if (image.pixels.size() != bytes) {
        throw value_error(op + ": a " + std::to_string(image.width) + " x " + std::to_string(image.height) +
                          " image with " + plural(image.channels, "channel") + " needs " + plural(bytes, "byte") +
                          " but its pixels hold " + std::to_string(image.pixels.size()));
    }
}

// What libpng reports and where write_png's encoder resumes. libpng signals errors by longjmp; only this plain
// struct and libpng's own state live across it, so no C++ destructor is skipped.
struct Encoder {
    std::string* out = nullptr;
    bool out_of_memory = false;
    char reason[256] = {};
};

void on_png_error(png_structp png, png_const_charp message) {
    auto* e = static_cast<Encoder*>(png_get_error_ptr(png));
    std::snprintf(e->reason, sizeof e->reason, "%s", message ? message : "unknown error");
    png_longjmp(png, 1);
}

void on_png_warning(png_structp, png_const_charp) {}  // write_png passes only values libpng accepts

void on_png_write(png_structp png, png_bytep data, std::size_t n) {
    auto* e = static_cast<Encoder*>(png_get_io_ptr(png));
    try {
        e->out->append(reinterpret_cast<const char*>(data), n);
    } catch (const std::bad_alloc&) {
        e->out_of_memory = true;
    }
    // Outside the handler: longjmp must not leave a catch block.
    if (e->out_of_memory) png_error(png, "out of memory");
}

void on_png_flush(png_structp) {}

// The libpng calls between setjmp and any longjmp: this frame holds no object with a destructor, and nothing
// changed after setjmp is read after the jump.
bool encode(png_structp png, png_infop info, const Image& image, png_bytep* rows) {
    if (setjmp(png_jmpbuf(png))) return false;
    png_set_IHDR(png, info, static_cast<png_uint_32>(image.width), static_cast<png_uint_32>(image.height), 8,
                 image.channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    png_write_image(png, rows);
    png_write_end(png, nullptr);
    return true;
}

// The PNG file of `image` (checked by the caller), encoded by libpng into memory.
std::string encode_png(const std::string& path, const Image& image) {
    Encoder e;
    std::string out;
    e.out = &out;
    const auto fail = [&](const char* reason) {
        throw io_error("write_png: '" + path + "': cannot encode the image (libpng: " + reason +
                       "); free memory or raise the memory limit (ulimit -v)");
    };
    std::vector<png_bytep> rows;
    try {
        rows.resize(image.height);
        // Room for the file at once: the raw rows (a filter byte each) and deflate's worst case over them, plus
        // the chunks. Growing by doubling would hold up to twice that while copying.
        const std::size_t raw = image.height * (1 + image.width * image.channels);
        out.reserve(raw + raw / 1000 + 1024);
    } catch (const std::bad_alloc&) {
        fail("out of memory");
    } catch (const std::length_error&) {
        fail("out of memory");
    }
    const std::size_t stride = image.width * image.channels;
    for (std::size_t y = 0; y < image.height; ++y) {
        // libpng's API takes non-const rows but only reads them when writing.
        rows[y] = const_cast<png_bytep>(image.pixels.data() + y * stride);
    }
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &e, on_png_error, on_png_warning);
    if (!png) fail("out of memory");
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_write_struct(&png, nullptr);
        fail("out of memory");
    }
    png_set_write_fn(png, &e, on_png_write, on_png_flush);
    const bool ok = encode(png, info, image, rows.data());
    png_destroy_write_struct(&png, &info);
    if (!ok) fail(e.reason);
    return out;
}

// ---- reading ----

// Deflate's largest expansion: a 258-byte match per 2 bits at best, about 1032:1 (RFC 1951; zlib's technical
// details). The IDAT data is part of the file, so the file's size bounds what it can inflate to.
constexpr std::uint64_t max_inflate_ratio = 1032;

// The signature and the image header (IHDR, which must come first): the first 33 bytes of a PNG file.
constexpr std::size_t header_bytes = 33;

std::uint32_t big_endian(const std::string& data, std::size_t at) {
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<std::uint8_t>(data[at + i]);
    return v;
}

// The signature and that an image header follows it; `head` is at least the file's first header_bytes bytes, or
// all of a shorter file.
void check_start(const std::string& prefix, const std::string& head) {
    static const unsigned char signature[8] = {137, 80, 78, 71, 13, 10, 26, 10};
    if (head.size() < 8 || std::memcmp(head.data(), signature, 8) != 0) {
        throw io_error(prefix + "not a PNG file (it does not start with the PNG signature); pass a PNG file");
    }
    if (head.size() < header_bytes || big_endian(head, 8) != 13 || head.compare(12, 4, "IHDR") != 0) {
        throw io_error(prefix +
                       "truncated or corrupt PNG: no image header (IHDR chunk) after the signature; write the file "
                       "again from its source");
    }
}

// What the header claims, checked against a file of `size` bytes before anything is allocated for it or its
// pixels: the sides; the filtered rows against what the file's bytes can inflate to; and the 8-bit gray or RGB
// pixels read_png returns against the same bound, since a low bit depth or a palette makes them up to 24 times the
// rows. libpng checks the rest of the header (depth and colour type) and every chunk's CRC while decoding.
void check_claims(const std::string& prefix, const std::string& head, std::uint64_t size) {
    const std::uint64_t width = big_endian(head, 16), height = big_endian(head, 20);
    if (width < 1 || height < 1 || width > max_png_side || height > max_png_side) {
        throw io_error(prefix + "the header claims a " + std::to_string(width) + " x " + std::to_string(height) +
                       " image; width and height must each be in 1.." + std::to_string(max_png_side));
    }
    // Bits per pixel: samples of the colour type (gray 1, RGB 3, palette 1, gray+alpha 2, RGBA 4) x depth.
    const unsigned depth = static_cast<std::uint8_t>(head[24]), type = static_cast<std::uint8_t>(head[25]);
    const unsigned samples = type == 2 ? 3 : type == 4 ? 2 : type == 6 ? 4 : 1;
    const std::uint64_t row = (width * samples * std::min(depth, 16u) + 7) / 8;
    // One filter byte per row; interlacing only adds rows, so this is what the IDAT data must inflate to at least.
    // Sides <= 10^6 and at most 8 bytes a pixel: no overflow in 64 bits.
    const std::uint64_t inflated = height * (1 + row);
    const std::uint64_t most = size * max_inflate_ratio;
    const std::string claims =
        "the header claims a " + std::to_string(width) + " x " + std::to_string(height) + " image, ";
    if (inflated > most) {
        throw io_error(prefix + claims + std::to_string(inflated) + " bytes of rows, but a file of " +
                       std::to_string(size) + " bytes inflates to at most " + std::to_string(most) +
                       "; the file is corrupt or truncated");
    }
    // The colour bit of the type (RGB, palette, RGBA) makes the pixels RGB, as libpng's simplified API does.
    const std::uint64_t pixels = width * height * ((type & 2) ? 3 : 1);
    if (pixels > most) {
        throw io_error(prefix + claims + std::to_string(pixels) + " bytes of 8-bit " + ((type & 2) ? "RGB" : "gray") +
                       " pixels, more than " + std::to_string(max_inflate_ratio) + " per byte of the file (" +
                       std::to_string(most) +
                       "); the file is corrupt, or it packs its pixels tighter (a low bit depth or a palette): write "
                       "it again as 8-bit gray or RGB");
    }
}

// The end chunk (IEND, empty, with its fixed CRC) must close the file: libpng stops reading after the last row, so
// a file cut after its image data would pass; bytes after it (an appended file, a botched transfer) are refused.
// The chunks are walked by their lengths (libpng checks their CRCs) to the first end chunk.
void check_end(const std::string& prefix, const std::string& data) {
    static const unsigned char end[12] = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82};
    std::size_t at = 8;
    while (at + 12 <= data.size() && data.compare(at + 4, 4, "IEND") != 0) {
        const std::size_t length = big_endian(data, at);
        if (length > data.size() - at - 12) break;  // runs past the file's end
        at += 12 + length;
    }
    if (at + 12 != data.size() || std::memcmp(data.data() + at, end, 12) != 0) {
        throw io_error(prefix +
                       "truncated or corrupt PNG: the file does not end with the end chunk (IEND); write the file "
                       "again from its source");
    }
}

// The PNG file at `path` (a regular file), as bytes: its header is read and checked against the file's size
// before the rest gets memory, and checked again against what was read (the file may have changed in between).
std::string read_checked_file(const std::string& path, const std::string& prefix) {
    const int fd = open_regular_file(path, prefix);
    std::string data;
    const auto fail = [&](const std::string& what) {
        ::close(fd);
        throw io_error(prefix + what);
    };
    const auto fail_errno = [&](int e) {
        fail("cannot read the file: " + std::generic_category().message(e) + "; check the path");
    };
    const auto out_of_memory = [&](std::uint64_t bytes) {
        fail("out of memory for a file of " + std::to_string(bytes) +
             " bytes; free memory or raise the memory limit (ulimit -v)");
    };
    char buffer[1 << 16];
    // Reads until `data` holds `until` bytes or the file ends.
    const auto read_until = [&](std::size_t until) {
        while (data.size() < until) {
            const ssize_t n = ::read(fd, buffer, std::min(sizeof buffer, until - data.size()));
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) fail_errno(errno);
            if (n == 0) break;
            try {
                data.append(buffer, static_cast<std::size_t>(n));
            } catch (const std::exception&) {
                out_of_memory(data.size() + static_cast<std::size_t>(n));
            }
        }
    };
    struct stat st {};
    if (::fstat(fd, &st) != 0) fail_errno(errno);
    read_until(header_bytes);
    try {
        check_start(prefix, data);
        check_claims(prefix, data, static_cast<std::uint64_t>(st.st_size));
    } catch (const io_error&) {
        ::close(fd);
        throw;
    }
    try {
        data.reserve(static_cast<std::size_t>(st.st_size));
    } catch (const std::exception&) {
        out_of_memory(static_cast<std::uint64_t>(st.st_size));
    }
    read_until(SIZE_MAX);  // to the end, also past st_size if the file grew since
    ::close(fd);
    check_claims(prefix, data, data.size());
    check_end(prefix, data);
    return data;
}

}  // namespace

Image Image::filled(std::size_t width, std::size_t height, std::size_t channels, std::uint8_t value, const char* op) {
    check_sides(op, width, height);
    check_channels(op, channels);
    // At most 10^6 x 10^6 x 3 bytes, so the product cannot overflow; the allocation can still fail.
    const std::size_t bytes = width * height * channels;
    Image image{width, height, channels, {}};
    try {
        image.pixels.assign(bytes, value);
    } catch (const std::bad_alloc&) {
        throw value_error(std::string(op) + ": out of memory for a " + std::to_string(width) + " x " +
                          std::to_string(height) + " image with " + plural(channels, "channel") + " (" +
                          plural(bytes, "byte") + "); free memory or raise the memory limit (ulimit -v)");
    }
    return image;
}

void write_png(const std::string& path, const Image& image) {
    check_image("write_png: '" + path + "'", image);
    const std::string file = encode_png(path, image);
    try {
        write_file_atomically(path, file);
    } catch (const io_error& e) {
        throw io_error("write_png: " + std::string(e.what()));
    }
}

Image read_png(const std::string& path) {
    const std::string prefix = "read_png: '" + path + "': ";
    const std::string data = read_checked_file(path, prefix);
    png_image png{};
    png.version = PNG_IMAGE_VERSION;
    // libpng's state is freed on every way out, also a bad_alloc while a message is built (freeing twice is fine).
    struct Free {
        png_image& png;
        ~Free() { png_image_free(&png); }
    } free_png{png};
    const auto fail = [&](const std::string& what) { throw io_error(prefix + what); };
    const auto fail_libpng = [&] {
        fail("truncated or corrupt PNG (libpng: " + std::string(png.message[0] ? png.message : "unknown error") +
             "); write the file again from its source");
    };
    if (!png_image_begin_read_from_memory(&png, data.data(), data.size())) fail_libpng();
    const std::size_t channels = (png.format & PNG_FORMAT_FLAG_COLOR) ? 3 : 1;
    png.format = channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
    // Without a gAMA, sRGB or iCCP chunk, libpng takes 16-bit samples as linear light and gamma-encodes them; like
    // 8-bit ones they are sRGB in practice, so they are only rounded to 8 bits.
    png.flags |= PNG_IMAGE_FLAG_16BIT_sRGB;
    // At most max_inflate_ratio bytes per byte of the file (check_claims). Not filled: libpng writes every byte, and
    // pages it never reaches (a file whose data fails early) are never committed.
    const std::size_t bytes = std::size_t{png.width} * png.height * channels;
    const auto out_of_memory = [&] {
        fail("out of memory for a " + std::to_string(png.width) + " x " + std::to_string(png.height) + " image with " +
             plural(channels, "channel") + " (" + plural(bytes, "byte") +
             "); free memory or raise the memory limit (ulimit -v)");
    };
    std::unique_ptr<std::uint8_t[]> decoded(new (std::nothrow) std::uint8_t[bytes]);
    if (!decoded) out_of_memory();
    const png_color white{255, 255, 255};
    if (!png_image_finish_read(&png, &white, decoded.get(), static_cast<png_int_32>(png.width * channels), nullptr)) {
        fail_libpng();
    }
    Image image{png.width, png.height, channels, {}};
    try {
        image.pixels.assign(decoded.get(), decoded.get() + bytes);
    } catch (const std::bad_alloc&) {
        out_of_memory();
    }
    return image;
}

Image to_gray(const Tensor& t, GrayScale scale) {
    if (t.dim() != 2) {
        throw shape_error("to_gray: expected a 2-D tensor (height, width), got " + shape_str(t.shape()) +
                          "; pass one image and channel");
    }
    Image image = Image::filled(t.shape()[1], t.shape()[0], 1, 128, "to_gray");
    t.value().visit([&](const auto& a) {
        const auto* v = a.data();
        const std::size_t n = a.size();
        double lo = 0, hi = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const double x = static_cast<double>(v[i]);
            if (!std::isfinite(x)) {
                throw value_error("to_gray: element " + std::to_string(i) + " of the " + shape_str(t.shape()) +
                                  " tensor is " + number_str(x) + "; gray levels need finite values");
            }
            lo = i == 0 ? x : std::min(lo, x);
            hi = i == 0 ? x : std::max(hi, x);
        }
        if (scale == GrayScale::symmetric) {
            hi = std::max(std::abs(lo), std::abs(hi));
            lo = -hi;
        }
        if (!(hi > lo)) return;  // constant: mid gray
        for (std::size_t i = 0; i < n; ++i) {
            const double level = std::round((static_cast<double>(v[i]) - lo) / (hi - lo) * 255.0);
            image.pixels[i] = static_cast<std::uint8_t>(std::clamp(level, 0.0, 255.0));
        }
    });
    return image;
}

Image upscale(const Image& image, std::size_t factor) {
    if (factor < 1 || factor > max_png_side) {
        throw value_error("upscale: the factor must be in 1.." + std::to_string(max_png_side) + ", got " +
                          std::to_string(factor));
    }
    check_image("upscale", image);
    Image big = Image::filled(image.width * factor, image.height * factor, image.channels, 0, "upscale");
    const std::size_t c = image.channels;
    for (std::size_t y = 0; y < big.height; ++y) {
        for (std::size_t x = 0; x < big.width; ++x) {
            const std::uint8_t* from = image.pixels.data() + ((y / factor) * image.width + x / factor) * c;
            std::copy(from, from + c, big.pixels.data() + (y * big.width + x) * c);
        }
    }
    return big;
}

Image tile(const std::vector<Image>& images, std::size_t columns, std::size_t gap, std::uint8_t background) {
    if (images.empty()) throw value_error("tile: no images to tile; pass at least one");
    if (columns < 1) throw value_error("tile: columns must be at least 1 (got 0)");
    columns = std::min(columns, images.size());
    const std::size_t rows = (images.size() + columns - 1) / columns;
    std::vector<std::size_t> col_w(columns, 0), row_h(rows, 0);
    for (std::size_t i = 0; i < images.size(); ++i) {
        check_image("tile: image " + std::to_string(i), images[i]);
        if (images[i].channels != images[0].channels) {
            throw value_error("tile: image " + std::to_string(i) + " has " + plural(images[i].channels, "channel") +
                              " but image 0 has " + plural(images[0].channels, "channel") +
                              "; tile images of one kind (gray or RGB)");
        }
        col_w[i % columns] = std::max(col_w[i % columns], images[i].width);
        row_h[i / columns] = std::max(row_h[i / columns], images[i].height);
    }
    // The cells' sides and the gaps, summed without wrapping around (saturating), for filled to check.
    const auto side = [gap](const std::vector<std::size_t>& cells) {
        std::size_t total = gap;
        for (std::size_t cell : cells) {
            if (__builtin_add_overflow(total, cell, &total) || __builtin_add_overflow(total, gap, &total)) {
                return SIZE_MAX;
            }
        }
        return total;
    };
    const std::size_t c = images[0].channels;
    Image grid = Image::filled(side(col_w), side(row_h), c, background, "tile");
    std::vector<std::size_t> col_x(columns, gap), row_y(rows, gap);
    for (std::size_t k = 1; k < columns; ++k) col_x[k] = col_x[k - 1] + col_w[k - 1] + gap;
    for (std::size_t k = 1; k < rows; ++k) row_y[k] = row_y[k - 1] + row_h[k - 1] + gap;
    for (std::size_t i = 0; i < images.size(); ++i) {
        const Image& im = images[i];
        const std::size_t x0 = col_x[i % columns] + (col_w[i % columns] - im.width) / 2;
        const std::size_t y0 = row_y[i / columns] + (row_h[i / columns] - im.height) / 2;
        for (std::size_t y = 0; y < im.height; ++y) {
            const std::uint8_t* from = im.pixels.data() + y * im.width * c;
            std::copy(from, from + im.width * c, grid.pixels.data() + ((y0 + y) * grid.width + x0) * c);
        }
    }
    return grid;
}

}  // namespace adg::nn
