// libtorch peer of bench_cnn: the same `cnn` preset (conv, batch norm, ReLU, max pool twice, then Linear, ReLU,
// Dropout, Linear), data, initial weights, batches (in order, rows copied into a fresh tensor per step) and step
// (softmax cross-entropy, AdamW or SGD with momentum, gradients reset to none like adgraph's zero_grad), float32,
// with intra-op and OpenBLAS threads set to the same count; then the per-layer conv2d table
// (torch::conv2d forward and backward at the same shapes).
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <tuple>

#include "cnn_setup.hpp"
#include "machine.hpp"
#include "memory.hpp"
#include "output.hpp"

namespace {

using adg::bench::LayerInit;

void load(torch::Tensor& w, torch::Tensor& b, const LayerInit& init) {
    torch::NoGradGuard ng;
    w.copy_(torch::from_blob(const_cast<float*>(init.weight.data()), w.sizes()));
    b.copy_(torch::from_blob(const_cast<float*>(init.bias.data()), b.sizes()));
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const adg::bench::CnnConfig& cfg,
                                                        const std::vector<torch::Tensor>& params) {
    if (cfg.optimizer == "sgd") {
        return std::make_unique<torch::optim::SGD>(params, torch::optim::SGDOptions(cfg.lr()).momentum(cfg.momentum()));
    }
    return std::make_unique<torch::optim::AdamW>(
        params, torch::optim::AdamWOptions(cfg.lr()).betas({0.9, 0.999}).eps(1e-8).weight_decay(cfg.weight_decay()));
}

}  // namespace

