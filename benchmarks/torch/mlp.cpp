// libtorch peer of bench_mlp: the same 784-256-128-10 ReLU MLP, data, initial weights, batches (in order, rows
// copied into a fresh tensor per step; or, with --shuffle, a new random order gathered by index_select) and step
// (cross-entropy, SGD with momentum, gradients reset to none like adgraph's zero_grad), float32, with intra-op and
// OpenBLAS threads set to the same count.
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>

#include "machine.hpp"
#include "memory.hpp"
#include "mlp_setup.hpp"
#include "output.hpp"

int main(int argc, char** argv) {
    using namespace adg;
    bench::MlpConfig cfg;
    std::string data_dir = "/usr/share/datasets/fashion-mnist", threads_arg = "1,2";
    std::size_t limit = 0;
    int epochs = 5, intra_op = 0;
    bool quick = false, json = false, shuffle = false;
    CLI::App app{"MLP training epoch in libtorch (peer of bench_mlp); peak RSS"};
    app.add_option("--data", data_dir, "Fashion-MNIST directory (synthetic data if it holds none)")
        ->capture_default_str();
    app.add_option("--limit", limit, "training samples per epoch (0: all)")->capture_default_str();
    app.add_option("--epochs", epochs, "timed epochs per thread count (median), after one warm-up epoch")
        ->capture_default_str();
    app.add_option("--threads", threads_arg, "thread counts (intra-op and OpenBLAS), comma-separated")
        ->capture_default_str();
    app.add_option("--batch", cfg.batch, "rows per step")->capture_default_str();
    app.add_option("--intra-op", intra_op, "libtorch intra-op threads (0: the BLAS thread count)")
        ->capture_default_str();
    app.add_flag("--shuffle", shuffle,
                 "batches in a new random order each epoch, gathered with index_select (as bench_mlp_user shuffles)");
    app.add_flag("--quick", quick, "tiny sizes (CTest smoke run)");
    app.add_flag("--json", json, "one JSON object per result line");
    CLI11_PARSE(app, argc, argv);
    if (quick) {
        limit = 300;
        epochs = 1;
        threads_arg = "1";
    }
    const auto threads = bench::parse_thread_list(threads_arg);
    const auto set_threads = [&](int t) {
        torch::set_num_threads(intra_op > 0 ? intra_op : t);
        bench::set_blas_threads(t);
    };

    const bench::MlpData data = bench::load_mlp_data(data_dir, limit);
    const torch::Tensor images =
        torch::from_blob(const_cast<float*>(data.images.data()), {static_cast<long>(data.rows), 784}, torch::kFloat32);
    const torch::Tensor labels =
        torch::from_blob(const_cast<std::int64_t*>(data.labels.data()), {static_cast<long>(data.rows)}, torch::kInt64);

    torch::nn::Sequential model;
    const auto init = bench::initial_layers(cfg.sizes, 7);
    for (std::size_t l = 0; l < init.size(); ++l) {
        torch::nn::Linear lin(init[l].in, init[l].out);
        {
            torch::NoGradGuard ng;
            lin->weight.copy_(torch::from_blob(const_cast<float*>(init[l].weight.data()),
                                               {static_cast<long>(init[l].out), static_cast<long>(init[l].in)}));
            lin->bias.copy_(
                torch::from_blob(const_cast<float*>(init[l].bias.data()), {static_cast<long>(init[l].out)}));
        }
        model->push_back(lin);
        if (l + 1 < init.size()) model->push_back(torch::nn::ReLU());
    }
    torch::optim::SGD opt(model->parameters(), torch::optim::SGDOptions(cfg.lr).momentum(cfg.momentum));
    const std::size_t steps = (data.rows + cfg.batch - 1) / cfg.batch;

    double last_loss = 0;
    bench::Phases phases(bench::step_phases());
    torch::manual_seed(1);
    const auto epoch = [&] {
        double sum = 0;
        const torch::Tensor order =
            shuffle ? torch::randperm(static_cast<long>(data.rows), torch::kInt64) : torch::Tensor();
        phases.start();
        for (std::size_t s = 0; s < data.rows; s += cfg.batch) {
            const long rows = static_cast<long>(std::min(cfg.batch, data.rows - s));
            {
                torch::Tensor x, y;
                if (shuffle) {
                    const torch::Tensor idx = order.narrow(0, static_cast<long>(s), rows);
                    x = images.index_select(0, idx);
                    y = labels.index_select(0, idx);
                } else {
                    x = images.narrow(0, static_cast<long>(s), rows).clone();
                    y = labels.narrow(0, static_cast<long>(s), rows).clone();
                }
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
            opt.step();
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
    std::vector<std::vector<double>> t(threads.size()), cpu(threads.size());
    std::vector<std::vector<std::vector<double>>> split(threads.size());
    for (int e = 0; e < epochs; ++e) {
        for (std::size_t i = 0; i < threads.size(); ++i) {
            set_threads(threads[i]);
            bench::settle_threads();  // as bench_mlp does before each timed epoch
            const double c0 = bench::process_cpu_seconds();
            t[i].push_back(bench::seconds(epoch));
            cpu[i].push_back(bench::process_cpu_seconds() - c0);
            split[i].push_back(phases.totals());
        }
    }

    bench::Output out("mlp", json);
    out.context("engine", "libtorch");
    out.context("dtype", "float32");
    out.context("model", cfg.model() + " relu");
    out.context("batch", cfg.batch);
    out.context("optimizer", bench::format("sgd lr %g momentum %g", cfg.lr, cfg.momentum));
    out.context("data", data.source);
    out.context("steps_per_epoch", steps);
    out.context("torch", TORCH_VERSION);
    out.context("order", shuffle ? "shuffled" : "in order");
    const char* wait = std::getenv("OMP_WAIT_POLICY");
    out.context("omp_wait_policy", wait ? wait : "default");
    out.context("intra_op_threads", intra_op > 0 ? std::to_string(intra_op) : std::string("= BLAS threads"));
    out.preamble("MLP training epoch: libtorch " TORCH_VERSION " (median of " + std::to_string(epochs) + " epochs)");
    out.text(bench::format("%-12s %8s %12s", "engine", "threads", "epoch s"));
    for (std::size_t i = 0; i < threads.size(); ++i) {
        const double a = bench::median(t[i]);
        const auto ph = bench::phase_medians(split[i]);
        out.row(
            {{"engine", "libtorch"},
             {"threads", threads[i]},
             {"epoch_s", a},
             {"epoch_s_all", t[i]},
             {"cpu_s", bench::median(cpu[i])},
             {"cpu_s_all", cpu[i]},
             {"phases", bench::step_phases()},
             {"phase_s", ph}},
            bench::format("%-12s %8d %12.4f   (CPU time %.4f s)", "libtorch", threads[i], a, bench::median(cpu[i])) +
                "\n    " + bench::phase_line(ph));
    }
    bench::report_memory(out, "libtorch", threads.front(), rss_before, rss_peak, reset, first_loss);
    return std::isfinite(first_loss) ? 0 : 1;
}
