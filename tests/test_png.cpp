// nn/png: images written by write_png read back through libpng's own reader (its simplified API, not the writer's
// code path) with the same pixels; refused images and paths leave nothing behind; to_gray, upscale and tile
// against hand-computed levels and layouts.

#include <doctest/doctest.h>
#include <png.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <adgraph/adgraph.hpp>
#include <adgraph/nn/png.hpp>

#include "child_case.hpp"
#include "temp_dir.hpp"

using namespace adg;
using adg::nn::GrayScale;
using adg::nn::Image;
using adg::testing::read_file;
using adg::testing::TempDir;
namespace fs = std::filesystem;

namespace {

// A PNG file as libpng reads it: size, whether it is RGB (else gray), and the pixels as stored (8-bit, no alpha).
struct Decoded {
    std::string error;  // empty when the file decoded
    std::size_t width = 0, height = 0;
    bool rgb = false, eight_bit_opaque = false;
    std::vector<std::uint8_t> pixels;
};

Decoded read_png(const std::string& path) {
    png_image img{};
    img.version = PNG_IMAGE_VERSION;
    Decoded d;
    if (!png_image_begin_read_from_file(&img, path.c_str())) {
        d.error = img.message;
        return d;
    }
    d.width = img.width;
    d.height = img.height;
    d.rgb = (img.format & PNG_FORMAT_FLAG_COLOR) != 0;
    d.eight_bit_opaque =
        (img.format & (PNG_FORMAT_FLAG_LINEAR | PNG_FORMAT_FLAG_ALPHA | PNG_FORMAT_FLAG_COLORMAP)) == 0;
    img.format = d.rgb ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
    d.pixels.resize(PNG_IMAGE_SIZE(img));
    if (!png_image_finish_read(&img, nullptr, d.pixels.data(), 0, nullptr)) d.error = img.message;
    png_image_free(&img);
    return d;
}

// Pixels no encoder could guess: a multiplicative hash of the index.
Image pattern(std::size_t width, std::size_t height, std::size_t channels) {
    Image im{width, height, channels, std::vector<std::uint8_t>(width * height * channels)};
    for (std::size_t i = 0; i < im.pixels.size(); ++i)
        im.pixels[i] = static_cast<std::uint8_t>((i * 2654435761u) >> 13);
    return im;
}

// The levels of an image, row by row.
std::vector<int> levels(const Image& im) { return {im.pixels.begin(), im.pixels.end()}; }

}  // namespace

TEST_CASE("png: gray and RGB images read back through libpng with the same size, format and pixels") {
    TempDir dir("adgraph-png");
    for (std::size_t channels : {1, 3}) {
        for (auto [w, h] : {std::pair<std::size_t, std::size_t>{1, 1}, {7, 5}, {1, 300}, {300, 2}, {64, 64}}) {
            INFO(w, " x ", h, " with ", channels, " channels");
            const Image im = pattern(w, h, channels);
            const std::string path = dir.file("image.png");
            nn::write_png(path, im);
            const Decoded d = read_png(path);
            REQUIRE(d.error == "");
            CHECK(d.width == w);
            CHECK(d.height == h);
            CHECK(d.rgb == (channels == 3));
            CHECK(d.eight_bit_opaque);
            CHECK(d.pixels == im.pixels);
        }
    }
    CHECK(dir.list() == std::vector<std::string>{"image.png"});
}

TEST_CASE("png: refused images write nothing and keep the old file") {
    TempDir dir("adgraph-png");
    const std::string path = dir.file("keep.png");
    nn::write_png(path, pattern(3, 2, 1));
    const std::string before = read_file(path);
    const auto refused = [&](const Image& im, const std::string& message) {
        CHECK_THROWS_WITH_AS(nn::write_png(path, im), message.c_str(), value_error);
        CHECK(read_file(path) == before);
        CHECK(dir.list() == std::vector<std::string>{"keep.png"});
    };
    const std::string op = "write_png: '" + path + "': ";
    refused(Image{0, 2, 1, {}}, op + "width and height must each be in 1..1000000, got 0 x 2");
    refused(Image{1000001, 1, 1, std::vector<std::uint8_t>(1000001)},
            op + "width and height must each be in 1..1000000, got 1000001 x 1");
    refused(Image{2, 2, 4, std::vector<std::uint8_t>(16)}, op + "channels must be 1 (gray) or 3 (RGB), got 4");
    refused(Image{4, 3, 1, std::vector<std::uint8_t>(11)},
            op + "a 4 x 3 image with 1 channel needs 12 bytes but its pixels hold 11");
    refused(Image{4, 3, 3, std::vector<std::uint8_t>(12)},
            op + "a 4 x 3 image with 3 channels needs 36 bytes but its pixels hold 12");
}

