// Depth: 100 Linear+ReLU layers on Fashion-MNIST, trained as a plain stack and with a skip connection around
// every pair of layers (a residual block), each without and with batch norm, from the same initial weights on the
// same batches with the same optimizer. Draws the loss curves (depth_loss.png) and the gradient norm of every layer at
// the first step (depth_grad.png), and prints the numbers.
#include <CLI/CLI.hpp>

#include <adgraph/adgraph.hpp>
#include <adgraph/nn/data.hpp>
#include <adgraph/nn/gnuplot.hpp>
#include <adgraph/nn/linear.hpp>
#include <adgraph/nn/loss.hpp>
#include <adgraph/nn/optim.hpp>

#include "png_size.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

using namespace adg;
namespace fs = std::filesystem;

namespace {

struct Options {
    std::string data = nn::default_fashion_mnist_dir;
    std::string out = ".";
    std::size_t limit = 0, steps = 2000, batch = 64, width = 32, depth = 100;
    double lr = 1e-3, min_gap = 0.5;
    std::uint64_t seed = 1;
};

// The network: Linear(features -> w) + ReLU, then `depth` layers Linear(w -> w) + ReLU, then Linear(w -> classes).
// With `residual`, every pair of hidden layers is a block h <- h + f2(f1(h)); with `batch_norm`, every hidden layer
// normalises its Linear output per feature (batch_norm with γ, β and running statistics) before the ReLU. The
// Linear layers draw the same weights in every variant.
class DeepNet : public nn::Module {
public:
    DeepNet(std::size_t features, std::size_t width, std::size_t depth, std::size_t classes, bool residual,
            bool batch_norm, Generator& gen)
        : residual_(residual), batch_norm_(batch_norm) {
        in_ = register_module("in", std::make_shared<nn::Linear>(features, width, gen));
        for (std::size_t l = 0; l < depth; ++l) {
            const std::string name = std::to_string(l + 1);
            hidden_.push_back(register_module(name, std::make_shared<nn::Linear>(width, width, gen)));
            if (batch_norm_) {
                gamma_.push_back(register_parameter("bn" + name + ".weight", Tensor::ones({width})));
                beta_.push_back(register_parameter("bn" + name + ".bias", Tensor::zeros({width})));
                running_mean_.push_back(Tensor::zeros({width}));
                running_var_.push_back(Tensor::ones({width}));
            }
        }
        out_ = register_module("out", std::make_shared<nn::Linear>(width, classes, gen));
    }

    Tensor forward(const Tensor& x) override {
        Tensor h = relu((*in_)(x));
        for (std::size_t l = 0; l < hidden_.size(); l += 2) {
            Tensor u = layer(l, h);
            if (l + 1 < hidden_.size()) u = layer(l + 1, u);
            h = residual_ ? h + u : u;
        }
        return (*out_)(h);
    }

    std::string to_string() const override {
        return std::string(residual_ ? "residual" : "plain") + (batch_norm_ ? " + batch norm" : "") + ", " +
               std::to_string(hidden_.size()) + " hidden layers";
    }

    // The hidden layers, first to last.
    const std::vector<std::shared_ptr<nn::Linear>>& hidden() const { return hidden_; }

private:
    Tensor layer(std::size_t l, const Tensor& h) {
        Tensor z = (*hidden_[l])(h);
        if (batch_norm_) z = batch_norm(z, running_mean_[l], running_var_[l], gamma_[l], beta_[l], training());
        return relu(z);
    }

