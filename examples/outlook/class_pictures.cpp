// Class pictures: what a trained classifier "thinks" each Fashion-MNIST class looks like. For every class, a picture
// starts as seeded noise (or smoothed noise, or the data's mean image) and Adam climbs the class's logit (or its
// log-softmax) with respect to the picture, the classifier frozen, held back by an L2 penalty (on pixels in [0, 1]:
// towards the data's black background) and a total-variation penalty, and projected into the pixel range [0, 1] after
// every step. Without more, the climb finds high-frequency patterns rather than shapes; two regularisers make the
// pictures more like garments: each step scores a few copies of the picture shifted by random pixels (jitter, made of
// pad and slice so the gradient flows through it), and every few steps the picture is blurred by a fixed Gaussian (a
// conv2d outside the graph). The ten pictures go into one grid, class_pictures.png, each drawn with its own range
// stretched to black .. white.
// How garment-like they are is measured, not only looked at: the correlation of each picture with its class's mean
// training image (and whether that class mean is the nearest of the ten), and, with --judge, the confidence of a
// second, independently trained classifier (a picture that fools only the first is an adversarial pattern).
// Self-check, per class: the target logit rises from the starting picture's by at least --margin and the classifier's
// argmax on the final picture is the target class; over all classes, the mean correlation with the own class mean is at
// least --min-correlation, at least --min-nearest pictures are nearest their own class mean, and the judge picks the
// target on at least --min-judge. Also: no classifier parameter holds a gradient after any backward pass, and the live
// graph nodes do not grow between steps (the memory report).
#include <CLI/CLI.hpp>

#include <adgraph/adgraph.hpp>
#include <adgraph/nn/optim.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "command_line.hpp"
#include "support.hpp"

using namespace adg;
namespace fs = std::filesystem;

namespace {

constexpr std::size_t side = outlook::side;

struct Options {
    std::string checkpoint, judge, data = nn::default_fashion_mnist_dir, out = ".", objective = "logit",
                                   start = "noise";
    std::size_t steps = 300, scale = 4, gap = 4, jitter = 1, copies = 4, blur_every = 2, limit = 10000;
    std::size_t min_nearest = 0, min_judge = 0;
    double lr = 0.05, l2 = 5.0, tv = 60.0, noise = 0.2, margin = 2.0, blur_sigma = 0.5, min_correlation = -1.0;
    std::uint64_t seed = 1;
    bool unclipped = false, unfrozen = false;
};

// Total variation of (N, 1, 28, 28) pictures in its squared form: the mean squared difference of neighbours, down
// and across. Noise pays for every jump; a garment's smooth regions pay little. (The absolute form, tried too,
// gave flat blocks with sharp speckles instead of shapes.)
Tensor total_variation(const Tensor& x) {
    return mean(square(slice(x, 2, 1, side) - slice(x, 2, 0, side - 1))) +
           mean(square(slice(x, 3, 1, side) - slice(x, 3, 0, side - 1)));
}

// A (1, 1, 28, 28) picture in [0, 1] moved by (dy, dx) pixels, |dy|, |dx| <= reach, the uncovered border black (the
// data's background): pad with zeros, then cut the 28 x 28 window out. Both are graph ops, so the gradient reaches
// the picture.
Tensor shifted(const Tensor& unit, long dy, long dx, std::size_t reach) {
    const std::size_t wide = side + 2 * reach;
    const Tensor padded = pad(pad(unit, 2, reach, wide), 3, reach, wide);
    const auto at = [&](long d) { return static_cast<std::size_t>(static_cast<long>(reach) - d); };
    return slice(slice(padded, 2, at(dy), at(dy) + side), 3, at(dx), at(dx) + side);
}

// Jitter: `copies` copies of the picture x (normalised pixels, the classifier's input shape with a batch of 1),
// each shifted by random whole pixels in [-reach, reach], as a batch of the classifier's input shape. The
// classifier scores the picture wherever it sits, so a pattern that needs exact pixel positions scores less.
Tensor jittered(const Tensor& x, std::size_t reach, std::size_t copies, std::mt19937_64& rng, const Shape& input) {
    Shape batch{copies};
    batch.insert(batch.end(), input.begin(), input.end());
    if (reach == 0 && copies == 1) return reshape(x, batch);
    std::uniform_int_distribution<long> offset(-static_cast<long>(reach), static_cast<long>(reach));
    const Tensor unit = reshape(outlook::to_unit(x), {1, 1, side, side});
    std::vector<Tensor> moved;
    for (std::size_t k = 0; k < copies; ++k) {
        const long dy = offset(rng), dx = offset(rng);
        moved.push_back(shifted(unit, dy, dx, reach));
    }
    return reshape(outlook::from_unit(concat(moved, 0)), batch);
}

// A normalised Gaussian of standard deviation sigma as a (1, 1, k, k) conv2d kernel, k = 2 ceil(2 sigma) + 1.
Tensor gaussian_kernel(double sigma) {
    const long r = static_cast<long>(std::ceil(2.0 * sigma));
    const std::size_t k = static_cast<std::size_t>(2 * r + 1);
    std::vector<double> w;
    double total = 0;
    for (long i = -r; i <= r; ++i)
        for (long j = -r; j <= r; ++j) {
            w.push_back(std::exp(-static_cast<double>(i * i + j * j) / (2.0 * sigma * sigma)));
            total += w.back();
        }
    for (double& v : w) v /= total;
    return Tensor::from(w, {1, 1, k, k});
}

// The picture x (normalised pixels) blurred by `kernel` in pixel space, the border black; no graph recorded.
Tensor blurred(const Tensor& x, const Tensor& kernel) {
    NoGrad no_grad;
    const Tensor unit = reshape(outlook::to_unit(x.detach()), {1, 1, side, side});
    const Tensor out = conv2d(unit, kernel, Tensor(), 1, kernel.shape()[2] / 2);
    return reshape(outlook::from_unit(out), x.shape());
}

// Pearson correlation of two equally long runs of values.
double correlation(const std::vector<double>& a, const std::vector<double>& b) {
    const double n = static_cast<double>(a.size());
    double ma = 0, mb = 0;
    for (std::size_t i = 0; i < a.size(); ++i) ma += a[i] / n, mb += b[i] / n;
    double ab = 0, aa = 0, bb = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        ab += (a[i] - ma) * (b[i] - mb);
        aa += (a[i] - ma) * (a[i] - ma);
        bb += (b[i] - mb) * (b[i] - mb);
    }
    return aa > 0 && bb > 0 ? ab / std::sqrt(aa * bb) : 0.0;
}

