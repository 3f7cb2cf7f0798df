// `adgraph playground` without a browser: the training loop, its progress lines and the decision surface picture.
#include "playground/headless.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <ostream>

#include <adgraph/autodiff/grad_mode.hpp>
#include <adgraph/tensor/error.hpp>

#include "playground/grid.hpp"

namespace adg::playground {

namespace {

constexpr std::size_t max_picture_side = 4096;

using Rgb = std::array<double, 3>;
// The page's colours: orange for −1, near-white for 0, blue for +1.
constexpr Rgb orange = {0xf5, 0x93, 0x22};
constexpr Rgb white = {0xe8, 0xea, 0xeb};
constexpr Rgb blue = {0x08, 0x77, 0xbd};
constexpr Rgb train_outline = {0xff, 0xff, 0xff};
constexpr Rgb test_outline = {0x22, 0x22, 0x22};

// v clamped to [−1, 1], linear from orange through white to blue; NaN (a diverged network) is white.
Rgb colour_of(double v) {
    if (!(v == v)) return white;
    const double t = std::clamp(v, -1.0, 1.0);
    const Rgb& end = t < 0 ? orange : blue;
    const double a = std::abs(t);
    return {white[0] + a * (end[0] - white[0]), white[1] + a * (end[1] - white[1]), white[2] + a * (end[2] - white[2])};
}

void put(nn::Image& img, std::size_t x, std::size_t y, const Rgb& c) {
    std::uint8_t* p = img.pixels.data() + (y * img.width + x) * 3;
    for (std::size_t k = 0; k < 3; ++k) p[k] = static_cast<std::uint8_t>(std::lround(c[k]));
}

// A disc of the label's colour with a ring of `outline`, centred on the point's place in the picture.
void draw_point(nn::Image& img, const Point& p, const Rgb& outline) {
    const double side = static_cast<double>(img.width);
    const double cx = (p.x1 + domain) / (2 * domain) * side, cy = (domain - p.x2) / (2 * domain) * side;
    const double radius = std::max(2.5, side / 100), ring = std::max(1.0, radius / 4);
    const auto lo = [](double v) { return static_cast<std::size_t>(std::max(0.0, std::floor(v))); };
    const auto hi = [&](double v) { return static_cast<std::size_t>(std::clamp(std::ceil(v), 0.0, side)); };
    const Rgb fill = colour_of(p.label);
    for (std::size_t y = lo(cy - radius); y < hi(cy + radius); ++y) {
        for (std::size_t x = lo(cx - radius); x < hi(cx + radius); ++x) {
            const double d = std::hypot(static_cast<double>(x) + 0.5 - cx, static_cast<double>(y) + 0.5 - cy);
            if (d <= radius) put(img, x, y, d > radius - ring ? outline : fill);
        }
    }
}

void check_picture_side(std::size_t side) {
    if (side < 1 || side > max_picture_side) {
        throw value_error("playground: a picture of side " + std::to_string(side) +
                          " pixels is out of range; use a side of 1.." + std::to_string(max_picture_side) + " pixels");
    }
}

}  // namespace

nn::Image render_surface(const Session& session, std::size_t side, bool show_test) {
    check_picture_side(side);
    nn::Image img = nn::Image::filled(side, side, 3, 0, "render_surface");
    const std::vector<std::string> features = input_features(session.config());
    const std::shared_ptr<nn::Module> model = session.model();
    // A batched forward pass per block of rows keeps the grid's memory small for large pictures.
    const std::size_t rows_per_pass = std::max<std::size_t>(1, 65536 / side);
    NoGrad no_grad;
    for (std::size_t r0 = 0; r0 < side; r0 += rows_per_pass) {
        const std::size_t rows = std::min(rows_per_pass, side - r0);
        const Tensor out = model->forward(Tensor(grid_features(features, side, r0, rows, "render_surface")));
        const double* v = out.data<double>().data();
        for (std::size_t r = 0; r < rows; ++r) {
            for (std::size_t c = 0; c < side; ++c) put(img, c, r0 + r, colour_of(v[r * side + c]));
        }
    }
    for (const Point& p : session.train_points()) draw_point(img, p, train_outline);
    if (show_test) {
        for (const Point& p : session.test_points()) draw_point(img, p, test_outline);
    }
    return img;
}

int run_headless(const HeadlessOptions& options, std::ostream& out) {
    Session session(options.config);
    if (!options.png.empty()) check_picture_side(options.png_side);  // before training, not after it
    const auto report = [&] {
        const Losses l = session.losses();
        char line[160];
        std::snprintf(line, sizeof line, "epoch %zu  train loss %.6f  test loss %.6f\n", session.epoch(), l.train,
                      l.test);
        out << line << std::flush;
    };
    for (std::size_t e = 1; e <= options.steps; ++e) {
        session.step();
        if (options.report_every != 0 && e % options.report_every == 0) report();
    }
    if (options.steps == 0 || options.report_every == 0 || options.steps % options.report_every != 0) report();
    if (!options.png.empty()) {
        nn::write_png(options.png, render_surface(session, options.png_side, options.show_test));
        out << "wrote " << options.png << "\n";
    }
    return 0;
}

}  // namespace adg::playground
