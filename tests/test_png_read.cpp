// nn::read_png: files written by write_png read back with the same pixels; transparent files written by libpng's
// own writer composited on white; 16-bit, low-depth and interlaced files from libpng's low-level writer; hostile
// files (cut short, bytes after the end, a corrupt chunk, a header claiming far more rows or pixels than the file can
// hold, not a PNG, no file) refused with a message naming the file, what is wrong and what to do; and, in child
// processes under a lowered ulimit -v, no memory for a file or its pixels is an io_error saying so.

#include <doctest/doctest.h>
#include <png.h>
#include <zlib.h>

#include <sys/resource.h>
#include <unistd.h>

#include <csetjmp>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <adgraph/adgraph.hpp>
#include <adgraph/nn/png.hpp>

#include "child_case.hpp"
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

// A file through libpng's low-level writer, which (unlike its simplified one) writes any depth, colour type and
// interlacing, and no gAMA chunk: `rows` are packed as PNG stores them (16-bit samples big-endian).
bool write_low_level(const std::string& path, std::uint32_t width, std::uint32_t height, int depth, int type,
                     bool interlaced, png_bytep* rows) {
    FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) return false;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
    png_infop info = png ? png_create_info_struct(png) : nullptr;
    bool ok = false;
    // No object with a destructor lives in this frame across libpng's longjmp.
    if (info && !setjmp(png_jmpbuf(png))) {
        png_init_io(png, f);
        png_set_IHDR(png, info, width, height, depth, type, interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
        png_write_info(png, info);
        png_write_image(png, rows);  // all passes when interlaced
        png_write_end(png, nullptr);
        ok = true;
    }
    png_destroy_write_struct(&png, &info);
    return std::fclose(f) == 0 && ok;
}

// Row pointers into `bytes`, `stride` bytes a row.
std::vector<png_bytep> rows_of(std::vector<std::uint8_t>& bytes, std::size_t stride) {
    std::vector<png_bytep> rows;
    for (std::size_t at = 0; at < bytes.size(); at += stride) rows.push_back(bytes.data() + at);
    return rows;
}

