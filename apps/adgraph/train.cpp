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
#include <thread>

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

#include "adgraph/cli.hpp"
#include "adgraph/evaluate.hpp"
#include "adgraph/plot.hpp"
#include "adgraph/progress.hpp"
#include "adgraph/rank_reductions.hpp"
#include "adgraph/ranks.hpp"
#include "adgraph/resume.hpp"

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

namespace {

std::string last_good(std::size_t epoch, const std::string& path) {
    return "The last good checkpoint (epoch " + std::to_string(epoch) + ") is kept at " + path + ".";
}

// The training run on every rank; rank 0 alone prints and writes files.
int train_ranks(const TrainOptions& o, const nn::ModelPlan& plan, const nn::Dataset& train_set,
                const nn::Dataset& test_set, Ranks& ranks, int threads, Clock::time_point t_start,
                std::ostream& root_out, std::ostream& root_err) {
    std::ostream silent(nullptr);  // the other ranks' reports go nowhere
    std::ostream& out = ranks.root() ? root_out : silent;
    std::ostream& err = ranks.root() ? root_err : silent;
    const std::filesystem::path dir(o.out);
    const std::string ckpt = (dir / "model.safetensors").string(), metrics_path = (dir / "metrics.jsonl").string();
    if (ranks.root()) {
        std::error_code made;
        std::filesystem::create_directories(o.out, made);
        if (made) {
            throw io_error("'" + o.out + "': cannot create the output directory: " + made.message() +
                           "; pass --out with a directory that can be created or written");
        }
    }

    // Ranks started with other options or another copy of the data would take another number of steps, and the
    // first to finish would wait in MPI_Finalize for ranks waiting in a collective: compare before the first one.
    if (ranks.size() > 1) {
        const std::string apart = start_mismatch(
            ranks.gather(start_fingerprint(options_json(o), train_set.size(), test_set.size(), !o.resume.empty())));
        if (!apart.empty()) throw PeerFailure{ranks.root() ? apart : ""};
    }
    Generator gen(o.seed);
    auto model = nn::build_model(o.model, gen, model_options(o));
    auto opt = make_optimizer(o, model->named_parameters());
    const nn::DataLoader loader(train_set, o.batch, true, o.seed);
    const std::size_t steps = o.epochs * loader.batches();
    // Attached before a checkpoint is loaded, so that the base rate is --lr, not the rate the checkpoint ended at.
    // o.epochs and o.warmup_epochs are within their ranges (checked on the command line and in the checkpoint), so
    // these products neither wrap nor overflow.
    const auto schedule = nn::make_scheduler(
        o.schedule, *opt, steps, static_cast<std::size_t>(o.warmup_epochs * static_cast<double>(loader.batches())));
    ResumePoint start;
    if (!o.resume.empty()) {
        // Every rank reads the checkpoint (the optimizer state too, which no broadcast carries).
        const nn::Metadata meta = nn::load_checkpoint(o.resume, *model, opt.get());
        start = resume_point(o.resume, meta);
        check_resume_steps(o.resume, start, loader.batches(), train_set.size(), o.batch);
        const std::string rng = meta.count("rng") ? meta.at("rng") : "";
        if (!rng.empty()) nn::set_generator_state(gen, rng);
        // Each rank read its own copy of the file: all must continue the same run (rank 0's parameters are
        // broadcast, but not the optimizer state, the step count or the options). A stale copy on one node would
        // otherwise drift silently, or stop its ranks at another epoch and leave the others waiting.
        if (ranks.size() > 1) {
            const std::string apart =
                resume_mismatch(o.resume, ranks.gather(resume_fingerprint(options_json(o), start, rng, opt->state())));
            if (!apart.empty()) throw PeerFailure{ranks.root() ? apart : ""};
        }
    }
    schedule->set_step_count(start.global_step);
    ranks.attach(*model, start.global_step);
    const std::string processes =
        ranks.size() > 1 ? std::to_string(ranks.size()) + " processes × " + std::to_string(threads) + " thread(s)"
                         : std::to_string(threads) + " thread(s)";
    out << "adgraph train: " << model->to_string() << ", " << model->parameter_count() << " parameters\n"
        << "  " << opt->name() << ", " << schedule->to_string()
        << (o.clip_grad_norm > 0 ? ", gradients clipped to norm " + number_str(o.clip_grad_norm) : std::string())
        << ", batch " << o.batch << ", " << o.epochs << " epochs, seed " << o.seed << ", " << processes << ", float32\n"
        << "  data " << o.data << ": " << train_set.size() << " train / " << test_set.size() << " test images\n";
    if (!o.resume.empty()) {
        out << "  resumed from " << o.resume << " after epoch " << start.epoch << " (global step " << start.global_step
            << ")\n";
    }
    out << std::flush;

    // One JSON object a line per finished epoch. The file is tiny, so after every epoch it is rewritten whole and
    // atomically: a reader (or a crash) never sees a torn line. Writing it first (empty, or a resumed run's earlier
    // rows) replaces a previous run's rows and reports an unwritable --out before any training time is spent.
    MetricsHistory history;
    if (ranks.root()) {
        // The earlier rows come from the checkpoint's directory, also when --out names another one.
        if (!o.resume.empty()) {
            history = read_metrics_history((std::filesystem::path(o.resume).parent_path() / "metrics.jsonl").string(),
                                           start.epoch);
        }
        nn::write_file_atomically(metrics_path, history.text);
    }
    std::string metrics_text = history.text;
    std::vector<EpochRow> rows = history.rows;
    Progress progress(err, ranks.root() && stderr_is_terminal(), o.epochs, train_set.size());
    EvalResult last;
    double last_lr = opt->lr();  // the rate of the last step taken, reported per epoch
    for (std::size_t epoch = start.epoch; epoch < o.epochs; ++epoch) {
        const auto t_epoch = Clock::now();
        const double allreduce_before = ranks.allreduce_seconds();
        progress.start_epoch(epoch);
        model->train();
        double loss_sum = 0, seen = 0, hits = 0;
        const nn::Epoch batches = loader.epoch(epoch);
        for (std::size_t i = 0; i < batches.size(); ++i) {
            const nn::Batch b = ranks.local_batch(batches, i);
            // Each rank's loss is the mean over its rows (none: it only joins the collectives).
            Tensor loss;
            double l = 0, local_hits = 0;
            const auto local_rows = static_cast<double>(b.labels.size());
            if (!b.labels.empty()) {
                const Tensor logits = (*model)(model_batch(b.x, plan.input));
                loss = nn::cross_entropy(logits, b.labels);
                l = loss.item();
                const auto pred = nn::argmax_rows(logits);
                for (std::size_t r = 0; r < pred.size(); ++r) local_hits += pred[r] == b.labels[r];
            }
            // One small sum a step: the global batch's loss and hits for rank 0's report, and whether any rank's
            // loss is not finite, so that all ranks stop at the same step.
            std::vector<double> step{l * local_rows, local_hits, local_rows, std::isfinite(l) ? 0.0 : 1.0};
            ranks.sum(step);
            if (step[3] > 0) {
                const auto [where, bad] = nonfinite_ranks(ranks, l);
                progress.end_epoch("");
                // A NaN's sign depends on how it arose; the message says "nan" either way.
                err << "adgraph: error: the loss became " << (std::isnan(bad) ? std::abs(bad) : bad) << where
                    << " at epoch " << epoch + 1 << ", step " << i + 1 << " (global step " << ranks.steps()
                    << "); training stopped. "
                    << (epoch > start.epoch ? last_good(epoch, ckpt)
                        : epoch > 0         ? last_good(epoch, o.resume)  // resumed: nothing written yet
                                            : std::string("No checkpoint was written."))
                    << " Try a smaller --lr.\n";
                return exit_failure;
            }
            if (!b.labels.empty()) loss.backward();
            ranks.allreduce_gradients();
            if (o.clip_grad_norm > 0) nn::clip_grad_norm(model->parameters(), o.clip_grad_norm);
            last_lr = opt->lr();
            opt->step();
            opt->zero_grad();
            schedule->step();
            loss_sum += step[0];
            hits += step[1];
            seen += step[2];
            progress.update(static_cast<std::size_t>(seen), loss_sum / seen);
        }
        // Each rank's BatchNorm statistics saw only its rows: evaluate and save rank 0's everywhere.
        ranks.broadcast_buffers();
        last = evaluate_ranks(*model, test_set, plan.input, ranks);
        EpochRow row{epoch + 1,     loss_sum / seen, hits / seen,           last.loss,
                     last.accuracy, last_lr,         seconds_since(t_epoch)};
        rows.push_back(row);
        char summary[200];
        std::snprintf(summary, sizeof summary,
                      "epoch %2zu/%zu  train loss %.4f acc %s  test loss %.4f acc %s  lr %.2e  %.1fs", row.epoch,
                      o.epochs, row.train_loss, pct(row.train_acc).c_str(), row.test_loss, pct(row.test_acc).c_str(),
                      row.lr, row.seconds);
        progress.end_epoch(summary);
        if (!ranks.root()) continue;
        // After the progress line is finished, so that an error message starts on a line of its own.
        nlohmann::json line{
            {"epoch", row.epoch},         {"train_loss", row.train_loss}, {"train_acc", row.train_acc},
            {"test_loss", row.test_loss}, {"test_acc", row.test_acc},     {"lr", row.lr},
            {"seconds", row.seconds},     {"rss_mib", resident_mib()},    {"heap_mib", heap_in_use_mib()}};
        if (ranks.size() > 1) {
            line["processes"] = ranks.size();
            line["allreduce_seconds"] = ranks.allreduce_seconds() - allreduce_before;
        }
        metrics_text += line.dump() + "\n";
        nn::write_file_atomically(metrics_path, metrics_text);
        nn::Metadata meta = metadata_of(o, epoch + 1, gen);
        meta["test_acc"] = std::to_string(last.accuracy);
        meta["global_step"] = std::to_string(ranks.steps());
        meta["train_options"] = options_json(o);
        nn::save_checkpoint(ckpt, *model, opt.get(), meta);
    }
    if (!ranks.root()) return 0;

    const std::string confusion_path = (dir / "confusion.csv").string();
    nn::write_file_atomically(confusion_path, last.confusion.to_csv(class_names()));
    const std::string png = (dir / "curves.png").string();
    const std::string plot_problem = o.plot ? plot_curves(rows, png) : "plot disabled";
    out << "\n"
        << per_class_table(last.confusion) << "\nconfusion matrix (rows: true class, columns: predicted)\n"
        << last.confusion.to_string(class_names()) << "\n";
    char line[200];
    std::snprintf(line, sizeof line, "test accuracy %s after %zu epochs, %.1f s in all\n", pct(last.accuracy).c_str(),
                  o.epochs, seconds_since(t_start));
    out << line;
    if (ranks.size() > 1) {
        std::snprintf(line, sizeof line, "%d processes; rank 0 spent %.2f s averaging gradients\n", ranks.size(),
                      ranks.allreduce_seconds());
        out << line;
    }
    out << "wrote " << ckpt << ", " << metrics_path << ", " << confusion_path
        << (plot_problem.empty() ? ", " + png : std::string()) << "\n";
    if (!plot_problem.empty() && o.plot) err << "adgraph train: warning: " << plot_problem << "\n";
    return 0;
}

}  // namespace