// A picture (normalised pixels) as 784 values in [0, 1].
std::vector<double> unit_pixels(const Tensor& x) {
    NoGrad no_grad;
    const Tensor unit = outlook::to_unit(x.detach());
    std::vector<double> v(unit.size());
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = unit.value().flat(i);
    return v;
}

// What the pictures are compared with: the mean training image of every class (pixels in [0, 1]) and of all.
struct Means {
    std::vector<std::vector<double>> of_class;
    std::vector<double> all;
};

Means class_means(const nn::Dataset& train) {
    Means m{std::vector<std::vector<double>>(train.classes, std::vector<double>(side * side)),
            std::vector<double>(side * side)};
    std::vector<double> count(train.classes);
    const std::vector<double> unit = unit_pixels(train.images);
    for (std::size_t i = 0; i < train.size(); ++i) {
        count[train.labels[i]] += 1;
        for (std::size_t p = 0; p < side * side; ++p) {
            m.of_class[train.labels[i]][p] += unit[i * side * side + p];
            m.all[p] += unit[i * side * side + p] / static_cast<double>(train.size());
        }
    }
    for (std::size_t c = 0; c < train.classes; ++c)
        for (double& v : m.of_class[c]) v /= std::max(count[c], 1.0);
    return m;
}

// How like its class a picture is: its correlation with each class mean, the target's, and the nearest class mean.
struct Likeness {
    double own = 0;
    std::size_t nearest = 0;
};

Likeness likeness(const Tensor& x, const Means& means, std::size_t target) {
    const std::vector<double> v = unit_pixels(x);
    Likeness l;
    double best = -2;
    for (std::size_t c = 0; c < means.of_class.size(); ++c) {
        const double r = correlation(v, means.of_class[c]);
        if (c == target) l.own = r;
        if (r > best) best = r, l.nearest = c;
    }
    return l;
}

