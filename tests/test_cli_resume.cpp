// `adgraph train` in one process: --resume continues a run bitwise, refuses options the run must keep, and the
// launcher detection that decides between one process and the ranks of an MPI job (apps/adgraph/ranks.hpp).

#include <doctest/doctest.h>

#include <stdlib.h>

#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include <adgraph/nn/checkpoint.hpp>

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
                                                                        {"--limit", "400", "500"}}) {
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
    CHECK_FALSE(adg::cli::multi_process(detect_launch(env_of({{"PMIX_RANK", "0"}}))));
    CHECK_FALSE(detect_launch(env_of({{"OMPI_COMM_WORLD_SIZE", "two"}})).launched);
    // --threads 0: the machine's cores shared among its ranks, at least one each.
    CHECK(adg::cli::default_threads(alone, 8) == 8);
    CHECK(adg::cli::default_threads(ompi, 8) == 2);
    CHECK(adg::cli::default_threads(ompi, 2) == 1);
    CHECK(adg::cli::no_mpi_message(ompi).find("started it as 3 processes") != std::string::npos);
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