// A signature and an image header claiming `width` x `height` of `depth` bits and colour `type`.
std::string start_claiming(std::uint32_t width, std::uint32_t height, char depth, char type) {
    std::string ihdr;
    put_u32(ihdr, width);
    put_u32(ihdr, height);
    ihdr += std::string{depth, type, 0, 0, 0};
    return std::string("\x89PNG\r\n\x1a\n", 8) + chunk("IHDR", ihdr);
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

// Writes `pixels` (width x height in libpng's simplified `format`) to `path` with libpng's simplified writer.
bool write_simplified(const std::string& path, png_uint_32 width, png_uint_32 height, png_uint_32 format,
                      const void* pixels, const void* colormap = nullptr, png_uint_32 colormap_entries = 0) {
    png_image image{};
    image.version = PNG_IMAGE_VERSION;
    image.width = width;
    image.height = height;
    image.format = format;
    image.colormap_entries = colormap_entries;
    return png_image_write_to_file(&image, path.c_str(), 0, pixels, 0, colormap) != 0;
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
    const std::uint8_t rgba[] = {255, 0, 0, 255, 0, 0, 255, 0, 0, 0, 0, 128};
    REQUIRE(write_simplified(dir.file("rgba.png"), 3, 1, PNG_FORMAT_RGBA, rgba));
    const Image rgb = nn::read_png(dir.file("rgba.png"));
    REQUIRE(rgb.channels == 3);
    CHECK(std::vector<int>(rgb.pixels.begin(), rgb.pixels.begin() + 6) == std::vector<int>{255, 0, 0, 255, 255, 255});
    // Half of white over black: between the two (libpng blends in linear light, so not 128).
    CHECK(rgb.pixels[6] > 100);
    CHECK(rgb.pixels[6] < 255);

    const std::uint8_t gray_alpha[] = {40, 255, 40, 0};
    REQUIRE(write_simplified(dir.file("ga.png"), 2, 1, PNG_FORMAT_GA, gray_alpha));
    const Image gray = nn::read_png(dir.file("ga.png"));
    CHECK(gray.channels == 1);
    CHECK(std::vector<int>(gray.pixels.begin(), gray.pixels.end()) == std::vector<int>{40, 255});
}

TEST_CASE("read_png: palette and 16-bit files become 8-bit RGB and gray") {
    TempDir dir;
    const std::uint8_t colormap[] = {10, 200, 30, 250, 5, 90};
    const std::uint8_t indices[] = {1, 0, 1};
    REQUIRE(write_simplified(dir.file("pal.png"), 3, 1, PNG_FORMAT_RGB_COLORMAP, indices, colormap, 2));
    const Image rgb = nn::read_png(dir.file("pal.png"));
    CHECK(rgb.channels == 3);
    CHECK(std::vector<int>(rgb.pixels.begin(), rgb.pixels.end()) ==
          std::vector<int>{250, 5, 90, 10, 200, 30, 250, 5, 90});

    const std::uint16_t levels[] = {0, 65535};
    REQUIRE(write_simplified(dir.file("deep.png"), 2, 1, PNG_FORMAT_LINEAR_Y, levels));  // 16-bit gray
    const Image gray = nn::read_png(dir.file("deep.png"));
    CHECK(gray.channels == 1);
    CHECK(std::vector<int>(gray.pixels.begin(), gray.pixels.end()) == std::vector<int>{0, 255});
}

TEST_CASE("read_png: 16-bit samples without a gamma chunk are rounded to 8 bits, not gamma-encoded") {
    TempDir dir;
    // Big-endian 16-bit gray. Taken as linear light, 0x8000 and 0x4000 would come out 186 and 136.
    std::vector<std::uint8_t> bytes{0x80, 0x00, 0x40, 0x00, 0x00, 0x80, 0x00, 0x81, 0xff, 0x7f, 0xff, 0xff};
    std::vector<png_bytep> rows = rows_of(bytes, bytes.size());
    REQUIRE(write_low_level(dir.file("deep.png"), 6, 1, 16, PNG_COLOR_TYPE_GRAY, false, rows.data()));
    const Image gray = nn::read_png(dir.file("deep.png"));
    REQUIRE(gray.channels == 1);
    // v x 255 / 65535 to the nearest: 127.5 -> 128, 63.75 -> 64, 0.498 -> 0, 0.502 -> 1, 254.50... -> 255.
    CHECK(std::vector<int>(gray.pixels.begin(), gray.pixels.end()) == std::vector<int>{128, 64, 0, 1, 255, 255});
}

TEST_CASE("read_png: interlaced and low-depth files read back as 8-bit gray and RGB") {
    TempDir dir;
    // Adam7 RGB: seven passes over a size not a multiple of 8.
    const Image im = pattern(37, 23, 3);
    std::vector<std::uint8_t> rgb = im.pixels;
    std::vector<png_bytep> rows = rows_of(rgb, 37 * 3);
    REQUIRE(write_low_level(dir.file("adam7.png"), 37, 23, 8, PNG_COLOR_TYPE_RGB, true, rows.data()));
    const std::string file = read_file(dir.file("adam7.png"));
    REQUIRE(file[8 + 8 + 12] == 1);  // the header's interlace method: Adam7
    const Image back = nn::read_png(dir.file("adam7.png"));
    CHECK(back.width == 37);
    CHECK(back.height == 23);
    CHECK(back.channels == 3);
    CHECK(back.pixels == im.pixels);

    // 1-bit gray, interlaced too: each bit becomes 0 or 255. 11 x 3: a pixel pattern per row.
    std::vector<std::uint8_t> bits{0b10110000, 0b01000000, 0b11111111, 0b11100000, 0b00000001, 0b00100000};
    std::vector<png_bytep> bit_rows = rows_of(bits, 2);
    REQUIRE(write_low_level(dir.file("bits.png"), 11, 3, 1, PNG_COLOR_TYPE_GRAY, true, bit_rows.data()));
    const Image gray = nn::read_png(dir.file("bits.png"));
    REQUIRE(gray.channels == 1);
    std::vector<int> expect;
    for (std::size_t y = 0; y < 3; ++y) {
        for (std::size_t x = 0; x < 11; ++x) expect.push_back((bits[y * 2 + x / 8] >> (7 - x % 8)) & 1 ? 255 : 0);
    }
    CHECK(std::vector<int>(gray.pixels.begin(), gray.pixels.end()) == expect);
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
    // Inside the image data, with an end chunk put back: the chunks' lengths do not lead to it.
    const std::string no_end =
        "truncated or corrupt PNG: the file does not end with the end chunk (IEND); write the file again from its "
        "source";
    const std::size_t idat = chunk_at(whole, "IDAT");
    CHECK(error_of("cut.png", whole.substr(0, idat + 200) + chunk("IEND", "")) == no_end);
    // The image data cut short but wrapped in an intact chunk: libpng runs out of data.
    const std::string cut = whole.substr(0, idat) + chunk("IDAT", whole.substr(idat + 8, 200)) + chunk("IEND", "");
    const std::string short_data = error_of("short.png", cut);
    CHECK(short_data.rfind("truncated or corrupt PNG (libpng: ", 0) == 0);
    CHECK(short_data.find("); write the file again from its source") == short_data.size() - 39);
    // Inside the image data; just before the end chunk, all pixels there (libpng alone would take it).
    CHECK(error_of("cut2.png", whole.substr(0, chunk_at(whole, "IDAT") + 200)) == no_end);
    CHECK(error_of("no-end.png", whole.substr(0, chunk_at(whole, "IEND"))) == no_end);
    CHECK(error_of("sig.png", whole.substr(0, 20)) ==
          "truncated or corrupt PNG: no image header (IHDR chunk) after the signature; write the file again from its "
          "source");
    // Bytes after the end chunk are refused too: whatever was appended is not what the writer wrote.
    CHECK(error_of("after.png", whole + "x") == no_end);
    CHECK(error_of("twice.png", whole + whole) == no_end);  // ends with an end chunk, but not its first
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
          "read_png: '" + dir.file("crc.png") +
              "': truncated or corrupt PNG (libpng: IDAT: CRC error); write the file again from its source");
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

    // Rows that fit the file, but pixels 24 times them: 1 bit a pixel, a palette making each one 3 bytes. The file
    // is never read past its header (its image data is not even deflate).
    const std::string bits = start_claiming(20000, 20000, 1, 3) + chunk("PLTE", std::string(6, '\0')) +
                             chunk("IDAT", std::string(50000, '\0')) + chunk("IEND", "");
    write_bytes(dir.file("bits.png"), bits);
    CHECK(bits.size() == 50075);
    // 20000 rows of 1 + 2500 bytes: 50020000 <= 51677400; as RGB 1.2 x 10^9 bytes.
    CHECK(read_error(dir.file("bits.png")) ==
          "read_png: '" + dir.file("bits.png") +
              "': the header claims a 20000 x 20000 image, 1200000000 bytes of 8-bit RGB pixels, more than 1032 per "
              "byte of the file (51677400); the file is corrupt, or it packs its pixels tighter (a low bit depth or "
              "a palette): write it again as 8-bit gray or RGB");
    // The same data as 8-bit gray, pixels just within the bound (20000 x 2580 = 51600000): decoded, so libpng's
    // reason.
    const std::string gray =
        start_claiming(20000, 2580, 8, 0) + chunk("IDAT", std::string(50000, '\0')) + chunk("IEND", "");
    write_bytes(dir.file("gray.png"), gray);
    CHECK(read_error(dir.file("gray.png")) ==
          "read_png: '" + dir.file("gray.png") +
              "': truncated or corrupt PNG (libpng: IDAT: unknown compression method); write the file again from "
              "its source");

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
          "read_png: '" + dir.file("text.png") +
              "': not a PNG file (it does not start with the PNG signature); pass a PNG file");
    CHECK(read_error(dir.file("missing.png")) ==
          "read_png: '" + dir.file("missing.png") +
              "': cannot open the file: No such file or directory; check the path");
    CHECK(read_error(dir.path.string()).rfind("read_png: '" + dir.path.string() + "': is a directory", 0) == 0);
}

