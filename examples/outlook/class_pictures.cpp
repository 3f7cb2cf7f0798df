// Class pictures: what a trained classifier "thinks" each Fashion-MNIST class looks like. For every class, a
// picture starts as seeded noise and Adam climbs the class's logit (or its log-softmax) with respect to the picture,
// the classifier frozen, held back by an L2 penalty (on pixels in [0, 1]: towards the data's black background) and
// a total-variation penalty, and projected into the pixel range [0, 1] after every step; the ten pictures go into
// one grid, class_pictures.png, each drawn with its own range stretched to black .. white.
// Self-check, per class: the target logit rises from the starting noise's by at least --margin and the classifier's
// argmax on the final picture is the target class. Also: no classifier parameter holds a gradient after any
// backward pass, and the live graph nodes do not grow between steps (the memory report at the end).
#include <CLI/CLI.hpp>

#include <adgraph/adgraph.hpp>
#include <adgraph/nn/optim.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "dream_checks.hpp"
#include "support.hpp"

using namespace adg;
namespace fs = std::filesystem;

namespace {

struct Options {
    std::string checkpoint, out = ".", objective = "logit";
    std::size_t steps = 300, scale = 4, gap = 4;
    double lr = 0.05, l2 = 5.0, tv = 60.0, noise = 0.2, margin = 2.0;
    std::uint64_t seed = 1;
    bool unclipped = false, unfrozen = false;
};

// Total variation of (N, 1, 28, 28) pictures in its squared form: the mean squared difference of neighbours, down
// and across. Noise pays for every jump; a garment's smooth regions pay little. (The absolute form, tried too,
// gave flat blocks with sharp speckles instead of shapes.)
Tensor total_variation(const Tensor& x) {
    const std::size_t s = outlook::side;
    return mean(square(slice(x, 2, 1, s) - slice(x, 2, 0, s - 1))) +
           mean(square(slice(x, 3, 1, s) - slice(x, 3, 0, s - 1)));
}

struct ClassResult {
    double start_logit = 0, final_logit = 0, target_softmax = 0;
    std::size_t argmax = 0;
    nn::Image picture;  // an image, not a tensor: the results kept must not add graph nodes
};

// The logits of one input (no graph recorded).
Tensor logits_of(nn::Module& model, const Tensor& x) {
    NoGrad no_grad;
    return model(x.detach());
}

bool parse(int argc, char** argv, Options& o) {
    CLI::App app{
        "Class pictures: for every Fashion-MNIST class, gradient ascent on an input picture (from seeded "
        "noise) of the class's logit in a trained classifier, with L2 and total-variation penalties; writes "
        "class_pictures.png (the classes in a grid, 5 per row, in class order).\n"
        "Exit status: 0 ok, 1 a class whose logit rose by less than --margin or that is not the "
        "classifier's choice on its picture, a classifier parameter with a gradient, growing graph nodes, an "
        "unreadable checkpoint or an unwritable PNG, 2 usage."};
    app.add_option("--checkpoint", o.checkpoint, "a checkpoint of `adgraph train` (e.g. --model cnn)")->required();
    app.add_option("--out", o.out, "where class_pictures.png goes")->capture_default_str();
    app.add_option("--steps", o.steps, "Adam steps per class")->check(CLI::Range(0, 1000000))->capture_default_str();
    app.add_option("--lr", o.lr, "Adam learning rate (normalised pixels)")
        ->check(CLI::Range(1e-9, 100.0))
        ->capture_default_str();
    app.add_option("--l2", o.l2,
                   "weight of the mean squared pixel in [0, 1] (pulls towards black, the background of the data)")
        ->check(CLI::Range(0.0, 1e6))
        ->capture_default_str();
    app.add_option("--tv", o.tv, "weight of the total variation (mean squared neighbour difference, both axes)")
        ->check(CLI::Range(0.0, 1e6))
        ->capture_default_str();
    app.add_option("--noise", o.noise, "standard deviation of the starting noise (normalised pixels)")
        ->check(CLI::Range(0.0, 10.0))
        ->capture_default_str();
    app.add_option("--margin", o.margin, "fail if a target logit rises by less than this over its starting noise's")
        ->check(CLI::Range(-1e9, 1e9))
        ->capture_default_str();
    app.add_option("--objective", o.objective,
                   "what is climbed: the target's logit (the unnormalised score), or its log-softmax, which also "
                   "pushes the other classes down (a weak classifier's logits may all rise together)")
        ->check(CLI::IsMember({"logit", "log-softmax"}))
        ->capture_default_str();
    app.add_flag("--unclipped", o.unclipped,
                 "leave the pictures outside the pixel range [0, 1] (a weak classifier may need more contrast than "
                 "real pixels have)");
    app.add_flag("--unfrozen", o.unfrozen,
                 "let the classifier's parameters require grad again (shows the no-gradient check failing: the "
                 "sweep then fills their gradients too)");
    app.add_option("--seed", o.seed, "seed of the starting noise")->capture_default_str();
    app.add_option("--scale", o.scale, "PNG pixels per picture pixel")->check(CLI::Range(1, 64))->capture_default_str();
    app.add_option("--gap", o.gap, "pixels between the pictures")->check(CLI::Range(0, 1000))->capture_default_str();
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
    nn::LoadedModel loaded = outlook::load_classifier("class_pictures", o.checkpoint);
    nn::Module& model = *loaded.model;
    if (o.unfrozen) model.requires_grad(true);
    std::size_t pixels = 1;
    for (std::size_t d : loaded.input) pixels *= d;
    if (pixels != outlook::side * outlook::side) {
        std::fprintf(stderr, "class_pictures: the classifier takes %zu values, not a 28 x 28 picture\n", pixels);
        return 1;
    }
    Shape shape{1};
    shape.insert(shape.end(), loaded.input.begin(), loaded.input.end());
    const auto& names = nn::fashion_mnist_classes();
    std::printf(
        "class_pictures: %s from %s\n  climbing the %s, Adam lr %g, %zu steps per class, l2 %g, tv %g, noise "
        "%g, %s, seed %llu\n",
        model.to_string().c_str(), o.checkpoint.c_str(), o.objective.c_str(), o.lr, o.steps, o.l2, o.tv, o.noise,
        o.unclipped ? "unclipped" : "clipped to [0, 1]", static_cast<unsigned long long>(o.seed));

    // The pixel range [0, 1] in normalised pixels: every step ends with the picture projected into it (unless
    // --unclipped).
    const double lo = outlook::from_unit(Tensor::scalar(0.0)).item(),
                 hi = outlook::from_unit(Tensor::scalar(1.0)).item();
    Generator gen(o.seed);
    outlook::StepWatch watch;
    std::size_t grads_in_model = 0;
    std::vector<ClassResult> results(names.size());
    const auto t0 = std::chrono::steady_clock::now();
    try {
        for (std::size_t c = 0; c < names.size(); ++c) {
            Tensor x = Tensor::normal(shape, 0.0, o.noise, gen).requires_grad();
            results[c].start_logit = logits_of(model, x).item(0, c);
            nn::Adam opt({{"x", x}}, nn::AdamOptions{o.lr});
            for (std::size_t step = 0; step < o.steps; ++step) {
                // [class-step]
                const Tensor picture = reshape(x, {1, 1, outlook::side, outlook::side});
                const Tensor out = o.objective == "logit" ? model(x) : log_softmax(model(x), 1);
                const Tensor score = select(out, 1, static_cast<long>(c));  // (1): the target's score
                const Tensor loss =
                    -sum(score) + o.l2 * mean(square(outlook::to_unit(x))) + o.tv * total_variation(picture);
                loss.backward();  // reaches x only: the classifier's parameters are frozen
                grads_in_model += outlook::parameters_with_grad(model);
                opt.step();
                opt.zero_grad();
                if (!o.unclipped) {
                    NoGrad no_grad;
                    x += clamp(x, lo, hi) - x;  // projected back into the pixel range [0, 1]
                }
                // [/class-step]
                watch.after_step();
            }
            const Tensor logits = logits_of(model, x);
            results[c].final_logit = logits.item(0, c);
            results[c].target_softmax = softmax(logits, 1).item(0, c);
            results[c].argmax = static_cast<std::size_t>(argmax(logits, 1).item(0));
            // Drawn with its own range stretched to black .. white: the penalties keep the pictures dim.
            results[c].picture = nn::upscale(
                nn::to_gray(reshape(x.detach(), {outlook::side, outlook::side}), nn::GrayScale::min_max), o.scale);
        }
    } catch (const error& e) {
        std::fprintf(stderr, "class_pictures: %s\n", e.what());
        return 1;
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    int status = 0;
    std::printf("%-12s %10s %10s %8s %9s  %s\n", "class", "start", "final", "rise", "softmax", "argmax");
    for (std::size_t c = 0; c < names.size(); ++c) {
        const ClassResult& r = results[c];
        const double rise = r.final_logit - r.start_logit;
        const bool ok = rise >= o.margin && r.argmax == c;
        std::printf("%-12s %10.3f %10.3f %8.3f %9.4f  %s%s\n", names[c], r.start_logit, r.final_logit, rise,
                    r.target_softmax, names[r.argmax], ok ? "" : "  <- FAIL");
        if (!(rise >= o.margin)) {
            std::fprintf(stderr, "class_pictures: FAIL: %s: the target logit's rise %.3f < --margin %.3f\n", names[c],
                         rise, o.margin);
            status = 1;
        }
        if (r.argmax != c) {
            std::fprintf(stderr, "class_pictures: FAIL: %s: the classifier's argmax on its picture is %s\n", names[c],
                         names[r.argmax]);
            status = 1;
        }
    }
    std::printf("%zu steps in %.1f s\n", names.size() * o.steps, seconds);
    std::printf("classifier parameters holding a gradient after backward: %zu\n", grads_in_model);
    if (grads_in_model != 0) {
        std::fprintf(stderr, "class_pictures: FAIL: the frozen classifier's parameters collected gradients\n");
        status = 1;
    }
    if (!watch.report("class_pictures")) status = 1;

    std::vector<nn::Image> cells;
    for (const ClassResult& r : results) cells.push_back(r.picture);
    const std::string png = (fs::path(o.out) / "class_pictures.png").string();
    try {
        std::error_code ec;
        fs::create_directories(o.out, ec);
        nn::write_png(png, nn::tile(cells, 5, o.gap));
    } catch (const error& e) {
        std::fprintf(stderr, "class_pictures: %s\n", e.what());
        return 1;
    }
    std::printf("wrote %s: row 1 %s, %s, %s, %s, %s; row 2 %s, %s, %s, %s, %s\n", png.c_str(), names[0], names[1],
                names[2], names[3], names[4], names[5], names[6], names[7], names[8], names[9]);
    return status;
}