struct ClassResult {
    double start_logit = 0, final_logit = 0, target_softmax = 0, judge_softmax = 0;
    std::size_t argmax = 0, judge_argmax = 0;
    Likeness start, end;
    nn::Image picture;  // an image, not a tensor: the results kept must not add graph nodes
};

// The logits of one picture (normalised pixels, any shape of 784 values) for a classifier taking `input`.
Tensor logits_of(nn::Module& model, const Shape& input, const Tensor& x) {
    NoGrad no_grad;
    return model(outlook::as_model_input(reshape(x.detach(), {1, side * side}), input));
}

bool parse(int argc, char** argv, Options& o) {
    CLI::App app{
        "Class pictures: for every Fashion-MNIST class, gradient ascent on an input picture (from seeded "
        "noise) of the class's logit in a trained classifier, with L2 and total-variation penalties, jitter and "
        "blur; writes class_pictures.png (the classes in a grid, 5 per row, in class order) and measures how like "
        "the classes the pictures are (correlation with the class mean images, a second classifier's verdict).\n"
        "Exit status: 0 ok, 1 a class whose logit rose by less than --margin or that is not the "
        "classifier's choice on its picture, a likeness below --min-correlation / --min-nearest / --min-judge, a "
        "classifier "
        "parameter with a gradient, growing graph nodes, an unreadable checkpoint or an unwritable PNG, 2 usage, "
        "77 no Fashion-MNIST."};
    app.add_option("--checkpoint", o.checkpoint, "a checkpoint of `adgraph train` (e.g. --model cnn)")->required();
    app.add_option("--judge", o.judge,
                   "a second, independently trained checkpoint whose confidence on the pictures is reported");
    app.add_option("--data", o.data, "Fashion-MNIST directory (the class mean images)")->capture_default_str();
    app.add_option("--limit", o.limit, "training images averaged into the class means (0: all)")
        ->check(CLI::Range(0, 1000000))
        ->capture_default_str();
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
    app.add_option("--jitter", o.jitter, "each step shifts the picture by up to this many pixels, at random")
        ->check(CLI::Range(0, 8))
        ->capture_default_str();
    app.add_option("--copies", o.copies, "jittered copies scored per step (their mean score is climbed)")
        ->check(CLI::Range(1, 64))
        ->capture_default_str();
    app.add_option("--blur-every", o.blur_every, "blur the picture every this many steps (0: never)")
        ->check(CLI::Range(0, 1000000))
        ->capture_default_str();
    app.add_option("--blur-sigma", o.blur_sigma, "standard deviation of that Gaussian blur, in pixels")
        ->check(CLI::Range(0.1, 3.0))
        ->capture_default_str();
    app.add_option("--start", o.start,
                   "the starting picture: seeded noise, smoothed noise, or the mean training image plus noise")
        ->check(CLI::IsMember({"noise", "smooth", "mean"}))
        ->capture_default_str();
    app.add_option("--noise", o.noise, "standard deviation of the starting noise (normalised pixels)")
        ->check(CLI::Range(0.0, 10.0))
        ->capture_default_str();
    app.add_option("--margin", o.margin, "fail if a target logit rises by less than this over its starting picture's")
        ->check(CLI::Range(-1e9, 1e9))
        ->capture_default_str();
    app.add_option("--min-correlation", o.min_correlation,
                   "fail if the pictures' mean correlation with their own class's mean image is below this")
        ->check(CLI::Range(-1.0, 1.0))
        ->capture_default_str();
    app.add_option("--min-nearest", o.min_nearest,
                   "fail if fewer pictures than this correlate best with their own class's mean image")
        ->check(CLI::Range(0, 10))
        ->capture_default_str();
    app.add_option("--min-judge", o.min_judge, "fail if the --judge picks the target on fewer pictures than this")
        ->check(CLI::Range(0, 10))
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
    app.add_option("--seed", o.seed, "seed of the starting noise and the jitter")->capture_default_str();
    app.add_option("--scale", o.scale, "PNG pixels per picture pixel")->check(CLI::Range(1, 64))->capture_default_str();
    app.add_option("--gap", o.gap, "pixels between the pictures")->check(CLI::Range(0, 1000))->capture_default_str();
    if (!outlook::parse(app, argc, argv)) return false;
    if (o.min_judge > 0 && o.judge.empty()) {
        std::fprintf(stderr, "class_pictures: --min-judge needs a --judge\n");
        return false;
    }
    return true;
}