// ---- memory, in child processes (a fresh heap, and a lowered ulimit -v that must not outlive the case) ----

namespace {

// A file claiming `width` x `height` 8-bit gray whose image data is `idat` zero bytes (not deflate).
std::string gray_claiming(std::uint32_t width, std::uint32_t height, std::size_t idat) {
    return start_claiming(width, height, 8, 0) + chunk("IDAT", std::string(idat, '\0')) + chunk("IEND", "");
}

// A file of `size` bytes, sparse after `start`: no disk, and nothing read unless read_png reads it whole.
void write_sparse(const std::string& path, const std::string& start, off_t size) {
    write_bytes(path, start);
    REQUIRE(::truncate(path.c_str(), size) == 0);
}

// Lowers the soft address-space limit (ulimit -v) to this process's size plus `headroom` while it lives, then
// puts it back: OpenBLAS's threads could otherwise spin at exit, failing to allocate.
struct LowerAddressSpace {
    rlimit old{};
    bool ok = false;
    explicit LowerAddressSpace(std::size_t headroom) {
        std::ifstream statm("/proc/self/statm");
        std::size_t pages = 0;
        if (!(statm >> pages) || ::getrlimit(RLIMIT_AS, &old) != 0) return;
        rlimit lim = old;
        lim.rlim_cur = pages * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)) + headroom;
        ok = lim.rlim_cur < old.rlim_cur && ::setrlimit(RLIMIT_AS, &lim) == 0;
    }
    ~LowerAddressSpace() {
        if (ok) ::setrlimit(RLIMIT_AS, &old);
    }
};

