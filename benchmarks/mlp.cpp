// Training-epoch time of a 784-256-128-10 ReLU MLP (batch 128, SGD with momentum, float32) in adgraph, beside the
// GEMM floor (only the cblas_sgemm calls of each step) and a hand-fused step (fused_trainer.hpp: the fewest passes
// any trainer makes), epochs interleaved so that load changes hit all alike; plus the peak RSS while training.
// bench_mlp_torch runs the same model, data, initial weights and step in libtorch; scripts/run-benchmarks.sh alternates
// the two programs and puts the ratios side by side.
#include <adgraph/adgraph.hpp>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "fused_trainer.hpp"
#include "gemm_floor.hpp"
#include "machine.hpp"
#include "memory.hpp"
#include "mlp_setup.hpp"
#include "output.hpp"

using namespace adg;

namespace {

nn::Dataset to_dataset(const bench::MlpData& d) {
    auto x = xt::xarray<float>::from_shape({d.rows, d.features});
    std::copy(d.images.begin(), d.images.end(), x.begin());
    nn::Dataset ds;
    ds.images = Tensor(std::move(x));
    ds.labels.assign(d.labels.begin(), d.labels.end());
    ds.classes = d.classes;
    return ds;
}

// Overwrites the Linear layers' parameters (in order: weight, bias, weight, bias, ...) with the shared init.
void load_init(nn::Module& model, const std::vector<bench::LayerInit>& init) {
    const auto params = model.parameters();
    for (std::size_t l = 0; l < init.size(); ++l) {
        auto& w = params[2 * l].mutable_value().get_mut<float>();
        auto& b = params[2 * l + 1].mutable_value().get_mut<float>();
        std::copy(init[l].weight.begin(), init[l].weight.end(), w.begin());
        std::copy(init[l].bias.begin(), init[l].bias.end(), b.begin());
    }
}

}  // namespace

