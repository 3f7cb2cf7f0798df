// libFuzzer target: the input is a PNG file's bytes, read by nn::read_png (its own header checks, then libpng's
// simplified API). read_png promises an io_error for anything it refuses, so only io_error is caught here: a
// value_error or any other exception escaping is a finding, as is an image that breaks what read_png promises.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include <adgraph/nn/png.hpp>
#include <adgraph/tensor/error.hpp>

#include "fuzz_file.hpp"

namespace {

std::uint32_t big_endian(const std::uint8_t* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

// What read_png promises of an image it returns, checked against the input's own header (IHDR comes first).
void check_image(const adg::nn::Image& im, const std::uint8_t* data, std::size_t size) {
    static const std::uint8_t signature[8] = {137, 80, 78, 71, 13, 10, 26, 10};
    static const std::uint8_t end[12] = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82};
    adg::fuzz::expect(size >= 33 && std::memcmp(data, signature, 8) == 0 && std::memcmp(data + 12, "IHDR", 4) == 0,
                      "a PNG signature and IHDR first");
    adg::fuzz::expect(std::memcmp(data + size - 12, end, 12) == 0, "IEND last");
    adg::fuzz::expect(im.width == big_endian(data + 16) && im.height == big_endian(data + 20),
                      "the sides the header claims");
    adg::fuzz::expect(
        im.width >= 1 && im.height >= 1 && im.width <= adg::nn::max_png_side && im.height <= adg::nn::max_png_side,
        "sides in 1..max_png_side");
    // Colour types 2 (RGB), 3 (palette) and 6 (RGBA) have the colour bit; 0 and 4 are gray.
    const std::size_t channels = (data[25] & 2) ? 3 : 1;
    adg::fuzz::expect(im.channels == channels, "RGB for a colour or palette file, gray otherwise");
    adg::fuzz::expect(im.pixels.size() == im.width * im.height * im.channels, "width x height x channels bytes");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string& path = adg::fuzz::scratch("fuzz_png").write(data, size);
    try {
        check_image(adg::nn::read_png(path), data, size);
    } catch (const adg::io_error& e) {
        // An expected rejection: named as documented, and quoting libpng's reason only as printable ASCII (it
        // reaches the terminal).
        const std::string what = e.what();
        const std::string prefix = "read_png: '" + path + "': ";
        adg::fuzz::expect(what.compare(0, prefix.size(), prefix) == 0, "a rejection message naming the file");
        adg::fuzz::expect(what.size() < 600, "a rejection message under 600 bytes");
        for (const char c : what) {
            adg::fuzz::expect(c >= 0x20 && c < 0x7F, "a rejection message in printable ASCII");
        }
    }
    return 0;
}
