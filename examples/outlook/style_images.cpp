#include "style_images.hpp"

#include <chrono>
#include <filesystem>
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
                       "; for a built-in image give one of ImageMagick's names (logo:, rose:, wizard:, granite:, "
                       "plasma:, ...), else the path of a PNG file");
    }
    nn::Image image = nn::read_png(out);
    if (image.width != size || image.height != size) {
        throw io_error("convert " + input + " wrote a " + std::to_string(image.width) + " x " +
                       std::to_string(image.height) + " image, not " + side);
    }
    return image;
}

}  // namespace

bool is_builtin(const std::string& spec) { return !spec.empty() && spec.back() == ':'; }

bool have_imagemagick(std::string& found) {
    const nn::ProcessResult r = nn::run_process({"convert", "-version"}, {}, convert_limit);
    if (r.not_found) {
        found = "no convert on PATH";
        return false;
    }
    if (r.succeeded() && r.out.find("ImageMagick") != std::string::npos) return true;
    const std::string said = r.err.empty() ? r.out : r.err;
    found = "the convert on PATH is not ImageMagick's (`convert -version` " + r.how_it_ended() +
            (said.empty() ? "" : ": " + said.substr(0, said.find('\n'))) + ")";
    return false;
}

Tensor load_picture(const std::string& spec, std::size_t size, const std::string& scratch) {
    nn::Image image;
    if (is_builtin(spec)) {
        image = convert_to(spec, size, (std::filesystem::path(scratch) / "builtin.png").string());
    } else {
        image = nn::read_png(spec);  // the file's own checks first, before convert sees it
        if (image.width != size || image.height != size) {
            image = convert_to(spec, size, (std::filesystem::path(scratch) / "resized.png").string());
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
