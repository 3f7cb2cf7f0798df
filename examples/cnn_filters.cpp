// Data-dependent filters: the `cnn` preset's first layer after training, its 32 learned 3x3 filters each beside
// its feature map on one Fashion-MNIST test image, as one PNG. Trains the preset briefly, or loads a checkpoint
// written by `adgraph train --model cnn`. The feature maps are checked against the sum Σ w(i,j)·x(y+i−1, x+j−1) + b
// written out here.
#include <CLI/CLI.hpp>

#include <adgraph/adgraph.hpp>
#include <adgraph/nn/checkpoint.hpp>
#include <adgraph/nn/conv.hpp>
#include <adgraph/nn/data.hpp>
#include <adgraph/nn/loss.hpp>
#include <adgraph/nn/model_spec.hpp>
#include <adgraph/nn/optim.hpp>
#include <adgraph/nn/png.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "png_size.hpp"

using namespace adg;
namespace fs = std::filesystem;

namespace {

struct Options {
    std::string data = nn::default_fashion_mnist_dir;
    std::string out = ".";
    std::string checkpoint;
    std::size_t limit = 0, steps = 469, batch = 128, image = 0, scale = 4, gap = 4;
    double lr = 2e-3, dropout = 0.3, min_accuracy = 0.0;
    std::uint64_t seed = 1;
};

constexpr std::size_t side = 28;

// A batch of flat images (B, 784) as the CNN takes them: (B, 1, 28, 28).
Tensor as_images(const Tensor& flat) { return reshape(flat, {flat.shape()[0], 1, side, side}); }

double test_accuracy(nn::Module& model, const nn::Dataset& test) {
    NoGrad no_grad;
    model.eval();
    std::size_t right = 0;
    for (std::size_t from = 0; from < test.size(); from += 500) {
        const std::size_t to = std::min(test.size(), from + 500);
        std::vector<std::size_t> rows(to - from);
        for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = from + i;
        const std::vector<std::size_t> labels(test.labels.begin() + from, test.labels.begin() + to);
        right += static_cast<std::size_t>(
            std::lround(nn::accuracy(model(as_images(index_select(test.images, 0, rows))), labels) *
                        static_cast<double>(rows.size())));
    }
    model.train();
    return static_cast<double>(right) / static_cast<double>(test.size());
}

// Adam on the preset's cross-entropy for o.steps minibatches (epochs repeat as needed).
void train(nn::Module& model, const nn::Dataset& train_set, const Options& o) {
    nn::Adam opt(model.named_parameters(), nn::AdamOptions{o.lr});
    const nn::DataLoader loader(train_set, o.batch, true, o.seed);
    std::size_t step = 0;
    double recent = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (std::size_t epoch = 0; step < o.steps; ++epoch) {
        for (const nn::Batch& b : loader.epoch(epoch)) {
            if (step == o.steps) break;
            const Tensor loss = nn::cross_entropy(model(as_images(b.x)), b.labels);
            loss.backward();
            opt.step();
            opt.zero_grad();
            recent = step == 0 ? loss.item() : 0.95 * recent + 0.05 * loss.item();
            if (++step % 100 == 0 || step == o.steps) {
                std::printf("  step %5zu  loss (running) %.4f  %.1f s\n", step, recent,
                            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
                std::fflush(stdout);
            }
        }
    }
}

bool parse(int argc, char** argv, Options& o) {
    CLI::App app{
        "The cnn preset's first-layer filters, learned on Fashion-MNIST, and their feature maps on one test image; "
        "writes cnn_filters.png (the image, then 32 pairs: a 3x3 filter and its feature map, 0 as mid gray).\n"
        "Exit status: 0 ok, 1 a feature map differs from the direct sum, an accuracy below --min-accuracy, no PNG "
        "or unreadable data, 2 usage, 77 no data directory."};
    app.add_option("--data", o.data, "Fashion-MNIST directory")->capture_default_str();
    app.add_option("--out", o.out, "where cnn_filters.png goes")->capture_default_str();
    app.add_option("--checkpoint", o.checkpoint, "a checkpoint of `adgraph train --model cnn` instead of training");
    app.add_option("--limit", o.limit, "use the first N training and test images (0: all)")->capture_default_str();
    app.add_option("--steps", o.steps, "Adam steps (469: one epoch of 60000 images in batches of 128)")
        ->check(CLI::Range(0, 10000000))
        ->capture_default_str();
    app.add_option("--batch", o.batch, "batch size")->check(CLI::Range(1, 100000))->capture_default_str();
    app.add_option("--lr", o.lr, "Adam learning rate")->check(CLI::Range(1e-12, 1e3))->capture_default_str();
    app.add_option("--dropout", o.dropout, "the preset's dropout p")
        ->check(CLI::Range(0.0, 0.99))
        ->capture_default_str();
    app.add_option("--seed", o.seed, "seed of weights, dropout and batch order")->capture_default_str();
    app.add_option("--image", o.image, "the test image whose feature maps are drawn")->capture_default_str();
    app.add_option("--scale", o.scale, "pixels per feature-map pixel (filters: 4 times as many)")
        ->check(CLI::Range(1, 64))
        ->capture_default_str();
    app.add_option("--gap", o.gap, "pixels between the panels")->check(CLI::Range(0, 1000))->capture_default_str();
    app.add_option("--min-accuracy", o.min_accuracy, "fail if the test accuracy is below this")->capture_default_str();
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
    nn::Dataset train_set, test;
    try {
        if (o.checkpoint.empty()) train_set = nn::load_fashion_mnist(o.data, nn::Split::train, o.limit);
        test = nn::load_fashion_mnist(o.data, nn::Split::test, o.limit);
    } catch (const io_error& e) {
        std::fprintf(stderr, "cnn_filters: %s\n", e.what());
        return fs::is_directory(o.data) ? 1 : 77;
    }
    if (o.image >= test.size()) {
        std::fprintf(stderr, "cnn_filters: --image %zu is out of range; the test set has %zu images\n", o.image,
                     test.size());
        return 2;
    }

    std::shared_ptr<nn::Sequential> model;
    try {
        Generator gen(o.seed);
        nn::MlpOptions options;
        options.dropout = o.dropout;
        if (o.checkpoint.empty()) {
            model = nn::build_model("cnn", gen, options);
            std::printf("cnn_filters: training %s\n  Adam lr %g, batch %zu, %zu steps on %zu images, seed %llu\n",
                        model->to_string().c_str(), o.lr, o.batch, o.steps, train_set.size(),
                        static_cast<unsigned long long>(o.seed));
            train(*model, train_set, o);
        } else {
            const nn::Metadata meta = nn::read_checkpoint_metadata(o.checkpoint);
            const auto spec = meta.find("model");
            if (spec == meta.end()) throw io_error(o.checkpoint + ": the checkpoint names no model");
            model = nn::build_model(spec->second, gen, options);
            nn::load_checkpoint(o.checkpoint, *model, nullptr);
            std::printf("cnn_filters: loaded %s from %s\n", model->to_string().c_str(), o.checkpoint.c_str());
        }
    } catch (const error& e) {
        std::fprintf(stderr, "cnn_filters: %s\n", e.what());
        return 1;
    }
    const auto* conv =
        model->children().empty() ? nullptr : dynamic_cast<const nn::Conv2d*>(model->children().front().second.get());
    if (!conv || conv->in_channels() != 1 || conv->weight().shape()[2] != 3 || conv->weight().shape()[3] != 3) {
        std::fprintf(stderr, "cnn_filters: the model does not start with a 3x3 convolution of one channel: %s\n",
                     model->to_string().c_str());
        return 1;
    }
    const double accuracy = test_accuracy(*model, test);
    std::printf("test accuracy: %.2f %% on %zu images\n", 100.0 * accuracy, test.size());

    // The feature maps: the first layer alone on the chosen image (padding 1 keeps 28 x 28).
    const Tensor x = as_images(index_select(test.images, 0, {o.image}));
    const Tensor w = conv->weight().detach(), b = conv->bias().detach();
    const std::size_t filters = w.shape()[0];
    Tensor maps;
    {
        NoGrad no_grad;
        maps = conv2d(x, w, b, 1, 1);
    }
    const auto& xv = x.value().get<float>();
    const auto& wv = w.value().get<float>();
    const auto& bv = b.value().get<float>();
    const auto& mv = maps.value().get<float>();
    double worst = 0;
    for (std::size_t f = 0; f < filters; ++f) {
        for (std::size_t r = 0; r < side; ++r) {
            for (std::size_t c = 0; c < side; ++c) {
                double sum = bv(f);
                for (std::size_t i = 0; i < 3; ++i) {
                    for (std::size_t j = 0; j < 3; ++j) {
                        const std::size_t rr = r + i, cc = c + j;  // shifted by the padding of 1
                        if (rr < 1 || cc < 1 || rr > side || cc > side) continue;
                        sum += static_cast<double>(wv(f, 0, i, j)) * xv(0, 0, rr - 1, cc - 1);
                    }
                }
                worst = std::max(worst, std::abs(sum - static_cast<double>(mv(0, f, r, c))));
            }
        }
    }
    std::printf("largest difference between conv2d and the direct sum: %.3g\n", worst);

    // Each filter (3 x 3 weights of 4·scale pixels) beside its map (28 x 28 of scale pixels), both symmetric
    // around 0; 8 pairs a row, under the image (twice the maps' scale).
    std::vector<nn::Image> pairs;
    for (std::size_t f = 0; f < filters; ++f) {
        const Tensor filter = reshape(slice(w, 0, f, f + 1), {3, 3});
        const Tensor map = reshape(slice(maps, 1, f, f + 1), {side, side});
        pairs.push_back(nn::tile({nn::upscale(nn::to_gray(filter, nn::GrayScale::symmetric), 4 * o.scale),
                                  nn::upscale(nn::to_gray(map, nn::GrayScale::symmetric), o.scale)},
                                 2, o.gap / 2 + 1));
    }
    const nn::Image image = nn::upscale(nn::to_gray(reshape(x, {side, side}), nn::GrayScale::min_max), 2 * o.scale);
    const nn::Image picture = nn::tile({image, nn::tile(pairs, 8, o.gap)}, 1, o.gap);
    std::error_code ec;
    fs::create_directories(o.out, ec);
    const std::string png = (fs::path(o.out) / "cnn_filters.png").string();
    try {
        nn::write_png(png, picture);
    } catch (const error& e) {
        std::fprintf(stderr, "cnn_filters: %s\n", e.what());
        return 1;
    }
    const auto [pw, ph] = demo::png_size(png);
    std::printf("wrote %s (%u x %u): test image #%zu (%s) and the %zu filters of %s with their feature maps\n",
                png.c_str(), pw, ph, o.image, nn::fashion_mnist_classes()[test.labels[o.image]], filters,
                conv->to_string().c_str());

    // A pair is a filter of 12·scale and a map of 28·scale pixels side by side with a gap g = gap/2 + 1 around
    // them; 8 pairs a row with gaps; the image (56·scale) above, centred.
    const std::size_t g = o.gap / 2 + 1, pair_w = 40 * o.scale + 3 * g, pair_h = 28 * o.scale + 2 * g;
    const std::size_t rows = (filters + 7) / 8, grid_w = 8 * pair_w + 9 * o.gap,
                      grid_h = rows * pair_h + (rows + 1) * o.gap;
    const std::size_t want_w = std::max(grid_w, 56 * o.scale) + 2 * o.gap, want_h = 56 * o.scale + grid_h + 3 * o.gap;
    int status = 0;
    if (pw != want_w || ph != want_h) {
        std::fprintf(stderr, "cnn_filters: FAIL: %s is %u x %u, not %zu x %zu\n", png.c_str(), pw, ph, want_w, want_h);
        status = 1;
    }
    if (!(worst <= 1e-4)) {
        std::fprintf(stderr, "cnn_filters: FAIL: conv2d differs from the direct sum by %.3g\n", worst);
        status = 1;
    }
    if (!(accuracy >= o.min_accuracy)) {
        std::fprintf(stderr, "cnn_filters: FAIL: test accuracy %.4f < --min-accuracy %.4f\n", accuracy, o.min_accuracy);
        status = 1;
    }
    return status;
}
