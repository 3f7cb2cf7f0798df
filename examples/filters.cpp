// Filters: the lecture's three 3x3 kernels applied with conv2d to Fashion-MNIST test images, drawn as one PNG
// grid (a row per image: the image, then its response to each kernel). The responses are checked against the
// sum Σ k(i,j)·x(y+i−1, x+j−1) written out here, with zeros outside the image.
#include <CLI/CLI.hpp>

#include <adgraph/adgraph.hpp>
#include <adgraph/nn/data.hpp>
#include <adgraph/nn/png.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "png_size.hpp"

using namespace adg;
namespace fs = std::filesystem;

namespace {

struct Options {
    std::string data = nn::default_fashion_mnist_dir;
    std::string out = ".";
    std::size_t count = 5, scale = 4, gap = 4;
};

using Kernel = std::array<std::array<double, 3>, 3>;

// The lecture's kernels. Each equals itself turned by 180°, so conv2d's cross-correlation is also the
// convolution of signal processing here.
const std::array<std::pair<const char*, Kernel>, 3> kernels = {{
    {"diagonal edges [1 0 -1; 0 0 0; -1 0 1]", {{{1, 0, -1}, {0, 0, 0}, {-1, 0, 1}}}},
    {"Laplacian [0 1 0; 1 -4 1; 0 1 0]", {{{0, 1, 0}, {1, -4, 1}, {0, 1, 0}}}},
    {"outline [-1 -1 -1; -1 8 -1; -1 -1 -1]", {{{-1, -1, -1}, {-1, 8, -1}, {-1, -1, -1}}}},
}};

// The first test image of each of the first `count` classes met, so the rows show different garments.
std::vector<std::size_t> pick(const nn::Dataset& test, std::size_t count) {
    std::vector<std::size_t> rows;
    std::vector<bool> seen(test.classes, false);
    for (std::size_t i = 0; i < test.size() && rows.size() < count; ++i) {
        if (!seen[test.labels[i]]) {
            seen[test.labels[i]] = true;
            rows.push_back(i);
        }
    }
    return rows;
}

bool parse(int argc, char** argv, Options& o) {
    CLI::App app{
        "The lecture's three 3x3 kernels applied with conv2d to Fashion-MNIST test images; writes filters.png "
        "(rows: images; columns: the image, then its response to each kernel, 0 as mid gray).\n"
        "Exit status: 0 ok, 1 a response differs from the direct sum or no PNG, 2 usage, 77 no data directory."};
    app.add_option("--data", o.data, "Fashion-MNIST directory")->capture_default_str();
    app.add_option("--out", o.out, "where filters.png goes")->capture_default_str();
    app.add_option("--count", o.count, "images (rows), each of another class")
        ->check(CLI::Range(1, 10))
        ->capture_default_str();
    app.add_option("--scale", o.scale, "pixels per image pixel")->check(CLI::Range(1, 64))->capture_default_str();
    app.add_option("--gap", o.gap, "pixels between the panels")->check(CLI::Range(0, 1000))->capture_default_str();
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (app.exit(e) == 0) std::exit(0);
        return false;
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    if (!parse(argc, argv, o)) return 2;
    nn::Dataset test;
    try {
        test = nn::load_fashion_mnist(o.data, nn::Split::test, 0, nn::Normalization{0.0f, 1.0f});  // pixels in [0, 1]
    } catch (const io_error& e) {
        std::fprintf(stderr, "filters: %s\n", e.what());
        return fs::is_directory(o.data) ? 1 : 77;
    }
    const std::vector<std::size_t> rows = pick(test, o.count);
    const std::size_t n = rows.size(), side = 28;
    const Tensor x = reshape(index_select(test.images, 0, rows), {n, 1, side, side});

    std::vector<double> weights;
    for (const auto& k : kernels) {
        for (const auto& row : k.second) weights.insert(weights.end(), row.begin(), row.end());
    }
    const Tensor w = Tensor::from(weights, {kernels.size(), 1, 3, 3});
    const Tensor y = conv2d(x, w, Tensor(), 1, 1);  // padding 1: responses keep the 28 x 28 size

    // The direct sum, with zeros outside the image.
    const auto& xv = x.value().get<float>();
    const auto& yv = y.value().get<float>();
    double worst = 0;
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t k = 0; k < kernels.size(); ++k) {
            for (std::size_t r = 0; r < side; ++r) {
                for (std::size_t c = 0; c < side; ++c) {
                    double sum = 0;
                    for (std::size_t a = 0; a < 3; ++a) {
                        for (std::size_t b = 0; b < 3; ++b) {
                            const std::size_t rr = r + a, cc = c + b;  // shifted by the padding of 1
                            if (rr < 1 || cc < 1 || rr > side || cc > side) continue;
                            sum += kernels[k].second[a][b] * xv(i, 0, rr - 1, cc - 1);
                        }
                    }
                    worst = std::max(worst, std::abs(sum - static_cast<double>(yv(i, k, r, c))));
                }
            }
        }
    }

    std::vector<nn::Image> panels;
    for (std::size_t i = 0; i < n; ++i) {
        const Tensor image = reshape(slice(x, 0, i, i + 1), {side, side});
        panels.push_back(nn::upscale(nn::to_gray(image, nn::GrayScale::min_max), o.scale));
        for (std::size_t k = 0; k < kernels.size(); ++k) {
            const Tensor response = reshape(slice(slice(y, 0, i, i + 1), 1, k, k + 1), {side, side});
            panels.push_back(nn::upscale(nn::to_gray(response, nn::GrayScale::symmetric), o.scale));
        }
    }
    const nn::Image grid = nn::tile(panels, 1 + kernels.size(), o.gap);
    std::error_code ec;
    fs::create_directories(o.out, ec);
    const std::string png = (fs::path(o.out) / "filters.png").string();
    try {
        nn::write_png(png, grid);
    } catch (const error& e) {
        std::fprintf(stderr, "filters: %s\n", e.what());
        return 1;
    }

    std::printf("filters: %zu Fashion-MNIST test images (", n);
    for (std::size_t i = 0; i < n; ++i) {
        std::printf("%s#%zu %s", i ? ", " : "", rows[i], nn::fashion_mnist_classes()[test.labels[rows[i]]]);
    }
    std::printf(") with conv2d, padding 1; columns: the image");
    for (const auto& k : kernels) std::printf(", %s", k.first);
    std::printf("\nlargest difference between conv2d and the direct sum: %.3g\n", worst);
    // Panels of 28·scale pixels, 1 + 3 columns and n rows, gaps between and around them.
    const std::size_t cell = side * o.scale, want_w = 4 * cell + 5 * o.gap, want_h = n * cell + (n + 1) * o.gap;
    const auto [pw, ph] = demo::png_size(png);
    std::printf("wrote %s (%u x %u)\n", png.c_str(), pw, ph);
    if (pw != want_w || ph != want_h) {
        std::fprintf(stderr, "filters: FAIL: %s is %u x %u, not %zu x %zu\n", png.c_str(), pw, ph, want_w, want_h);
        return 1;
    }
    if (!(worst <= 1e-5)) {
        std::fprintf(stderr, "filters: FAIL: conv2d differs from the direct sum by %.3g\n", worst);
        return 1;
    }
    return 0;
}
