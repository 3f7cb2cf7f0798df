// Training-epoch time of a GRU classifier (gru_setup.hpp: Fashion-MNIST rows as 28 steps of 28 pixels, nn::GRU,
// nn::Linear on the last state, nn::cross_entropy, gradient clipping, nn::Adam), written as a user writes it from the
// public API, beside its GEMM floor (only the GEMMs of each step, on preallocated buffers), epochs interleaved so
// that load changes hit both alike; the peak RSS while training. bench_gru_torch runs the same model, data, initial
// weights and step in libtorch; scripts/run-benchmarks.sh alternates the two programs and puts the ratios side by
// side.
#include <adgraph/adgraph.hpp>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "gemm_floor.hpp"
#include "gru_setup.hpp"
#include "machine.hpp"
#include "memory.hpp"
#include "output.hpp"

using namespace adg;

namespace {

void copy_into(const Tensor& p, const std::vector<float>& v, const std::string& name) {
    auto& a = p.mutable_value().get_mut<float>();
    if (a.size() != v.size()) throw std::runtime_error("bench_gru: " + name + " does not match the shared init");
    std::copy(v.begin(), v.end(), a.begin());
}

nn::Dataset to_dataset(const bench::MlpData& d) {
    auto x = xt::xarray<float>::from_shape({d.rows, d.features});
    std::copy(d.images.begin(), d.images.end(), x.begin());
    nn::Dataset ds;
    ds.images = Tensor(std::move(x));
    ds.labels.assign(d.labels.begin(), d.labels.end());
    ds.classes = d.classes;
    return ds;
}

// The GEMMs one training step must make, nothing else: per time step the forward gates x_t·W_ihᵀ and h·W_hhᵀ,
// the backward dW_ih = dG_iᵀ·x_t, dW_hh = dG_hᵀ·h and dh = dG_h·W_hh; the Linear's forward, dW and dh.
class GruGemmFloor {
public:
    using Threads = bench::GemmFloor::Threads;
    GruGemmFloor(const bench::GruConfig& cfg)
        : c_(cfg),
          x_(cfg.batch * cfg.input, 0.1f),
          h_(cfg.batch * cfg.hidden, 0.2f),
          wih_(3 * cfg.hidden * cfg.input, 0.01f),
          whh_(3 * cfg.hidden * cfg.hidden, 0.01f),
          wo_(cfg.classes * cfg.hidden, 0.01f),
          g_(cfg.batch * 3 * cfg.hidden),
          dg_(cfg.batch * 3 * cfg.hidden, 0.3f),
          dwih_(wih_.size()),
          dwhh_(whh_.size()),
          dh_(h_.size()),
          lo_(cfg.batch * cfg.classes, 0.4f),
          dwo_(wo_.size()) {}
    void step(std::size_t rows, Threads how) {
        const std::size_t I = c_.input, H = c_.hidden, G = 3 * c_.hidden, C = c_.classes;
        for (std::size_t t = 0; t < c_.steps; ++t) {
            bench::floor_product(x_.data(), rows, I, wih_.data(), G, I, g_.data(), false, true, how);
            bench::floor_product(h_.data(), rows, H, whh_.data(), G, H, g_.data(), false, true, how);
        }
        bench::floor_product(h_.data(), rows, H, wo_.data(), C, H, lo_.data(), false, true, how);
        bench::floor_product(lo_.data(), rows, C, h_.data(), rows, H, dwo_.data(), true, false, how);
        bench::floor_product(lo_.data(), rows, C, wo_.data(), C, H, dh_.data(), false, false, how);
        for (std::size_t t = 0; t < c_.steps; ++t) {
            bench::floor_product(dg_.data(), rows, G, x_.data(), rows, I, dwih_.data(), true, false, how);
            bench::floor_product(dg_.data(), rows, G, h_.data(), rows, H, dwhh_.data(), true, false, how);
            bench::floor_product(dg_.data(), rows, G, whh_.data(), G, H, dh_.data(), false, false, how);
        }
    }

private:
    bench::GruConfig c_;
    std::vector<float> x_, h_, wih_, whh_, wo_, g_, dg_, dwih_, dwhh_, dh_, lo_, dwo_;
};

}  // namespace