    bool residual_, batch_norm_;
    std::shared_ptr<nn::Linear> in_, out_;
    std::vector<std::shared_ptr<nn::Linear>> hidden_;
    std::vector<Tensor> gamma_, beta_, running_mean_, running_var_;
};

struct Variant {
    std::string name;
    bool residual, batch_norm;
    std::shared_ptr<DeepNet> net;
    std::vector<double> losses;      // training loss per step
    std::vector<double> grad_norms;  // ‖∂L/∂W_l‖ of hidden layer l at the first step
    double final_loss = 0, test_loss = 0, test_accuracy = 0, seconds = 0;
};

double frobenius(const Tensor& t) {
    double s = 0;
    t.value().visit([&](const auto& a) {
        for (auto v : a) s += static_cast<double>(v) * static_cast<double>(v);
    });
    return std::sqrt(s);
}

// Trains `v` for o.steps steps (epochs of `loader` repeat as needed); returns false if the loss became non-finite.
bool train(Variant& v, const nn::DataLoader& loader, const nn::Dataset& test, const Options& o) {
    nn::Adam opt(v.net->named_parameters(), nn::AdamOptions{o.lr});
    const auto t0 = std::chrono::steady_clock::now();
    for (std::size_t epoch = 0; v.losses.size() < o.steps; ++epoch) {
        for (const nn::Batch& b : loader.epoch(epoch)) {
            if (v.losses.size() == o.steps) break;
            const Tensor loss = nn::cross_entropy((*v.net)(b.x), b.labels);
            v.losses.push_back(loss.item());
            if (!std::isfinite(v.losses.back())) return false;
            loss.backward();
            if (v.losses.size() == 1) {
                for (const auto& layer : v.net->hidden()) v.grad_norms.push_back(frobenius(layer->weight().grad()));
            }
            opt.step();
            opt.zero_grad();
        }
    }
    v.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const std::size_t tail = std::max<std::size_t>(1, o.steps / 10);
    double sum = 0;
    for (std::size_t i = o.steps - tail; i < o.steps; ++i) sum += v.losses[i];
    v.final_loss = sum / static_cast<double>(tail);
    NoGrad no_grad;
    v.net->eval();
    const Tensor logits = (*v.net)(test.images);
    v.test_loss = nn::cross_entropy(logits, test.labels).item();
    v.test_accuracy = nn::accuracy(logits, test.labels);
    v.net->train();
    return true;
}

const char* const colours[] = {"#d62728", "#1f77b4", "#2ca02c", "#9467bd"};

// Loss per step, smoothed with a running mean over `window` steps so the curves can be told apart.
std::string plot_losses(const fs::path& png, const std::vector<Variant>& vs, const Options& o) {
    const std::size_t window = std::max<std::size_t>(1, o.steps / 50);
    std::ostringstream s;
    s << "set terminal pngcairo size 900,500 font 'sans,10'\n$loss << EOD\n";
    for (std::size_t i = 0; i < o.steps; ++i) {
        s << i + 1;
        for (const Variant& v : vs) {
            double sum = 0;
            const std::size_t from = i + 1 >= window ? i + 1 - window : 0;
            for (std::size_t j = from; j <= i; ++j) sum += v.losses[j];
            s << " " << sum / static_cast<double>(i + 1 - from);
        }
        s << "\n";
    }
    s << "EOD\nset title 'Fashion-MNIST, " << o.depth << " Linear+ReLU layers of width " << o.width << ", Adam lr "
      << o.lr << ", batch " << o.batch << "'\nset xlabel 'step'\nset ylabel 'training loss (running mean of " << window
      << " steps)'\nset logscale y\nset grid\nset key top right\nplot ";
    for (std::size_t k = 0; k < vs.size(); ++k) {
        // The two stalled curves lie on top of each other: the plain one wide, the batch-norm one dashed over it.
        s << (k ? ", " : "") << "$loss using 1:" << k + 2 << " with lines lw " << (k == 0 ? 5 : 2)
          << (vs[k].batch_norm && !vs[k].residual ? " dt 2" : "") << " lc rgb '" << colours[k] << "' title '"
          << vs[k].name << "'";
    }
    s << "\n";
    return nn::plot_png(s.str(), png.string());
}

std::string plot_grads(const fs::path& png, const std::vector<Variant>& vs, const Options& o) {
    std::ostringstream s;
    s << "set terminal pngcairo size 900,500 font 'sans,10'\n$grad << EOD\n";
    for (std::size_t l = 0; l < o.depth; ++l) {
        s << l + 1;
        for (const Variant& v : vs) s << " " << v.grad_norms[l];
        s << "\n";
    }
    s << "EOD\nset title 'gradient norm of each layer''s weight at the first step (same weights, same batch)'\n"
      << "set xlabel 'layer'\nset ylabel '||dL/dW||'\nset logscale y\nset format y '10^{%L}'\nset grid\n"
      << "set offsets 0, 0, graph 0.05, graph 0.05\nset key center right\nplot ";
    for (std::size_t k = 0; k < vs.size(); ++k) {
        s << (k ? ", " : "") << "$grad using 1:($" << k + 2 << " > 0 ? $" << k + 2 << " : NaN) with linespoints pt 7 "
          << "ps 0.5 lc rgb '" << colours[k] << "' title '" << vs[k].name << "'";
    }
    s << "\n";
    return nn::plot_png(s.str(), png.string());
}

// Returns false after printing the problem for a usage error (exit 2); exits 0 after --help.
bool parse(int argc, char** argv, Options& o) {
    CLI::App app{
        "A deep plain network against the same network with residual connections, each without and with batch "
        "norm, on Fashion-MNIST: loss curves "
        "(depth_loss.png) and gradient norms per layer at the first step (depth_grad.png).\n"
        "Exit status: 0 ok, 1 the residual network did not beat the plain one by --min-gap, a non-finite loss or "
        "unreadable data, 2 usage, 77 no data directory."};
    app.add_option("--data", o.data, "Fashion-MNIST directory")->capture_default_str();
    app.add_option("--out", o.out, "where the PNGs go")->capture_default_str();
    app.add_option("--limit", o.limit, "use the first N training and test images (0: all)")->capture_default_str();
    app.add_option("--steps", o.steps, "Adam steps for every network")
        ->check(CLI::Range(1, 10000000))
        ->capture_default_str();
    app.add_option("--batch", o.batch, "batch size")->check(CLI::Range(1, 100000))->capture_default_str();
    app.add_option("--width", o.width, "hidden width")->check(CLI::Range(1, 4096))->capture_default_str();
    app.add_option("--depth", o.depth, "hidden Linear+ReLU layers")->check(CLI::Range(2, 10000))->capture_default_str();
    app.add_option("--lr", o.lr, "Adam learning rate")->check(CLI::Range(1e-12, 1e3))->capture_default_str();
    app.add_option("--seed", o.seed, "seed of weights and batch order")->capture_default_str();
    app.add_option("--min-gap", o.min_gap, "fail unless the residual final loss is this much below the plain one")
        ->capture_default_str();
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
        train_set = nn::load_fashion_mnist(o.data, nn::Split::train, o.limit);
        test = nn::load_fashion_mnist(o.data, nn::Split::test, o.limit);
    } catch (const io_error& e) {
        std::fprintf(stderr, "depth: %s\n", e.what());
        return fs::is_directory(o.data) ? 1 : 77;  // only absent data means "skip"; bad data fails
    }
    std::error_code ec;
    fs::create_directories(o.out, ec);
    if (ec) {
        std::fprintf(stderr, "depth: cannot create --out %s: %s\n", o.out.c_str(), ec.message().c_str());
        return 1;
    }

