// The adgraph command line in-process: usage errors exit 2, runtime failures exit 1 with a message on stderr,
// and a --limit smoke run of train, eval and predict.

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

#include <adgraph/nn/process.hpp>

#include "cli_run.hpp"

namespace fs = std::filesystem;
using doctest::Contains;

namespace {

using adg::testing::run_cli;

fs::path scratch(const std::string& name) {
    const fs::path p =
        fs::temp_directory_path() / ("adgraph_cli_" + name + "_" + std::to_string(std::random_device{}()));
    fs::remove_all(p);
    fs::create_directories(p);
    return p;
}

}  // namespace

TEST_CASE("cli: bad option values are usage errors (exit 2) naming the option") {
    const auto lr = run_cli({"train", "--lr", "-1"});
    CHECK(lr.code == 2);
    CHECK(lr.err.find("--lr must be a number > 0") != std::string::npos);
    const auto batch = run_cli({"train", "--batch", "0"});
    CHECK(batch.code == 2);
    CHECK(batch.err.find("--batch must be at least 1") != std::string::npos);
    const auto spec = run_cli({"train", "--model", "784-x-10"});
    CHECK(spec.code == 2);
    CHECK(spec.err.find("model spec '784-x-10': 'x' is not a whole number") != std::string::npos);
    const auto io = run_cli({"train", "--model", "100-10"});
    CHECK(io.code == 2);
    CHECK(io.err.find("Fashion-MNIST needs 784 inputs and 10 outputs") != std::string::npos);
    const auto opt = run_cli({"train", "--optimizer", "rmsprop"});
    CHECK(opt.code == 2);
    CHECK(opt.err.find("--optimizer") != std::string::npos);
    const auto unknown = run_cli({"train", "--frobnicate"});
    CHECK(unknown.code == 2);
    CHECK(unknown.err.find("frobnicate") != std::string::npos);
    CHECK(run_cli({}).code == 2);
    CHECK(run_cli({"--help"}).code == 0);
}

TEST_CASE("cli: a missing data directory names the Debian package (exit 1)") {
    const fs::path out = scratch("nodata");
    const auto r = run_cli({"train", "--data", "/nonexistent/fashion", "--out", out.string()});
    CHECK(r.code == 1);
    CHECK(r.err.find("/nonexistent/fashion") != std::string::npos);
    CHECK(r.err.find("dataset-fashion-mnist") != std::string::npos);
    fs::remove_all(out);
}

TEST_CASE("cli: train --limit, then eval and predict the checkpoint") {
    if (!adg::testing::have_fashion_mnist()) {
        MESSAGE("skipped: install dataset-fashion-mnist for the smoke run");
        return;
    }
    const fs::path out = scratch("smoke");
    const auto r =
        run_cli({"train", "--limit", "600", "--epochs", "2", "--batch", "64", "--out", out.string(), "--threads", "1"});
    REQUIRE_MESSAGE(r.code == 0, r.err);
    CHECK(r.out.find("T-shirt/top") != std::string::npos);
    CHECK(r.out.find("Ankle boot") != std::string::npos);
    CHECK(r.out.find("test accuracy") != std::string::npos);
    std::ifstream metrics(out / "metrics.jsonl");
    std::string line;
    int lines = 0;
    while (std::getline(metrics, line)) {
        const auto j = nlohmann::json::parse(line);
        for (const char* key :
             {"epoch", "train_loss", "train_acc", "test_loss", "test_acc", "lr", "seconds", "rss_mib", "heap_mib"}) {
            CHECK(j.contains(key));
        }
        CHECK(j["epoch"].get<int>() == ++lines);
    }
    CHECK(lines == 2);
    CHECK(fs::exists(out / "confusion.csv"));
    CHECK(fs::exists(out / "model.safetensors"));

    const std::string ckpt = (out / "model.safetensors").string();
    const auto e = run_cli({"eval", "--model", ckpt, "--limit", "300"});
    REQUIRE_MESSAGE(e.code == 0, e.err);
    CHECK(e.out.find("test accuracy") != std::string::npos);
    CHECK(e.out.find("confusion matrix") != std::string::npos);
    const auto p = run_cli({"predict", "--model", ckpt, "--index", "3"});
    REQUIRE_MESSAGE(p.code == 0, p.err);
    CHECK(p.out.find("test image 3: true class") != std::string::npos);

    {  // a checkpoint for another architecture
        const auto other = run_cli({"eval", "--model", ckpt, "--spec", "784-64-10"});
        CHECK(other.code == 1);
        CHECK(other.err.find("tensor '0.weight' is float32 (256,784) but the model's parameter is float32 (64,784)") !=
              std::string::npos);
        CHECK(other.err.find("the file was saved for model 784-256-128-10") != std::string::npos);
    }
    {  // a truncated checkpoint
        const std::string cut = (out / "cut.safetensors").string();
        fs::copy_file(ckpt, cut);
        fs::resize_file(cut, fs::file_size(cut) / 2);
        const auto t = run_cli({"eval", "--model", cut});
        CHECK(t.code == 1);
        CHECK(t.err.find(cut) != std::string::npos);
    }
    {  // an index beyond the test set
        const auto big = run_cli({"predict", "--model", ckpt, "--index", "10000"});
        CHECK(big.code == 1);
        CHECK(big.err.find("--index 10000 is out of range") != std::string::npos);
    }
    fs::remove_all(out);
}

