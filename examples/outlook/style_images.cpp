#include "style_images.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <filesystem>
#include <string_view>
#include <vector>

#include <adgraph/nn/png.hpp>
#include <adgraph/nn/process.hpp>

namespace style {

using namespace adg;

namespace {

// convert on a small image takes well under a second; a hung one must not hang the program.
constexpr std::chrono::milliseconds convert_limit{60000};

// Scales the input (a built-in name or a file) to cover size x size, keeps the centre, and writes 8-bit RGB.
nn::Image convert_to(const std::string& input, std::size_t size, const std::string& out) {
    const std::string side = std::to_string(size) + "x" + std::to_string(size);
    // -seed fixes plasma:'s random fractal; -size sizes the generated patterns and is ignored by fixed images.
    const nn::ProcessResult r = nn::run_process({"convert", "-seed", "1", "-size", side, input, "-resize", side + "^",
                                                 "-gravity", "center", "-extent", side, "PNG24:" + out},
                                                {}, convert_limit);
    if (!r.succeeded()) {
        const std::string why = r.err.substr(0, r.err.find('\n'));  // the first line says what went wrong
        throw io_error("convert " + input + " " + r.how_it_ended() + (why.empty() ? "" : ": " + why) +
                       "; check that ImageMagick works (`convert " + input + " out.png`)");
    }
    nn::Image image = nn::read_png(out);
    if (image.width != size || image.height != size) {
        throw io_error("convert " + input + " wrote a " + std::to_string(image.width) + " x " +
                       std::to_string(image.height) + " image, not " + side);
    }
    return image;
}

constexpr std::array<std::string_view, 5> images{"logo:", "rose:", "wizard:", "granite:", "netscape:"};
constexpr std::array<std::string_view, 3> generated{"plasma:", "gradient:", "radial-gradient:"};
// ImageMagick's built-in patterns (its "Built-in Images and Patterns" page), used as pattern:<name>.
// clang-format off
constexpr std::array<std::string_view, 36> patterns{
    "bricks", "checkerboard", "circles", "crosshatch", "crosshatch30", "crosshatch45", "fishscales", "gray0",
    "gray50", "gray100", "hexagons", "horizontal", "horizontal2", "horizontal3", "horizontalsaw", "hs_bdiagonal",
    "hs_cross", "hs_diagcross", "hs_fdiagonal", "hs_horizontal", "hs_vertical", "left30", "left45", "leftshingle",
    "octagons", "right30", "right45", "rightshingle", "smallfishscales", "vertical", "vertical2", "vertical3",
    "verticalbricks", "verticalleftshingle", "verticalrightshingle", "verticalsaw"};
// clang-format on

template <std::size_t N>
bool one_of(std::string_view s, const std::array<std::string_view, N>& list) {
    return std::find(list.begin(), list.end(), s) != list.end();
}

// A colour name or two joined by '-' (red, red-yellow), or "fractal": lower-case letters only, so no path, coder
// or option can hide in it.
bool plain_argument(std::string_view s) {
    const std::size_t dash = s.find('-');
    const auto letters = [](std::string_view w) {
        return !w.empty() && std::all_of(w.begin(), w.end(), [](char ch) { return ch >= 'a' && ch <= 'z'; });
    };
    return dash == std::string_view::npos ? letters(s) : letters(s.substr(0, dash)) && letters(s.substr(dash + 1));
}

// What ImageMagick would take as a coder prefix ("xyz:...") rather than a file: a ':' before any '/'.
bool looks_like_a_name(const std::string& spec) {
    const std::size_t colon = spec.find(':');
    return colon != std::string::npos && colon < spec.find('/');
}

}  // namespace

Converter::Converter() {
    const nn::ProcessResult r = nn::run_process({"convert", "-version"}, {}, convert_limit);
    if (r.not_found) {
        found = "no convert on PATH";
        return;
    }
    if (r.succeeded() && r.out.find("ImageMagick") != std::string::npos) {
        available = true;
        return;
    }
    const std::string said = r.err.empty() ? r.out : r.err;
    found = "the convert on PATH is not ImageMagick's (`convert -version` " + r.how_it_ended() +
            (said.empty() ? "" : ": " + said.substr(0, said.find('\n'))) + ")";
}

bool is_builtin(const std::string& spec) {
    if (one_of(spec, images) || one_of(spec, generated)) return true;
    const std::size_t colon = spec.find(':');
    if (colon == std::string::npos) return false;
    const std::string_view head = std::string_view(spec).substr(0, colon + 1),
                           argument = std::string_view(spec).substr(colon + 1);
    if (one_of(head, generated)) return plain_argument(argument);
    return head == "pattern:" && one_of(argument, patterns);
}

std::string refusal(const std::string& spec) {
    if (spec.empty()) return "an empty name; give a PNG file or a built-in such as rose:";
    if (is_builtin(spec) || !looks_like_a_name(spec)) return "";
    return "'" + spec +
           "' is not one of the ImageMagick built-ins accepted (logo:, rose:, wizard:, granite:, netscape:, "
           "plasma:[fractal|COLOUR[-COLOUR]], gradient:[COLOUR[-COLOUR]], radial-gradient:[...], pattern:NAME such as "
           "pattern:checkerboard); for a PNG file whose name has a ':' before any '/', prefix it with ./";
}

Tensor load_picture(const std::string& spec, std::size_t size, const std::string& scratch, const Converter& convert) {
    const std::filesystem::path dir(scratch);
    const std::string side = std::to_string(size) + " x " + std::to_string(size);
    nn::Image image;
    if (is_builtin(spec)) {
        if (!convert.available) throw io_error(convert.found + "; the built-in " + spec + " needs ImageMagick");
        image = convert_to(spec, size, (dir / "builtin.png").string());
    } else {
        image = nn::read_png(spec);  // the file's own checks first, before convert sees it
        if (image.width != size || image.height != size) {
            if (!convert.available) {
                throw io_error("resizing the " + std::to_string(image.width) + " x " + std::to_string(image.height) +
                               " PNG '" + spec + "' to " + side + " needs ImageMagick's convert, but " + convert.found +
                               "; install the Debian package `imagemagick`, or give a PNG of " + side);
            }
            // convert reads the pixels read_png accepted, from a copy with a name of ours, through the PNG coder
            // only: the user's path is never parsed by ImageMagick.
            const std::string copy = std::filesystem::absolute(dir / "input.png").string();
            nn::write_png(copy, image);
            image = convert_to("png:" + copy, size, (dir / "resized.png").string());
        }
    }
    const std::size_t n = size * size;
    std::vector<double> chw(3 * n);
    for (std::size_t c = 0; c < 3; ++c) {
        for (std::size_t p = 0; p < n; ++p) {
            chw[c * n + p] = image.pixels[p * image.channels + (image.channels == 3 ? c : 0)] / 255.0;
        }
    }
    return Tensor::from(chw, {1, 3, size, size});
}

}  // namespace style
