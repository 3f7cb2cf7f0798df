#include "adgraph/train.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <ostream>

#include <malloc.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <adgraph/autodiff/ops.hpp>
#include <adgraph/nn/atomic_file.hpp>
#include <adgraph/nn/checkpoint.hpp>
#include <adgraph/nn/loss.hpp>
#include <adgraph/nn/memory.hpp>
#include <adgraph/nn/model_spec.hpp>
#include <adgraph/nn/optim.hpp>
#include <adgraph/nn/schedule.hpp>
#include <adgraph/nn/sequential.hpp>
#include <adgraph/tensor/allocator.hpp>
#include <adgraph/tensor/parallel.hpp>

#include "adgraph/evaluate.hpp"
#include "adgraph/plot.hpp"
#include "adgraph/progress.hpp"

namespace adg::cli {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Resident set size and heap bytes in use now, in MiB: metrics.jsonl records both per epoch so a long run can be
// checked for drift (benchmarks/rss_drift.sh). RSS alone would hide a slow leak: the allocators keep freed memory
// (adgraph's buffer cache, malloc's free lists), and a leak first fills that before RSS grows.
double resident_mib() {
    std::ifstream statm("/proc/self/statm");
    long pages_total = 0, pages_resident = 0;
    if (!(statm >> pages_total >> pages_resident)) return 0;
    return static_cast<double>(pages_resident) * static_cast<double>(::sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

double heap_in_use_mib() {
    // Arrays of 64 KiB and more live in adgraph's own mappings, which malloc does not see.
    const struct mallinfo2 m = ::mallinfo2();
    return static_cast<double>(m.uordblks + m.hblkhd + buffer_bytes_in_use()) / (1024.0 * 1024.0);
}

std::unique_ptr<nn::Optimizer> make_optimizer(const TrainOptions& o, std::vector<nn::NamedTensor> params) {
    if (o.optimizer == "sgd") {
        return std::make_unique<nn::SGD>(
            params, nn::SGDOptions(o.lr).momentum(o.momentum).nesterov(o.nesterov).weight_decay(o.weight_decay));
    }
    if (o.optimizer == "adamw") {
        return std::make_unique<nn::AdamW>(params, nn::AdamWOptions(o.lr).weight_decay(o.weight_decay));
    }
    return std::make_unique<nn::Adam>(params, nn::AdamOptions(o.lr).weight_decay(o.weight_decay));
}

nn::Metadata metadata_of(const TrainOptions& o, std::size_t epoch, const Generator& gen) {
    return {{"model", o.model},
            {"activation", o.activation},
            {"dropout", std::to_string(o.dropout)},
            {"init", o.init},
            {"epoch", std::to_string(epoch)},
            {"seed", std::to_string(o.seed)},
            {"rng", nn::generator_state(gen)}};
}

// Slots of optimizer state per parameter: Adam's two moments, SGD's velocity if it has momentum.
std::size_t state_slots(const TrainOptions& o) {
    if (o.optimizer != "sgd") return 2;
    return o.momentum > 0 ? 1 : 0;
}

// Before any output is written or any weight drawn: both splits must hold images of the model's input width (a
// test set of another shape would otherwise fail only after a whole epoch), and the model with its gradients,
// optimizer state and a batch's activations must fit in memory.
void check_fits(const TrainOptions& o, const nn::ModelPlan& plan, const nn::Dataset& train_set,
                const nn::Dataset& test_set) {
    std::size_t inputs = 1;
    for (auto d : plan.input) inputs *= d;
    const std::string model = "the model " + nn::message_text(o.model);
    // After the data is loaded (the figure of what is mapped includes it), before the first GEMM.
    nn::check_blas_buffers_fit("train", nn::blas_threads(), "pass fewer --threads");
    check_images_fit(train_set, inputs, model);
    check_images_fit(test_set, inputs, model);
    // Evaluation runs in batches of up to 1000 rows without a graph; a training batch is at most the whole set.
    const std::size_t rows =
        std::max(std::min(o.batch, train_set.size()), std::min<std::size_t>(1000, test_set.size()));
    const std::uint64_t bytes = plan.mlp ? nn::mlp_memory_bytes(nn::parse_mlp_spec(o.model), 1 + state_slots(o), rows)
                                         : nn::model_memory_bytes(plan, 1 + state_slots(o), rows);
    nn::check_fits_in_memory("train: " + model + " with " + o.optimizer + " and batches of up to " +
                                 std::to_string(rows) + " rows" +
                                 " (parameters, gradients, optimizer state and activations)",
                             bytes, "pass a smaller --model or --batch", nn::memory_limit(nn::blas_threads()));
}

nn::MlpOptions model_options(const TrainOptions& o) {
    nn::MlpOptions mo;
    mo.activation = o.activation;
    mo.dropout = o.dropout;
    mo.init = nn::parse_init(o.init);
    return mo;
}

std::string pct(double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%.2f %%", 100.0 * v);
    return b;
}

}  // namespace

TrainOptions cnn_preset_options() {
    TrainOptions p;
    p.model = "cnn";
    p.epochs = 12;
    p.lr = 2e-3;
    p.dropout = 0.3;
    p.init = "uniform";  // PyTorch's default for convolutions and linear layers
    return p;
}

TrainOptions gru_preset_options() {
    TrainOptions p;
    p.model = "gru";
    p.optimizer = "adam";
    p.weight_decay = 0;
    p.lr = 2e-3;
    p.epochs = 12;  // 90.4 % in 12 (about 100 s on 2 quiet cores), 89.6 % in 8: a margin over 88 % either way
    p.clip_grad_norm = 5;
    p.dropout = 0;       // the preset has no dropout layer; recorded in the checkpoint as such
    p.init = "uniform";  // PyTorch's default for the linear head (the GRU always draws U(-1/sqrt(h), 1/sqrt(h)))
    return p;
}

namespace {

// The preset `model` names, or nullopt.
std::optional<TrainOptions> preset_of(const std::string& model) {
    if (model == "cnn") return cnn_preset_options();
    if (model == "gru") return gru_preset_options();
    return std::nullopt;
}

// The options a preset sets, each with how to copy it and how --help shows it.
struct PresetOption {
    const char* name;
    std::function<void(TrainOptions&, const TrainOptions&)> copy;
    std::function<std::string(const TrainOptions&)> text;
};

std::vector<PresetOption> preset_options() {
    return {
        {"--epochs", [](TrainOptions& o, const TrainOptions& p) { o.epochs = p.epochs; },
         [](const TrainOptions& p) { return std::to_string(p.epochs); }},
        {"--batch", [](TrainOptions& o, const TrainOptions& p) { o.batch = p.batch; },
         [](const TrainOptions& p) { return std::to_string(p.batch); }},
        {"--clip-grad-norm", [](TrainOptions& o, const TrainOptions& p) { o.clip_grad_norm = p.clip_grad_norm; },
         [](const TrainOptions& p) { return number_str(p.clip_grad_norm); }},
        {"--optimizer", [](TrainOptions& o, const TrainOptions& p) { o.optimizer = p.optimizer; },
         [](const TrainOptions& p) { return p.optimizer; }},
        {"--lr", [](TrainOptions& o, const TrainOptions& p) { o.lr = p.lr; },
         [](const TrainOptions& p) { return number_str(p.lr); }},
        {"--weight-decay", [](TrainOptions& o, const TrainOptions& p) { o.weight_decay = p.weight_decay; },
         [](const TrainOptions& p) { return number_str(p.weight_decay); }},
        {"--schedule", [](TrainOptions& o, const TrainOptions& p) { o.schedule = p.schedule; },
         [](const TrainOptions& p) { return p.schedule; }},
        {"--warmup-epochs", [](TrainOptions& o, const TrainOptions& p) { o.warmup_epochs = p.warmup_epochs; },
         [](const TrainOptions& p) { return number_str(p.warmup_epochs); }},
        {"--dropout", [](TrainOptions& o, const TrainOptions& p) { o.dropout = p.dropout; },
         [](const TrainOptions& p) { return number_str(p.dropout); }},
        {"--init", [](TrainOptions& o, const TrainOptions& p) { o.init = p.init; },
         [](const TrainOptions& p) { return p.init; }},
    };
}

}  // namespace

void apply_preset_defaults(TrainOptions& o, const std::function<bool(const std::string&)>& given) {
    const std::optional<TrainOptions> preset = preset_of(o.model);
    if (!preset) return;
    for (const PresetOption& p : preset_options()) {
        if (!given(p.name)) p.copy(o, *preset);
    }
}

std::string preset_defaults_text(const std::string& name) {
    const TrainOptions mlp, preset = preset_of(name).value();
    std::string text;
    for (const PresetOption& p : preset_options()) {
        if (p.text(preset) != p.text(mlp))
            text += (text.empty() ? "" : " ") + std::string(p.name) + " " + p.text(preset);
    }
    return text;
}

int set_threads(int threads) {
    set_num_threads(threads);
    return num_threads();
}

void validate(const TrainOptions& o) {
    const auto bad = [](const std::string& m) { throw UsageError{m}; };
    // Each numeric option's range was checked as it was parsed (options.hpp); here, what involves several options.
    if (o.warmup_epochs > static_cast<double>(o.epochs)) {
        bad("--warmup-epochs must be between 0 and --epochs (got " + number_str(o.warmup_epochs) + " with --epochs " +
            std::to_string(o.epochs) + ")");
    }
    if (o.nesterov && o.optimizer != "sgd") bad("--nesterov applies to --optimizer sgd only");
    if (o.nesterov && o.momentum == 0) bad("--nesterov needs --momentum > 0 (got 0)");
    // The library's message says what is wrong with the value; the option name says where it came from.
    const auto check = [&](const char* option, const std::function<void()>& parse) {
        try {
            parse();
        } catch (const value_error& e) {
            bad(std::string(option) + ": " + e.what());
        }
    };
    if (nn::is_mlp_spec(o.model)) {
        std::vector<std::size_t> sizes;
        check("--model", [&] { sizes = nn::parse_mlp_spec(o.model); });
        if (sizes.front() != 784 || sizes.back() != 10) {
            bad("--model " + nn::message_text(o.model) +
                ": Fashion-MNIST needs 784 inputs and 10 outputs, e.g. 784-256-128-10");
        }
    } else {
        // A layer list takes Fashion-MNIST's images as (1, 28, 28), the shape plan_model assumes.
        nn::ModelPlan plan;
        check("--model", [&] { plan = nn::plan_model(o.model); });
        if (plan.output.front() != 10) {
            bad("--model " + nn::message_text(o.model) + ": Fashion-MNIST has 10 classes but the model ends in " +
                std::to_string(plan.output.front()) + " features; end it with linear10");
        }
    }
    check("--init", [&] { nn::parse_init(o.init); });
    check("--activation", [&] {
        Generator g(0);
        nn::Sequential::mlp("1-1-1", g, {o.activation});
    });
    check("--schedule", [&] { nn::check_schedule_name(o.schedule); });
}

int train(const TrainOptions& o, std::ostream& out, std::ostream& err) {
    const auto t_start = Clock::now();
    const int threads = set_threads(o.threads);
    const nn::Dataset train_set = nn::load_fashion_mnist(o.data, nn::Split::train, o.limit);
    const nn::Dataset test_set = nn::load_fashion_mnist(o.data, nn::Split::test, o.limit);
    const nn::ModelPlan plan = nn::plan_model(o.model, model_options(o));
    check_fits(o, plan, train_set, test_set);
    std::error_code made;
    std::filesystem::create_directories(o.out, made);
    if (made) {
        throw io_error("'" + o.out + "': cannot create the output directory: " + made.message() +
                       "; pass --out with a directory that can be created or written");
    }
    const std::string ckpt = (std::filesystem::path(o.out) / "model.safetensors").string();
    const std::string metrics_path = (std::filesystem::path(o.out) / "metrics.jsonl").string();

    Generator gen(o.seed);
    auto model = nn::build_model(o.model, gen, model_options(o));
    auto opt = make_optimizer(o, model->named_parameters());
    const nn::DataLoader loader(train_set, o.batch, true, o.seed);
    const std::size_t steps = o.epochs * loader.batches();
    const auto schedule = nn::make_scheduler(
        o.schedule, *opt, steps, static_cast<std::size_t>(o.warmup_epochs * static_cast<double>(loader.batches())));
    out << "adgraph train: " << model->to_string() << ", " << model->parameter_count() << " parameters\n"
        << "  " << opt->name() << ", " << schedule->to_string()
        << (o.clip_grad_norm > 0 ? ", gradients clipped to norm " + number_str(o.clip_grad_norm) : std::string())
        << ", batch " << o.batch << ", " << o.epochs << " epochs, seed " << o.seed << ", " << threads
        << " thread(s), float32\n"
        << "  data " << o.data << ": " << train_set.size() << " train / " << test_set.size() << " test images\n"
        << std::flush;

    // One JSON object a line per finished epoch. The file is tiny, so after every epoch it is rewritten whole and
    // atomically: a reader (or a crash) never sees a torn line. Writing it empty first replaces a previous run's
    // rows and reports an unwritable --out before any training time is spent.
    std::string metrics_text;
    nn::write_file_atomically(metrics_path, metrics_text);
    Progress progress(err, stderr_is_terminal(), o.epochs, train_set.size());
    std::vector<EpochRow> rows;
    EvalResult last;
    std::size_t step = 0;
    double last_lr = opt->lr();  // the rate of the last step taken, reported per epoch
    for (std::size_t epoch = 0; epoch < o.epochs; ++epoch) {
        const auto t_epoch = Clock::now();
        progress.start_epoch(epoch);
        model->train();
        double loss_sum = 0;
        std::size_t seen = 0, hits = 0, batch_index = 0;
        for (const nn::Batch& b : loader.epoch(epoch)) {
            const Tensor logits = (*model)(model_batch(b.x, plan.input));
            const Tensor loss = nn::cross_entropy(logits, b.labels);
            const double l = loss.item();
            if (!std::isfinite(l)) {
                progress.end_epoch("");
                // A NaN's sign depends on how it arose; the message says "nan" either way.
                err << "adgraph: error: the loss became " << (std::isnan(l) ? std::abs(l) : l) << " at epoch "
                    << epoch + 1 << ", step " << batch_index + 1 << " (global step " << step + 1
                    << "); training stopped. "
                    << (epoch > 0 ? "The last good checkpoint (epoch " + std::to_string(epoch) + ") is kept at " + ckpt
                                  : std::string("No checkpoint was written."))
                    << " Try a smaller --lr.\n";
                return 1;
            }
            loss.backward();
            if (o.clip_grad_norm > 0) nn::clip_grad_norm(model->parameters(), o.clip_grad_norm);
            last_lr = opt->lr();
            opt->step();
            opt->zero_grad();
            schedule->step();
            const auto pred = nn::argmax_rows(logits);
            for (std::size_t i = 0; i < pred.size(); ++i) hits += pred[i] == b.labels[i];
            loss_sum += l * static_cast<double>(b.labels.size());
            seen += b.labels.size();
            ++step;
            ++batch_index;
            progress.update(seen, loss_sum / static_cast<double>(seen));
        }
        last = evaluate(*model, test_set, 1000, plan.input);
        EpochRow row{epoch + 1,
                     loss_sum / static_cast<double>(seen),
                     static_cast<double>(hits) / static_cast<double>(seen),
                     last.loss,
                     last.accuracy,
                     last_lr,
                     seconds_since(t_epoch)};
        rows.push_back(row);
        char summary[200];
        std::snprintf(summary, sizeof summary,
                      "epoch %2zu/%zu  train loss %.4f acc %s  test loss %.4f acc %s  lr %.2e  %.1fs", row.epoch,
                      o.epochs, row.train_loss, pct(row.train_acc).c_str(), row.test_loss, pct(row.test_acc).c_str(),
                      row.lr, row.seconds);
        progress.end_epoch(summary);
        // After the progress line is finished, so that an error message starts on a line of its own.
        metrics_text += nlohmann::json{{"epoch", row.epoch},           {"train_loss", row.train_loss},
                                       {"train_acc", row.train_acc},   {"test_loss", row.test_loss},
                                       {"test_acc", row.test_acc},     {"lr", row.lr},
                                       {"seconds", row.seconds},       {"rss_mib", resident_mib()},
                                       {"heap_mib", heap_in_use_mib()}}
                            .dump() +
                        "\n";
        nn::write_file_atomically(metrics_path, metrics_text);
        nn::Metadata meta = metadata_of(o, epoch + 1, gen);
        meta["test_acc"] = std::to_string(last.accuracy);
        nn::save_checkpoint(ckpt, *model, opt.get(), meta);
    }

    const std::string confusion_path = (std::filesystem::path(o.out) / "confusion.csv").string();
    nn::write_file_atomically(confusion_path, last.confusion.to_csv(class_names()));
    const std::string png = (std::filesystem::path(o.out) / "curves.png").string();
    const std::string plot_problem = o.plot ? plot_curves(rows, png) : "plot disabled";
    out << "\n"
        << per_class_table(last.confusion) << "\nconfusion matrix (rows: true class, columns: predicted)\n"
        << last.confusion.to_string(class_names()) << "\n";
    char line[200];
    std::snprintf(line, sizeof line, "test accuracy %s after %zu epochs, %.1f s in all\n", pct(last.accuracy).c_str(),
                  o.epochs, seconds_since(t_start));
    out << line << "wrote " << ckpt << ", " << metrics_path << ", " << confusion_path
        << (plot_problem.empty() ? ", " + png : std::string()) << "\n";
    if (!plot_problem.empty() && o.plot) err << "adgraph train: warning: " << plot_problem << "\n";
    return 0;
}

}  // namespace adg::cli