TEST_CASE("cli: a non-finite loss stops training and names epoch and step") {
    if (!adg::testing::have_fashion_mnist()) {
        MESSAGE("skipped: install dataset-fashion-mnist");
        return;
    }
    const fs::path out = scratch("nan");
    const auto r = run_cli({"train", "--limit", "256", "--epochs", "3", "--optimizer", "sgd", "--lr", "1e30",
                            "--momentum", "0", "--schedule", "constant", "--out", out.string(), "--threads", "1"});
    CHECK(r.code == 1);
    CHECK(r.err.find("training stopped") != std::string::npos);
    CHECK(r.err.find("at epoch 1, step") != std::string::npos);
    fs::remove_all(out);
}

TEST_CASE("cli: train reports output files it cannot write (exit 1) and does not claim to have written them") {
    if (!adg::testing::have_fashion_mnist()) {
        MESSAGE("skipped: install dataset-fashion-mnist");
        return;
    }
    // A directory where train writes a file: the atomic rename over it fails, whatever the user's privileges.
    for (const char* name : {"metrics.jsonl", "confusion.csv"}) {
        INFO(name);
        const fs::path out = scratch("unwritable");
        fs::create_directory(out / name);
        const auto r =
            run_cli({"train", "--limit", "300", "--epochs", "1", "--out", out.string(), "--threads", "1", "--no-plot"});
        CHECK(r.code == 1);
        CHECK(r.err.find("adgraph: error: '" + (out / name).string() + "': cannot rename the temporary file") !=
              std::string::npos);
        CHECK(r.err.find("Is a directory") != std::string::npos);
        CHECK(r.out.find("wrote ") == std::string::npos);
        CHECK(fs::is_directory(out / name));
        CHECK(fs::is_empty(out / name));
        for (const auto& e : fs::directory_iterator(out)) {
            CHECK_MESSAGE(e.path().filename().string().find(".tmp.") == std::string::npos, e.path().string());
        }
        fs::remove_all(out);
    }
}

TEST_CASE("cli: train warns, naming the file, when the plot cannot be written") {
    if (!adg::testing::have_fashion_mnist() || adg::nn::run_process({"gnuplot", "--version"}).not_found) {
        MESSAGE("skipped: needs dataset-fashion-mnist and gnuplot");
        return;
    }
    const fs::path out = scratch("plotpng");
    fs::create_directory(out / "curves.png");
    const auto r = run_cli({"train", "--limit", "300", "--epochs", "1", "--out", out.string(), "--threads", "1"});
    REQUIRE_MESSAGE(r.code == 0, r.err);
    CHECK_MESSAGE(r.err.find("adgraph train: warning: no " + (out / "curves.png").string() + " written: '" +
                             (out / "curves.png").string() + "': ") != std::string::npos,
                  r.err);
    CHECK(r.out.find("curves.png") == std::string::npos);  // not in the "wrote" line
    CHECK(fs::is_directory(out / "curves.png"));
    CHECK(fs::is_empty(out / "curves.png"));
    CHECK(fs::exists(out / "metrics.jsonl"));
    CHECK(fs::exists(out / "confusion.csv"));
    fs::remove_all(out);
}

