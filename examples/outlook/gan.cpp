// A generative adversarial network on Fashion-MNIST: an MLP generator G (z of 64 → 256 → 512 → 784, batch norm on
// the hidden layers, tanh) learns to draw garments by fooling an MLP discriminator D (784 → 512 → 256 → 1 logit) that
// learns to tell its pictures from real ones. Two Adam optimizers over the two disjoint parameter sets; the
// discriminator's step sees detached fakes, the generator's step the non-saturating loss −log σ(D(G(z))) through a
// frozen D. Writes an 8 x 8 grid of samples from a fixed z per epoch (gan_epoch_<k>.png, k = 0 the untrained G;
// gan_samples.png the last) and the losses (gan_losses.png). With --classifier (a checkpoint of `adgraph train`) it
// reports the classifier's mean confidence and per-class shares on generated samples, real test images and the
// untrained G's samples, and a Fréchet distance in the classifier's feature space (its penultimate layer; "FID", but
// not Inception's): to the test images from the trained G's samples, the untrained G's, and as a floor from as many
// training images.
//
// Pixels: G's tanh output t in [−1, 1] is the pixel value (t + 1) / 2 in [0, 1]; D sees real images in the same
// [−1, 1] scale, and the classifier sees both in its normalised scale (outlook::from_unit).
//
// Self-checks (exit 1): on the first step, the D step left every G parameter without grad and gave every D
// parameter one, and the G step changed G but left D's values, grads and optimizer step count as they were; the
// mean image of the generated samples is closer to the test images' than the untrained G's was (distance at most
// --max-ratio of it; an untrained G, --epochs 0, fails); with --classifier, so is their FID (at most --max-fid-ratio
// of the untrained G's), computed by a Fréchet distance first checked on Gaussians of known distance; the losses are
// finite; the graph's live nodes do not grow between steps; the grids were written.
#include <CLI/CLI.hpp>

#include <adgraph/adgraph.hpp>
#include <adgraph/nn/activation.hpp>
#include <adgraph/nn/batch_norm.hpp>
#include <adgraph/nn/data.hpp>
#include <adgraph/nn/dropout.hpp>
#include <adgraph/nn/linear.hpp>
#include <adgraph/nn/optim.hpp>
#include <adgraph/nn/png.hpp>
#include <adgraph/nn/sequential.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "command_line.hpp"
#include "gan_report.hpp"
#include "support.hpp"

using namespace adg;
namespace fs = std::filesystem;

