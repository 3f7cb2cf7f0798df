// Minibatch SGD on Fashion-MNIST with the lecture's squared loss on one-hot labels against cross-entropy: the same
// MLP, the same initial weights, the same batches, plain SGD; test accuracy per epoch side by side.
#include <CLI/CLI.hpp>

#include <adgraph/adgraph.hpp>
#include <adgraph/nn/data.hpp>
#include <adgraph/nn/loss.hpp>
#include <adgraph/nn/optim.hpp>
#include <adgraph/nn/sequential.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

using namespace adg;

namespace {

struct Options {
    std::string data = nn::default_fashion_mnist_dir;
    std::string model = "784-128-10";
    std::size_t limit = 0, epochs = 5, batch = 64;
    double lr = 0.05, min_accuracy = 0.5;
    std::uint64_t seed = 1;
};

// The lecture's quadratic loss: Σ_k (y_k − t_k)² per sample, t the one-hot label, averaged over the batch.
Tensor squared_loss(const Tensor& out, const std::vector<std::size_t>& labels) {
    const Tensor target = one_hot(labels, out.shape()[1], out.dtype());
    return nn::mse_loss(out, target, nn::Reduction::sum) / static_cast<double>(labels.size());
}

struct Run {
    const char* name;
    bool squared;
    std::shared_ptr<nn::Sequential> net;
    std::unique_ptr<nn::SGD> opt;
    double train_loss = 0, test_accuracy = 0;
};

double test_accuracy(nn::Module& net, const nn::Dataset& test) {
    NoGrad no_grad;
    return nn::accuracy(net(test.images), test.labels);
}

// One epoch of minibatch SGD; returns false if the loss stopped being finite.
bool train_epoch(Run& r, const nn::DataLoader& loader, std::size_t epoch) {
    double sum = 0;
    std::size_t seen = 0;
    for (const nn::Batch& b : loader.epoch(epoch)) {
        const Tensor out = (*r.net)(b.x);
        const Tensor loss = r.squared ? squared_loss(out, b.labels) : nn::cross_entropy(out, b.labels);
        const double l = loss.item();
        if (!std::isfinite(l)) return false;
        loss.backward();
        r.opt->step();
        r.opt->zero_grad();
        sum += l * static_cast<double>(b.labels.size());
        seen += b.labels.size();
    }
    r.train_loss = sum / static_cast<double>(seen);
    return true;
}

// Returns false after printing the problem for a usage error (exit 2); exits 0 after --help.
bool parse(int argc, char** argv, Options& o) {
    CLI::App app{
        "Minibatch SGD with the squared loss on one-hot labels vs cross-entropy, on Fashion-MNIST.\n"
        "Exit status: 0 ok, 1 an accuracy below --min-accuracy, a non-finite loss or unreadable data, "
        "2 usage, 77 no data directory."};
    app.add_option("--data", o.data, "Fashion-MNIST directory")->capture_default_str();
    app.add_option("--limit", o.limit, "use the first N training and test images (0: all)")->capture_default_str();
    app.add_option("--epochs", o.epochs, "epochs")->check(CLI::Range(1, 100000))->capture_default_str();
    app.add_option("--batch", o.batch, "batch size")->check(CLI::Range(1, 1000000))->capture_default_str();
    app.add_option("--lr", o.lr, "SGD learning rate for both losses")
        ->check(CLI::Range(1e-12, 1e6))
        ->capture_default_str();
    app.add_option("--model", o.model, "MLP layer sizes (ReLU)")->capture_default_str();
    app.add_option("--seed", o.seed, "seed of weights and batch order")->capture_default_str();
    app.add_option("--min-accuracy", o.min_accuracy, "fail if either final test accuracy is below this")
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
    nn::Dataset train, test;
    try {
        train = nn::load_fashion_mnist(o.data, nn::Split::train, o.limit);
        test = nn::load_fashion_mnist(o.data, nn::Split::test, o.limit);
    } catch (const io_error& e) {
        std::fprintf(stderr, "sgd_losses: %s\n", e.what());
        return std::filesystem::is_directory(o.data) ? 1 : 77;  // only absent data means "skip"; bad data fails
    }

    Run runs[2] = {{"squared (one-hot)", true, nullptr, nullptr}, {"cross-entropy", false, nullptr, nullptr}};
    try {
        const auto sizes = nn::parse_mlp_spec(o.model);
        if (sizes.front() != train.features() || sizes.back() != train.classes) {
            throw value_error("--model " + o.model + " must start with " + std::to_string(train.features()) +
                              " inputs and end with " + std::to_string(train.classes) + " outputs");
        }
        for (Run& r : runs) {
            Generator gen(o.seed);  // the same seed: both nets start from identical weights
            r.net = nn::Sequential::mlp(o.model, gen);
            r.opt = std::make_unique<nn::SGD>(r.net->parameters(), nn::SGDOptions(o.lr));
        }
    } catch (const error& e) {
        std::fprintf(stderr, "sgd_losses: %s\n", e.what());
        return 2;
    }
    const nn::DataLoader loader(train, o.batch, true, o.seed);  // epoch e's order depends on (seed, e) only
    std::printf("sgd_losses: %s, plain SGD lr %g, batch %zu, seed %llu; %zu train / %zu test images\n",
                runs[0].net->to_string().c_str(), o.lr, o.batch, static_cast<unsigned long long>(o.seed), train.size(),
                test.size());
    std::printf("test accuracy before training: %.2f %% (both nets start from the same weights)\n\n",
                100.0 * test_accuracy(*runs[0].net, test));
    std::printf("       %-28s %s\n", "squared loss on one-hot", "cross-entropy");
    std::printf("epoch  %-12s %-15s %-12s %-15s %s\n", "train loss", "test accuracy", "train loss", "test accuracy",
                "seconds");

    for (std::size_t epoch = 0; epoch < o.epochs; ++epoch) {
        const auto t0 = std::chrono::steady_clock::now();
        for (Run& r : runs) {
            if (!train_epoch(r, loader, epoch)) {
                std::fprintf(stderr, "sgd_losses: the %s loss became non-finite in epoch %zu; try a smaller --lr\n",
                             r.name, epoch + 1);
                return 1;
            }
            r.test_accuracy = test_accuracy(*r.net, test);
        }
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::printf("%5zu  %-12.4f %6.2f %%        %-12.4f %6.2f %%        %.1f\n", epoch + 1, runs[0].train_loss,
                    100.0 * runs[0].test_accuracy, runs[1].train_loss, 100.0 * runs[1].test_accuracy, s);
    }

    int status = 0;
    for (const Run& r : runs) {
        if (!(r.test_accuracy >= o.min_accuracy)) {
            std::fprintf(stderr, "sgd_losses: FAIL: %s reached %.2f %% test accuracy, below %.2f %%\n", r.name,
                         100.0 * r.test_accuracy, 100.0 * o.min_accuracy);
            status = 1;
        }
    }
    if (status == 0) std::printf("ok: both losses above %.2f %% test accuracy\n", 100.0 * o.min_accuracy);
    return status;
}
