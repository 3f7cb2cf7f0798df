// Neural style transfer (Gatys, Ecker and Bethge, 2015): an image with the content of one picture and the style
// of another, found by optimising the image itself. Content is one layer's feature maps, each less its mean over
// the image (where things are); style is the Gram matrices of four layers' features (which textures and colours
// occur, wherever they are); a small smoothness term keeps pixel noise out. The features come from a small
// convolutional network with fixed random weights (style_features.hpp): nothing to download or train. The
// pictures are PNG files or ImageMagick's built-in images (wizard:, plasma:, rose:, ...), made by convert.
//
// The image is x = sigmoid(z) with z unconstrained (so x stays in (0, 1) without clipping), z starts at the content
// picture (or noise, --init) and Adam moves z. Writes style_transfer.png: content | style | result.
//
// Self-check (exit 1 if any fails): the total loss falls by --min-factor; the result's style loss is --min-factor
// below the content picture's (it took on the style) and its content loss --min-factor below the style picture's
// (it kept the content rather than becoming the style picture); the network's weights got no gradient; the
// graph's live nodes do not grow between steps. With --steps 0 the first two fail.
#include <CLI/CLI.hpp>

#include <adgraph/adgraph.hpp>
#include <adgraph/nn/optim.hpp>
#include <adgraph/nn/png.hpp>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <string>
#include <vector>

#include "command_line.hpp"
#include "style_features.hpp"
#include "style_images.hpp"
#include "support.hpp"

using namespace adg;
namespace fs = std::filesystem;