namespace {

struct Options {
    std::string data = nn::default_fashion_mnist_dir;
    std::string out = ".";
    std::string classifier;
    std::size_t limit = 0, epochs = 40, batch = 64, z = 64, samples = 1000, scale = 2;
    double lr = 2e-4, beta1 = 0.5, slope = 0.2, dropout = 0.3, max_ratio = 0.5, max_fid_ratio = 0.5, real_label = 1.0;
    std::size_t fid_every = 0;
    std::uint64_t seed = 1;
    bool no_plot = false, require_plot = false, g_batchnorm = true;
};

std::shared_ptr<nn::Sequential> make_generator(const Options& o, Generator& gen) {
    auto g = std::make_shared<nn::Sequential>();
    g->add(std::make_shared<nn::Linear>(o.z, 256, gen));
    if (o.g_batchnorm) g->add(std::make_shared<nn::BatchNorm1d>(256));
    g->add(std::make_shared<nn::LeakyReLU>(o.slope)).add(std::make_shared<nn::Linear>(256, 512, gen));
    if (o.g_batchnorm) g->add(std::make_shared<nn::BatchNorm1d>(512));
    g->add(std::make_shared<nn::LeakyReLU>(o.slope));
    g->add(std::make_shared<nn::Linear>(512, outlook::side * outlook::side, gen)).add(std::make_shared<nn::Tanh>());
    return g;
}

std::shared_ptr<nn::Sequential> make_discriminator(const Options& o, Generator& gen) {
    auto d = std::make_shared<nn::Sequential>();
    d->add(std::make_shared<nn::Linear>(outlook::side * outlook::side, 512, gen))
        .add(std::make_shared<nn::LeakyReLU>(o.slope));
    if (o.dropout > 0) d->add(std::make_shared<nn::Dropout>(o.dropout, o.seed));
    d->add(std::make_shared<nn::Linear>(512, 256, gen)).add(std::make_shared<nn::LeakyReLU>(o.slope));
    if (o.dropout > 0) d->add(std::make_shared<nn::Dropout>(o.dropout, o.seed + 1));
    d->add(std::make_shared<nn::Linear>(256, 1, gen));
    return d;
}

// [gan-step]
// One discriminator step: real images towards the label s (1, or 0.9 smoothed), generated ones towards 0. The fakes
// are detached, so the backward pass stops at them and never reaches G; D runs twice in this one graph. With logits
// l, −log σ(l) = softplus(−l) and −log(1 − σ(l)) = softplus(l), stable for any l.
double discriminator_step(nn::Module& d, nn::Adam& d_opt, const Tensor& real, const Tensor& fake, double s) {
    const Tensor l = d(real);
    const Tensor loss = (softplus(-l) * s + softplus(l) * (1 - s)).mean() + softplus(d(fake.detach())).mean();
    d_opt.zero_grad();
    loss.backward();
    d_opt.step();
    return loss.item();
}

// One generator step, the non-saturating −log σ(D(G(z))) through the updated D, frozen meanwhile: the backward pass
// computes no gradient for D's parameters, only through them to G's.
double generator_step(nn::Module& d, nn::Adam& g_opt, const Tensor& fake) {
    d.requires_grad(false);
    const Tensor loss = softplus(-d(fake)).mean();
    g_opt.zero_grad();
    loss.backward();
    g_opt.step();
    d.requires_grad(true);
    return loss.item();
}
// [/gan-step]

// G's pictures of the rows of z as pixels in [0, 1] (N, 784), G in evaluation mode and nothing recorded.
Tensor generate(nn::Module& g, const Tensor& z) {
    NoGrad no_grad;
    g.eval();
    const Tensor unit = (g(z) + 1.0) * 0.5;
    g.train();
    return unit;
}

void write_grid(const Tensor& unit, std::size_t scale, const std::string& png) {
    std::vector<nn::Image> cells;
    for (std::size_t i = 0; i < unit.shape()[0]; ++i)
        cells.push_back(outlook::gray_picture(outlook::from_unit(slice(unit, 0, i, i + 1)), scale));
    nn::write_png(png, nn::tile(cells, 8, 2));
}

std::vector<Array> snapshot(const std::vector<Tensor>& ts, bool grads) {
    std::vector<Array> out;
    for (const Tensor& t : ts) out.push_back(grads ? t.grad().value().clone() : t.value().clone());
    return out;
}

// How many of `ts` differ (in value, or grad) from `before`.
std::size_t changed(const std::vector<Tensor>& ts, const std::vector<Array>& before, bool grads) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < ts.size(); ++i) {
        const Array& now = grads ? ts[i].grad().value() : ts[i].value();
        for (std::size_t k = 0; k < now.size(); ++k) {
            if (now.flat(k) != before[i].flat(k)) {
                ++n;
                break;
            }
        }
    }
    return n;
}

