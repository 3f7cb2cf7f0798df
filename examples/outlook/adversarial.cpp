// Adversarial examples (docs/outlook.md): the fast gradient sign method and projected gradient descent against
// trained classifiers (checkpoints of `adgraph train`, e.g. the MLP and the CNN), on the first N Fashion-MNIST test
// images, for a list of ε in pixel units (pixels in [0, 1]). Prints the accuracy against ε for each model and
// attack and writes it to adversarial.csv, plots it (adversarial.png, gnuplot) and shows one image whose prediction
// flips: original | perturbation | adversarial (adversarial_flip.png).
//
// Self-check (exit 1, with the measured number and the bar): the accuracy at ε = 0 equals the clean accuracy
// computed separately; at each ε > 0 PGD is at least as strong as FGSM (PGD accuracy ≤ FGSM accuracy + tolerance);
// PGD accuracy does not rise with ε beyond the tolerance; PGD accuracy at the largest ε is at most --max-ratio times
// the clean accuracy; every adversarial image is within ε of its original in L∞ (+1e-6) and within [0, 1]; an
// image's input gradient within its batch equals its gradient alone; no backward leaves a gradient on a parameter;
// the graph nodes alive between PGD steps do not grow; the flipped image's two predictions are reproduced on the
// image alone. Prints the resident memory after the first PGD steps and at the end, for each model.
#include <CLI/CLI.hpp>

#include <adgraph/adgraph.hpp>
#include <adgraph/nn/atomic_file.hpp>
#include <adgraph/nn/gnuplot.hpp>
#include <adgraph/nn/loss.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <xtensor/xmath.hpp>
#include <xtensor/xview.hpp>

#include "adversarial_attack.hpp"
#include "command_line.hpp"
#include "support.hpp"

using namespace adg;
namespace fs = std::filesystem;
using adversarial::Pixels;

