// libtorch peer of bench_gru: the same GRU classifier (torch::nn::GRU batch-first, one layer, then Linear on the last
// state), data, initial weights, batches (in order, rows copied into a fresh tensor per step) and step (softmax
// cross-entropy, clip_grad_norm_, Adam, gradients reset to none like adgraph's zero_grad), float32, with intra-op and
// OpenBLAS threads set to the same count. Each epoch also records the process's CPU time, so the report shows how
// many cores each side really kept busy.
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "gru_setup.hpp"
#include "machine.hpp"
#include "memory.hpp"
#include "output.hpp"

namespace {

void load(torch::Tensor& t, const std::vector<float>& v) {
    torch::NoGradGuard ng;
    if (static_cast<std::size_t>(t.numel()) != v.size()) throw std::runtime_error("bench_gru_torch: size mismatch");
    t.copy_(torch::from_blob(const_cast<float*>(v.data()), t.sizes()));
}

}  // namespace

int main(int argc, char** argv) {
    using namespace adg;
    bench::GruConfig cfg;
    std::string data_dir = "/usr/share/datasets/fashion-mnist", threads_arg = "1,2";
    std::size_t limit = 0;
    int epochs = 3, intra_op = 0;
    bool quick = false, json = false;
    CLI::App app{"GRU classifier training epoch in libtorch (peer of bench_gru); peak RSS"};
    app.add_option("--data", data_dir, "Fashion-MNIST directory (synthetic data if it holds none)")
        ->capture_default_str();
    app.add_option("--limit", limit, "training samples per epoch (0: all)")->capture_default_str();
    app.add_option("--epochs", epochs, "timed epochs per thread count (median), after one warm-up epoch")
        ->capture_default_str();
    app.add_option("--threads", threads_arg, "thread counts (intra-op and OpenBLAS), comma-separated")
        ->capture_default_str();
    app.add_option("--batch", cfg.batch, "samples per step")->capture_default_str();
    app.add_option("--hidden", cfg.hidden, "GRU state features")->capture_default_str();
    app.add_option("--clip", cfg.clip, "clip gradients to this global norm before each step (0: no clipping)")
        ->capture_default_str();
    app.add_option("--intra-op", intra_op, "libtorch intra-op threads (0: the BLAS thread count)")
        ->capture_default_str();
    app.add_flag("--quick", quick, "tiny sizes (CTest smoke run)");
    app.add_flag("--json", json, "one JSON object per result line");
    CLI11_PARSE(app, argc, argv);
    if (quick) {
        limit = 64;
        epochs = 1;
        threads_arg = "1";
        cfg.batch = 16;
        cfg.hidden = 16;
    }
    const auto threads = bench::parse_thread_list(threads_arg);
    const auto set_threads = [&](int t) {
        torch::set_num_threads(intra_op > 0 ? intra_op : t);
        bench::set_blas_threads(t);
    };

    bench::Output out("gru", json);
    out.context("engine", "libtorch");
    out.context("dtype", "float32");
    out.context("torch", TORCH_VERSION);
    const char* wait = std::getenv("OMP_WAIT_POLICY");
    out.context("omp_wait_policy", wait ? wait : "default");
    out.context("intra_op_threads", intra_op > 0 ? std::to_string(intra_op) : std::string("= BLAS threads"));

    const bench::MlpData data = bench::load_mlp_data(data_dir, limit);
    const long T = static_cast<long>(cfg.steps), I = static_cast<long>(cfg.input);
    const torch::Tensor images =
        torch::from_blob(const_cast<float*>(data.images.data()), {static_cast<long>(data.rows), T, I}, torch::kFloat32);
    const torch::Tensor labels =
        torch::from_blob(const_cast<std::int64_t*>(data.labels.data()), {static_cast<long>(data.rows)}, torch::kInt64);
    namespace tn = torch::nn;
    tn::GRU gru(tn::GRUOptions(I, static_cast<long>(cfg.hidden)).num_layers(1).batch_first(true));
    tn::Linear fc(static_cast<long>(cfg.hidden), static_cast<long>(cfg.classes));
    const bench::GruInit init = bench::initial_gru(cfg, 7);
    {
        auto p = gru->named_parameters();
        load(p["weight_ih_l0"], init.ih.weight);
        load(p["bias_ih_l0"], init.ih.bias);
        load(p["weight_hh_l0"], init.hh.weight);
        load(p["bias_hh_l0"], init.hh.bias);
        load(fc->weight, init.fc.weight);
        load(fc->bias, init.fc.bias);
    }
    std::vector<torch::Tensor> params = gru->parameters();
    for (const auto& p : fc->parameters()) params.push_back(p);
    torch::optim::Adam opt(params, torch::optim::AdamOptions(cfg.lr).betas({0.9, 0.999}).eps(1e-8));
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
                const torch::Tensor h_n = std::get<1>(gru->forward(x));
                const torch::Tensor logits = fc->forward(h_n.select(0, 0));
                phases.lap(1);
                const torch::Tensor loss = torch::nn::functional::cross_entropy(logits, y);
                sum += loss.item<double>();
                phases.lap(2);
                loss.backward();
                phases.lap(3);
            }
            phases.lap(4);
            if (cfg.clip > 0) torch::nn::utils::clip_grad_norm_(params, cfg.clip);
            opt.step();
            for (auto& p : params) p.mutable_grad().reset();
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
            bench::settle_threads();
            const double c0 = bench::process_cpu_seconds();
            t[i].push_back(bench::seconds(epoch));
            cpu[i].push_back(bench::process_cpu_seconds() - c0);
            split[i].push_back(phases.totals());
        }
    }
    out.context("model", cfg.model());
    out.context("batch", cfg.batch);
    out.context("optimizer", cfg.optimizer_line());
    out.context("data", data.source);
    out.context("steps_per_epoch", steps);
    out.preamble("GRU classifier training epoch: libtorch " TORCH_VERSION " (median of " + std::to_string(epochs) +
                 " epochs)");
    out.text(bench::format("%-12s %8s %12s %12s", "engine", "threads", "epoch s", "cpu s"));
    for (std::size_t i = 0; i < threads.size(); ++i) {
        const double a = bench::median(t[i]), c = bench::median(cpu[i]);
        const auto ph = bench::phase_medians(split[i]);
        out.row(
            {{"table", "epoch"},
             {"engine", "libtorch"},
             {"threads", threads[i]},
             {"epoch_s", a},
             {"epoch_s_all", t[i]},
             {"cpu_s", c},
             {"phases", bench::step_phases()},
             {"phase_s", ph}},
            bench::format("%-12s %8d %12.4f %12.4f", "libtorch", threads[i], a, c) + "\n    " + bench::phase_line(ph));
    }
    bench::report_memory(out, "libtorch", threads.front(), rss_before, rss_peak, reset, first_loss);
    return std::isfinite(first_loss) ? 0 : 1;
}
