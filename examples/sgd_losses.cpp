// Minibatch SGD on Fashion-MNIST with the lecture's squared loss on one-hot labels against cross-entropy: the same
// MLP, the same initial weights, the same batches, plain SGD; test accuracy per epoch side by side.
#include <adgraph/adgraph.hpp>
#include <adgraph/nn/data.hpp>
#include <adgraph/nn/loss.hpp>
#include <adgraph/nn/optim.hpp>
#include <adgraph/nn/sequential.hpp>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
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

const char* usage =
    "usage: sgd_losses [--data DIR] [--limit N] [--epochs E] [--batch B] [--lr LR] [--model SPEC] [--seed S]\n"
    "                  [--min-accuracy A]\n"
    "  --data DIR          Fashion-MNIST directory (default /usr/share/datasets/fashion-mnist)\n"
    "  --limit N           use the first N training and test images (default 0: all)\n"
    "  --epochs E          epochs (default 5)     --batch B   batch size (default 64)\n"
    "  --lr LR             SGD learning rate for both losses (default 0.05)\n"
    "  --model SPEC        MLP layer sizes (default 784-128-10, ReLU)\n"
    "  --seed S            seed of weights and batch order (default 1)\n"
    "  --min-accuracy A    fail if either final test accuracy is below A (default 0.5)\n"
    "Exit status: 0 ok, 1 an accuracy below --min-accuracy, a non-finite loss or unreadable data, 2 usage,\n"
    "77 no data directory.\n";

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

// All of `s` as a whole number (digits only) or, for a floating-point T, a finite number; false otherwise.
template <class T>
bool parse_number(const std::string& s, T& out) {
    char* end = nullptr;
    errno = 0;
    if constexpr (std::is_floating_point_v<T>) {
        out = std::strtod(s.c_str(), &end);
        return !s.empty() && *end == '\0' && errno == 0 && std::isfinite(out);
    } else {
        if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos) return false;
        const unsigned long long v = std::strtoull(s.c_str(), &end, 10);
        out = static_cast<T>(v);
        return errno == 0 && v <= std::numeric_limits<T>::max();
    }
}

bool parse(int argc, char** argv, Options& o) {
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--help" || a == "-h") {
            std::fputs(usage, stdout);
            std::exit(0);
        }
        const std::string v = i + 1 < argc ? argv[++i] : "";
        const bool ok = a == "--data"           ? !(o.data = v).empty()
                        : a == "--model"        ? !(o.model = v).empty()
                        : a == "--limit"        ? parse_number(v, o.limit)
                        : a == "--epochs"       ? parse_number(v, o.epochs) && o.epochs > 0
                        : a == "--batch"        ? parse_number(v, o.batch) && o.batch > 0
                        : a == "--lr"           ? parse_number(v, o.lr) && o.lr > 0
                        : a == "--seed"         ? parse_number(v, o.seed)
                        : a == "--min-accuracy" ? parse_number(v, o.min_accuracy)
                                                : false;
        if (!ok) {
            std::fprintf(stderr, "sgd_losses: bad argument '%s %s'\n%s", a.c_str(), v.c_str(), usage);
            return false;
        }
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
            r.opt = std::make_unique<nn::SGD>(r.net->named_parameters(), nn::SgdOptions{o.lr});
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