int main(int argc, char** argv) {
    using namespace adg;
    bench::CnnConfig cfg;
    std::string data_dir = "/usr/share/datasets/fashion-mnist", threads_arg = "1,2";
    std::size_t limit = 0;
    int epochs = 3, intra_op = 0;
    double layer_budget = 1.0;
    bool quick = false, json = false, no_layers = false, no_epochs = false;
    CLI::App app{"cnn preset training epoch and conv2d layers in libtorch (peer of bench_cnn); peak RSS"};
    app.add_option("--data", data_dir, "Fashion-MNIST directory (synthetic data if it holds none)")
        ->capture_default_str();
    app.add_option("--limit", limit, "training samples per epoch (0: all)")->capture_default_str();
    app.add_option("--epochs", epochs, "timed epochs per thread count (median), after one warm-up epoch")
        ->capture_default_str();
    app.add_option("--threads", threads_arg, "thread counts (intra-op and OpenBLAS), comma-separated")
        ->capture_default_str();
    app.add_option("--batch", cfg.batch, "samples per step")->capture_default_str();
    app.add_option("--dropout", cfg.dropout, "dropout probability before the last Linear")->capture_default_str();
    app.add_option("--optimizer", cfg.optimizer, "adamw or sgd")
        ->check(CLI::IsMember({"adamw", "sgd"}))
        ->capture_default_str();
    app.add_option("--intra-op", intra_op, "libtorch intra-op threads (0: the BLAS thread count)")
        ->capture_default_str();
    app.add_option("--layer-budget", layer_budget, "seconds per conv case and thread count in the layer table")
        ->capture_default_str();
    app.add_flag("--no-layers", no_layers, "skip the per-layer conv2d table");
    app.add_flag("--no-epochs", no_epochs, "skip the training epochs");
    app.add_flag("--quick", quick, "tiny sizes (CTest smoke run)");
    app.add_flag("--json", json, "one JSON object per result line");
    CLI11_PARSE(app, argc, argv);
    if (quick) {
        limit = 64;
        epochs = 1;
        threads_arg = "1";
        cfg.batch = 16;
        layer_budget = 0.01;
    }
    const auto threads = bench::parse_thread_list(threads_arg);
    torch::manual_seed(1);  // dropout's masks; otherwise they differ from run to run
    const auto set_threads = [&](int t) {
        torch::set_num_threads(intra_op > 0 ? intra_op : t);
        bench::set_blas_threads(t);
    };

    bench::Output out("cnn", json);
    out.context("engine", "libtorch");
    out.context("dtype", "float32");
    out.context("torch", TORCH_VERSION);
    const char* wait = std::getenv("OMP_WAIT_POLICY");
    out.context("omp_wait_policy", wait ? wait : "default");
    out.context("intra_op_threads", intra_op > 0 ? std::to_string(intra_op) : std::string("= BLAS threads"));
    out.context("mkldnn", static_cast<bool>(AT_MKLDNN_ENABLED()));
    int status = 0;

    if (!no_epochs) {
        const bench::MlpData data = bench::load_mlp_data(data_dir, limit);
        const torch::Tensor images = torch::from_blob(const_cast<float*>(data.images.data()),
                                                      {static_cast<long>(data.rows), 1, 28, 28}, torch::kFloat32);
        const torch::Tensor labels = torch::from_blob(const_cast<std::int64_t*>(data.labels.data()),
                                                      {static_cast<long>(data.rows)}, torch::kInt64);
        namespace tn = torch::nn;
        tn::Conv2d conv1(tn::Conv2dOptions(1, 32, 3).padding(1)), conv2(tn::Conv2dOptions(32, 64, 3).padding(1));
        tn::Linear fc1(3136, 128), fc2(128, 10);
        const bench::CnnInit init = bench::initial_cnn(11);
        load(conv1->weight, conv1->bias, init.conv1);
        load(conv2->weight, conv2->bias, init.conv2);
        load(fc1->weight, fc1->bias, init.fc1);
        load(fc2->weight, fc2->bias, init.fc2);
        tn::Sequential model(conv1, tn::BatchNorm2d(32), tn::ReLU(), tn::MaxPool2d(2), conv2, tn::BatchNorm2d(64),
                             tn::ReLU(), tn::MaxPool2d(2), tn::Flatten(), fc1, tn::ReLU(),
                             tn::Dropout(tn::DropoutOptions(cfg.dropout)), fc2);
        model->train();
        const auto opt = make_optimizer(cfg, model->parameters());
        const std::size_t steps = (data.rows + cfg.batch - 1) / cfg.batch;

        double last_loss = 0;
        bench::Phases phases(bench::step_phases());
        const auto epoch = [&] {
            double sum = 0;
            phases.start();
            for (std::size_t s = 0; s < data.rows; s += cfg.batch) {
                const long rows = static_cast<long>(std::min(cfg.batch, data.rows - s));
                {
                    const torch::Tensor x = images.narrow(0, static_cast<long>(s), rows).clone();
                    const torch::Tensor y = labels.narrow(0, static_cast<long>(s), rows).clone();
                    phases.lap(0);
                    const torch::Tensor logits = model->forward(x);
                    phases.lap(1);
                    const torch::Tensor loss = torch::nn::functional::cross_entropy(logits, y);
                    sum += loss.item<double>();
                    phases.lap(2);
                    loss.backward();
                    phases.lap(3);
                }
                phases.lap(4);
                opt->step();
                for (auto& p : model->parameters()) p.mutable_grad().reset();
                phases.lap(5);
            }
            last_loss = sum / static_cast<double>(steps);
        };
        set_threads(threads.front());
        const std::size_t rss_before = bench::current_rss();
        const bool reset = bench::reset_peak_rss();
        epoch();
        const std::size_t rss_peak = bench::peak_rss();
        const double first_loss = last_loss;
        for (std::size_t i = 1; i < threads.size(); ++i) {
            set_threads(threads[i]);
            epoch();
        }
        std::vector<std::vector<double>> t(threads.size());
        std::vector<std::vector<std::vector<double>>> split(threads.size());
        for (int e = 0; e < epochs; ++e) {
            for (std::size_t i = 0; i < threads.size(); ++i) {
                set_threads(threads[i]);
                bench::settle_threads();
                t[i].push_back(bench::seconds(epoch));
                split[i].push_back(phases.totals());
            }
        }
        out.context("model", cfg.model());
        out.context("batch", cfg.batch);
        out.context("optimizer", cfg.optimizer_line());
        out.context("data", data.source);
        out.context("steps_per_epoch", steps);
        out.preamble("cnn preset training epoch: libtorch " TORCH_VERSION " (median of " + std::to_string(epochs) +
                     " epochs)");
        out.text(bench::format("%-12s %8s %12s", "engine", "threads", "epoch s"));
        for (std::size_t i = 0; i < threads.size(); ++i) {
            const double a = bench::median(t[i]);
            const auto ph = bench::phase_medians(split[i]);
            out.row({{"table", "epoch"},
                     {"engine", "libtorch"},
                     {"threads", threads[i]},
                     {"epoch_s", a},
                     {"epoch_s_all", t[i]},
                     {"phases", bench::step_phases()},
                     {"phase_s", ph}},
                    bench::format("%-12s %8d %12.4f", "libtorch", threads[i], a) + "\n    " + bench::phase_line(ph));
        }
        bench::report_memory(out, "libtorch", threads.front(), rss_before, rss_peak, reset, first_loss);
        if (!std::isfinite(first_loss)) status = 1;
    }

    if (!no_layers) {
        // Per layer: the forward (recording, as in training) and the backward that follows it, seeded with a fixed
        // cotangent; gradients reset to none after each backward so each allocates them afresh, as in training.
        if (no_epochs) out.preamble("conv2d, batch norm and max pool forward and backward: libtorch " TORCH_VERSION);
        out.text(bench::format("%-20s %-30s %8s %12s %12s %10s", "case", "shape", "threads", "forward ms",
                               "backward ms", "fwd GFLOP/s"));
        const auto L = [](std::size_t v) { return static_cast<long>(v); };
        const auto leaf = [](const std::vector<float>& v, std::vector<long> shape, bool grad) {
            return torch::from_blob(const_cast<float*>(v.data()), shape).clone().requires_grad_(grad);
        };
        const auto time_pair = [&](const std::function<void()>& fwd, const std::function<void()>& bwd) {
            fwd();
            bwd();  // warm-up
            const int reps = bench::reps_for(bench::seconds([&] {
                                                 fwd();
                                                 bwd();
                                             }),
                                             layer_budget, 3, 50);
            std::vector<double> tf, tb;
            for (int r = 0; r < reps; ++r) {
                tf.push_back(bench::seconds(fwd));
                tb.push_back(bench::seconds(bwd));
            }
            return std::make_tuple(bench::median(tf), bench::median(tb), reps);
        };
        const auto row = [&](const char* table, const std::string& name, const std::string& shape, int t,
                             std::tuple<double, double, int> tm, double flops) {
            const auto [f, bw, reps] = tm;
            out.row({{"table", table},
                     {"engine", "libtorch"},
                     {"case", name},
                     {"shape", shape},
                     {"threads", t},
                     {"forward_ms", 1e3 * f},
                     {"backward_ms", 1e3 * bw},
                     {"reps", reps}},
                    bench::format("%-20s %-30s %8d %12.3f %12.3f %10.1f", name.c_str(), shape.c_str(), t, 1e3 * f,
                                  1e3 * bw, flops / f * 1e-9));
        };
        for (const bench::ConvCase& c : bench::conv_cases(quick)) {
            torch::Tensor x =
                leaf(bench::pattern(c.n * c.c * c.h * c.w, 0.1), {L(c.n), L(c.c), L(c.h), L(c.w)}, c.input_grad);
            torch::Tensor w = leaf(bench::pattern(c.o * c.c * c.k * c.k, 0.2), {L(c.o), L(c.c), L(c.k), L(c.k)}, true);
            torch::Tensor b = leaf(bench::pattern(c.o, 0.3), {L(c.o)}, true);
            const torch::Tensor g = leaf(bench::pattern(c.n * c.o * c.out_h() * c.out_w(), 0.4),
                                         {L(c.n), L(c.o), L(c.out_h()), L(c.out_w())}, false);
            for (int t : threads) {
                set_threads(t);
                torch::Tensor y;
                const auto tm = time_pair([&] { y = torch::conv2d(x, w, b, L(c.stride), L(c.pad)); },
                                          [&] {
                                              y.backward(g);
                                              y = torch::Tensor();
                                              for (torch::Tensor* p : {&x, &w, &b}) p->mutable_grad().reset();
                                          });
                row("conv", c.name, c.shape(), t, tm, c.forward_flops());
            }
        }
        for (const bench::LayerCase& c : bench::layer_cases(quick)) {
            const bool bn = c.op == "batch_norm";
            torch::Tensor x = leaf(bench::pattern(c.n * c.c * c.h * c.w, 0.1), {L(c.n), L(c.c), L(c.h), L(c.w)}, true);
            torch::Tensor gamma = torch::ones({L(c.c)}).requires_grad_(true);
            torch::Tensor beta = torch::zeros({L(c.c)}).requires_grad_(true);
            torch::Tensor mean = torch::zeros({L(c.c)}), var = torch::ones({L(c.c)});
            const std::vector<long> ys = bn ? std::vector<long>{L(c.n), L(c.c), L(c.h), L(c.w)}
                                            : std::vector<long>{L(c.n), L(c.c), L(c.h / 2), L(c.w / 2)};
            const torch::Tensor g =
                leaf(bench::pattern(static_cast<std::size_t>(ys[0] * ys[1] * ys[2] * ys[3]), 0.4), ys, false);
            for (int t : threads) {
                set_threads(t);
                torch::Tensor y;
                const auto tm = time_pair(
                    [&] {
                        y = bn ? torch::batch_norm(x, gamma, beta, mean, var, true, 0.1, 1e-5, false)
                               : torch::max_pool2d(x, {2, 2});
                    },
                    [&] {
                        y.backward(g);
                        y = torch::Tensor();
                        for (torch::Tensor* p : {&x, &gamma, &beta}) p->mutable_grad().reset();
                    });
                row("op", c.name + " (" + c.op + ")", c.shape(), t, tm, 0.0);
            }
        }
    }
    return status;
}