TEST_CASE("png: a directory, a device or a FIFO as the target is refused and nothing is left half-written") {
    TempDir dir("adgraph-png");
    const Image im = pattern(5, 5, 3);
    SUBCASE("a directory") {
        const std::string sub = dir.file("sub");
        fs::create_directory(sub);
        const std::string start = "write_png: '" + sub + "': cannot rename the temporary file '" + sub + ".tmp.";
        CHECK_THROWS_WITH_AS(nn::write_png(sub, im), doctest::Contains(start.c_str()), io_error);
        // The message goes on with the pid, the system's reason and the remedy; no temporary file stays.
        CHECK(dir.list() == std::vector<std::string>{"sub"});
        CHECK(fs::is_empty(sub));
    }
    SUBCASE("a character device, through a link") {
        const std::string link = dir.file("null.png");
        fs::create_symlink("/dev/null", link);
        CHECK_THROWS_WITH_AS(nn::write_png(link, im),
                             ("write_png: '" + link +
                              "': is a character device (through the symbolic link to '/dev/null'), not a regular "
                              "file; files are written by replacing them whole, which only regular files allow: pass "
                              "the path of a regular file or of a new one")
                                 .c_str(),
                             io_error);
        CHECK(dir.list() == std::vector<std::string>{"null.png"});
        CHECK(fs::is_character_file("/dev/null"));
    }
    SUBCASE("a FIFO") {
        const std::string fifo = dir.file("fifo.png");
        REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
        CHECK_THROWS_AS(nn::write_png(fifo, im), io_error);
        CHECK(dir.list() == std::vector<std::string>{"fifo.png"});
        CHECK(fs::is_fifo(fifo));
    }
}

TEST_CASE("png: to_gray maps min..max to 0..255, or ±max|x| around mid gray, rounded to the nearest level") {
    for (Dtype dt : {f32, f64}) {
        INFO(dtype_name(dt));
        // (x - lo) / (hi - lo) * 255 by hand: lo -1, hi 3: 0, 63.75, 127.5, 255.
        const Image a = nn::to_gray(Tensor::from({{-1, 0}, {1, 3}}, dt), GrayScale::min_max);
        CHECK(a.width == 2);
        CHECK(a.height == 2);
        CHECK(a.channels == 1);
        CHECK(levels(a) == std::vector<int>{0, 64, 128, 255});
        // Symmetric: lo -2, hi 2 whatever the smallest value: -2, 0, 1, 0.5 → 0, 127.5, 191.25, 159.375.
        const Image s = nn::to_gray(Tensor::from({{-2, 0, 1, 0.5}}, dt), GrayScale::symmetric);
        CHECK(s.width == 4);
        CHECK(s.height == 1);
        CHECK(levels(s) == std::vector<int>{0, 128, 191, 159});
        // Only positive values: lo -4, hi 4: 1 → 159.375, 4 → 255.
        CHECK(levels(nn::to_gray(Tensor::from(std::vector<double>{1, 4}, {2, 1}, dt), GrayScale::symmetric)) ==
              std::vector<int>{159, 255});
        // No range: mid gray.
        CHECK(levels(nn::to_gray(Tensor::from({{5, 5, 5}}, dt), GrayScale::min_max)) ==
              std::vector<int>{128, 128, 128});
        CHECK(levels(nn::to_gray(Tensor::from({{0, 0}}, dt), GrayScale::symmetric)) == std::vector<int>{128, 128});
    }
    CHECK_THROWS_WITH_AS(nn::to_gray(Tensor::zeros({1, 28, 28}), GrayScale::min_max),
                         "to_gray: expected a 2-D tensor (height, width), got (1,28,28); pass one image and channel",
                         shape_error);
    CHECK_THROWS_WITH_AS(nn::to_gray(Tensor::from({{1, std::nan(""), 2}}), GrayScale::min_max),
                         "to_gray: element 1 of the (1,3) tensor is nan; gray levels need finite values", value_error);
    CHECK_THROWS_WITH_AS(nn::to_gray(Tensor::zeros({0, 3}), GrayScale::min_max),
                         "to_gray: width and height must each be in 1..1000000, got 3 x 0", value_error);
}

TEST_CASE("png: upscale repeats each pixel into a factor x factor block") {
    const Image rgb{2, 1, 3, {1, 2, 3, 4, 5, 6}};
    const Image big = nn::upscale(rgb, 2);
    CHECK(big.width == 4);
    CHECK(big.height == 2);
    CHECK(big.channels == 3);
    const std::vector<int> row{1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6};
    std::vector<int> both = row;
    both.insert(both.end(), row.begin(), row.end());
    CHECK(levels(big) == both);
    CHECK(levels(nn::upscale(rgb, 1)) == levels(rgb));
    CHECK_THROWS_WITH_AS(nn::upscale(rgb, 0), "upscale: the factor must be in 1..1000000, got 0", value_error);
    CHECK_THROWS_WITH_AS(nn::upscale(Image{2, 2, 1, {1}}, 2),
                         "upscale: a 2 x 2 image with 1 channel needs 4 bytes but its pixels hold 1", value_error);
}

