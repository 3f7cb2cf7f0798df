// Training-epoch time of the `cnn` preset (cnn_setup.hpp; built by nn::build_model as `adgraph train` does) in adgraph,
// beside its GEMM floor (only the im2col GEMMs of the conv layers and the linears' GEMMs, cnn_floor.hpp), epochs
// interleaved so that load changes hit both alike; the peak RSS while training; then a per-layer conv2d
// forward/backward table. bench_cnn_torch runs the same model, data, initial weights, step and conv shapes in libtorch;
// scripts/run-benchmarks.sh alternates the two programs and puts the ratios side by side.
#include <adgraph/adgraph.hpp>
#include <adgraph/nn/model_spec.hpp>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>

#include "cnn_floor.hpp"
#include "cnn_setup.hpp"
#include "machine.hpp"
#include "memory.hpp"
#include "output.hpp"

using namespace adg;

namespace {

Tensor array_of(const std::vector<float>& v, const Shape& shape) {
    auto a = xt::xarray<float>::from_shape(shape);
    std::copy(v.begin(), v.end(), a.begin());
    return Tensor(std::move(a));
}

// Overwrites the preset's conv and linear parameters (in order: weight, then its bias; the batch norms' γ = 1 and
// β = 0 stay) with the shared initial values, as the libtorch peer loads them.
void load_init(nn::Module& model, const bench::CnnInit& init) {
    const bench::LayerInit* layers[] = {&init.conv1, &init.conv2, &init.fc1, &init.fc2};
    std::size_t next = 0;
    const bench::LayerInit* pending = nullptr;  // a layer whose weight was loaded and whose bias comes next
    const auto copy = [](const Tensor& p, const std::vector<float>& v, const std::string& name) {
        auto& a = p.mutable_value().get_mut<float>();
        if (a.size() != v.size()) throw std::runtime_error("bench_cnn: " + name + " does not match the cnn preset");
        std::copy(v.begin(), v.end(), a.begin());
    };
    for (const auto& [name, p] : model.named_parameters()) {
        if (p.dim() >= 2) {
            if (next == 4) throw std::runtime_error("bench_cnn: the cnn preset has more than 4 weight layers");
            pending = layers[next++];
            copy(p, pending->weight, name);
        } else if (pending != nullptr) {
            copy(p, pending->bias, name);
            pending = nullptr;
        }
    }
    if (next != 4) throw std::runtime_error("bench_cnn: the cnn preset has fewer than 4 weight layers");
}

std::unique_ptr<nn::Optimizer> make_optimizer(const bench::CnnConfig& cfg, std::vector<nn::NamedTensor> params) {
    if (cfg.optimizer == "sgd") {
        return std::make_unique<nn::SGD>(std::move(params), nn::SGDOptions(cfg.lr()).momentum(cfg.momentum()));
    }
    return std::make_unique<nn::AdamW>(std::move(params), nn::AdamWOptions(cfg.lr()).weight_decay(cfg.weight_decay()));
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

struct Timing {
    double forward, backward;
    int reps;
};

// Medians of `fwd` and of the `bwd` that follows it, repeated for about `budget` seconds after a warm-up.
template <class F, class B>
Timing time_pair(F&& fwd, B&& bwd, double budget) {
    fwd();
    bwd();
    const int reps = bench::reps_for(bench::seconds([&] {
                                         fwd();
                                         bwd();
                                     }),
                                     budget, 3, 50);
    std::vector<double> tf, tb;
    for (int r = 0; r < reps; ++r) {
        tf.push_back(bench::seconds(fwd));
        tb.push_back(bench::seconds(bwd));
    }
    return {bench::median(tf), bench::median(tb), reps};
}

void layer_row(bench::Output& out, const char* table, const std::string& name, const std::string& shape, int t,
               const Timing& tm, double flops) {
    out.row({{"table", table},
             {"engine", "adgraph"},
             {"case", name},
             {"shape", shape},
             {"threads", t},
             {"forward_ms", 1e3 * tm.forward},
             {"backward_ms", 1e3 * tm.backward},
             {"reps", tm.reps}},
            bench::format("%-20s %-30s %8d %12.3f %12.3f %10.1f", name.c_str(), shape.c_str(), t, 1e3 * tm.forward,
                          1e3 * tm.backward, flops / tm.forward * 1e-9));
}

// Per layer: the forward (recording, as in training) and the backward that follows it, seeded with a fixed
// cotangent; gradients are forgotten after each backward, so each allocates them afresh as in training. The conv
// cases, then the preset's batch norms (training mode) and max pools.
void layer_table(bench::Output& out, const std::vector<int>& threads, bool quick, double budget) {
    out.text(bench::format("%-20s %-30s %8s %12s %12s %10s", "case", "shape", "threads", "forward ms", "backward ms",
                           "fwd GFLOP/s"));
    for (const bench::ConvCase& c : bench::conv_cases(quick)) {
        const Tensor x =
            array_of(bench::pattern(c.n * c.c * c.h * c.w, 0.1), {c.n, c.c, c.h, c.w}).requires_grad(c.input_grad);
        const Tensor w = array_of(bench::pattern(c.o * c.c * c.k * c.k, 0.2), {c.o, c.c, c.k, c.k}).requires_grad();
        const Tensor b = array_of(bench::pattern(c.o, 0.3), {c.o}).requires_grad();
        const Tensor g =
            array_of(bench::pattern(c.n * c.o * c.out_h() * c.out_w(), 0.4), {c.n, c.o, c.out_h(), c.out_w()});
        for (int t : threads) {
            set_num_threads(t);
            Tensor y;
            const Timing tm = time_pair([&] { y = conv2d(x, w, b, c.stride, c.pad); },
                                        [&] {
                                            y.backward(g);
                                            y = Tensor();
                                            if (c.input_grad) x.zero_grad();
                                            w.zero_grad();
                                            b.zero_grad();
                                        },
                                        budget);
            layer_row(out, "conv", c.name, c.shape(), t, tm, c.forward_flops());
        }
    }
    for (const bench::LayerCase& c : bench::layer_cases(quick)) {
        const bool bn = c.op == "batch_norm";
        const Tensor x = array_of(bench::pattern(c.n * c.c * c.h * c.w, 0.1), {c.n, c.c, c.h, c.w}).requires_grad();
        const Tensor gamma = Tensor::ones({c.c}).requires_grad(), beta = Tensor::zeros({c.c}).requires_grad();
        const Tensor mean = Tensor::zeros({c.c}), var = Tensor::ones({c.c});
        const Shape ys = bn ? Shape{c.n, c.c, c.h, c.w} : Shape{c.n, c.c, c.h / 2, c.w / 2};
        const Tensor g = array_of(bench::pattern(ys[0] * ys[1] * ys[2] * ys[3], 0.4), ys);
        for (int t : threads) {
            set_num_threads(t);
            Tensor y;
            const Timing tm =
                time_pair([&] { y = bn ? batch_norm(x, mean, var, gamma, beta, true, 0.1, 1e-5) : max_pool2d(x, 2); },
                          [&] {
                              y.backward(g);
                              y = Tensor();
                              x.zero_grad();
                              gamma.zero_grad();
                              beta.zero_grad();
                          },
                          budget);
            layer_row(out, "op", c.name + " (" + c.op + ")", c.shape(), t, tm, 0.0);
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    bench::CnnConfig cfg;
    std::string data_dir = nn::default_fashion_mnist_dir, threads_arg = "1,2";
    std::size_t limit = 0;
    int epochs = 3;
    double layer_budget = 1.0;
    bool quick = false, json = false, no_layers = false, no_epochs = false, no_floor = false;
    CLI::App app{"cnn preset training epoch in adgraph beside its GEMM floor; peak RSS; conv2d per layer"};
    app.add_option("--data", data_dir, "Fashion-MNIST directory (synthetic data if it holds none)")
        ->capture_default_str();
    app.add_option("--limit", limit, "training samples per epoch (0: all)")->capture_default_str();
    app.add_option("--epochs", epochs, "timed epochs per thread count (median), after one warm-up epoch")
        ->capture_default_str();
    app.add_option("--threads", threads_arg, "thread counts (adgraph's; the floor's, split by BLAS and by adgraph)")
        ->capture_default_str();
    app.add_option("--batch", cfg.batch, "samples per step")->capture_default_str();
    app.add_option("--dropout", cfg.dropout, "dropout probability before the last Linear")->capture_default_str();
    app.add_option("--optimizer", cfg.optimizer, "adamw or sgd")
        ->check(CLI::IsMember({"adamw", "sgd"}))
        ->capture_default_str();
    app.add_option("--layer-budget", layer_budget, "seconds per conv case and thread count in the layer table")
        ->capture_default_str();
    app.add_flag("--no-layers", no_layers, "skip the per-layer conv2d table");
    app.add_flag("--no-epochs", no_epochs, "skip the training epochs");
    app.add_flag("--no-floor", no_floor, "skip the GEMM floor (e.g. to profile adgraph's epochs alone)");
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

    bench::Output out("cnn", json);
    out.context("simd", simd_arch());  // the instruction set of adgraph's kernels (ADGRAPH_ARCH)
    out.context("dtype", "float32");
    int status = 0;

    if (!no_epochs) {
        bench::MlpData data = bench::load_mlp_data(data_dir, limit);
        const nn::Dataset ds = to_dataset(data);
        std::vector<float>().swap(data.images);  // one copy of the images, as in the libtorch peer
        // The model `adgraph train --model cnn` trains (nn::build_model), with the shared initial values.
        Generator gen(1);
        nn::MlpOptions mo;
        mo.dropout = cfg.dropout;
        const auto model = nn::build_model("cnn", gen, mo);
        load_init(*model, bench::initial_cnn(11));
        const auto opt = make_optimizer(cfg, model->named_parameters());
        const nn::DataLoader loader(ds, cfg.batch, false);
        out.context("adgraph_model", model->to_string());

        double last_loss = 0;
        bench::Phases phases(bench::step_phases());
        const auto adgraph_epoch = [&] {
            double sum = 0;
            phases.start();
            for (const nn::Batch& b : loader.epoch(0)) {
                phases.lap(0);
                {
                    const Tensor logits = (*model)(reshape(b.x, {b.x.shape()[0], 1, 28, 28}));
                    phases.lap(1);
                    const Tensor loss = nn::cross_entropy(logits, b.labels);
                    sum += loss.item();
                    phases.lap(2);
                    loss.backward();
                    phases.lap(3);
                }
                phases.lap(4);
                opt->step();
                opt->zero_grad();
                phases.lap(5);
            }
            last_loss = sum / static_cast<double>(loader.batches());
        };
        using FloorThreads = bench::GemmFloor::Threads;
        bench::CnnGemmFloor floor(cfg.batch);
        const auto floor_epoch = [&](FloorThreads how) {
            for (std::size_t s = 0; s < data.rows; s += cfg.batch) floor.step(std::min(cfg.batch, data.rows - s), how);
        };

        // As bench_mlp: adgraph on its own threads (BLAS single-threaded inside each part); the floor with
        // OpenBLAS's threads and, at more than one thread, in adgraph's blocks; the faster is the floor.
        const auto adgraph_on = [](int t) { set_num_threads(t); };
        const auto floor_on = bench::use_floor_threads;
        const auto floor_kinds = [no_floor](int t) {
            return no_floor ? std::vector<FloorThreads>{} : bench::floor_kinds(t);
        };

        // Peak RSS over the first (warm-up) epoch: what training adds to the process. The floor's buffers are
        // made above but stay untouched pages until the floor runs after it.
        adgraph_on(threads.front());
        const std::size_t rss_before = bench::current_rss();
        const bool reset = bench::reset_peak_rss();
        adgraph_epoch();
        const std::size_t rss_peak = bench::peak_rss();
        const double first_loss = last_loss;

        std::vector<std::vector<double>> t_adg(threads.size());
        std::vector<std::vector<std::vector<double>>> t_floor(threads.size(), std::vector<std::vector<double>>(2));
        std::vector<std::vector<std::vector<double>>> split(threads.size());
        for (std::size_t i = 0; i < threads.size(); ++i) {
            for (FloorThreads how : floor_kinds(threads[i])) {
                floor_on(threads[i], how);
                floor_epoch(how);
            }
            adgraph_on(threads[i]);
            if (i > 0) adgraph_epoch();
        }
        for (int e = 0; e < epochs; ++e) {
            for (std::size_t i = 0; i < threads.size(); ++i) {
                adgraph_on(threads[i]);
                bench::settle_threads();
                t_adg[i].push_back(bench::seconds(adgraph_epoch));
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
        out.preamble("cnn preset training epoch: adgraph beside the GEMM floor (median of " + std::to_string(epochs) +
                     " epochs, interleaved)");
        out.text(bench::format("%-26s %8s %12s %12s %14s", "engine", "threads", "epoch s", "floor/epoch", "GFLOP/s"));
        double flops = 0;
        for (std::size_t s = 0; s < data.rows; s += cfg.batch)
            flops += bench::cnn_step_flops(std::min(cfg.batch, data.rows - s));
        for (std::size_t i = 0; i < threads.size(); ++i) {
            const double a = bench::median(t_adg[i]);
            double f = bench::median(t_floor[i][0]);
            if (!t_floor[i][1].empty()) f = std::min(f, bench::median(t_floor[i][1]));
            const auto ph = bench::phase_medians(split[i]);
            out.row({{"table", "epoch"},
                     {"engine", "adgraph"},
                     {"threads", threads[i]},
                     {"epoch_s", a},
                     {"epoch_s_all", t_adg[i]},
                     {"phases", bench::step_phases()},
                     {"phase_s", ph}},
                    bench::format("%-26s %8d %12.4f %12.3f %14.1f", "adgraph", threads[i], a, f / a, flops / a * 1e-9) +
                        "\n    " + bench::phase_line(ph));
            for (FloorThreads how : floor_kinds(threads[i])) {
                const auto& ts = t_floor[i][static_cast<std::size_t>(how)];
                const double fh = bench::median(ts);
                const char* engine = how == FloorThreads::blas ? "gemm-floor" : "gemm-floor-adgraph-threads";
                out.row(
                    {{"table", "epoch"},
                     {"engine", engine},
                     {"threads", threads[i]},
                     {"epoch_s", fh},
                     {"epoch_s_all", ts}},
                    bench::format("%-26s %8d %12.4f %12.3f %14.1f", engine, threads[i], fh, f / fh, flops / fh * 1e-9));
            }
        }
        bench::report_memory(out, "adgraph", threads.front(), rss_before, rss_peak, reset, first_loss);
        if (!std::isfinite(first_loss)) status = 1;
    }
    if (!no_layers) {
        if (no_epochs) out.preamble("conv2d, batch norm and max pool forward and backward: adgraph");
        layer_table(out, threads, quick, layer_budget);
    }
    return status;
}