int train(const TrainOptions& o, std::ostream& out, std::ostream& err) {
    const Launch launch = detect_launch();
    if (const auto refusal = mpi_refusal(launch, built_with_mpi())) {
        err << *refusal;
        return exit_failure;
    }
    const auto t_start = Clock::now();
    // Ranks on one machine share its cores, and a rank bound to some of them (mpirun's default) keeps to those: by
    // default each takes its part.
    const int threads = set_threads(o.threads == 0 && launch.launched
                                        ? default_threads(launch, std::thread::hardware_concurrency(), usable_cpus())
                                        : o.threads);
    // MPI first, then the data: a rank that cannot load (its node's --data, its memory limit) must not leave the
    // others waiting in MPI_Init for it, which a launcher that does not end the job on one failed rank (srun's
    // default) would never end.
    Ranks ranks(launch);
    std::optional<nn::Dataset> train_set, test_set;
    nn::ModelPlan plan;
    std::string failed;
    try {
        train_set.emplace(nn::load_fashion_mnist(o.data, nn::Split::train, o.limit));
        test_set.emplace(nn::load_fashion_mnist(o.data, nn::Split::test, o.limit));
        plan = nn::plan_model(o.model, model_options(o));
        check_fits(o, plan, *train_set, *test_set);
    } catch (const std::exception& e) {
        if (ranks.size() == 1) throw;  // run() reports it
        failed = e.what();
    }
    if (ranks.size() > 1) {
        // Every rank learns whether all are ready (one small sum), and all stop alike. Rank 0 reports its own
        // failure; when rank 0 is ready, each rank that failed reports its own (every rank failing alike, e.g. no
        // data anywhere, says it once).
        std::vector<double> ready{failed.empty() ? 0.0 : 1.0, ranks.root() && !failed.empty() ? 1.0 : 0.0};
        ranks.sum(ready);
        if (ready[0] > 0) {
            if (!failed.empty() && (ranks.root() || ready[1] == 0)) {
                err << "adgraph: error: " << rank_prefix(launch) << failed << "\n";
            }
            return exit_failure;
        }
    }
    try {
        return train_ranks(o, plan, *train_set, *test_set, ranks, threads, t_start, out, err);
    } catch (const PeerFailure& f) {
        // Every rank knows: each returns, and MPI finalises normally.
        if (!f.message.empty()) err << "adgraph: error: " << f.message << "\n";
        return exit_failure;
    } catch (const std::exception& e) {
        if (ranks.size() == 1) throw;  // run() reports it
        // This rank fails alone (rank 0's files, a checkpoint one node cannot read, a forward pass): the others may
        // be waiting in a collective, so say why, then end the whole job rather than rely on the launcher to.
        err << "adgraph: error: " << e.what() << std::endl;
        ranks.abort_job();
        throw;
    } catch (...) {
        if (ranks.size() == 1) throw;
        err << "adgraph: error: an unknown exception" << std::endl;
        ranks.abort_job();
        throw;
    }
}

}  // namespace adg::cli