int main(int argc, char** argv) {
    bench::MlpConfig cfg;
    std::string data_dir = nn::default_fashion_mnist_dir, threads_arg = "1,2";
    std::size_t limit = 0;
    int epochs = 5;
    bool quick = false, json = false;
    CLI::App app{"MLP training epoch in adgraph beside the GEMM floor; peak RSS"};
    app.add_option("--data", data_dir, "Fashion-MNIST directory (synthetic data if it holds none)")
        ->capture_default_str();
    app.add_option("--limit", limit, "training samples per epoch (0: all)")->capture_default_str();
    app.add_option("--epochs", epochs, "timed epochs per thread count (median), after one warm-up epoch")
        ->capture_default_str();
    app.add_option("--threads", threads_arg, "thread counts (adgraph's; the floor's, split by BLAS and by adgraph)")
        ->capture_default_str();
    app.add_option("--batch", cfg.batch, "rows per step")->capture_default_str();
    app.add_flag("--quick", quick, "tiny sizes (CTest smoke run)");
    app.add_flag("--json", json, "one JSON object per result line");
    CLI11_PARSE(app, argc, argv);
    if (quick) {
        limit = 300;
        epochs = 1;
        threads_arg = "1";
    }
    const auto threads = bench::parse_thread_list(threads_arg);

    bench::MlpData data = bench::load_mlp_data(data_dir, limit);
    const nn::Dataset ds = to_dataset(data);
    std::vector<float>().swap(data.images);  // one copy of the images, as in the libtorch peer
    const float* images = ds.images.data<float>().data();
    Generator gen(1);
    auto model = nn::Sequential::mlp(cfg.model(), gen);
    const std::vector<bench::LayerInit> init = bench::initial_layers(cfg.sizes, 7);
    load_init(*model, init);
    nn::SGD opt(model->parameters(), nn::SGDOptions(cfg.lr).momentum(cfg.momentum));
    const nn::DataLoader loader(ds, cfg.batch, false);

    double last_loss = 0;
    bench::Phases phases(bench::step_phases());
    const auto adgraph_epoch = [&] {
        double sum = 0;
        phases.start();
        for (const nn::Batch& b : loader.epoch(0)) {
            phases.lap(0);
            {
                const Tensor logits = (*model)(b.x);
                phases.lap(1);
                const Tensor loss = nn::cross_entropy(logits, b.labels);
                sum += loss.item();
                phases.lap(2);
                loss.backward();
                phases.lap(3);
            }
            phases.lap(4);
            opt.step();
            opt.zero_grad();
            phases.lap(5);
        }
        last_loss = sum / static_cast<double>(loader.batches());
    };
    using FloorThreads = bench::GemmFloor::Threads;
    bench::GemmFloor floor(cfg.sizes, cfg.batch);
    const auto floor_epoch = [&](FloorThreads how) {
        for (std::size_t s = 0; s < data.rows; s += cfg.batch)
            floor.step(images + s * data.features, std::min(cfg.batch, data.rows - s), how);
    };
    bench::FusedTrainer fused(init, cfg.batch, static_cast<float>(cfg.lr), static_cast<float>(cfg.momentum));
    double fused_loss = 0;
    const auto fused_epoch = [&] {
        double sum = 0;
        std::size_t steps = 0;
        for (std::size_t s = 0; s < data.rows; s += cfg.batch, ++steps) {
            sum += fused.step(images + s * data.features, data.labels.data() + s, std::min(cfg.batch, data.rows - s));
        }
        fused_loss = sum / static_cast<double>(steps);
    };

    // adgraph runs on its own threads (BLAS single-threaded inside each part). The floor runs twice at more than
    // one thread: with OpenBLAS's threads, and in adgraph's blocks on adgraph's threads; the faster is the floor,
    // so that adgraph's own way of splitting a GEMM cannot make it look better than the floor.
    const auto adgraph_on = [](int t) { set_num_threads(t); };
    const auto floor_on = bench::use_floor_threads;
    const auto floor_kinds = bench::floor_kinds;

    // Peak RSS over the first (warm-up) epoch, before the floor's buffers exist: what training adds to the process.
    adgraph_on(threads.front());
    const std::size_t rss_before = bench::current_rss();
    const bool reset = bench::reset_peak_rss();
    adgraph_epoch();
    const std::size_t rss_peak = bench::peak_rss();
    const double first_loss = last_loss;
    // The hand-fused step's first epoch from the same weights: its mean loss must match adgraph's, the check that
    // both do the same training (float32 GEMM blocks round differently, so not to the last bit).
    fused_epoch();
    const double fused_first_loss = fused_loss;

    std::vector<std::vector<double>> t_adg(threads.size()), c_adg(threads.size()), c_fused(threads.size());
    std::vector<std::vector<std::vector<double>>> t_floor(threads.size(), std::vector<std::vector<double>>(2));
    std::vector<std::vector<double>> c_floor(threads.size());  // CPU time of the floor with BLAS's threads
    // Wall time of `f` into `wall`, and the process's CPU time over it into `cpu`.
    const auto timed = [](const auto& f, std::vector<double>& wall, std::vector<double>& cpu) {
        const double c0 = bench::process_cpu_seconds();
        wall.push_back(bench::seconds(f));
        cpu.push_back(bench::process_cpu_seconds() - c0);
    };
    std::vector<std::vector<std::vector<double>>> split(threads.size());
    std::vector<std::vector<double>> t_fused(threads.size());
    for (std::size_t i = 0; i < threads.size(); ++i) {
        for (FloorThreads how : floor_kinds(threads[i])) {
            floor_on(threads[i], how);
            floor_epoch(how);
        }
        adgraph_on(threads[i]);
        if (i > 0) {
            adgraph_epoch();
            fused_epoch();
        }
    }
    // Each timed epoch starts once the other engine's threads are idle (settle_threads): an OpenBLAS worker still
    // spinning after a floor epoch took one of the 2 cores from the start of the adgraph epoch that followed.
    for (int e = 0; e < epochs; ++e) {
        for (std::size_t i = 0; i < threads.size(); ++i) {
            adgraph_on(threads[i]);
            bench::settle_threads();
            timed(adgraph_epoch, t_adg[i], c_adg[i]);
            split[i].push_back(phases.totals());
            for (FloorThreads how : floor_kinds(threads[i])) {
                floor_on(threads[i], how);
                bench::settle_threads();
                std::vector<double> ignored;
                timed([&] { floor_epoch(how); }, t_floor[i][static_cast<std::size_t>(how)],
                      how == FloorThreads::blas ? c_floor[i] : ignored);
            }
            adgraph_on(threads[i]);
            bench::settle_threads();
            timed(fused_epoch, t_fused[i], c_fused[i]);
        }
    }

    bench::Output out("mlp", json);
    out.context("simd", simd_arch());  // the instruction set of adgraph's kernels (ADGRAPH_ARCH)
    out.context("dtype", "float32");
    out.context("model", cfg.model() + " relu");
    out.context("batch", cfg.batch);
    out.context("optimizer", bench::format("sgd lr %g momentum %g", cfg.lr, cfg.momentum));
    out.context("data", data.source);
    out.context("steps_per_epoch", loader.batches());
    out.preamble("MLP training epoch: adgraph beside the GEMM floor and a hand-fused step (median of " +
                 std::to_string(epochs) + " epochs, interleaved)");
    out.text(bench::format("%-12s %8s %12s %12s %14s", "engine", "threads", "epoch s", "floor/epoch", "GFLOP/s"));
    double flops = 0;
    for (std::size_t s = 0; s < data.rows; s += cfg.batch) flops += floor.flops(std::min(cfg.batch, data.rows - s));
    for (std::size_t i = 0; i < threads.size(); ++i) {
        const double a = bench::median(t_adg[i]);
        double f = bench::median(t_floor[i][0]);
        if (!t_floor[i][1].empty()) f = std::min(f, bench::median(t_floor[i][1]));
        const auto ph = bench::phase_medians(split[i]);
        out.row({{"engine", "adgraph"},
                 {"threads", threads[i]},
                 {"epoch_s", a},
                 {"epoch_s_all", t_adg[i]},
                 {"cpu_s", bench::median(c_adg[i])},
                 {"cpu_s_all", c_adg[i]},
                 {"phases", bench::step_phases()},
                 {"phase_s", ph}},
                bench::format("%-12s %8d %12.4f %12.3f %14.1f", "adgraph", threads[i], a, f / a, flops / a * 1e-9) +
                    "\n    " + bench::phase_line(ph));
        for (FloorThreads how : floor_kinds(threads[i])) {
            const auto& ts = t_floor[i][static_cast<std::size_t>(how)];
            const double fh = bench::median(ts);
            const char* engine = how == FloorThreads::blas ? "gemm-floor" : "gemm-floor-adgraph-threads";
            nlohmann::json row{{"engine", engine}, {"threads", threads[i]}, {"epoch_s", fh}, {"epoch_s_all", ts}};
            if (how == FloorThreads::blas) {
                row["cpu_s"] = bench::median(c_floor[i]);
                row["cpu_s_all"] = c_floor[i];
            }
            out.row(row,
                    bench::format("%-12s %8d %12.4f %12.3f %14.1f", engine, threads[i], fh, f / fh, flops / fh * 1e-9));
        }
        const double h = bench::median(t_fused[i]);
        out.row({{"engine", "hand-fused"},
                 {"threads", threads[i]},
                 {"epoch_s", h},
                 {"epoch_s_all", t_fused[i]},
                 {"cpu_s", bench::median(c_fused[i])},
                 {"cpu_s_all", c_fused[i]},
                 {"first_epoch_loss", fused_first_loss}},
                bench::format("%-12s %8d %12.4f %12.3f %14.1f", "hand-fused", threads[i], h, f / h, flops / h * 1e-9));
    }
    for (std::size_t i = 0; i < threads.size(); ++i) {
        out.text(
            bench::format("CPU time per epoch at %d thread(s) (median; all threads, waiting included): adgraph "
                          "%.4f s, gemm-floor %.4f s, hand-fused %.4f s",
                          threads[i], bench::median(c_adg[i]), bench::median(c_floor[i]), bench::median(c_fused[i])));
    }
    bench::report_memory(out, "adgraph", threads.front(), rss_before, rss_peak, reset, first_loss);
    out.text(
        bench::format("mean loss of the hand-fused step's first epoch %.6f (the check that it trains the same "
                      "model: within 1e-4 relative of adgraph's)",
                      fused_first_loss));
    if (!std::isfinite(first_loss)) return 1;
    if (!(std::fabs(fused_first_loss - first_loss) <= 1e-4 * std::fabs(first_loss))) {
        std::fprintf(stderr,
                     "bench_mlp: the hand-fused step's first-epoch mean loss %.7f differs from adgraph's %.7f by more "
                     "than 1e-4 relative: the two do not train the same model (fix fused_trainer.cpp)\n",
                     fused_first_loss, first_loss);
        return 1;
    }
    return 0;
}