// The classifier at `path`, checked to take one 28 x 28 picture; exits 1 otherwise.
nn::LoadedModel load_picture_classifier(const std::string& path) {
    nn::LoadedModel loaded = outlook::load_classifier("class_pictures", path);
    std::size_t pixels = 1;
    for (std::size_t d : loaded.input) pixels *= d;
    if (pixels != side * side) {
        std::fprintf(stderr, "class_pictures: %s takes %zu values, not a 28 x 28 picture\n", path.c_str(), pixels);
        std::exit(1);
    }
    return loaded;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    if (!parse(argc, argv, o)) return 2;
    nn::LoadedModel loaded = load_picture_classifier(o.checkpoint);
    nn::Module& model = *loaded.model;
    if (o.unfrozen) model.requires_grad(true);
    std::optional<nn::LoadedModel> judge;
    if (!o.judge.empty()) judge = load_picture_classifier(o.judge);
    const Means means = class_means(outlook::load_split("class_pictures", o.data, nn::Split::train, o.limit));
    Shape shape{1};
    shape.insert(shape.end(), loaded.input.begin(), loaded.input.end());
    const auto& names = nn::fashion_mnist_classes();
    std::printf(
        "class_pictures: %s from %s\n  climbing the %s, Adam lr %g, %zu steps per class, l2 %g, tv %g, jitter %zu "
        "px x %zu copies, blur sigma %g every %zu steps, start %s (noise %g), %s, seed %llu\n",
        model.to_string().c_str(), o.checkpoint.c_str(), o.objective.c_str(), o.lr, o.steps, o.l2, o.tv, o.jitter,
        o.copies, o.blur_sigma, o.blur_every, o.start.c_str(), o.noise, o.unclipped ? "unclipped" : "clipped to [0, 1]",
        static_cast<unsigned long long>(o.seed));

    // The pixel range [0, 1] in normalised pixels: every step ends with the picture projected into it (unless
    // --unclipped).
    const double lo = outlook::from_unit(Tensor::scalar(0.0)).item(),
                 hi = outlook::from_unit(Tensor::scalar(1.0)).item();
    const Tensor kernel = gaussian_kernel(o.blur_sigma);
    std::vector<double> mean_image(means.all.size());
    for (std::size_t p = 0; p < mean_image.size(); ++p) mean_image[p] = means.all[p];
    const Tensor data_mean = reshape(outlook::from_unit(Tensor::from(mean_image, {side * side})), shape);
    Generator gen(o.seed);
    std::mt19937_64 rng(o.seed + 1);
    outlook::Probe probe;
    std::vector<ClassResult> results(names.size());
    const auto t0 = std::chrono::steady_clock::now();
    try {
        for (std::size_t c = 0; c < names.size(); ++c) {
            Tensor x = Tensor::normal(shape, 0.0, o.noise, gen);
            if (o.start == "smooth") {
                // Twice blurred, less what the black border alone adds (a bright middle would be a head start),
                // and amplified again: two blurs leave about a quarter of the noise.
                const Tensor wide = gaussian_kernel(1.5), zero = Tensor::zeros(shape);
                x = (blurred(blurred(x, wide), wide) - blurred(blurred(zero, wide), wide)) * 4.0;
            } else if (o.start == "mean") {
                x = data_mean + x;
            }
            if (!o.unclipped) x = clamp(x, lo, hi);
            x = x.detach().requires_grad();
            results[c].start_logit = logits_of(model, loaded.input, x).item(0, c);
            results[c].start = likeness(x, means, c);
            nn::Adam opt({{"x", x}}, nn::AdamOptions{o.lr});
            for (std::size_t step = 0; step < o.steps; ++step) {
                std::size_t grads_in_model = 0;
                // [class-step]
                const Tensor copies = jittered(x, o.jitter, o.copies, rng, loaded.input);  // shifted at random
                const Tensor out = o.objective == "logit" ? model(copies) : log_softmax(model(copies), 1);
                const Tensor score = mean(select(out, 1, static_cast<long>(c)));  // the target's, over the copies
                const Tensor picture = reshape(x, {1, 1, side, side});
                const Tensor loss = -score + o.l2 * mean(square(outlook::to_unit(x))) + o.tv * total_variation(picture);
                loss.backward();  // reaches x only: the classifier's parameters are frozen
                grads_in_model += outlook::parameters_with_grad(model);
                opt.step();
                opt.zero_grad();
                NoGrad no_grad;
                if (o.blur_every > 0 && (step + 1) % o.blur_every == 0)
                    x += blurred(x, kernel) - x;              // a fixed Gaussian, outside the graph
                if (!o.unclipped) x += clamp(x, lo, hi) - x;  // projected back into the pixel range [0, 1]
                // [/class-step]
                probe.after_backward(grads_in_model);
                probe.after_step();
            }
            ClassResult& r = results[c];
            const Tensor logits = logits_of(model, loaded.input, x);
            r.final_logit = logits.item(0, c);
            r.target_softmax = softmax(logits, 1).item(0, c);
            r.argmax = static_cast<std::size_t>(argmax(logits, 1).item(0));
            r.end = likeness(x, means, c);
            if (judge) {
                const Tensor j = logits_of(*judge->model, judge->input, x);
                r.judge_softmax = softmax(j, 1).item(0, c);
                r.judge_argmax = static_cast<std::size_t>(argmax(j, 1).item(0));
            }
            // Drawn with its own range stretched to black .. white: the penalties keep the pictures dim.
            r.picture = nn::upscale(nn::to_gray(reshape(x.detach(), {side, side}), nn::GrayScale::min_max), o.scale);
        }
    } catch (const error& e) {
        std::fprintf(stderr, "class_pictures: %s\n", e.what());
        return 1;
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    int status = 0;
    std::printf("%-12s %9s %9s %8s %8s  %-12s %11s  %-12s %s\n", "class", "start", "final", "rise", "softmax", "argmax",
                "corr s->e", "nearest", judge ? "judge" : "");
    std::size_t nearest_hits = 0, judge_hits = 0;
    double own_start = 0, own_end = 0, judge_mean = 0;
    for (std::size_t c = 0; c < names.size(); ++c) {
        const ClassResult& r = results[c];
        const double rise = r.final_logit - r.start_logit;
        const bool ok = rise >= o.margin && r.argmax == c;
        nearest_hits += r.end.nearest == c ? 1 : 0;
        judge_hits += judge && r.judge_argmax == c ? 1 : 0;
        own_start += r.start.own / static_cast<double>(names.size());
        own_end += r.end.own / static_cast<double>(names.size());
        judge_mean += r.judge_softmax / static_cast<double>(names.size());
        std::printf("%-12s %9.3f %9.3f %8.3f %8.4f  %-12s %5.2f %5.2f  %-12s", names[c], r.start_logit, r.final_logit,
                    rise, r.target_softmax, names[r.argmax], r.start.own, r.end.own, names[r.end.nearest]);
        if (judge) std::printf(" %.4f %s", r.judge_softmax, names[r.judge_argmax]);
        std::printf("%s\n", ok ? "" : "  <- FAIL");
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
    std::printf(
        "likeness: correlation with the own class mean %.3f at the start, %.3f at the end (bar %.3f); %zu of "
        "10 pictures nearest their own class mean (bar %zu)\n",
        own_start, own_end, o.min_correlation, nearest_hits, o.min_nearest);
    if (!(own_end >= o.min_correlation)) {
        std::fprintf(stderr,
                     "class_pictures: FAIL: mean correlation with the own class mean %.3f < --min-correlation %.3f\n",
                     own_end, o.min_correlation);
        status = 1;
    }
    if (nearest_hits < o.min_nearest) {
        std::fprintf(stderr, "class_pictures: FAIL: %zu pictures nearest their own class mean < --min-nearest %zu\n",
                     nearest_hits, o.min_nearest);
        status = 1;
    }
    if (judge) {
        std::printf("judge %s: target softmax %.3f on average, its choice on %zu of 10 pictures (bar %zu)\n",
                    o.judge.c_str(), judge_mean, judge_hits, o.min_judge);
        if (judge_hits < o.min_judge) {
            std::fprintf(stderr, "class_pictures: FAIL: the judge picks the target on %zu pictures < --min-judge %zu\n",
                         judge_hits, o.min_judge);
            status = 1;
        }
    }
    std::printf("%zu steps in %.1f s\n", names.size() * o.steps, seconds);
    if (!probe.report("class_pictures")) status = 1;

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