namespace {

constexpr const char* program = "adversarial";

struct Options {
    std::string data = nn::default_fashion_mnist_dir;
    std::string out = ".";
    std::vector<std::string> checkpoints;
    std::string mlp, cnn;
    std::size_t limit = 1000, batch = 250, scale = 6, flip_model = 0;
    std::vector<double> eps{0, 0.01, 0.02, 0.05, 0.1, 0.2};
    adversarial::PgdOptions pgd;
    double tolerance = 0.02, max_ratio = 0.5;
    std::uint64_t seed = 1;
    bool require_plot = false, flip_model_set = false;
};

struct Model {
    std::string label;
    nn::LoadedModel loaded;
    std::vector<std::size_t> clean_predictions;
    std::size_t clean_correct = 0;
};

// One line of the table: correct answers of one model under one attack at one ε.
struct Row {
    std::size_t model;
    std::string attack;
    double eps;
    std::size_t correct, images;
    double accuracy() const { return static_cast<double>(correct) / static_cast<double>(images); }
};

// An image whose (correct) prediction PGD flipped.
struct Flip {
    std::size_t model, image;
    double eps;
    Pixels original, adversarial;
};

// Predictions on the normalised images as the data loader gives them: the accuracy the attacks are compared with,
// computed without the attacks' pixel-space round trip.
void clean_predictions(Model& m, const nn::Dataset& test, std::size_t batch) {
    NoGrad no_grad;
    for (std::size_t from = 0; from < test.size(); from += batch) {
        const std::size_t to = std::min(test.size(), from + batch);
        const Tensor rows = slice(test.images, 0, from, to);
        for (std::size_t p : nn::argmax_rows((*m.loaded.model)(outlook::as_model_input(rows, m.loaded.input))))
            m.clean_predictions.push_back(p);
    }
    for (std::size_t i = 0; i < test.size(); ++i) m.clean_correct += m.clean_predictions[i] == test.labels[i];
}

// The batch's one backward must give each image the gradient of its own loss: nothing in an evaluation-mode
// classifier (batch norm uses its running statistics) may mix the images of a batch.
template <class Fail>
void same_gradient_alone(const Model& m, const Pixels& unit, const std::vector<std::size_t>& labels, std::size_t batch,
                         adversarial::Probe& probe, Fail&& fail) {
    const Pixels x = xt::view(unit, xt::range(0, batch), xt::all());
    const std::vector<std::size_t> y(labels.begin(), labels.begin() + static_cast<long>(batch));
    const Pixels in_batch = adversarial::input_gradient(m.loaded, x, y, probe);
    const std::size_t last = batch - 1;
    const Pixels alone =
        adversarial::input_gradient(m.loaded, xt::view(x, xt::range(last, batch), xt::all()), {y[last]}, probe);
    const double scale = xt::amax(xt::abs(alone))();
    const double diff = xt::amax(xt::abs(alone - xt::view(in_batch, xt::range(last, batch), xt::all())))();
    std::printf(
        "%s: input gradient of image #%zu alone vs in its batch of %zu: largest difference %.3g "
        "(bar 1e-4 × max |g| = %.3g)\n",
        m.label.c_str(), last, batch, diff, 1e-4 * scale);
    if (!(diff <= 1e-4 * scale && scale > 0)) {
        char msg[256];
        std::snprintf(msg, sizeof msg, "%s: image #%zu's input gradient differs by %.3g in its batch (bar %.3g)",
                      m.label.c_str(), last, diff, 1e-4 * scale);
        fail(msg);
    }
}

std::string format_table(const std::vector<Model>& models, const std::vector<Row>& rows,
                         const std::vector<double>& eps) {
    std::ostringstream s;
    char buf[64];
    s << "accuracy (%) against ε (pixels in [0, 1])\n      ε";
    for (const Model& m : models) {
        std::snprintf(buf, sizeof buf, " | %16.16s FGSM | %16.16s PGD", m.label.c_str(), m.label.c_str());
        s << buf;
    }
    s << "\n";
    for (double e : eps) {
        std::snprintf(buf, sizeof buf, "%7.3f", e);
        s << buf;
        for (const Row& r : rows) {
            if (r.eps != e) continue;
            std::snprintf(buf, sizeof buf, r.attack == "FGSM" ? " | %21.2f" : " | %20.2f", 100.0 * r.accuracy());
            s << buf;
        }
        s << "\n";
    }
    return s.str();
}

std::string csv(const std::vector<Model>& models, const std::vector<Row>& rows) {
    std::ostringstream s;
    s << "model,attack,epsilon,correct,images,accuracy\n";
    for (const Row& r : rows)
        s << models[r.model].label << "," << r.attack << "," << r.eps << "," << r.correct << "," << r.images << ","
          << r.accuracy() << "\n";
    return s.str();
}

std::string plot(const std::vector<Model>& models, const std::vector<Row>& rows, const std::string& png) {
    std::ostringstream s;
    s << "set terminal pngcairo size 800,500 font 'sans,11'\n";
    std::vector<std::string> curves;
    const char* colours[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"};
    for (std::size_t m = 0; m < models.size(); ++m) {
        for (const char* attack : {"FGSM", "PGD"}) {
            const std::string block = "$d" + std::to_string(curves.size());
            s << block << " << EOD\n";
            for (const Row& r : rows)
                if (r.model == m && r.attack == attack) s << r.eps << " " << 100.0 * r.accuracy() << "\n";
            s << "EOD\n";
            curves.push_back(block + " using 1:2 with linespoints lw 2 pt 7 dt " +
                             (std::string(attack) == "FGSM" ? "2" : "1") + " lc rgb '" + colours[m % 5] + "' title '" +
                             models[m].label + " " + attack + "'");
        }
    }
    s << "set title 'Accuracy under attack on Fashion-MNIST (L-infinity, pixels in [0,1])'\n"
      << "set xlabel 'epsilon'\nset ylabel 'test accuracy (%)'\nset yrange [0:100]\nset grid\nset key top right\n"
      << "plot ";
    for (std::size_t i = 0; i < curves.size(); ++i) s << (i ? ", " : "") << curves[i];
    s << "\n";
    return nn::plot_png(s.str(), png);
}

bool parse(int argc, char** argv, Options& o) {
    CLI::App app{
        "FGSM and PGD adversarial examples against trained classifiers; writes adversarial.csv, adversarial.png "
        "(accuracy against ε) and adversarial_flip.png (original | perturbation | adversarial).\n"
        "Exit status: 0 ok, 1 a self-check failed or a runtime error, 2 usage, 77 no data directory."};
    app.add_option("--data", o.data, "Fashion-MNIST directory")->capture_default_str();
    app.add_option("--out", o.out, "where the CSV and PNGs go")->capture_default_str();
    app.add_option("--checkpoint", o.checkpoints, "a checkpoint of `adgraph train` to attack (repeatable)");
    app.add_option("--mlp", o.mlp, "the MLP checkpoint (attacked first)");
    app.add_option("--cnn", o.cnn, "the CNN checkpoint");
    app.add_option("--limit", o.limit, "attack the first N test images (0: all)")
        ->check(CLI::Range(0, 10000))
        ->capture_default_str();
    app.add_option("--batch", o.batch, "images per forward/backward")
        ->check(CLI::Range(1, 10000))
        ->capture_default_str();
    app.add_option("--eps", o.eps, "ε values in pixel units (0 is always added)")
        ->check(CLI::Range(0.0, 1.0))
        ->capture_default_str();
    app.add_option("--pgd-steps", o.pgd.steps, "PGD steps")->check(CLI::Range(1, 1000))->capture_default_str();
    app.add_option("--pgd-alpha", o.pgd.alpha_ratio, "PGD step size as a fraction of ε")
        ->check(CLI::Range(1e-3, 2.0))
        ->capture_default_str();
    app.add_flag("--random-start", o.pgd.random_start, "start PGD at a uniform point of the ε-ball");
    app.add_option("--seed", o.seed, "seed of the random start")->capture_default_str();
    app.add_option("--tolerance", o.tolerance, "accuracy tolerance of the PGD ≤ FGSM and monotonicity checks")
        ->check(CLI::Range(0.0, 1.0))
        ->capture_default_str();
    app.add_option("--max-ratio", o.max_ratio, "PGD accuracy at the largest ε must be at most this × clean")
        ->check(CLI::Range(0.0, 1.0))
        ->capture_default_str();
    auto* flip = app.add_option("--flip-model", o.flip_model, "which model's flip is drawn (0-based; default last)")
                     ->check(CLI::Range(0, 99));
    app.add_option("--scale", o.scale, "pixels per image pixel in adversarial_flip.png")
        ->check(CLI::Range(1, 32))
        ->capture_default_str();
    app.add_flag("--require-plot", o.require_plot, "fail when adversarial.png cannot be drawn (gnuplot missing)");
    if (!outlook::parse(app, argc, argv)) return false;
    o.flip_model_set = flip->count() > 0;
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    if (!parse(argc, argv, o)) return 2;
    std::vector<std::string> paths;
    if (!o.mlp.empty()) paths.push_back(o.mlp);
    if (!o.cnn.empty()) paths.push_back(o.cnn);
    paths.insert(paths.end(), o.checkpoints.begin(), o.checkpoints.end());
    if (paths.empty()) {
        std::fprintf(stderr, "%s: give a classifier to attack: --mlp, --cnn or --checkpoint PATH\n", program);
        return 2;
    }
    if (!o.flip_model_set) o.flip_model = paths.size() - 1;
    if (o.flip_model >= paths.size()) {
        std::fprintf(stderr, "%s: --flip-model %zu is out of range; the models are 0 to %zu\n", program, o.flip_model,
                     paths.size() - 1);
        return 2;
    }
    o.eps.push_back(0.0);
    std::sort(o.eps.begin(), o.eps.end());
    o.eps.erase(std::unique(o.eps.begin(), o.eps.end()), o.eps.end());

    const nn::Dataset test = outlook::load_split(program, o.data, nn::Split::test, o.limit);
    std::vector<Model> models;
    for (const std::string& path : paths) {
        Model m{"", outlook::load_classifier(program, path), {}, 0};
        m.label = m.loaded.spec;
        models.push_back(std::move(m));
    }
    const auto t0 = std::chrono::steady_clock::now();
    const auto seconds = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
    int status = 0;
    const auto fail = [&](const std::string& what) {
        std::fprintf(stderr, "%s: FAIL: %s\n", program, what.c_str());
        status = 1;
    };
    char msg[512];
    try {
        const std::size_t n = test.size();
        Pixels unit;
        {
            NoGrad no_grad;
            unit = xt::clip(outlook::to_unit(test.images).data<float>(), 0.0f, 1.0f);
        }
        for (Model& m : models) {
            clean_predictions(m, test, o.batch);
            std::printf("%s: %s, clean accuracy %.2f %% on %zu test images\n", program, m.label.c_str(),
                        100.0 * static_cast<double>(m.clean_correct) / static_cast<double>(n), n);
        }
        std::printf("%s: PGD %zu steps of %g·ε%s; batches of %zu; ε in {", program, o.pgd.steps, o.pgd.alpha_ratio,
                    o.pgd.random_start ? ", random start" : "", o.batch);
        for (std::size_t i = 0; i < o.eps.size(); ++i) std::printf("%s%g", i ? ", " : "", o.eps[i]);
        std::printf("}\n");
        std::fflush(stdout);

        Generator gen(o.seed);
        std::vector<Row> rows;
        std::optional<Flip> flip;
        double worst_excess = -1, lowest_pixel = 1, highest_pixel = 0;
        for (std::size_t mi = 0; mi < models.size(); ++mi) {
            const Model& m = models[mi];
            // One probe per model: its activations set the memory the steps need.
            adversarial::Probe probe;
            const double model_t0 = seconds();
            same_gradient_alone(m, unit, test.labels, std::min(n, o.batch), probe, fail);
            for (double eps : o.eps) {
                for (const char* attack : {"FGSM", "PGD"}) {
                    const bool is_pgd = std::string(attack) == "PGD";
                    Row row{mi, attack, eps, 0, n};
                    for (std::size_t from = 0; from < n; from += o.batch) {
                        const std::size_t to = std::min(n, from + o.batch);
                        const Pixels x = xt::view(unit, xt::range(from, to), xt::all());
                        const std::vector<std::size_t> labels(test.labels.begin() + from, test.labels.begin() + to);
                        const Pixels adv = is_pgd ? adversarial::pgd(m.loaded, x, labels, eps, o.pgd, gen, probe)
                                                  : adversarial::fgsm(m.loaded, x, labels, eps, probe);
                        // The constraints, from the tensors the classifier is then shown.
                        worst_excess = std::max(worst_excess, double(xt::amax(xt::abs(adv - x))()) - eps);
                        lowest_pixel = std::min(lowest_pixel, double(xt::amin(adv)()));
                        highest_pixel = std::max(highest_pixel, double(xt::amax(adv)()));
                        const std::vector<std::size_t> pred = nn::argmax_rows(adversarial::logits(m.loaded, adv));
                        for (std::size_t i = 0; i < pred.size(); ++i) {
                            row.correct += pred[i] == labels[i];
                            if (is_pgd && !flip && mi == o.flip_model && eps > 0 &&
                                m.clean_predictions[from + i] == labels[i] && pred[i] != labels[i])
                                flip = Flip{mi, from + i, eps, xt::view(x, i, xt::all()), xt::view(adv, i, xt::all())};
                        }
                    }
                    rows.push_back(row);
                    std::printf("  %-16s %-4s ε %-5g accuracy %6.2f %%  (%.1f s)\n", m.label.c_str(), attack, eps,
                                100.0 * row.accuracy(), seconds());
                    std::fflush(stdout);
                }
            }
            // The engine's side: memory flat over the PGD steps, no parameter gradients.
            std::printf("%s: attacks took %.1f s\n", m.label.c_str(), seconds() - model_t0);
            if (!probe.report(program, m.label + ": ")) status = 1;
        }
        std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
            return a.eps != b.eps ? a.eps < b.eps : a.model != b.model ? a.model < b.model : a.attack < b.attack;
        });
        std::printf("\n%s\n", format_table(models, rows, o.eps).c_str());

        // The attacks' constraints.
        std::printf("largest |x' - x|∞ - ε: %.3g (bar 1e-6); pixels in [%g, %g]\n", worst_excess, lowest_pixel,
                    highest_pixel);
        if (!(worst_excess <= 1e-6)) {
            std::snprintf(msg, sizeof msg, "a perturbation exceeds ε by %.3g in L∞ (bar 1e-6)", worst_excess);
            fail(msg);
        }
        if (!(lowest_pixel >= 0.0 && highest_pixel <= 1.0)) {
            std::snprintf(msg, sizeof msg, "adversarial pixels span [%g, %g], outside [0, 1]", lowest_pixel,
                          highest_pixel);
            fail(msg);
        }

        // The accuracies.
        const double largest = o.eps.back();
        for (std::size_t mi = 0; mi < models.size(); ++mi) {
            const std::string& label = models[mi].label;
            const double clean = static_cast<double>(models[mi].clean_correct) / static_cast<double>(n);
            const auto at = [&](const char* attack, double eps) {
                for (const Row& r : rows)
                    if (r.model == mi && r.attack == attack && r.eps == eps) return r.accuracy();
                return -1.0;
            };
            for (const char* attack : {"FGSM", "PGD"}) {
                if (at(attack, 0.0) != clean) {
                    std::snprintf(msg, sizeof msg, "%s %s accuracy at ε = 0 is %.4f, the clean accuracy %.4f",
                                  label.c_str(), attack, at(attack, 0.0), clean);
                    fail(msg);
                }
            }
            double previous = clean;
            for (double eps : o.eps) {
                const double fg = at("FGSM", eps), pg = at("PGD", eps);
                if (eps > 0 && !(pg <= fg + o.tolerance)) {
                    std::snprintf(msg, sizeof msg, "%s at ε = %g: PGD accuracy %.4f > FGSM accuracy %.4f + %g",
                                  label.c_str(), eps, pg, fg, o.tolerance);
                    fail(msg);
                }
                if (!(pg <= previous + o.tolerance)) {
                    std::snprintf(msg, sizeof msg, "%s: PGD accuracy rises to %.4f at ε = %g from %.4f (tolerance %g)",
                                  label.c_str(), pg, eps, previous, o.tolerance);
                    fail(msg);
                }
                previous = pg;
            }
            const double worst = at("PGD", largest);
            std::printf("%s: PGD accuracy at ε = %g is %.2f %% (bar: at most %.2f × clean %.2f %% = %.2f %%)\n",
                        label.c_str(), largest, 100.0 * worst, o.max_ratio, 100.0 * clean, 100.0 * o.max_ratio * clean);
            if (!(worst <= o.max_ratio * clean)) {
                std::snprintf(msg, sizeof msg,
                              "%s: PGD accuracy at the largest ε = %g is %.4f, not below %g × clean %.4f = %.4f",
                              label.c_str(), largest, worst, o.max_ratio, clean, o.max_ratio * clean);
                fail(msg);
            }
        }

        std::error_code ec;
        fs::create_directories(o.out, ec);
        const std::string csv_path = (fs::path(o.out) / "adversarial.csv").string();
        const std::string table = csv(models, rows);
        nn::write_file_atomically(csv_path, [&](const nn::AtomicFileWriter& w) { w.write(table); });
        std::printf("wrote %s\n", csv_path.c_str());
        const std::string png = (fs::path(o.out) / "adversarial.png").string();
        const std::string why = plot(models, rows, png);
        if (why.empty()) {
            std::printf("wrote %s\n", png.c_str());
        } else {
            std::fprintf(stderr, "%s: %s: %s\n", program, o.require_plot ? "FAIL" : "warning", why.c_str());
            if (o.require_plot) status = 1;
        }

        // The flipped image, its predictions recomputed on it alone.
        if (!flip) {
            fail("PGD flipped no correctly classified image of " + models[o.flip_model].label);
        } else {
            const Model& m = models[flip->model];
            const auto one = [](const Pixels& row) { return Pixels(xt::view(row, xt::newaxis(), xt::all())); };
            const Tensor p0 = adversarial::logits(m.loaded, one(flip->original)).softmax(-1);
            const Tensor p1 = adversarial::logits(m.loaded, one(flip->adversarial)).softmax(-1);
            const std::size_t c0 = nn::argmax_rows(p0)[0], c1 = nn::argmax_rows(p1)[0];
            const std::size_t label = test.labels[flip->image];
            const auto& names = nn::fashion_mnist_classes();
            const Pixels delta = flip->adversarial - flip->original;
            const double linf = xt::amax(xt::abs(delta))();
            std::printf("flip: %s, test image #%zu (%s), PGD at ε = %g (|δ|∞ = %.4f): %s %.1f %% -> %s %.1f %%\n",
                        m.label.c_str(), flip->image, names[label], flip->eps, linf, names[c0], 100.0 * p0.item(0, c0),
                        names[c1], 100.0 * p1.item(0, c1));
            if (c0 != label || c1 == label || linf > flip->eps + 1e-6) fail("the flipped image does not reproduce");
            const Tensor shown = Tensor(Pixels(xt::reshape_view(delta, {outlook::side, outlook::side})));
            const nn::Image picture =
                nn::tile({outlook::gray_picture(outlook::from_unit(Tensor(flip->original)), o.scale),
                          nn::upscale(nn::to_gray(shown, nn::GrayScale::symmetric), o.scale),
                          outlook::gray_picture(outlook::from_unit(Tensor(flip->adversarial)), o.scale)},
                         3, 2 * o.scale);
            const std::string flip_png = (fs::path(o.out) / "adversarial_flip.png").string();
            nn::write_png(flip_png, picture);
            std::printf("wrote %s: original | perturbation (0 mid gray, ±%.3f black/white) | adversarial\n",
                        flip_png.c_str(), linf);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: %s\n", program, e.what());
        return 1;
    }
    return status;
}