// Issue 21: the plot step ran gnuplot through a shell with the script's path in quotes, so an --out holding a quote
// ran commands (here: touch a file in the working directory), and an ordinary apostrophe lost the plot with
// "gnuplot failed: " and no reason. Now no shell runs and no path reaches gnuplot.
TEST_CASE("cli: quotes and semicolons in train's --out run nothing and the plot is drawn") {
    if (!adg::testing::have_fashion_mnist() || adg::nn::run_process({"gnuplot", "--version"}).not_found) {
        MESSAGE("skipped: needs dataset-fashion-mnist and gnuplot");
        return;
    }
    const fs::path base = scratch("plotquote");
    const std::string marker = "PWNED-" + base.filename().string();  // unique: a stale file cannot decide the test
    for (const std::string& name : {"run';touch " + marker + ";'", std::string("bob's run")}) {
        INFO(name);
        const fs::path out = base / name;
        const auto r = run_cli({"train", "--limit", "300", "--epochs", "1", "--out", out.string(), "--threads", "1"});
        REQUIRE_MESSAGE(r.code == 0, r.err);
        CHECK_MESSAGE(r.err.find("adgraph train: warning") == std::string::npos, r.err);
        CHECK(r.out.find(", " + (out / "curves.png").string() + "\n") != std::string::npos);
        std::ifstream in(out / "curves.png", std::ios::binary);
        std::string head(8, '\0');
        in.read(head.data(), 8);
        CHECK(head == std::string("\x89PNG\r\n\x1a\n", 8));
    }
    bool pwned = fs::exists(marker);
    fs::remove(marker);  // a failing run must not leave it in the working directory
    for (const auto& e : fs::recursive_directory_iterator(base)) pwned = pwned || e.path().filename() == marker;
    CHECK_FALSE(pwned);
    fs::remove_all(base);
}

TEST_CASE("cli: graph prints the DOT text of one training step") {
    const auto r = run_cli({"graph", "--spec", "784-16-10", "--batch", "3"});
    REQUIRE_MESSAGE(r.code == 0, r.err);
    CHECK(r.out.rfind("digraph adgraph {", 0) == 0);
    CHECK(r.out.find("linear\\nfloat32 (3,16)") != std::string::npos);
    CHECK(r.out.find("softmax_cross_entropy\\nfloat32 ()") != std::string::npos);
    CHECK(r.out.find("loss: ") != std::string::npos);
    CHECK(run_cli({"graph", "--spec", "7-x"}).code == 2);
}

// Found reviewing parse_mlp_spec for its fuzz target (tests/fuzz/fuzz_spec.cpp checks it now): the message quoted
// the --model value as it was, so control bytes reached the terminal and a megabyte-long value went in whole.
TEST_CASE("cli: a --model spec with control bytes or of great length is quoted escaped and clipped") {
    const auto ansi = run_cli({"train", "--model", "784-\x1b[31m-10"});
    CHECK(ansi.code == 2);
    CHECK_MESSAGE(ansi.err.find("adgraph: --model: model spec '784-\\x1B[31m-10': '\\x1B[31m' is not a whole number; "
                                "write layer sizes joined by '-'") != std::string::npos,
                  ansi.err);
    CHECK(ansi.err.find('\x1b') == std::string::npos);

    const auto tab = run_cli({"train", "--model", "784-1\t0-\xff"});
    CHECK(tab.code == 2);
    CHECK_MESSAGE(tab.err.find("model spec '784-1\\x090-\\xFF': '1\\x090' is not a whole number") != std::string::npos,
                  tab.err);

    const auto huge = run_cli({"train", "--model", std::string(100000, '7')});
    CHECK(huge.code == 2);
    CHECK_MESSAGE(
        huge.err.find("model spec '" + std::string(40, '7') + "... (100000 bytes)': layer size " +
                      std::string(40, '7') + "... (100000 bytes) is too large (max 9999999)") != std::string::npos,
        huge.err);
    CHECK(huge.err.size() < 1000);
}
