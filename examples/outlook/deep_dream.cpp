// Deep dream: a real Fashion-MNIST test image changed so that one layer of a trained CNN responds more strongly.
// The program runs the model's children up to --layer and climbs mean(activation²) with respect to the image by
// normalised gradient steps (x += lr · g / mean|g|), the classifier frozen. It does so at a few scales (octaves):
// the 28 x 28 image resized to 28·k x 28·k for k = 1 .. --octaves by bilinear interpolation on plain arrays (no
// graph), with the detail dreamt so far (the dream minus the resized original) resized along and added back, so
// later octaves refine what earlier ones found. The convolutional part of the CNN takes any size; the layers after
// the Flatten cannot, so --layer must come before it. Writes deep_dream.png: the image and its dream side by side.
// Self-check: the layer's objective on the last octave's dream exceeds its value on the resized original by
// --min-factor; the dream is finite and its pixels stay within [-0.5, 1.5] (the pixel range [0, 1] with half of it
// to spare on either side; the picture clips to [0, 1]). Also: no classifier parameter holds a gradient after any
// backward pass, and the live graph nodes do not grow between steps (the memory report at the end, its RSS within
// the last octave). A dream that is not finite is not drawn.
#include <CLI/CLI.hpp>

#include <adgraph/adgraph.hpp>
#include <adgraph/nn/flatten.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "command_line.hpp"
#include "support.hpp"

using namespace adg;
namespace fs = std::filesystem;