int main(int argc, char** argv) {
    bench::GruConfig cfg;
    std::string data_dir = nn::default_fashion_mnist_dir, threads_arg = "1,2";
    std::size_t limit = 0;
    int epochs = 3;
    bool quick = false, json = false, no_floor = false;
    CLI::App app{"GRU classifier training epoch in adgraph beside its GEMM floor; peak RSS"};
    app.add_option("--data", data_dir, "Fashion-MNIST directory (synthetic data if it holds none)")
        ->capture_default_str();
    app.add_option("--limit", limit, "training samples per epoch (0: all)")->capture_default_str();
    app.add_option("--epochs", epochs, "timed epochs per thread count (median), after one warm-up epoch")
        ->capture_default_str();
    app.add_option("--threads", threads_arg, "thread counts (adgraph's; the floor's, split by BLAS and by adgraph)")
        ->capture_default_str();
    app.add_option("--batch", cfg.batch, "samples per step")->capture_default_str();
    app.add_option("--hidden", cfg.hidden, "GRU state features")->capture_default_str();
    app.add_option("--clip", cfg.clip, "clip gradients to this global norm before each step (0: no clipping)")
        ->capture_default_str();
    app.add_flag("--no-floor", no_floor, "skip the GEMM floor (e.g. to profile adgraph's epochs alone)");
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
    const char* engine_name = "adgraph";

    bench::Output out("gru", json);
    out.context("simd", simd_arch());
    out.context("dtype", "float32");

    bench::MlpData data = bench::load_mlp_data(data_dir, limit);
    const nn::Dataset ds = to_dataset(data);
    std::vector<float>().swap(data.images);  // one copy of the images, as in the libtorch peer

    // The classifier as a user writes it: a GRU over the rows, a Linear on its last state.
    Generator gen(1);
    nn::GRU gru(nn::RNNOptions(cfg.input, cfg.hidden), gen);
    nn::Linear fc(cfg.hidden, cfg.classes, gen);
    const bench::GruInit init = bench::initial_gru(cfg, 7);
    std::vector<nn::NamedTensor> params;
    for (const auto& [name, p] : gru.named_parameters()) {
        if (name == "weight_ih_l0")
            copy_into(p, init.ih.weight, name);
        else if (name == "bias_ih_l0")
            copy_into(p, init.ih.bias, name);
        else if (name == "weight_hh_l0")
            copy_into(p, init.hh.weight, name);
        else if (name == "bias_hh_l0")
            copy_into(p, init.hh.bias, name);
        else
            throw std::runtime_error("bench_gru: unexpected GRU parameter " + name);
        params.push_back({"gru." + name, p});
    }
    for (const auto& [name, p] : fc.named_parameters()) {
        copy_into(p, name == "weight" ? init.fc.weight : init.fc.bias, name);
        params.push_back({"fc." + name, p});
    }
    std::vector<Tensor> plain;
    for (const auto& np : params) plain.push_back(np.second);
    nn::Adam opt(params, nn::AdamOptions(cfg.lr));
    const nn::DataLoader loader(ds, cfg.batch, false);
    out.context("adgraph_model", gru.to_string() + ", " + fc.to_string());

    double last_loss = 0;
    bench::Phases phases(bench::step_phases());
    const auto adgraph_epoch = [&] {
        double sum = 0;
        phases.start();
        for (const nn::Batch& b : loader.epoch(0)) {
            phases.lap(0);
            {
                const std::size_t rows = b.x.shape()[0];
                const Tensor x = reshape(b.x, {rows, cfg.steps, cfg.input});
                const Tensor last = reshape(gru.forward(x, Tensor()).h_n, {rows, cfg.hidden});
                const Tensor logits = fc(last);
                phases.lap(1);
                const Tensor loss = nn::cross_entropy(logits, b.labels);
                sum += loss.item();
                phases.lap(2);
                loss.backward();
                phases.lap(3);
            }
            phases.lap(4);
            if (cfg.clip > 0) nn::clip_grad_norm(plain, cfg.clip);
            opt.step();
            opt.zero_grad();
            phases.lap(5);
        }
        last_loss = sum / static_cast<double>(loader.batches());
    };
    using FloorThreads = bench::GemmFloor::Threads;
    GruGemmFloor floor(cfg);
    const std::size_t rows_total = ds.labels.size();
    const auto floor_epoch = [&](FloorThreads how) {
        for (std::size_t s = 0; s < rows_total; s += cfg.batch) floor.step(std::min(cfg.batch, rows_total - s), how);
    };
    // As bench_cnn: adgraph on its own threads (BLAS single-threaded inside each part); the floor with OpenBLAS's
    // threads and, at more than one thread, in adgraph's blocks; the faster is the floor.
    const auto floor_on = bench::use_floor_threads;
    const auto floor_kinds = [no_floor](int t) {
        return no_floor ? std::vector<FloorThreads>{} : bench::floor_kinds(t);
    };

    set_num_threads(threads.front());
    const std::size_t rss_before = bench::current_rss();
    const bool reset = bench::reset_peak_rss();
    adgraph_epoch();
    const std::size_t rss_peak = bench::peak_rss();
    const double first_loss = last_loss;

    std::vector<std::vector<double>> t_adg(threads.size()), cpu_adg(threads.size());
    std::vector<std::vector<std::vector<double>>> t_floor(threads.size(), std::vector<std::vector<double>>(2));
    std::vector<std::vector<std::vector<double>>> split(threads.size());
    for (std::size_t i = 0; i < threads.size(); ++i) {
        for (FloorThreads how : floor_kinds(threads[i])) {
            floor_on(threads[i], how);
            floor_epoch(how);
        }
        set_num_threads(threads[i]);
        if (i > 0) adgraph_epoch();
    }
    for (int e = 0; e < epochs; ++e) {
        for (std::size_t i = 0; i < threads.size(); ++i) {
            set_num_threads(threads[i]);
            bench::settle_threads();
            const double c0 = bench::process_cpu_seconds();
            t_adg[i].push_back(bench::seconds(adgraph_epoch));
            cpu_adg[i].push_back(bench::process_cpu_seconds() - c0);
            split[i].push_back(phases.totals());
            for (FloorThreads how : floor_kinds(threads[i])) {
                floor_on(threads[i], how);
                bench::settle_threads();
                t_floor[i][static_cast<std::size_t>(how)].push_back(bench::seconds([&] { floor_epoch(how); }));
            }
        }
    }

    out.context("model", cfg.model());
    out.context("batch", cfg.batch);
    out.context("optimizer", cfg.optimizer_line());
    out.context("data", data.source);
    out.context("steps_per_epoch", loader.batches());
    out.preamble("GRU classifier training epoch: adgraph beside the GEMM floor (median of " + std::to_string(epochs) +
                 " epochs, interleaved)");
    out.text(bench::format("%-26s %8s %12s %12s %12s %10s", "engine", "threads", "epoch s", "cpu s", "floor/epoch",
                           "GFLOP/s"));
    double flops = 0;
    for (std::size_t s = 0; s < rows_total; s += cfg.batch)
        flops += bench::gru_step_flops(cfg, std::min(cfg.batch, rows_total - s));
    for (std::size_t i = 0; i < threads.size(); ++i) {
        const double a = bench::median(t_adg[i]), c = bench::median(cpu_adg[i]);
        double f = t_floor[i][0].empty() ? 0.0 : bench::median(t_floor[i][0]);
        if (!t_floor[i][1].empty()) f = std::min(f, bench::median(t_floor[i][1]));
        const auto ph = bench::phase_medians(split[i]);
        out.row({{"table", "epoch"},
                 {"engine", engine_name},
                 {"threads", threads[i]},
                 {"epoch_s", a},
                 {"epoch_s_all", t_adg[i]},
                 {"cpu_s", c},
                 {"phases", bench::step_phases()},
                 {"phase_s", ph}},
                bench::format("%-26s %8d %12.4f %12.4f %12.3f %10.1f", engine_name, threads[i], a, c, f / a,
                              flops / a * 1e-9) +
                    "\n    " + bench::phase_line(ph));
        for (FloorThreads how : floor_kinds(threads[i])) {
            const auto& ts = t_floor[i][static_cast<std::size_t>(how)];
            const double fh = bench::median(ts);
            const char* engine = how == FloorThreads::blas ? "gemm-floor" : "gemm-floor-adgraph-threads";
            out.row(
                {{"table", "epoch"}, {"engine", engine}, {"threads", threads[i]}, {"epoch_s", fh}, {"epoch_s_all", ts}},
                bench::format("%-26s %8d %12.4f %12s %12.3f %10.1f", engine, threads[i], fh, "", f / fh,
                              flops / fh * 1e-9));
        }
    }
    bench::report_memory(out, engine_name, threads.front(), rss_before, rss_peak, reset, first_loss);
    return std::isfinite(first_loss) ? 0 : 1;
}
