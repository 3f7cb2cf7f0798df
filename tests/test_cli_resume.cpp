// `adgraph train` in one process: --resume continues a run bitwise, refuses options the run must keep, and the
// launcher detection that decides between one process and the ranks of an MPI job (apps/adgraph/ranks.hpp).

#include <doctest/doctest.h>

#include <stdlib.h>

#include <filesystem>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include <adgraph/nn/checkpoint.hpp>
#include <adgraph/nn/safetensors.hpp>
#include <adgraph/tensor/error.hpp>

#include "adgraph/ranks.hpp"
#include "adgraph/resume.hpp"
#include "cli_run.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
using adg::testing::read_file;
using adg::testing::run_cli;

namespace {

// A short run: 500 images in batches of 64 (the last one 52 rows), an MLP with dropout (whose masks are keyed by
// the global step, so a resumed run must restore it), one thread.
std::vector<std::string> tiny_run(const std::string& out, std::size_t epochs, const std::string& schedule) {
    return {"train",      "--limit", "500", "--model",   "784-32-10", "--dropout", "0.1",      "--threads",
            "1",          "--batch", "64",  "--no-plot", "--out",     out,         "--epochs", std::to_string(epochs),
            "--schedule", schedule};
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

// A checkpoint file holding no tensors, only the metadata of a run after epoch 1 (8 steps) whose recorded options
// are the defaults with `option` set to `value` (raw JSON text; none when `option` is empty).
std::string checkpoint_with(const adg::testing::TempDir& dir, const std::string& name, const std::string& option,
                            const std::string& value) {
    nlohmann::json options = nlohmann::json::parse(adg::cli::options_json(adg::cli::TrainOptions{}));
    if (!option.empty()) options[option] = nlohmann::json::parse(value);
    const std::string path = dir.file(name);
    adg::nn::save_safetensors(path, {}, {{"epoch", "1"}, {"global_step", "8"}, {"train_options", options.dump()}});
    return path;
}

// apply_resume_options with no option given on the command line: what it throws, or "" if it accepts.
std::string resume_refusal(const std::string& path) {
    adg::cli::TrainOptions o;
    o.resume = path;
    try {
        adg::cli::apply_resume_options(o, [](const std::string&) { return false; });
    } catch (const adg::io_error& e) {
        return e.what();
    }
    return "";
}

// A launcher environment as a lookup function.
std::function<const char*(const char*)> env_of(const std::map<std::string, std::string>& vars) {
    return [vars](const char* name) -> const char* {
        const auto it = vars.find(name);
        return it == vars.end() ? nullptr : it->second.c_str();
    };
}

}  // namespace

TEST_CASE("cli resume: 1 epoch resumed for 2 more ends bitwise where 3 epochs in one run end") {
    if (!adg::testing::have_fashion_mnist()) return;
    const adg::testing::TempDir dir("adgraph-resume");
    const std::string whole = dir.file("whole"), part = dir.file("part"), other = dir.file("other");
    REQUIRE(run_cli(tiny_run(whole, 3, "constant")).code == 0);
    REQUIRE(run_cli(tiny_run(part, 1, "constant")).code == 0);
    const std::string first_row = lines_of(read_file(part + "/metrics.jsonl")).at(0);
    fs::copy(part, other);
    // The options not given (model, batch, seed, schedule, ...) come from the checkpoint; --out is its directory.
    const auto resumed =
        run_cli({"train", "--resume", part + "/model.safetensors", "--epochs", "3", "--threads", "1", "--no-plot"});
    REQUIRE_MESSAGE(resumed.code == 0, resumed.err);
    CHECK(resumed.out.find("resumed from " + part + "/model.safetensors after epoch 1 (global step 8)") !=
          std::string::npos);
    CHECK(read_file(part + "/model.safetensors") == read_file(whole + "/model.safetensors"));
    const auto metrics = lines_of(read_file(part + "/metrics.jsonl"));
    REQUIRE(metrics.size() == 3);
    CHECK(metrics[0] == first_row);  // the earlier epoch's row is kept as it was
    for (std::size_t e = 0; e < 3; ++e) CHECK(nlohmann::json::parse(metrics[e])["epoch"] == e + 1);
    const auto meta = adg::nn::read_checkpoint_metadata(part + "/model.safetensors");
    CHECK(meta.at("epoch") == "3");
    CHECK(meta.at("global_step") == "24");  // ceil(500 / 64) = 8 steps an epoch

    // The comparison can fail: the same resume with another learning rate (an option a resumed run may change)
    // ends elsewhere.
    const auto faster = run_cli({"train", "--resume", other + "/model.safetensors", "--epochs", "3", "--threads", "1",
                                 "--no-plot", "--lr", "0.002"});
    REQUIRE_MESSAGE(faster.code == 0, faster.err);
    CHECK(read_file(other + "/model.safetensors") != read_file(whole + "/model.safetensors"));
}

TEST_CASE("cli resume: options a run must keep are refused with both values, and so is a finished run") {
    if (!adg::testing::have_fashion_mnist()) return;
    const adg::testing::TempDir dir("adgraph-resume-refused");
    const std::string run = dir.file("run"), ckpt = dir.file("run/model.safetensors");
    REQUIRE(run_cli(tiny_run(run, 1, "constant")).code == 0);
    const std::string before = read_file(ckpt);
    for (const auto& [option, value, kept] :
         std::vector<std::tuple<std::string, std::string, std::string>>{{"--batch", "32", "64"},
                                                                        {"--seed", "2", "1"},
                                                                        {"--model", "784-16-10", "784-32-10"},
                                                                        {"--dropout", "0.2", "0.1"},
                                                                        {"--optimizer", "sgd", "adamw"},
                                                                        {"--limit", "400", "500"},
                                                                        {"--activation", "tanh", "relu"},
                                                                        {"--init", "xavier", "he"}}) {
        const auto r = run_cli({"train", "--resume", ckpt, "--epochs", "2", option, value});
        CHECK(r.code == 2);
        CHECK(r.err == "adgraph: " + option + " " + value + ": the checkpoint " + ckpt + " was trained with " + option +
                           " " + kept + ", which a resumed run keeps; leave " + option + " out or pass " + kept +
                           "\nRun 'adgraph train --help' for the options.\n");
    }
    // The same values as the checkpoint's are accepted (checked up to the first epoch being trained).
    const auto same = run_cli({"train", "--resume", ckpt, "--epochs", "2", "--batch", "64", "--seed", "1", "--threads",
                               "1", "--no-plot", "--out", dir.file("same")});
    CHECK_MESSAGE(same.code == 0, same.err);
    // Written to another --out, the metrics start with the checkpoint's directory's earlier rows.
    const auto rows = lines_of(read_file(dir.file("same/metrics.jsonl")));
    REQUIRE(rows.size() == 2);
    CHECK(rows[0] == lines_of(read_file(run + "/metrics.jsonl")).at(0));
    const auto done = run_cli({"train", "--resume", ckpt});
    CHECK(done.code == 2);
    CHECK(done.err.find("--resume: the checkpoint " + ckpt + " has trained 1 of 1 epochs; pass --epochs above 1") !=
          std::string::npos);
    CHECK(read_file(ckpt) == before);  // nothing refused touched the run
}

TEST_CASE("cli resume: a loss that diverges in the first resumed epoch names the checkpoint resumed from") {
    if (!adg::testing::have_fashion_mnist()) return;
    const adg::testing::TempDir dir("adgraph-resume-diverged");
    const std::string run = dir.file("run"), ckpt = dir.file("run/model.safetensors"), out = dir.file("elsewhere");
    REQUIRE(run_cli(tiny_run(run, 1, "constant")).code == 0);
    // --out elsewhere: nothing is written there before the loss diverges, so the last good checkpoint is --resume's.
    const auto r =
        run_cli({"train", "--resume", ckpt, "--epochs", "2", "--lr", "1e30", "--threads", "1", "--out", out});
    CHECK(r.code == 1);
    CHECK(r.err.find("training stopped. The last good checkpoint (epoch 1) is kept at " + ckpt +
                     ". Try a smaller --lr.") != std::string::npos);
    CHECK_FALSE(fs::exists(out + "/model.safetensors"));
}

TEST_CASE("cli resume: every option a checkpoint records is held to the command line's range, naming the value") {
    const adg::testing::TempDir dir("adgraph-resume-hostile");
    // The unchanged defaults are accepted: each refusal below is the value's doing.
    CHECK(resume_refusal(checkpoint_with(dir, "sound.safetensors", "", "")) == "");
    CHECK(resume_refusal(checkpoint_with(dir, "sound-edges.safetensors", "--momentum", "0")) == "");
    const std::vector<std::tuple<std::string, std::string, std::string>> hostile{
        {"--batch", "0", "--batch 0, not a whole number from 1 to 1000000000"},
        {"--warmup-epochs", "-5", "--warmup-epochs -5, not a number in [0, 1000000]"},
        {"--warmup-epochs", "-5.5", "--warmup-epochs -5.5, not a number in [0, 1000000]"},
        {"--momentum", "-2", "--momentum -2, not a number in [0, 1)"},
        {"--momentum", "1", "--momentum 1, not a number in [0, 1)"},
        {"--limit", "9223372036854775808", "--limit 9223372036854775808, not a whole number from 0 to 1000000000"},
        {"--dropout", "3", "--dropout 3, not a number in [0, 1)"},
        {"--epochs", "18446744073709551615", "--epochs 18446744073709551615, not a whole number from 1 to 1000000"},
        {"--epochs", "0", "--epochs 0, not a whole number from 1 to 1000000"},
        {"--lr", "0", "--lr 0, not a finite number > 0"},
        {"--lr", "-0.001", "--lr -0.001, not a finite number > 0"},
        {"--weight-decay", "-1", "--weight-decay -1, not a finite number >= 0"},
        {"--clip-grad-norm", "-0.5", "--clip-grad-norm -0.5, not a finite number >= 0"},
        {"--optimizer", "\"rmsprop\"", "--optimizer rmsprop, not one of sgd, adam, adamw"},
    };
    for (const auto& [option, value, problem] : hostile) {
        const std::string path = checkpoint_with(dir, "hostile.safetensors", option, value);
        INFO(option << " " << value);
        CHECK(resume_refusal(path) == "checkpoint " + path + ": metadata 'train_options' has " + problem +
                                          "; the metadata is corrupt: resume from another checkpoint or train afresh");
    }
}

TEST_CASE("cli resume: the global step must be the epochs done times the batches an epoch") {
    const std::string path = "run/model.safetensors";
    CHECK_NOTHROW(adg::cli::check_resume_steps(path, {1, 8}, 8, 500, 64));
    CHECK_NOTHROW(adg::cli::check_resume_steps(path, {3, 24}, 8, 500, 64));
    CHECK_NOTHROW(adg::cli::check_resume_steps(path, {0, 0}, 8, 500, 64));
    const auto refused = [&](adg::cli::ResumePoint at, std::size_t batches) {
        try {
            adg::cli::check_resume_steps(path, at, batches, 500, 64);
        } catch (const adg::io_error& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    // Another copy of the data (a --data with another number of images, --limit 0) or a corrupt checkpoint.
    const std::string end =
        " (500 training images in batches of 64); resume with the run's --data and --limit, or from another "
        "checkpoint if this one is corrupt";
    CHECK(refused({1, 99999999999999999}, 8) ==
          "checkpoint run/model.safetensors: metadata 'global_step' is 99999999999999999, not 'epoch' 1 × 8 batches "
          "an epoch" +
              end);
    CHECK(refused({1, 9}, 8) ==
          "checkpoint run/model.safetensors: metadata 'global_step' is 9, not 'epoch' 1 × 8 batches an epoch" + end);
    CHECK(refused({2, 8}, 8) ==
          "checkpoint run/model.safetensors: metadata 'global_step' is 8, not 'epoch' 2 × 8 batches an epoch" + end);
    // An epoch count whose product with the batches wraps around 2^64 to the recorded step.
    CHECK(refused({(std::size_t{1} << 61) + 1, 8}, 8) ==
          "checkpoint run/model.safetensors: metadata 'global_step' is 8, not 'epoch' 2305843009213693953 × 8 "
          "batches an epoch" +
              end);
}

TEST_CASE("cli resume: a rank that resumes and one that starts afresh do not start the same run") {
    using adg::cli::start_fingerprint;
    const std::string options = adg::cli::options_json(adg::cli::TrainOptions{});
    const std::uint64_t fresh = start_fingerprint(options, 500, 500, false);
    CHECK(start_fingerprint(options, 500, 500, false) == fresh);
    // The same options and data: only --resume differs (mpirun's ':' syntax), which takes other collectives.
    CHECK(start_fingerprint(options, 500, 500, true) != fresh);
    CHECK(start_fingerprint(options, 400, 500, false) != fresh);
    CHECK(adg::cli::start_mismatch({fresh, start_fingerprint(options, 500, 500, true)}) ==
          "rank 1 of 2 started another run than rank 0 (the options, the number of training or test images, or "
          "--resume differ); start every rank with the same command line and the same data (--data) on every "
          "machine");
}

TEST_CASE("cli resume: an SGD run without momentum cannot continue with momentum, which it kept no velocity for") {
    if (!adg::testing::have_fashion_mnist()) return;
    const adg::testing::TempDir dir("adgraph-resume-momentum");
    const std::string run = dir.file("run"), ckpt = dir.file("run/model.safetensors");
    auto args = tiny_run(run, 1, "constant");
    for (const char* a : {"--optimizer", "sgd", "--momentum", "0"}) args.push_back(a);
    REQUIRE(run_cli(args).code == 0);
    const auto r = run_cli({"train", "--resume", ckpt, "--epochs", "2", "--momentum", "0.9", "--threads", "1"});
    CHECK(r.code == 2);
    CHECK(r.err == "adgraph: --momentum 0.9: the checkpoint " + ckpt +
                       " was trained with SGD without momentum (--momentum 0), which keeps no velocity to continue; "
                       "leave --momentum out or pass 0\nRun 'adgraph train --help' for the options.\n");
    // Leaving it out continues the run.
    const auto same = run_cli({"train", "--resume", ckpt, "--epochs", "2", "--threads", "1", "--no-plot"});
    CHECK_MESSAGE(same.code == 0, same.err);
}

TEST_CASE("cli resume: a cosine schedule resumes at the rate of the uninterrupted run's step") {
    if (!adg::testing::have_fashion_mnist()) return;
    const adg::testing::TempDir dir("adgraph-resume-cosine");
    const std::string whole = dir.file("whole"), part = dir.file("part");
    REQUIRE(run_cli(tiny_run(whole, 3, "cosine")).code == 0);
    // Epoch 1 of a 1-epoch run, resumed with --epochs 3: the schedule is rebuilt over 3 epochs and set to the
    // checkpoint's global step, so epochs 2 and 3 take the 3-epoch run's rates (metrics' lr: each epoch's last).
    REQUIRE(run_cli(tiny_run(part, 1, "cosine")).code == 0);
    const auto resumed =
        run_cli({"train", "--resume", part + "/model.safetensors", "--epochs", "3", "--threads", "1", "--no-plot"});
    REQUIRE_MESSAGE(resumed.code == 0, resumed.err);
    const auto lr = [](const std::string& metrics) {
        std::vector<double> out;
        for (const auto& line : lines_of(metrics)) out.push_back(nlohmann::json::parse(line)["lr"].get<double>());
        return out;
    };
    const std::vector<double> expected = lr(read_file(whole + "/metrics.jsonl"));
    const std::vector<double> got = lr(read_file(part + "/metrics.jsonl"));
    REQUIRE(expected.size() == 3);
    REQUIRE(got.size() == 3);
    CHECK(got[1] == expected[1]);
    CHECK(got[2] == expected[2]);
    // The check can fail: the 1-epoch run's own rate (cosine over 1 epoch, ending near 0) is not the 3-epoch run's.
    CHECK(got[0] != expected[0]);
}

TEST_CASE("cli resume: ranks that loaded another run than rank 0 are named") {
    using adg::cli::resume_fingerprint;
    using adg::cli::resume_mismatch;
    const adg::nn::NamedArrays state{{"optim.0.weight.m", adg::Array::zeros({2, 3}, adg::f32)}};
    const std::string options = adg::cli::options_json(adg::cli::TrainOptions{});
    const std::uint64_t same = resume_fingerprint(options, {2, 16}, "rng-state", state);
    CHECK(resume_fingerprint(options, {2, 16}, "rng-state", state) == same);
    // Each part of the run changes it: the epoch, the global step, the generator, the options, one state value.
    adg::nn::NamedArrays moved{{"optim.0.weight.m", adg::Array::zeros({2, 3}, adg::f32)}};
    moved[0].second.get_mut<float>().data()[4] = 1e-30f;
    adg::cli::TrainOptions faster;
    faster.lr = 2e-3;
    const std::vector<std::uint64_t> others{
        resume_fingerprint(options, {1, 16}, "rng-state", state),
        resume_fingerprint(options, {2, 8}, "rng-state", state),
        resume_fingerprint(options, {2, 16}, "rng-stale", state),
        resume_fingerprint(adg::cli::options_json(faster), {2, 16}, "rng-state", state),
        resume_fingerprint(options, {2, 16}, "rng-state", moved)};
    for (const std::uint64_t other : others) CHECK(other != same);

    CHECK(resume_mismatch("ckpt", {same}) == "");
    CHECK(resume_mismatch("ckpt", {same, same, same}) == "");
    const std::string end =
        " loaded another run than rank 0 (the options, epoch, global step or optimizer state "
        "differ: another file at this path on their machine); give every rank the same "
        "checkpoint file and resume again";
    CHECK(resume_mismatch("run/model.safetensors", {same, others[0]}) ==
          "checkpoint run/model.safetensors: rank 1 of 2" + end);
    CHECK(resume_mismatch("ckpt", {same, others[4], same, others[1]}) == "checkpoint ckpt: ranks 1 and 3 of 4" + end);
    // Measured against rank 0: when rank 0 is the odd one out, every other rank is named.
    CHECK(resume_mismatch("ckpt", {others[2], same, same}) == "checkpoint ckpt: ranks 1 and 2 of 3" + end);
}

TEST_CASE("cli resume: the launcher's variables say how many processes a run spans") {
    using adg::cli::detect_launch;
    const auto alone = detect_launch(env_of({}));
    CHECK_FALSE(alone.launched);
    CHECK_FALSE(adg::cli::multi_process(alone));
    const auto ompi = detect_launch(
        env_of({{"OMPI_COMM_WORLD_SIZE", "3"}, {"OMPI_COMM_WORLD_RANK", "2"}, {"OMPI_COMM_WORLD_LOCAL_SIZE", "3"}}));
    CHECK(ompi.launched);
    CHECK(ompi.size == 3);
    CHECK(ompi.rank == 2);
    CHECK(ompi.local_size == 3);
    CHECK(adg::cli::multi_process(ompi));
    const auto one = detect_launch(env_of({{"OMPI_COMM_WORLD_SIZE", "1"}, {"OMPI_COMM_WORLD_RANK", "0"}}));
    CHECK(one.launched);
    CHECK_FALSE(adg::cli::multi_process(one));  // mpirun -np 1: one process, trained as one
    const auto hydra = detect_launch(env_of({{"PMI_SIZE", "4"}, {"PMI_RANK", "1"}, {"MPI_LOCALNRANKS", "2"}}));
    CHECK(hydra.size == 4);
    CHECK(hydra.rank == 1);
    CHECK(hydra.local_size == 2);
    const auto pmix = detect_launch(env_of({{"PMIX_RANK", "1"}}));
    CHECK(pmix.launched);
    CHECK(pmix.size == 0);
    CHECK(adg::cli::multi_process(pmix));
    // Rank 0 of a PMIx job that does not say its size may have peers: a build without MPI refuses there too.
    CHECK(adg::cli::multi_process(detect_launch(env_of({{"PMIX_RANK", "0"}}))));
    CHECK_FALSE(detect_launch(env_of({{"OMPI_COMM_WORLD_SIZE", "two"}})).launched);
    // --threads 0: the machine's cores shared among its ranks, at least one each ...
    CHECK(adg::cli::default_threads(alone, 8, 8) == 8);
    CHECK(adg::cli::default_threads(ompi, 8, 8) == 2);
    CHECK(adg::cli::default_threads(ompi, 2, 2) == 1);
    CHECK(adg::cli::default_threads(ompi, 8, 0) == 2);  // the mask unknown
    // ... and no more than the CPUs a rank is bound to (mpirun binds each of -np 2 to one core).
    CHECK(adg::cli::default_threads(ompi, 16, 1) == 1);
    CHECK(adg::cli::default_threads(one, 2, 1) == 1);
    CHECK(adg::cli::default_threads(ompi, 16, 8) == 5);  // a socket of 8 shared: the machine's share is smaller
    CHECK(adg::cli::usable_cpus() >= 1);
    // Messages only one rank may print name it.
    CHECK(adg::cli::rank_prefix(alone) == "");
    CHECK(adg::cli::rank_prefix(ompi) == "rank 2 of 3: ");
    CHECK(adg::cli::rank_prefix(one) == "");
    CHECK(adg::cli::rank_prefix(pmix) == "rank 1: ");
    CHECK(adg::cli::no_mpi_message(ompi).find("started it as 3 processes") != std::string::npos);
    // A build without MPI refuses every process of a job of several (rank 0 says why), in every build's tests.
    CHECK(adg::cli::mpi_refusal(ompi, false) == std::optional<std::string>(""));
    adg::cli::Launch first = ompi;
    first.rank = 0;
    CHECK(adg::cli::mpi_refusal(first, false) == adg::cli::no_mpi_message(first));
    CHECK(adg::cli::mpi_refusal(pmix, false) == std::optional<std::string>(""));
    CHECK_FALSE(adg::cli::mpi_refusal(alone, false).has_value());
    CHECK_FALSE(adg::cli::mpi_refusal(one, false).has_value());  // mpirun -np 1: one process, trained as one
    CHECK_FALSE(adg::cli::mpi_refusal(ompi, true).has_value());
    CHECK(adg::cli::no_mpi_message(pmix).find("started it as several processes") != std::string::npos);
}

#if !ADGRAPH_WITH_MPI
TEST_CASE("cli resume: a build without MPI refuses to train as one of several mpirun processes") {
    // As mpirun -np 2 would start rank 1 and rank 0; both exit 1, rank 0 alone says why.
    for (const char* rank : {"1", "0"}) {
        ::setenv("OMPI_COMM_WORLD_SIZE", "2", 1);
        ::setenv("OMPI_COMM_WORLD_RANK", rank, 1);
        const auto r = run_cli({"train", "--limit", "10", "--out", "/nonexistent/never-written"});
        ::unsetenv("OMPI_COMM_WORLD_SIZE");
        ::unsetenv("OMPI_COMM_WORLD_RANK");
        CHECK(r.code == 1);
        CHECK(r.err == (rank[0] == '0'
                            ? adg::cli::no_mpi_message(adg::cli::detect_launch(env_of({{"OMPI_COMM_WORLD_SIZE", "2"}})))
                            : ""));
    }
}
#endif