namespace {

struct Options {
    std::string checkpoint, data = nn::default_fashion_mnist_dir, out = ".";
    std::size_t image = 0, layer = 6, octaves = 3, steps = 1000, scale = 4, gap = 8;
    double lr = 0.001, min_factor = 2.0;
    bool unclipped = false;
};

// The pixel range a dream may reach (in [0, 1] units) before it counts as broken.
constexpr double sane_lo = -0.5, sane_hi = 1.5;

// A square image of side `from` (row-major) resized to side `to` by bilinear interpolation, pixel centres aligned
// (source coordinate (i + ½)·from/to − ½, clamped to the edge).
std::vector<float> resize_bilinear(const std::vector<float>& src, std::size_t from, std::size_t to) {
    std::vector<float> dst(to * to);
    const double ratio = static_cast<double>(from) / static_cast<double>(to);
    const auto coordinate = [&](std::size_t i, std::size_t& i0, std::size_t& i1, double& t) {
        const double s = std::clamp((static_cast<double>(i) + 0.5) * ratio - 0.5, 0.0, static_cast<double>(from - 1));
        i0 = static_cast<std::size_t>(s);
        i1 = std::min(i0 + 1, from - 1);
        t = s - static_cast<double>(i0);
    };
    for (std::size_t r = 0; r < to; ++r) {
        std::size_t r0 = 0, r1 = 0;
        double tr = 0;
        coordinate(r, r0, r1, tr);
        for (std::size_t c = 0; c < to; ++c) {
            std::size_t c0 = 0, c1 = 0;
            double tc = 0;
            coordinate(c, c0, c1, tc);
            const double top = src[r0 * from + c0] * (1 - tc) + src[r0 * from + c1] * tc;
            const double bottom = src[r1 * from + c0] * (1 - tc) + src[r1 * from + c1] * tc;
            dst[r * to + c] = static_cast<float>(top * (1 - tr) + bottom * tr);
        }
    }
    return dst;
}

std::vector<float> values_of(const Tensor& t) {
    std::vector<float> v(t.size());
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(t.value().flat(i));
    return v;
}

Tensor image_tensor(const std::vector<float>& v, std::size_t side) {
    return Tensor::from(std::vector<double>(v.begin(), v.end()), {1, 1, side, side});
}

// The model's children 0 .. layer applied in order: the activations deep dream amplifies.
Tensor features(const nn::Sequential& model, const Tensor& x, std::size_t layer) {
    Tensor h = x;
    for (std::size_t i = 0; i <= layer; ++i) h = (*model.children()[i].second)(h);
    return h;
}

double objective_of(const nn::Sequential& model, const std::vector<float>& image, std::size_t side, std::size_t layer) {
    NoGrad no_grad;
    return mean(square(features(model, image_tensor(image, side), layer))).item();
}

bool parse(int argc, char** argv, Options& o) {
    CLI::App app{
        "Deep dream: a Fashion-MNIST test image changed by normalised gradient ascent so that one layer of a "
        "trained CNN responds more strongly (mean of the squared activations), at --octaves scales "
        "(28·k pixels a side for k = 1 .. octaves); writes deep_dream.png (the image and the dream side by "
        "side, equally large).\n"
        "Exit status: 0 ok, 1 an objective that rose by less than --min-factor, a non-finite dream or one "
        "outside [-0.5, 1.5], a classifier parameter with a gradient, growing graph nodes, an unreadable "
        "checkpoint or data, an unwritable PNG, 2 usage (also a --layer at or after the Flatten), 77 no "
        "data directory."};
    app.add_option("--checkpoint", o.checkpoint, "a checkpoint of `adgraph train --model cnn` (or another CNN)")
        ->required();
    app.add_option("--data", o.data, "Fashion-MNIST directory")->capture_default_str();
    app.add_option("--out", o.out, "where deep_dream.png goes")->capture_default_str();
    app.add_option("--image", o.image, "index of the test image")->check(CLI::Range(0, 9999))->capture_default_str();
    app.add_option("--layer", o.layer,
                   "index in the model's Sequential of the layer whose activations are amplified (6: the cnn "
                   "preset's second ReLU, 64 maps at a quarter of the image's size)")
        ->check(CLI::Range(0, 1000))
        ->capture_default_str();
    app.add_option("--octaves", o.octaves, "scales: the image at 28·k pixels a side for k = 1 .. octaves")
        ->check(CLI::Range(1, 8))
        ->capture_default_str();
    app.add_option("--steps", o.steps, "gradient steps per octave")
        ->check(CLI::Range(1, 1000000))
        ->capture_default_str();
    app.add_option("--lr", o.lr, "step size: each step moves the pixels by lr · g / mean|g| (normalised pixels)")
        ->check(CLI::Range(1e-9, 10.0))
        ->capture_default_str();
    app.add_option("--min-factor", o.min_factor,
                   "fail unless the objective on the dream is this many times its value on the resized original")
        ->check(CLI::Range(0.0, 1e9))
        ->capture_default_str();
    app.add_flag("--unclipped", o.unclipped,
                 "let the pixels leave [0, 1] (a few with large gradients then run far: see the range check)");
    app.add_option("--scale", o.scale, "PNG pixels per pixel of the last octave")
        ->check(CLI::Range(1, 64))
        ->capture_default_str();
    app.add_option("--gap", o.gap, "pixels between the two pictures")
        ->check(CLI::Range(0, 1000))
        ->capture_default_str();
    return outlook::parse(app, argc, argv);
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    if (!parse(argc, argv, o)) return 2;
    const nn::Dataset test = outlook::load_split("deep_dream", o.data, nn::Split::test, o.image + 1);
    if (o.image >= test.size()) {
        std::fprintf(stderr, "deep_dream: --image %zu is out of range; the test set has %zu images\n", o.image,
                     test.size());
        return 2;
    }
    const nn::LoadedModel loaded = outlook::load_classifier("deep_dream", o.checkpoint);
    const nn::Sequential& model = *loaded.model;
    if (loaded.input != Shape{1, outlook::side, outlook::side}) {
        std::fprintf(stderr, "deep_dream: the classifier takes rows, not images: %s\n", model.to_string().c_str());
        return 1;
    }
    std::size_t flatten = model.size();
    for (std::size_t i = 0; i < model.size() && flatten == model.size(); ++i)
        if (dynamic_cast<const nn::Flatten*>(model.children()[i].second.get())) flatten = i;
    if (o.layer >= flatten) {
        std::fprintf(stderr,
                     "deep_dream: --layer %zu is not before the model's Flatten (layer %zu); choose one of the "
                     "convolutional part, 0 .. %zu, of %s\n",
                     o.layer, flatten, flatten - 1, model.to_string().c_str());
        return 2;
    }
    const std::string layer_name = model.children()[o.layer].second->to_string();
    std::printf("deep_dream: %s from %s\n  test image #%zu (%s), layer %zu %s, %zu octaves of %zu steps, lr %g\n",
                model.to_string().c_str(), o.checkpoint.c_str(), o.image,
                nn::fashion_mnist_classes()[test.labels[o.image]], o.layer, layer_name.c_str(), o.octaves, o.steps,
                o.lr);

    // The pixel range [0, 1] in normalised pixels: unless --unclipped, every step ends with the image projected
    // into it, as deep dream is usually run; the range check then guards the projection (and finiteness).
    const double lo = outlook::from_unit(Tensor::scalar(0.0)).item(),
                 hi = outlook::from_unit(Tensor::scalar(1.0)).item();
    const std::vector<float> original = values_of(index_select(test.images, 0, {o.image}));
    std::vector<float> detail(original.size(), 0.0f), base = original, dream = original;
    outlook::Probe probe;
    double first_objective = 0, base_objective = 0, dream_objective = 0;
    const auto t0 = std::chrono::steady_clock::now();
    try {
        for (std::size_t k = 1; k <= o.octaves; ++k) {
            const std::size_t side = outlook::side * k, from = outlook::side * (k - 1);
            base = resize_bilinear(original, outlook::side, side);
            if (k > 1) detail = resize_bilinear(detail, from, side);
            std::vector<float> start(base.size());
            for (std::size_t i = 0; i < start.size(); ++i) start[i] = base[i] + detail[i];
            Tensor x = image_tensor(start, side).requires_grad();
            const double before = objective_of(model, start, side, o.layer);
            if (k == 1) first_objective = before;
            // RSS is compared within an octave: a larger image needs larger buffers.
            probe.new_phase("the octave at " + std::to_string(side) + " x " + std::to_string(side));
            for (std::size_t step = 0; step < o.steps; ++step) {
                std::size_t grads_in_model = 0;
                // [dream-step]
                const Tensor objective = mean(square(features(model, x, o.layer)));
                objective.backward();  // d objective / d image; the frozen weights collect nothing
                grads_in_model += outlook::parameters_with_grad(model);
                {
                    NoGrad no_grad;
                    const Tensor g = x.grad();
                    x += o.lr * g / (mean(abs(g)) + 1e-8);        // a step of lr per pixel on average
                    if (!o.unclipped) x += clamp(x, lo, hi) - x;  // back into the pixel range [0, 1]
                }
                x.zero_grad();
                // [/dream-step]
                probe.after_backward(grads_in_model);
                probe.after_step();
            }
            dream = values_of(x);
            for (std::size_t i = 0; i < dream.size(); ++i) detail[i] = dream[i] - base[i];
            base_objective = objective_of(model, base, side, o.layer);
            dream_objective = objective_of(model, dream, side, o.layer);
            std::printf(
                "  octave %zu (%zu x %zu): objective %.4g on the resized original, %.4g at the start, %.4g "
                "after %zu steps; rss %.1f MiB at the end\n",
                k, side, side, base_objective, before, dream_objective, o.steps,
                static_cast<double>(outlook::rss_bytes()) / (1024.0 * 1024.0));
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "deep_dream: %s\n", e.what());
        return 1;
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const std::size_t last = outlook::side * o.octaves;

    int status = 0;
    const double factor = dream_objective / base_objective;
    std::printf(
        "objective of layer %zu: %.4g on the image (28 x 28), %.4g on it resized to %zu x %zu, %.4g on the "
        "dream: a factor %.3g (bar: %g)\n",
        o.layer, first_objective, base_objective, last, last, dream_objective, factor, o.min_factor);
    if (!(factor >= o.min_factor)) {
        std::fprintf(stderr, "deep_dream: FAIL: the objective rose by a factor %.3g < --min-factor %g\n", factor,
                     o.min_factor);
        status = 1;
    }
    const nn::Normalization n;
    double darkest = INFINITY, brightest = -INFINITY;
    bool finite = true;
    for (float v : dream) {
        finite = finite && std::isfinite(v);
        darkest = std::min(darkest, static_cast<double>(v * n.std + n.mean));
        brightest = std::max(brightest, static_cast<double>(v * n.std + n.mean));
    }
    std::printf("dream pixels (in [0, 1] units): %.3f .. %.3f, %s (bar: finite, within [%g, %g])\n", darkest, brightest,
                finite ? "finite" : "NOT finite", sane_lo, sane_hi);
    if (!finite || !(darkest >= sane_lo && brightest <= sane_hi)) {
        std::fprintf(stderr, "deep_dream: FAIL: the dream's pixels are %s, %.3f .. %.3f\n",
                     finite ? "finite" : "not finite", darkest, brightest);
        status = 1;
    }
    std::printf("%zu steps in %.1f s\n", o.octaves * o.steps, seconds);
    if (!probe.report("deep_dream")) status = 1;
    if (!finite) {
        std::fprintf(stderr, "deep_dream: no picture drawn: the dream is not finite\n");
        return 1;
    }

    const std::string png = (fs::path(o.out) / "deep_dream.png").string();
    try {
        std::error_code ec;
        fs::create_directories(o.out, ec);
        nn::write_png(png, nn::tile({outlook::gray_picture(image_tensor(original, outlook::side), o.octaves * o.scale),
                                     outlook::gray_picture(image_tensor(dream, last), o.scale)},
                                    2, o.gap));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "deep_dream: %s\n", e.what());
        return 1;
    }
    std::printf("wrote %s: the test image and its dream, %zu x %zu pixels each\n", png.c_str(), last * o.scale,
                last * o.scale);
    return status;
}
