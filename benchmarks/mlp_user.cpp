// The MLP training epoch as a user writes it from README.md and docs/tutorial.md alone: Fashion-MNIST through
// nn::load_fashion_mnist and nn::DataLoader, a Sequential of Linear and ReLU modules, nn::cross_entropy, nn::SGD
// with momentum, zero_grad after each step, nothing from the benchmarks' own set-up (no shared initial weights,
// no retain_freed_memory, no phase timers). The model and step are bench_mlp's (784-256-128-10 ReLU, batch 128,
// lr 0.01, momentum 0.9, float32), so its epoch compares with bench_mlp's and bench_mlp_torch's.
#include <adgraph/adgraph.hpp>
#include <adgraph/nn/activation.hpp>
#include <adgraph/nn/data.hpp>
#include <adgraph/nn/linear.hpp>
#include <adgraph/nn/loss.hpp>
#include <adgraph/nn/optim.hpp>
#include <adgraph/nn/sequential.hpp>

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <memory>

#include "machine.hpp"
#include "mlp_setup.hpp"
#include "output.hpp"

using namespace adg;

namespace {

// The user's model: the layers written out as modules.
std::shared_ptr<nn::Sequential> build_model(Generator& gen) {
    auto model = std::make_shared<nn::Sequential>();
    model->add(std::make_shared<nn::Linear>(784, 256, gen));
    model->add(std::make_shared<nn::ReLU>());
    model->add(std::make_shared<nn::Linear>(256, 128, gen));
    model->add(std::make_shared<nn::ReLU>());
    model->add(std::make_shared<nn::Linear>(128, 10, gen));
    return model;
}

// One epoch of the user's loop; returns the mean loss over its batches.
double train_epoch(nn::Module& model, nn::SGD& opt, const nn::DataLoader& loader, std::size_t epoch) {
    double total = 0;
    for (const nn::Batch& b : loader.epoch(epoch)) {
        Tensor loss = nn::cross_entropy(model(b.x), b.labels);
        loss.backward();
        opt.step();
        opt.zero_grad();
        total += loss.item();
    }
    return total / static_cast<double>(loader.batches());
}

}  // namespace

int main(int argc, char** argv) {
    std::string data_dir = nn::default_fashion_mnist_dir, threads_arg = "1,2";
    std::size_t limit = 0, batch = 128;
    int epochs = 5;
    bool quick = false, json = false, in_order = false;
    CLI::App app{"MLP training epoch written as the README teaches (modules, DataLoader, SGD), beside bench_mlp"};
    app.add_option("--data", data_dir, "Fashion-MNIST directory")->capture_default_str();
    app.add_option("--limit", limit, "training samples per epoch (0: all)")->capture_default_str();
    app.add_option("--epochs", epochs, "timed epochs per thread count (median), after one warm-up epoch")
        ->check(CLI::Range(1, 1000))
        ->capture_default_str();
    app.add_option("--threads", threads_arg, "thread counts (set_num_threads), comma-separated")->capture_default_str();
    app.add_option("--batch", batch, "rows per step")->check(CLI::Range(1, 1 << 20))->capture_default_str();
    app.add_flag("--in-order", in_order, "batches in dataset order (as bench_mlp_torch) instead of shuffled");
    app.add_flag("--quick", quick, "tiny sizes (CTest smoke run)");
    app.add_flag("--json", json, "one JSON object per result line");
    CLI11_PARSE(app, argc, argv);
    if (quick) {
        limit = 300;
        epochs = 1;
        threads_arg = "1";
    }
    std::vector<int> threads;
    try {
        threads = bench::parse_thread_list(threads_arg);
    } catch (const std::exception&) {
        std::fprintf(stderr, "bench_mlp_user: --threads takes a comma-separated list of counts >= 1 (got '%s')\n",
                     threads_arg.c_str());
        return 2;
    }

    // Synthetic data of Fashion-MNIST's shape when the data set is not installed (CI), so the smoke run still runs.
    nn::Dataset train;
    std::string source;
    try {
        train = nn::load_fashion_mnist(data_dir, nn::Split::train, limit);
        source = "fashion-mnist (" + std::to_string(train.size()) + ")";
    } catch (const io_error&) {
        const std::size_t rows = limit ? limit : 60000;
        Generator data_gen(42);
        train.images = Tensor::uniform({rows, 784}, -1.0, 1.0, data_gen, f32);
        for (std::size_t i = 0; i < rows; ++i) train.labels.push_back((i * 7919) % 10);
        source = "synthetic (" + std::to_string(rows) + ")";
    }

    Generator gen(1);
    auto model = build_model(gen);
    nn::SGD opt(model->parameters(), nn::SGDOptions(0.01).momentum(0.9));
    const nn::DataLoader loader(train, batch, !in_order, /*seed=*/1);

    std::size_t e = 0;
    std::vector<std::vector<double>> t(threads.size()), cpu(threads.size()), faults(threads.size());
    std::vector<double> losses;
    for (std::size_t i = 0; i < threads.size(); ++i) {  // one warm-up epoch per thread count
        set_num_threads(threads[i]);
        losses.push_back(train_epoch(*model, opt, loader, e++));
    }
    for (int r = 0; r < epochs; ++r) {
        for (std::size_t i = 0; i < threads.size(); ++i) {
            set_num_threads(threads[i]);
            bench::settle_threads();
            double loss = 0;
            const double cpu0 = bench::process_cpu_seconds();
            const long faults0 = bench::minor_faults();
            t[i].push_back(bench::seconds([&] { loss = train_epoch(*model, opt, loader, e++); }));
            cpu[i].push_back(bench::process_cpu_seconds() - cpu0);
            faults[i].push_back(static_cast<double>(bench::minor_faults() - faults0));
            losses.push_back(loss);
        }
    }

    bench::Output out("mlp_user", json);
    out.context("simd", simd_arch());
    out.context("dtype", "float32");
    out.context("model", "784-256-128-10 relu");
    out.context("batch", batch);
    out.context("optimizer", "sgd lr 0.01 momentum 0.9");
    out.context("data", source);
    out.context("order", in_order ? "in order" : "shuffled");
    out.context("steps_per_epoch", loader.batches());
    out.preamble("MLP training epoch written as a user writes it (median of " + std::to_string(epochs) +
                 " epochs per thread count)");
    out.text(bench::format("%-14s %8s %12s %12s %14s", "engine", "threads", "epoch s", "cpu s", "page faults"));
    for (std::size_t i = 0; i < threads.size(); ++i) {
        const double a = bench::median(t[i]), c = bench::median(cpu[i]), f = bench::median(faults[i]);
        out.row({{"engine", "adgraph-user"},
                 {"threads", threads[i]},
                 {"epoch_s", a},
                 {"epoch_s_all", t[i]},
                 {"cpu_s", c},
                 {"cpu_s_all", cpu[i]},
                 {"minor_faults", f}},
                bench::format("%-14s %8d %12.4f %12.4f %14.0f", "adgraph-user", threads[i], a, c, f));
    }
    out.text(bench::format("mean loss of the first epoch %.6f, of the last %.6f", losses.front(), losses.back()));
    // Training must make progress: a later epoch's mean loss below the first's.
    return std::isfinite(losses.back()) && (losses.size() < 2 || losses.back() < losses.front()) ? 0 : 1;
}