    std::vector<Variant> vs = {{"plain", false, false, nullptr, {}, {}},
                               {"residual", true, false, nullptr, {}, {}},
                               {"plain + BN", false, true, nullptr, {}, {}},
                               {"residual + BN", true, true, nullptr, {}, {}}};
    for (Variant& v : vs) {
        Generator gen(o.seed);  // the same seed: every variant starts from identical weights
        v.net = std::make_shared<DeepNet>(train_set.features(), o.width, o.depth, train_set.classes, v.residual,
                                          v.batch_norm, gen);
    }
    const nn::DataLoader loader(train_set, o.batch, true, o.seed);  // the same batches for every variant
    std::printf(
        "depth: %zu hidden Linear(%zu -> %zu)+ReLU layers (residual: a skip around every pair; BN: batch norm "
        "before each ReLU), Adam lr %g, "
        "batch %zu, %zu steps, seed %llu; %zu train / %zu test images\n\n",
        o.depth, o.width, o.width, o.lr, o.batch, o.steps, static_cast<unsigned long long>(o.seed), train_set.size(),
        test.size());
    std::printf("%-14s %12s %12s %12s %12s %10s %14s %8s\n", "network", "first loss", "final loss", "test loss",
                "test acc", "|g| layer 1", ("|g| layer " + std::to_string(o.depth)).c_str(), "seconds");
    for (Variant& v : vs) {
        if (!train(v, loader, test, o)) {
            std::fprintf(stderr, "depth: the %s network's loss became non-finite; try a smaller --lr\n",
                         v.name.c_str());
            return 1;
        }
        std::printf("%-14s %12.4f %12.4f %12.4f %10.2f %% %12.3g %14.3g %8.1f\n", v.name.c_str(), v.losses.front(),
                    v.final_loss, v.test_loss, 100.0 * v.test_accuracy, v.grad_norms.front(), v.grad_norms.back(),
                    v.seconds);
    }
    std::printf("\ngradient norm ||dL/dW|| per layer at the first step:\n%-7s", "layer");
    for (const Variant& v : vs) std::printf(" %14s", v.name.c_str());
    std::printf("\n");
    for (std::size_t l = 0; l < o.depth; ++l) {
        if (!(l == 0 || (l + 1) % 10 == 0 || l + 1 == o.depth)) continue;
        std::printf("%-7zu", l + 1);
        for (const Variant& v : vs) std::printf(" %14.3g", v.grad_norms[l]);
        std::printf("\n");
    }

    int status = 0;
    for (const auto& [name, plot] :
         {std::pair{"depth_loss.png", &plot_losses}, std::pair{"depth_grad.png", &plot_grads}}) {
        const fs::path png = fs::path(o.out) / name;
        const std::string why = plot(png, vs, o);
        if (!why.empty()) {
            std::fprintf(stderr, "depth: warning: %s\n", why.c_str());
            continue;
        }
        const auto [w, h] = demo::png_size(png.string());
        std::printf("wrote %s (%u x %u)\n", png.string().c_str(), w, h);
        if (w != 900 || h != 500) {
            std::fprintf(stderr, "depth: FAIL: %s is %u x %u, not the 900 x 500 asked for\n", png.string().c_str(), w,
                         h);
            status = 1;
        }
    }
    const double gap = vs[0].final_loss - vs[1].final_loss;
    if (!(gap >= o.min_gap)) {
        std::fprintf(stderr, "depth: FAIL: the residual final loss %.4f is not %.4f below the plain one %.4f\n",
                     vs[1].final_loss, o.min_gap, vs[0].final_loss);
        return 1;
    }
    std::printf("ok: the residual network's final loss is %.4f below the plain one's\n", gap);
    return status;
}