const char* const oom_case = "[child] read_png says it ran out of memory for a file or pixels beyond ulimit -v";
const char* const rss_case = "[child] read_png commits no memory to pixels whose image data fails";

}  // namespace

TEST_CASE("[child] read_png says it ran out of memory for a file or pixels beyond ulimit -v") {
    if (!adg::testing::in_child_case(oom_case)) return;
    TempDir dir;
    const std::string prefix = "read_png: '" + dir.file("a.png") + "': ";
    // 16000000 bytes of gray pixels claimed by a file that can hold them (16004000 bytes of rows).
    write_bytes(dir.file("a.png"), gray_claiming(4000, 4000, 16000));
    // 1 GiB, sparse: read whole, as before the header was checked first, it would not fit either.
    write_sparse(dir.file("big.png"), gray_claiming(4000, 4000, 16000), off_t{1} << 30);
    write_sparse(dir.file("big.txt"), "not an image", off_t{1} << 30);
    std::string pixels, file, not_png;
    {
        const LowerAddressSpace limit(std::size_t{8} << 20);
        REQUIRE(limit.ok);
        pixels = read_error(dir.file("a.png"));
        file = read_error(dir.file("big.png"));
        not_png = read_error(dir.file("big.txt"));
    }
    CHECK(pixels == prefix +
                        "out of memory for a 4000 x 4000 image with 1 channel (16000000 bytes); free memory or raise "
                        "the memory limit (ulimit -v)");
    CHECK(file == "read_png: '" + dir.file("big.png") +
                      "': out of memory for a file of 1073741824 bytes; free memory or raise the memory limit "
                      "(ulimit -v)");
    // Refused from its first bytes, so the rest is never read or given memory.
    CHECK(not_png == "read_png: '" + dir.file("big.txt") +
                         "': not a PNG file (it does not start with the PNG signature); pass a PNG file");
}

TEST_CASE("[child] read_png commits no memory to pixels whose image data fails") {
    if (!adg::testing::in_child_case(rss_case)) return;
    TempDir dir;
    // 64000000 bytes of gray pixels, within the bound of the 62157-byte file (64146024).
    write_bytes(dir.file("a.png"), gray_claiming(8000, 8000, 62100));
    rusage before{}, after{};
    ::getrusage(RUSAGE_SELF, &before);
    CHECK(read_error(dir.file("a.png")) ==
          "read_png: '" + dir.file("a.png") +
              "': truncated or corrupt PNG (libpng: IDAT: unknown compression method); write the file again from "
              "its source");
    ::getrusage(RUSAGE_SELF, &after);
    // Filling the pixels before decoding would raise the peak by 61 MiB; the file and libpng's rows are < 1 MiB.
    const long grew_kib = after.ru_maxrss - before.ru_maxrss;
    INFO("peak resident memory grew by ", grew_kib, " KiB");
    CHECK(grew_kib < 16 * 1024);
}

TEST_CASE("read_png: out of memory is an io_error saying so, and failing pixels are never committed") {
#if defined(__SANITIZE_ADDRESS__)
    return;  // ASan maps memory for every allocation its own way, so neither a limit nor the peak fits it
#endif
    for (const char* name : {oom_case, rss_case}) {
        CAPTURE(name);
        const auto r = adg::testing::run_child_case(name);
        INFO(r.output);
        CHECK(r.exited_ok());
        CHECK(r.output.find("1 passed") != std::string::npos);
    }
}