bool parse(int argc, char** argv, Options& o) {
    CLI::App app{
        "A GAN on Fashion-MNIST (MLP generator and discriminator, non-saturating loss); writes gan_epoch_<k>.png "
        "(8x8 samples of a fixed z after epoch k), gan_samples.png (the last) and gan_losses.png.\n"
        "Exit status: 0 ok, 1 a self-check failed (see the header of gan.cpp) or a runtime error, 2 usage, 77 no "
        "data directory."};
    app.add_option("--data", o.data, "Fashion-MNIST directory")->capture_default_str();
    app.add_option("--out", o.out, "where the PNGs go")->capture_default_str();
    app.add_option("--classifier", o.classifier, "a checkpoint of `adgraph train` to judge the samples with");
    app.add_option("--limit", o.limit, "train on the first N images (0: all 60000)")
        ->check(CLI::Range(0, 100000000))
        ->capture_default_str();
    app.add_option("--epochs", o.epochs, "passes over the training images (0: leave G untrained)")
        ->check(CLI::Range(0, 10000))
        ->capture_default_str();
    app.add_option("--batch", o.batch, "batch size")->check(CLI::Range(1, 60000))->capture_default_str();
    app.add_option("--z", o.z, "size of G's input noise")->check(CLI::Range(1, 4096))->capture_default_str();
    app.add_option("--lr", o.lr, "both Adams' learning rate")->check(CLI::Range(1e-12, 1.0))->capture_default_str();
    app.add_option("--beta1", o.beta1, "both Adams' beta1")->check(CLI::Range(0.0, 0.999))->capture_default_str();
    app.add_option("--slope", o.slope, "leaky ReLU slope")->check(CLI::Range(0.0, 1.0))->capture_default_str();
    app.add_option("--dropout", o.dropout, "D's dropout p")->check(CLI::Range(0.0, 0.99))->capture_default_str();
    app.add_option("--real-label", o.real_label, "D's target for real images (below 1: one-sided label smoothing)")
        ->check(CLI::Range(0.5, 1.0))
        ->capture_default_str();
    app.add_flag("--g-batchnorm,!--no-g-batchnorm", o.g_batchnorm,
                 "batch norm after G's two hidden Linear layers (the default; --no-g-batchnorm: none)");
    app.add_option("--fid-every", o.fid_every,
                   "with --classifier, print the samples' FID every N epochs (0: at the end)")
        ->check(CLI::Range(0, 10000))
        ->capture_default_str();
    app.add_option("--samples", o.samples, "generated and real images the figures are measured on")
        ->check(CLI::Range(2, 10000))
        ->capture_default_str();
    app.add_option("--scale", o.scale, "pixels per sample pixel in the grids")
        ->check(CLI::Range(1, 16))
        ->capture_default_str();
    app.add_option("--max-ratio", o.max_ratio,
                   "fail unless the samples' mean-image distance to the test images is at most this times the "
                   "untrained G's")
        ->check(CLI::Range(0.0, 10.0))
        ->capture_default_str();
    app.add_option("--max-fid-ratio", o.max_fid_ratio,
                   "with --classifier, fail unless the samples' FID is at most this times the untrained G's")
        ->check(CLI::Range(0.0, 10.0))
        ->capture_default_str();
    app.add_option("--seed", o.seed, "seed of weights, noise, dropout and batch order")->capture_default_str();
    app.add_flag("--no-plot", o.no_plot, "do not draw gan_losses.png");
    app.add_flag("--require-plot", o.require_plot, "fail when gan_losses.png cannot be drawn (gnuplot missing)");
    return outlook::parse(app, argc, argv);
}