TEST_CASE("png: tile centres images in cells as wide as their column and as tall as their row, with gaps") {
    const Image one{1, 1, 1, {10}};
    const Image square{2, 2, 1, {20, 21, 22, 23}};
    const Image tall{1, 2, 1, {30, 31}};
    // 2 columns of widths 1 and 2, 2 rows of heights 2 and 2, gaps of 1 between and around: 6 x 7. The 1-high
    // image sits in the top row of its cell (the spare pixel goes below).
    const Image grid = nn::tile({one, square, tall}, 2, 1, 255);
    CHECK(grid.width == 6);
    CHECK(grid.height == 7);
    const int _ = 255;
    CHECK(levels(grid) == std::vector<int>{
                              _, _,  _, _,  _,  _,  //
                              _, 10, _, 20, 21, _,  //
                              _, _,  _, 22, 23, _,  //
                              _, _,  _, _,  _,  _,  //
                              _, 30, _, _,  _,  _,  //
                              _, 31, _, _,  _,  _,  //
                              _, _,  _, _,  _,  _,  //
                          });
    // One column stacks a wide and a narrow image, the narrow one centred: 5 x 1 over 2 x 1 (3 spare pixels: 1
    // left, 2 right), no gap.
    const Image stacked = nn::tile({Image{5, 1, 1, {1, 2, 3, 4, 5}}, Image{2, 1, 1, {6, 7}}}, 1, 0, 0);
    CHECK(stacked.width == 5);
    CHECK(stacked.height == 2);
    CHECK(levels(stacked) == std::vector<int>{1, 2, 3, 4, 5, 0, 6, 7, 0, 0});
    // More columns than images: one row, as wide as the images need; no gap, RGB.
    const Image wide = nn::tile({Image{1, 1, 3, {1, 2, 3}}, Image{1, 1, 3, {4, 5, 6}}}, 5, 0, 0);
    CHECK(wide.width == 2);
    CHECK(wide.height == 1);
    CHECK(levels(wide) == std::vector<int>{1, 2, 3, 4, 5, 6});

    CHECK_THROWS_WITH_AS(nn::tile({}, 2, 1), "tile: no images to tile; pass at least one", value_error);
    CHECK_THROWS_WITH_AS(nn::tile({one}, 0, 1), "tile: columns must be at least 1 (got 0)", value_error);
    CHECK_THROWS_WITH_AS(
        nn::tile({one, Image{1, 1, 3, {1, 2, 3}}}, 2, 1),
        "tile: image 1 has 3 channels but image 0 has 1 channel; tile images of one kind (gray or RGB)", value_error);
    CHECK_THROWS_WITH_AS(nn::tile({one, Image{1, 1, 1, {}}}, 2, 1),
                         "tile: image 1: a 1 x 1 image with 1 channel needs 1 byte but its pixels hold 0", value_error);
    CHECK_THROWS_WITH_AS(nn::tile({one}, 1, 600000),
                         "tile: width and height must each be in 1..1000000, got 1200001 x 1200001", value_error);
}

// ---- allocation failure under a lowered ulimit -v, in a child process (a fresh heap: freed memory that this
// process kept could otherwise serve the allocation) ----

TEST_CASE("[child] write_png says it ran out of memory when the file's buffer exceeds ulimit -v") {
    if (!adg::testing::in_child_case("[child] write_png says it ran out of memory when the file's buffer exceeds "
                                     "ulimit -v")) {
        return;
    }
    const TempDir dir("adgraph-png");
    const std::string path = dir.file("big.png");
    // 64 MB of pixels, allocated before the limit; the encoder's buffer for the file (as large) cannot be.
    const Image big{8000, 8000, 1, std::vector<std::uint8_t>(64000000)};
    REQUIRE(adg::testing::limit_address_space(std::size_t{8} << 20));
    std::string msg;
    try {
        nn::write_png(path, big);
    } catch (const io_error& e) {
        msg = e.what();
    }
    CHECK(msg == "write_png: '" + path +
                     "': cannot encode the image (libpng: out of memory); free memory or raise the memory limit "
                     "(ulimit -v)");
    CHECK(dir.list().empty());
}

TEST_CASE("png: out of memory while encoding is an io_error naming the file, not bad_alloc") {
#if defined(__SANITIZE_ADDRESS__)
    return;  // ASan maps memory for every allocation its own way, so no limit fits it
#endif
    const std::string name = "[child] write_png says it ran out of memory when the file's buffer exceeds ulimit -v";
    const auto r = adg::testing::run_child_case(name);
    INFO(r.output);
    CHECK(r.exited_ok());
    CHECK(r.output.find("1 passed") != std::string::npos);
}
