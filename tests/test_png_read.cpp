// nn::read_png: files written by write_png read back with the same pixels; transparent files written by libpng's
// own writer composited on white; hostile files (cut short, a corrupt chunk, a header claiming far more pixels than
// the file can hold, not a PNG, no file) refused with a message naming the file and what is wrong.

#include <doctest/doctest.h>
#include <png.h>
#include <zlib.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include <adgraph/adgraph.hpp>
#include <adgraph/nn/png.hpp>

#include "temp_dir.hpp"

using namespace adg;
using adg::nn::Image;
using adg::testing::read_file;
using adg::testing::TempDir;

namespace {

// Pixels no encoder could guess: a multiplicative hash of the index.
Image pattern(std::size_t width, std::size_t height, std::size_t channels) {
    Image im{width, height, channels, std::vector<std::uint8_t>(width * height * channels)};
    for (std::size_t i = 0; i < im.pixels.size(); ++i)
        im.pixels[i] = static_cast<std::uint8_t>((i * 2654435761u) >> 13);
    return im;
}

void write_bytes(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

void put_u32(std::string& s, std::uint32_t v) {
    for (int b = 3; b >= 0; --b) s.push_back(static_cast<char>((v >> (8 * b)) & 0xff));
}

// A PNG chunk: length, type, data and the CRC over type and data.
std::string chunk(const std::string& type, const std::string& data) {
    std::string c;
    put_u32(c, static_cast<std::uint32_t>(data.size()));
    c += type + data;
    const std::string crc_over = type + data;
    put_u32(c, static_cast<std::uint32_t>(
                   crc32(0, reinterpret_cast<const Bytef*>(crc_over.data()), static_cast<uInt>(crc_over.size()))));
    return c;
}

// The error read_png raises for `path`, or "" if it reads.
std::string read_error(const std::string& path) {
    try {
        nn::read_png(path);
    } catch (const io_error& e) {
        return e.what();
    }
    return "";
}

// Where chunk `type` starts (its length field) in a PNG file.
std::size_t chunk_at(const std::string& file, const std::string& type) {
    const std::size_t at = file.find(type);
    REQUIRE(at != std::string::npos);
    return at - 4;
}

}  // namespace

TEST_CASE("read_png: gray and RGB images written by write_png read back unchanged") {
    TempDir dir;
    for (std::size_t channels : {1u, 3u}) {
        CAPTURE(channels);
        const Image im = pattern(37, 23, channels);
        nn::write_png(dir.file("a.png"), im);
        const Image back = nn::read_png(dir.file("a.png"));
        CHECK(back.width == 37);
        CHECK(back.height == 23);
        CHECK(back.channels == channels);
        CHECK(back.pixels == im.pixels);
    }
}

TEST_CASE("read_png: transparency is composited on white, gray with alpha stays gray") {
    TempDir dir;
    // RGBA: opaque red, fully transparent blue, half-transparent black.
    png_image img{};
    img.version = PNG_IMAGE_VERSION;
    img.width = 3;
    img.height = 1;
    img.format = PNG_FORMAT_RGBA;
    const std::uint8_t rgba[] = {255, 0, 0, 255, 0, 0, 255, 0, 0, 0, 0, 128};
    REQUIRE(png_image_write_to_file(&img, dir.file("rgba.png").c_str(), 0, rgba, 0, nullptr));
    const Image rgb = nn::read_png(dir.file("rgba.png"));
    REQUIRE(rgb.channels == 3);
    CHECK(std::vector<int>(rgb.pixels.begin(), rgb.pixels.begin() + 6) == std::vector<int>{255, 0, 0, 255, 255, 255});
    // Half of white over black: between the two (libpng blends in linear light, so not 128).
    CHECK(rgb.pixels[6] > 100);
    CHECK(rgb.pixels[6] < 255);

    png_image ga{};
    ga.version = PNG_IMAGE_VERSION;
    ga.width = 2;
    ga.height = 1;
    ga.format = PNG_FORMAT_GA;
    const std::uint8_t gray_alpha[] = {40, 255, 40, 0};
    REQUIRE(png_image_write_to_file(&ga, dir.file("ga.png").c_str(), 0, gray_alpha, 0, nullptr));
    const Image gray = nn::read_png(dir.file("ga.png"));
    CHECK(gray.channels == 1);
    CHECK(std::vector<int>(gray.pixels.begin(), gray.pixels.end()) == std::vector<int>{40, 255});
}

TEST_CASE("read_png: palette and 16-bit files become 8-bit RGB and gray") {
    TempDir dir;
    png_image pal{};
    pal.version = PNG_IMAGE_VERSION;
    pal.width = 3;
    pal.height = 1;
    pal.format = PNG_FORMAT_RGB_COLORMAP;
    pal.colormap_entries = 2;
    const std::uint8_t colormap[] = {10, 200, 30, 250, 5, 90};
    const std::uint8_t indices[] = {1, 0, 1};
    REQUIRE(png_image_write_to_file(&pal, dir.file("pal.png").c_str(), 0, indices, 0, colormap));
    const Image rgb = nn::read_png(dir.file("pal.png"));
    CHECK(rgb.channels == 3);
    CHECK(std::vector<int>(rgb.pixels.begin(), rgb.pixels.end()) ==
          std::vector<int>{250, 5, 90, 10, 200, 30, 250, 5, 90});

    png_image deep{};
    deep.version = PNG_IMAGE_VERSION;
    deep.width = 2;
    deep.height = 1;
    deep.format = PNG_FORMAT_LINEAR_Y;  // 16-bit gray
    const std::uint16_t levels[] = {0, 65535};
    REQUIRE(png_image_write_to_file(&deep, dir.file("deep.png").c_str(), 0, levels, 0, nullptr));
    const Image gray = nn::read_png(dir.file("deep.png"));
    CHECK(gray.channels == 1);
    CHECK(std::vector<int>(gray.pixels.begin(), gray.pixels.end()) == std::vector<int>{0, 255});
}

TEST_CASE("read_png: a file cut short is an error, not a partial image") {
    TempDir dir;
    nn::write_png(dir.file("a.png"), pattern(40, 40, 3));
    const std::string whole = read_file(dir.file("a.png"));
    const auto error_of = [&](const std::string& name, const std::string& bytes) {
        write_bytes(dir.file(name), bytes);
        std::string e = read_error(dir.file(name));
        const std::string prefix = "read_png: '" + dir.file(name) + "': ";
        REQUIRE(e.rfind(prefix, 0) == 0);
        return e.substr(prefix.size());
    };
    // Inside the image data, with an end chunk put back: libpng runs out of data.
    CHECK(error_of("cut.png", whole.substr(0, chunk_at(whole, "IDAT") + 200) + chunk("IEND", "")) ==
          "truncated or corrupt PNG (libpng: read beyond end of data)");
    // Inside the image data; just before the end chunk, all pixels there (libpng alone would take it).
    CHECK(error_of("cut2.png", whole.substr(0, chunk_at(whole, "IDAT") + 200)) ==
          "truncated or corrupt PNG: the file does not end with the end chunk (IEND)");
    CHECK(error_of("no-end.png", whole.substr(0, chunk_at(whole, "IEND"))) ==
          "truncated or corrupt PNG: the file does not end with the end chunk (IEND)");
    CHECK(error_of("sig.png", whole.substr(0, 20)) ==
          "truncated or corrupt PNG: no image header (IHDR chunk) after the signature");
}

TEST_CASE("read_png: a corrupt image chunk is refused") {
    TempDir dir;
    nn::write_png(dir.file("a.png"), pattern(40, 40, 1));
    const std::string whole = read_file(dir.file("a.png"));
    const std::size_t idat = chunk_at(whole, "IDAT");
    const std::size_t length =
        static_cast<std::uint8_t>(whole[idat + 2]) * 256u + static_cast<std::uint8_t>(whole[idat + 3]);
    // The CRC of the image data changed: the data is intact but the file says otherwise.
    std::string bytes = whole;
    bytes[idat + 8 + length] ^= 0x01;
    write_bytes(dir.file("crc.png"), bytes);
    CHECK(read_error(dir.file("crc.png")) ==
          "read_png: '" + dir.file("crc.png") + "': truncated or corrupt PNG (libpng: IDAT: CRC error)");
    // A byte of the compressed data changed: inflating it fails before the CRC is reached.
    bytes = whole;
    bytes[idat + 8 + 30] ^= 0x5a;
    write_bytes(dir.file("data.png"), bytes);
    CHECK(read_error(dir.file("data.png"))
              .rfind("read_png: '" + dir.file("data.png") + "': truncated or corrupt PNG (libpng: IDAT: ", 0) == 0);
}

TEST_CASE("read_png: a header claiming more pixels than the file can inflate to is refused before decoding") {
    TempDir dir;
    std::string ihdr;
    put_u32(ihdr, 100000);
    put_u32(ihdr, 100000);
    ihdr += std::string{8, 2, 0, 0, 0};  // 8-bit RGB, deflate, adaptive filters, not interlaced
    const std::string file = std::string("\x89PNG\r\n\x1a\n", 8) + chunk("IHDR", ihdr) +
                             chunk("IDAT", std::string(8, '\0')) + chunk("IEND", "");
    write_bytes(dir.file("bomb.png"), file);
    CHECK(file.size() == 65);
    // 100000 rows of a filter byte and 300000 bytes: 30000100000 bytes; 65 bytes inflate to at most 67080.
    CHECK(read_error(dir.file("bomb.png")) ==
          "read_png: '" + dir.file("bomb.png") +
              "': the header claims a 100000 x 100000 image, 30000100000 bytes of rows, but a file of 65 bytes "
              "inflates to at most 67080; the file is corrupt or truncated");

    // Sides outside 1..max_png_side.
    std::string zero;
    put_u32(zero, 0);
    put_u32(zero, 5);
    zero += std::string{8, 0, 0, 0, 0};
    write_bytes(dir.file("zero.png"), std::string("\x89PNG\r\n\x1a\n", 8) + chunk("IHDR", zero) + chunk("IEND", ""));
    CHECK(read_error(dir.file("zero.png")) == "read_png: '" + dir.file("zero.png") +
                                                  "': the header claims a 0 x 5 image; width and height must each be "
                                                  "in 1..1000000");
}

TEST_CASE("read_png: not a PNG, no file, a directory") {
    TempDir dir;
    write_bytes(dir.file("text.png"), "hello, this is not an image\n");
    CHECK(read_error(dir.file("text.png")) ==
          "read_png: '" + dir.file("text.png") + "': not a PNG file (it does not start with the PNG signature)");
    CHECK(read_error(dir.file("missing.png")) ==
          "read_png: '" + dir.file("missing.png") +
              "': cannot open the file: No such file or directory; check the path");
    CHECK(read_error(dir.path.string()).rfind("read_png: '" + dir.path.string() + "': is a directory", 0) == 0);
}