namespace {

struct Options {
    std::string content = "wizard:", style = "plasma:", out = ".", init = "content";
    std::size_t size = 128, steps = 600, width = 16, scale = 3, report = 100;
    double lr = 0.05, style_weight = 1.0, tv_weight = 3.0, min_factor = 5.0;
    std::uint64_t seed = 1;
};

// The level whose maps are the content: 1/4 resolution, coarse enough to leave the texture free.
constexpr std::size_t content_level = 2;

// What the image is compared with: the content picture's maps at content_level and the style picture's Gram
// matrices, and the mean square of each (dividing by it makes every loss a relative error, so the levels weigh
// alike and the numbers mean the same at any size).
struct Targets {
    Tensor content;
    double content_scale = 1;
    std::vector<Tensor> grams;
    std::vector<double> gram_scales;
};

struct Losses {
    Tensor content, style, smooth, total;
};

// The mean square difference of neighbouring pixels (total variation, squared): random features barely see
// pixel-level colour noise, so without it the result is speckled.
Tensor roughness(const Tensor& x) {
    const std::size_t h = x.shape()[2], w = x.shape()[3];
    return mean(square(slice(x, 2, 1, h) - slice(x, 2, 0, h - 1))) +
           mean(square(slice(x, 3, 1, w) - slice(x, 3, 0, w - 1)));
}

// Feature maps less each channel's mean over the image: where things are, without the overall statistics that
// are the style's to change.
Tensor layout(const Tensor& f) { return f - mean(f, {2, 3}, true); }

Targets make_targets(const style::RandomFeatures& net, const Tensor& content, const Tensor& style_image) {
    NoGrad no_grad;
    Targets t;
    t.content = layout(net(content)[content_level]);
    t.content_scale = mean(square(t.content)).item();
    for (const Tensor& f : net(style_image)) {
        t.grams.push_back(style::gram(f));
        t.gram_scales.push_back(mean(square(t.grams.back())).item());
    }
    return t;
}

// [style-loss]
// Content: the feature maps of one level against the content picture's. Style: the Gram matrices of every level
// against the style picture's. Each a mean square, relative to its target's; and a little smoothness.
Losses losses(const style::RandomFeatures& net, const Targets& t, const Tensor& image, const Options& o) {
    const std::vector<Tensor> f = net(image);
    Losses l;
    l.content = mean(square(layout(f[content_level]) - t.content)) / t.content_scale;
    l.style = Tensor::scalar(0.0);
    for (std::size_t level = 0; level < f.size(); ++level) {
        l.style = l.style + mean(square(style::gram(f[level]) - t.grams[level])) / t.gram_scales[level];
    }
    l.style = l.style / static_cast<double>(f.size());
    l.smooth = roughness(image);
    l.total = l.content + l.style * o.style_weight + l.smooth * o.tv_weight;
    return l;
}
// [/style-loss]

struct Measured {
    double content = 0, style = 0, total = 0;
};

Measured measure(const style::RandomFeatures& net, const Targets& t, const Tensor& image, const Options& o) {
    NoGrad no_grad;
    const Losses l = losses(net, t, image, o);
    return {l.content.item(), l.style.item(), l.total.item()};
}

// The logit of x, clamped away from 0 and 1 so it is finite.
Tensor logit(const Tensor& x) {
    const Tensor p = clamp(x, 0.01, 0.99);
    return log(p / (1.0 - p));
}

bool parse(int argc, char** argv, Options& o) {
    CLI::App app{
        "Neural style transfer (Gatys et al.) with a random convolutional network as the feature extractor; writes "
        "style_transfer.png (content | style | result).\n"
        "Exit status: 0 ok, 1 a self-check failed or a runtime error, 2 usage, 77 ImageMagick's convert is missing "
        "(unless ADGRAPH_REQUIRE_IMAGEMAGICK=1)."};
    // A name ending in ':' must be one of the built-ins style_images.hpp lists: nothing else reaches convert.
    const CLI::Validator picture(style::refusal, "PNG or BUILT-IN:");
    app.add_option("--content", o.content, "the content picture: a PNG file or an ImageMagick built-in such as rose:")
        ->check(picture)
        ->capture_default_str();
    app.add_option("--style", o.style, "the style picture: a PNG file or an ImageMagick built-in such as granite:")
        ->check(picture)
        ->capture_default_str();
    app.add_option("--out", o.out, "where style_transfer.png goes")->capture_default_str();
    app.add_option("--size", o.size, "working side in pixels (a multiple of 8)")
        ->check(CLI::Range(16, 512))
        ->check(CLI::Validator([](const std::string& s) { return std::stoul(s) % 8 ? "must be a multiple of 8" : ""; },
                               "multiple of 8"))
        ->capture_default_str();
    app.add_option("--steps", o.steps, "Adam steps on the image")->check(CLI::Range(0, 1000000))->capture_default_str();
    app.add_option("--lr", o.lr, "Adam learning rate (on the logits of the pixels)")
        ->check(CLI::Range(1e-6, 10.0))
        ->capture_default_str();
    app.add_option("--style-weight", o.style_weight, "weight of the style loss (the content loss has weight 1)")
        ->check(CLI::Range(1e-6, 1e6))
        ->capture_default_str();
    app.add_option("--tv-weight", o.tv_weight, "weight of the mean square difference of neighbouring pixels")
        ->check(CLI::Range(0.0, 1e6))
        ->capture_default_str();
    app.add_option("--init", o.init, "start from the content picture or from noise")
        ->check(CLI::IsMember({"content", "noise"}))
        ->capture_default_str();
    app.add_option("--width", o.width, "random filters per kernel size in the first layer")
        ->check(CLI::Range(1, 256))
        ->capture_default_str();
    app.add_option("--seed", o.seed, "seed of the random filters and the noise")->capture_default_str();
    app.add_option("--scale", o.scale, "pixels per image pixel in the PNG")
        ->check(CLI::Range(1, 16))
        ->capture_default_str();
    app.add_option("--report", o.report, "print the losses every N steps")
        ->check(CLI::Range(1, 1000000))
        ->capture_default_str();
    app.add_option("--min-factor", o.min_factor,
                   "the factor by which the total loss must fall, and the result's style (content) loss lie below "
                   "the content (style) picture's")
        ->check(CLI::Range(1.0, 1e9))
        ->capture_default_str();
    return outlook::parse(app, argc, argv);
}

// A directory for convert's output, removed with everything in it when the program leaves its scope (also on an
// exception). Under $TMPDIR (or /tmp) if that is usable, else under --out.
class ScratchDirectory {
public:
    explicit ScratchDirectory(const std::string& out) {
        std::error_code ec;
        fs::path base = fs::temp_directory_path(ec);  // throws without ec if $TMPDIR does not exist
        if (ec) {
            fs::create_directories(out, ec);
            base = fs::absolute(out, ec);
        }
        std::string path = (base / "style_transfer-XXXXXX").string();
        if (!::mkdtemp(path.data())) {
            throw io_error("cannot create a scratch directory '" + path + "' for convert: " + std::strerror(errno) +
                           "; set TMPDIR to a writable directory");
        }
        path_ = path;
    }
    ~ScratchDirectory() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    ScratchDirectory(const ScratchDirectory&) = delete;
    ScratchDirectory& operator=(const ScratchDirectory&) = delete;
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

// Transfers the style and checks the result; 0 if every check holds, else 1.
int run(const Options& o, const Tensor& content, const Tensor& style_image) {
    const auto t0 = std::chrono::steady_clock::now();
    const style::RandomFeatures net(o.width, o.seed);
    const Targets targets = make_targets(net, content, style_image);
    Generator gen(o.seed + 1);
    const Tensor start = o.init == "content" ? content : Tensor::uniform(content.shape(), 0.25, 0.75, gen);
    Tensor z = logit(start).detach().requires_grad();
    nn::Adam opt({{"image", z}}, nn::AdamOptions{o.lr});

    const Measured first = measure(net, targets, sigmoid(z), o);
    const Measured content_ref = measure(net, targets, content, o);
    const Measured style_ref = measure(net, targets, style_image, o);
    std::printf(
        "style_transfer: content %s, style %s, %zu x %zu, %zu steps of Adam (lr %g) from the %s, style "
        "weight %g, %zu random filters of 3x3, 5x5 and 7x7, seed %llu\n",
        o.content.c_str(), o.style.c_str(), o.size, o.size, o.steps, o.lr, o.init.c_str(), o.style_weight, o.width,
        static_cast<unsigned long long>(o.seed));

    // The steps: a graph per step, released before the next; the live nodes and RSS between steps must not grow.
    outlook::Probe probe("feature network", 5);
    for (std::size_t step = 1; step <= o.steps; ++step) {
        {
            const Losses l = losses(net, targets, sigmoid(z), o);
            l.total.backward();
            probe.after_backward(outlook::parameters_with_grad(net.weights()));
            opt.step();
            opt.zero_grad();
            if (step % o.report == 0 || step == o.steps) {
                std::printf("  step %6zu  total %.5f  content %.5f  style %.5f  rss %.1f MiB  %.1f s\n", step,
                            l.total.item(), l.content.item(), l.style.item(), outlook::rss_bytes() / 1048576.0,
                            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
                std::fflush(stdout);
            }
        }
        probe.after_step();  // the end RSS is taken at the last step, before the picture is drawn
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const Tensor result = sigmoid(z).detach();
    const Measured last = measure(net, targets, result, o);

    std::error_code ec;
    fs::create_directories(o.out, ec);
    const std::string png = (fs::path(o.out) / "style_transfer.png").string();
    const auto picture = [&](const Tensor& x) {
        return nn::upscale(outlook::rgb_picture(reshape(x, {3, o.size, o.size})), o.scale);
    };
    nn::write_png(png, nn::tile({picture(content), picture(style_image), picture(result)}, 3, 8));
    std::printf("wrote %s: content | style | result (%.1f s)\n", png.c_str(), seconds);

    std::printf("                      content loss  style loss  total\n");
    std::printf("  content picture     %12.5f  %10.5f  %.5f\n", content_ref.content, content_ref.style,
                content_ref.total);
    std::printf("  style picture       %12.5f  %10.5f  %.5f\n", style_ref.content, style_ref.style, style_ref.total);
    std::printf("  start (%-7s)     %12.5f  %10.5f  %.5f\n", o.init.c_str(), first.content, first.style, first.total);
    std::printf("  result              %12.5f  %10.5f  %.5f\n", last.content, last.style, last.total);
    int status = probe.report("style_transfer") ? 0 : 1;
    const auto check = [&](bool ok, const char* what, double measured, double bar) {
        std::printf("%s: %s: %.4g (bar %.4g)\n", ok ? "ok" : "FAIL", what, measured, bar);
        if (!ok) status = 1;
    };
    check(last.total * o.min_factor <= first.total, "total loss fell by a factor", first.total / last.total,
          o.min_factor);
    check(last.style * o.min_factor <= content_ref.style, "style loss: the content picture's / the result's",
          content_ref.style / last.style, o.min_factor);
    check(last.content * o.min_factor <= style_ref.content, "content loss: the style picture's / the result's",
          style_ref.content / last.content, o.min_factor);
    return status;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    if (!parse(argc, argv, o)) return 2;
    const char* require = std::getenv("ADGRAPH_REQUIRE_IMAGEMAGICK");
    const bool required = require && std::string(require) == "1";
    int status = 0;
    try {
        style::Converter convert;
        if ((style::is_builtin(o.content) || style::is_builtin(o.style)) && !convert.available) {
            std::fprintf(
                stderr, "style_transfer: %s; the built-in pictures need ImageMagick (Debian package `imagemagick`)%s\n",
                convert.found.c_str(), required ? "" : ": skipped");
            return required ? 1 : 77;
        }
        Tensor content, style_image;
        {
            const ScratchDirectory scratch(o.out);
            content = style::load_picture(o.content, o.size, scratch.path(), convert);
            style_image = style::load_picture(o.style, o.size, scratch.path(), convert);
        }
        status = run(o, content, style_image);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "style_transfer: %s\n", e.what());
        return 1;
    }
    return status;
}