int run(const Options& o) {
    const nn::Dataset train_set = outlook::load_split("gan", o.data, nn::Split::train, o.limit);
    const nn::Dataset test = outlook::load_split("gan", o.data, nn::Split::test, o.samples);
    std::optional<nn::LoadedModel> classifier;
    if (!o.classifier.empty()) classifier = outlook::load_classifier("gan", o.classifier);
    // The Fréchet distance is checked on Gaussians with known distances before any number of it is quoted.
    if (const std::string why = gan::check_frechet_distance(); !why.empty()) {
        std::fprintf(stderr, "gan: FAIL: the Fréchet distance: %s\n", why.c_str());
        return 1;
    }
    std::optional<gan::Moments> test_moments;
    if (classifier) test_moments = gan::moments(gan::features(*classifier, test.images));
    // "FID" of G's samples of z_eval: the Fréchet distance to the test images in the classifier's feature space.
    const auto fid = [&](const Tensor& unit) {
        return gan::frechet_distance(gan::moments(gan::features(*classifier, outlook::from_unit(unit))), *test_moments);
    };
    std::error_code ec;
    fs::create_directories(o.out, ec);
    const auto out = [&](const std::string& name) { return (fs::path(o.out) / name).string(); };

    Generator gen(o.seed);
    const auto g = make_generator(o, gen);
    const auto d = make_discriminator(o, gen);
    const std::vector<Tensor> g_params = g->parameters(), d_params = d->parameters();
    nn::Adam g_opt(g->named_parameters(), nn::AdamOptions(o.lr).betas({o.beta1, 0.999}));
    nn::Adam d_opt(d->named_parameters(), nn::AdamOptions(o.lr).betas({o.beta1, 0.999}));
    std::printf("gan: G %s\n     D %s\n     Adam lr %g, beta1 %g; batch %zu; %zu epochs of %zu images; seed %llu\n",
                g->to_string().c_str(), d->to_string().c_str(), o.lr, o.beta1, o.batch, o.epochs, train_set.size(),
                static_cast<unsigned long long>(o.seed));

    // A fixed z for the grids and another for the figures; the untrained G's samples are kept to compare with.
    const Tensor z_grid = Tensor::normal({64, o.z}, 0, 1, gen), z_eval = Tensor::normal({o.samples, o.z}, 0, 1, gen);
    const Tensor real_unit = outlook::to_unit(test.images);
    const Tensor untrained = generate(*g, z_eval);
    write_grid(generate(*g, z_grid), o.scale, out("gan_epoch_0.png"));

    const nn::DataLoader loader(train_set, o.batch, true, o.seed);
    std::vector<double> d_losses, g_losses;
    std::size_t step = 0, steps_per_epoch = 0;
    outlook::Probe probe;
    int status = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (std::size_t epoch = 1; epoch <= o.epochs; ++epoch) {
        steps_per_epoch = 0;
        double d_sum = 0, g_sum = 0;
        for (const nn::Batch& b : loader.epoch(epoch - 1)) {
            const Tensor real = outlook::to_unit(b.x) * 2.0 - 1.0;
            const Tensor fake = (*g)(Tensor::normal({b.x.shape()[0], o.z}, 0, 1, gen));
            const double d_loss = discriminator_step(*d, d_opt, real, fake, o.real_label);
            std::vector<Array> d_values, d_grads, g_values;
            std::size_t d_steps = 0;
            if (step == 0) {
                // Detached fakes: no gradient reached G; every D parameter got one.
                const std::size_t g_with = outlook::parameters_with_grad(g_params),
                                  d_with = outlook::parameters_with_grad(d_params);
                std::printf("check: after the D step %zu of G's %zu parameters hold a grad, %zu of D's %zu\n", g_with,
                            g_params.size(), d_with, d_params.size());
                if (g_with != 0 || d_with != d_params.size()) {
                    std::fprintf(stderr, "gan: FAIL: the D step must leave G without grads and give D all of them\n");
                    status = 1;
                }
                d_values = snapshot(d_params, false);
                d_grads = snapshot(d_params, true);
                g_values = snapshot(g_params, false);
                d_steps = d_opt.steps();
            }
            const double g_loss = generator_step(*d, g_opt, fake);
            if (step == 0) {
                const std::size_t d_moved = changed(d_params, d_values, false),
                                  d_grad_moved = changed(d_params, d_grads, true),
                                  g_moved = changed(g_params, g_values, false),
                                  g_with = outlook::parameters_with_grad(g_params);
                std::printf(
                    "check: the G step changed %zu of G's %zu parameters (%zu hold a grad); D: %zu values and "
                    "%zu grads changed, optimizer steps %zu -> %zu\n",
                    g_moved, g_params.size(), g_with, d_moved, d_grad_moved, d_steps, d_opt.steps());
                if (g_moved != g_params.size() || g_with != g_params.size() || d_moved != 0 || d_grad_moved != 0 ||
                    d_opt.steps() != d_steps) {
                    std::fprintf(stderr, "gan: FAIL: the G step must update all of G and nothing of D\n");
                    status = 1;
                }
            }
            d_losses.push_back(d_loss);
            g_losses.push_back(g_loss);
            d_sum += d_loss;
            g_sum += g_loss;
            ++step;
            ++steps_per_epoch;
            // Measured at the same point of every step (this step's batch and fakes still alive): a graph kept
            // from one step to the next would show here.
            probe.after_step();
        }
        const auto k = static_cast<double>(std::max<std::size_t>(1, steps_per_epoch));
        write_grid(generate(*g, z_grid), o.scale, out("gan_epoch_" + std::to_string(epoch) + ".png"));
        std::printf("epoch %zu: %zu steps, mean loss D %.4f, G %.4f, %.1f s", epoch, steps_per_epoch, d_sum / k,
                    g_sum / k, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        if (classifier && o.fid_every > 0 && epoch % o.fid_every == 0)
            std::printf(", FID %.3f", fid(generate(*g, z_eval)));
        std::printf("\n");
        std::fflush(stdout);
    }
    const Tensor trained = generate(*g, z_eval);
    write_grid(generate(*g, z_grid), o.scale, out("gan_samples.png"));
    std::printf("wrote %s and gan_epoch_0..%zu.png in %s\n", out("gan_samples.png").c_str(), o.epochs, o.out.c_str());
    if (!probe.report("gan")) status = 1;
    for (std::size_t i = 0; i < d_losses.size(); ++i) {
        if (!std::isfinite(d_losses[i]) || !std::isfinite(g_losses[i])) {
            std::fprintf(stderr, "gan: FAIL: a non-finite loss at step %zu (D %g, G %g)\n", i + 1, d_losses[i],
                         g_losses[i]);
            status = 1;
            break;
        }
    }

    if (!o.no_plot) {
        const std::string why = d_losses.empty()
                                    ? "no steps to plot"
                                    : gan::plot_losses(d_losses, g_losses, steps_per_epoch, out("gan_losses.png"));
        if (why.empty())
            std::printf("wrote %s\n", out("gan_losses.png").c_str());
        else
            std::fprintf(stderr, "gan: %s: %s\n", o.require_plot ? "FAIL" : "warning", why.c_str());
        if (!why.empty() && o.require_plot) status = 1;
    }

    if (classifier) {
        std::printf("\n%s (%s) on %zu images each: mean top-class confidence and the share of each class\n",
                    o.classifier.c_str(), classifier->spec.c_str(), o.samples);
        gan::print_verdicts({"G after training", "real test images", "untrained G"},
                            {gan::judge(*classifier, outlook::from_unit(trained)), gan::judge(*classifier, test.images),
                             gan::judge(*classifier, outlook::from_unit(untrained))});
        const double fid_trained = fid(trained), fid_untrained = fid(untrained);
        // The floor: as many training images as test images, both real, differ only by sampling.
        const std::size_t n = std::min(o.samples, train_set.size());
        const double fid_floor =
            n >= 2 ? gan::frechet_distance(gan::moments(gan::features(*classifier, slice(train_set.images, 0, 0, n))),
                                           *test_moments)
                   : 0.0;
        std::printf(
            "\nFID in the classifier's %zu features (not Inception's) to %zu test images: G after training %.3f, "
            "untrained G %.3f, %zu training images %.3f\n",
            test_moments->mean.size(), o.samples, fid_trained, fid_untrained, n, fid_floor);
        std::printf("FID ratio trained / untrained G %.3f (bar %.3f)\n", fid_trained / fid_untrained, o.max_fid_ratio);
        if (!(fid_trained <= o.max_fid_ratio * fid_untrained)) {
            std::fprintf(stderr, "gan: FAIL: the samples' FID %.3f is not at most %.3f x the untrained G's %.3f\n",
                         fid_trained, o.max_fid_ratio, fid_untrained);
            status = 1;
        }
    }

    std::fflush(stdout);
    // The self-check on the pictures: the samples' mean image (where garments are, how bright) moves towards the
    // data's; an untrained G draws mid-gray noise everywhere.
    const double before = gan::mean_image_distance(untrained, real_unit),
                 after = gan::mean_image_distance(trained, real_unit);
    std::printf(
        "\nmean-image distance to %zu test images: untrained G %.4f, after training %.4f (ratio %.3f, bar "
        "%.3f)\n",
        o.samples, before, after, after / before, o.max_ratio);
    if (!(after <= o.max_ratio * before)) {
        std::fprintf(stderr,
                     "gan: FAIL: the samples' mean-image distance %.4f is not at most %.3f x the untrained "
                     "G's %.4f\n",
                     after, o.max_ratio, before);
        status = 1;
    }
    return status;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    if (!parse(argc, argv, o)) return 2;
    try {
        return run(o);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "gan: %s\n", e.what());
        return 1;
    }
}
