// The adgraph command line in-process: usage errors exit 2, runtime failures exit 1 with a message on stderr,
// and a --limit smoke run of train, eval and predict.

#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include <adgraph/nn/checkpoint.hpp>
#include <adgraph/nn/idx.hpp>
#include <adgraph/nn/model_spec.hpp>
#include <adgraph/nn/process.hpp>
#include <adgraph/nn/sequential.hpp>

#include "adgraph/options.hpp"
#include "adgraph/train.hpp"
#include "child_case.hpp"
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

// An IDX pair of n images of rows x cols (labels 0..9) named as the Debian package names them.
void write_split(const fs::path& dir, const std::string& prefix, std::size_t n, std::size_t rows, std::size_t cols) {
    adg::nn::IdxArray images{{n, rows, cols}, std::vector<std::uint8_t>(n * rows * cols)};
    for (std::size_t i = 0; i < images.data.size(); ++i) images.data[i] = static_cast<std::uint8_t>((i * 37) % 251);
    adg::nn::IdxArray labels{{n}, std::vector<std::uint8_t>(n)};
    for (std::size_t i = 0; i < n; ++i) labels.data[i] = static_cast<std::uint8_t>(i % 10);
    adg::nn::write_idx((dir / (prefix + "-images-idx3-ubyte")).string(), images, false);
    adg::nn::write_idx((dir / (prefix + "-labels-idx1-ubyte")).string(), labels, false);
}

// A checkpoint as adgraph train writes one (metadata "model"), saved by the library from an MLP of `spec` whose
// every weight and bias is `value` (or as initialised if `value` is 0), with `metadata_spec` as its "model".
std::string write_checkpoint(const fs::path& path, const std::string& spec, double value = 0,
                             const std::string& metadata_spec = "") {
    adg::Generator gen(1);
    const auto model = adg::nn::Sequential::mlp(spec, gen);
    if (value != 0) {
        for (const auto& [name, p] : model->named_parameters()) {
            p.mutable_value() = adg::Array::full(p.shape(), value, adg::f32);
        }
    }
    adg::nn::save_checkpoint(path.string(), *model, nullptr, {{"model", metadata_spec.empty() ? spec : metadata_spec}});
    return path.string();
}

}  // namespace

TEST_CASE("cli: bad option values are usage errors (exit 2) naming the option") {
    const auto lr = run_cli({"train", "--lr", "-1"});
    CHECK(lr.code == 2);
    CHECK(lr.err.find("--lr: -1 is not a finite number > 0") != std::string::npos);
    const auto batch = run_cli({"train", "--batch", "0"});
    CHECK(batch.code == 2);
    CHECK(batch.err.find("--batch: 0 is not a whole number from 1 to 1000000000") != std::string::npos);
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
    // Issue 21 (retest): an empty --out printed to stdout with exit 0, while stdout is what leaving --out out means.
    const auto empty = run_cli({"graph", "--spec", "4-2", "--out", ""});
    CHECK(empty.code == 2);
    CHECK(empty.out.empty());
    CHECK_MESSAGE(empty.err.rfind("adgraph: --out: the path is empty; ", 0) == 0, empty.err);
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

// Issue 21, case 8: CLI11 reads an unsigned option with strtoull, so "-1" became 2^64 - 1 (--epochs -1 trained
// forever, --batch -1 made no batches), and doubles took nan and inf. Every numeric option now goes through one
// range-checked helper; a bad value is a usage error before anything is loaded: --data names a directory that does
// not exist, so an option that got through would fail with exit 1 instead.
TEST_CASE("cli: every numeric option of every subcommand refuses values out of its range (exit 2, before any work)") {
    const fs::path out = scratch("ranges");
    const std::string none = (out / "no-data").string(), ckpt = (out / "no.safetensors").string();
    struct Bad {
        std::vector<std::string> args;
        std::string option, value;
    };
    std::vector<Bad> table;
    const auto train = [&](const std::string& option, const std::string& value) {
        table.push_back({{"train", option, value, "--data", none, "--out", (out / "run").string()}, option, value});
    };
    for (const char* v : {"-1", "0", "1000001", "18446744073709551615", "99999999999999999999999", "1.5", "1e3", "ten",
                          " 3", "+3", "0x10"}) {
        train("--epochs", v);
    }
    for (const char* v : {"-1", "0", "1000000001", "18446744073709551616", "2.5", "-0"}) train("--batch", v);
    for (const char* v : {"-1", "18446744073709551616", "1.0"}) train("--seed", v);
    for (const char* v : {"-1", "4097", "0x10", "2147483648"}) train("--threads", v);
    for (const char* v : {"-1", "1000000001", "0.5"}) train("--limit", v);
    for (const char* v : {"-1", "0", "-0", "nan", "inf", "-inf", "1e999", "1e-999", "0.1x"}) train("--lr", v);
    for (const char* v : {"-0.1", "1", "nan", "inf"}) train("--momentum", v);
    for (const char* v : {"-0.1", "1", "1.5", "nan", "-nan"}) train("--dropout", v);
    for (const char* v : {"-1", "-1e-300", "inf", "nan"}) train("--weight-decay", v);
    for (const char* v : {"-1", "1e300", "1000001", "nan", "inf"}) train("--warmup-epochs", v);
    for (const char* v : {"-1", "-1e-300", "inf", "nan", "5x"}) train("--clip-grad-norm", v);
    for (const char* v : {"-1", "1000000001", "x"}) {
        table.push_back({{"eval", "--model", ckpt, "--data", none, "--limit", v}, "--limit", v});
    }
    for (const char* v : {"-1", "1000000001", "1e2"}) {
        table.push_back({{"predict", "--model", ckpt, "--data", none, "--index", v}, "--index", v});
    }
    for (const char* v : {"-1", "0", "1000000001"}) {
        table.push_back({{"graph", "--spec", "4-2", "--out", (out / "g.dot").string(), "--batch", v}, "--batch", v});
    }
    for (const Bad& b : table) {
        INFO(b.option, " '", b.value, "'");
        const auto r = run_cli(b.args);
        CHECK(r.code == 2);
        CHECK_MESSAGE(r.err.rfind("adgraph: " + b.option + ": " + b.value + " is not a ", 0) == 0, r.err);
        CHECK(r.out.empty());
    }
    const auto empty = run_cli({"train", "--epochs", "", "--data", none});
    CHECK(empty.code == 2);
    CHECK_MESSAGE(
        empty.err.rfind("adgraph: --epochs: an empty value is not a whole number from 1 to 1000000\n", 0) == 0,
        empty.err);
    CHECK(fs::is_empty(out));  // nothing was created: no run directory, no DOT file
    fs::remove_all(out);
}

TEST_CASE("cli: option values that need each other are checked together (exit 2)") {
    const auto nesterov =
        run_cli({"train", "--optimizer", "sgd", "--nesterov", "--momentum", "0", "--data", "/nonexistent/fashion"});
    CHECK(nesterov.code == 2);
    CHECK_MESSAGE(nesterov.err.rfind("adgraph: --nesterov needs --momentum > 0 (got 0)\n", 0) == 0, nesterov.err);
    const auto warmup = run_cli({"train", "--epochs", "3", "--warmup-epochs", "3.5", "--data", "/nonexistent/fashion"});
    CHECK(warmup.code == 2);
    CHECK_MESSAGE(
        warmup.err.rfind("adgraph: --warmup-epochs must be between 0 and --epochs (got 3.5 with --epochs 3)", 0) == 0,
        warmup.err);
}

TEST_CASE("cli: check_number accepts plain decimal within the range and hands CLI11 plain decimal") {
    using adg::cli::check_number;
    const auto whole = adg::cli::whole_range(1, 100);
    std::string s = "010";  // CLI11 alone would read octal 8
    CHECK(check_number(s, whole).empty());
    CHECK(s == "10");
    s = "100";
    CHECK(check_number(s, whole).empty());
    s = "101";
    CHECK(check_number(s, whole) == "101 is not a whole number from 1 to 100");
    s = "-5";
    CHECK(check_number(s, whole) == "-5 is not a whole number from 1 to 100");
    const auto unit = adg::cli::real_range(0, 1, false, true);
    s = "0x1p-1";
    CHECK(check_number(s, unit).empty());
    CHECK(std::stod(s) == 0.5);
    s = "1";
    CHECK(check_number(s, unit) == "1 is not a number in [0, 1)");
    const auto positive = adg::cli::real_range(0, std::numeric_limits<double>::infinity(), true);
    s = "1e30";
    CHECK(check_number(s, positive).empty());
    s = "0";
    CHECK(check_number(s, positive) == "0 is not a finite number > 0");
    s.clear();
    CHECK(check_number(s, positive) == "an empty value is not a finite number > 0");
}

// Issue 21, case 10: images of another size failed inside the first Linear layer, naming no file, and for the test
// set only after a whole epoch of training.
TEST_CASE("cli: images that are not the model's input width are refused before training, naming the file") {
    const fs::path dir = scratch("shape");
    fs::create_directories(dir / "small");
    write_split(dir / "small", "train", 16, 20, 20);
    write_split(dir / "small", "t10k", 10, 20, 20);
    fs::create_directories(dir / "mixed");
    write_split(dir / "mixed", "train", 16, 28, 28);
    write_split(dir / "mixed", "t10k", 10, 20, 20);
    fs::create_directories(dir / "wide");  // 784 pixels, but not 28x28: trained on scrambled rows, drawn wrong
    write_split(dir / "wide", "train", 16, 14, 56);
    write_split(dir / "wide", "t10k", 10, 14, 56);
    const std::vector<std::string> fast = {"--model", "784-16-10", "--epochs", "1",        "--batch",
                                           "8",       "--threads", "1",        "--no-plot"};
    const auto train = [&](const std::string& data, const std::string& run) {
        std::vector<std::string> args = {"train", "--data", (dir / data).string(), "--out", (dir / run).string()};
        args.insert(args.end(), fast.begin(), fast.end());
        return run_cli(args);
    };
    for (const auto& [data, file] : {std::pair<std::string, std::string>{"small", "train-images-idx3-ubyte"},
                                     {"mixed", "t10k-images-idx3-ubyte"}}) {
        INFO(data);
        const auto r = train(data, "run-" + data);
        CHECK(r.code == 1);
        CHECK_MESSAGE(r.err == "adgraph: error: " + (dir / data / file).string() +
                                   ": the images are 20x20 (400 values) but the model 784-16-10 takes 784 inputs; "
                                   "pass --data with 28x28 Fashion-MNIST images\n",
                      r.err);
        CHECK_FALSE(fs::exists(dir / ("run-" + data)));  // refused before the output directory was made
    }
    const auto wide = train("wide", "run-wide");
    CHECK(wide.code == 1);
    CHECK_MESSAGE(wide.err == "adgraph: error: " + (dir / "wide/train-images-idx3-ubyte").string() +
                                  ": the images are 14x56, not 28x28 as Fashion-MNIST's (the model 784-16-10 reads 28 "
                                  "rows of 28 pixels); pass --data with 28x28 Fashion-MNIST images\n",
                  wide.err);
    CHECK_FALSE(fs::exists(dir / "run-wide"));

    const std::string ckpt = write_checkpoint(dir / "model.safetensors", "784-16-10");
    const auto e = run_cli({"eval", "--model", ckpt, "--data", (dir / "small").string()});
    CHECK(e.code == 1);
    CHECK_MESSAGE(e.err == "adgraph: error: " + (dir / "small/t10k-images-idx3-ubyte").string() +
                               ": the images are 20x20 (400 values) but the model 784-16-10 of checkpoint " + ckpt +
                               " takes 784 inputs; pass --data with 28x28 Fashion-MNIST images\n",
                  e.err);
    const auto p = run_cli({"predict", "--model", ckpt, "--data", (dir / "small").string(), "--index", "2"});
    CHECK(p.code == 1);
    CHECK(p.err == e.err);
    for (const std::string command : {"eval", "predict"}) {
        INFO(command);
        std::vector<std::string> args = {command, "--model", ckpt, "--data", (dir / "wide").string()};
        if (command == "predict") args.insert(args.end(), {"--index", "2"});
        const auto r = run_cli(args);
        CHECK(r.code == 1);
        CHECK_MESSAGE(r.err.find("wide/t10k-images-idx3-ubyte: the images are 14x56, not 28x28") != std::string::npos,
                      r.err);
    }
    fs::remove_all(dir);
}

TEST_CASE("cli: eval and predict refuse a checkpoint whose model has another number of outputs than classes") {
    const fs::path dir = scratch("outputs");
    write_split(dir, "t10k", 10, 28, 28);
    for (const std::string spec : {"784-16-20", "784-16-5"}) {
        INFO(spec);
        const std::string ckpt = write_checkpoint(dir / (spec + ".safetensors"), spec);
        const std::string expected = "adgraph: error: checkpoint " + ckpt + ": the model " + spec + " has " +
                                     spec.substr(7) +
                                     " outputs but Fashion-MNIST has 10 classes; use a checkpoint of a model ending "
                                     "in -10, as adgraph train writes\n";
        const auto e = run_cli({"eval", "--model", ckpt, "--data", dir.string()});
        CHECK(e.code == 1);
        CHECK_MESSAGE(e.err == expected, e.err);
        CHECK(e.out.empty());
        const auto p = run_cli({"predict", "--model", ckpt, "--data", dir.string(), "--index", "5"});
        CHECK(p.code == 1);
        CHECK_MESSAGE(p.err == expected, p.err);
        CHECK(p.out.empty());
    }
    // --spec overrides the checkpoint's spec and is held to the same rule.
    const std::string ten = write_checkpoint(dir / "ten.safetensors", "784-16-10");
    const auto s = run_cli({"eval", "--model", ten, "--data", dir.string(), "--spec", "784-16-20"});
    CHECK(s.code == 1);
    CHECK(s.err.find("the model 784-16-20 has 20 outputs but Fashion-MNIST has 10 classes") != std::string::npos);
    CHECK(run_cli({"eval", "--model", ten, "--data", dir.string()}).code == 0);
    fs::remove_all(dir);
}

// Issue 21, case 9: finite weights of 1e38 overflow float32 in the forward pass; eval reported 10 % accuracy and
// loss nan, and predict crashed in std::string (a bar of lround(nan * 40) characters).
TEST_CASE("cli: eval and predict of a checkpoint whose outputs overflow say so, naming the checkpoint") {
    const fs::path dir = scratch("overflow");
    write_split(dir, "t10k", 10, 28, 28);
    for (const double w : {1e38, 3e37}) {
        INFO(w);
        const std::string ckpt = write_checkpoint(dir / "huge.safetensors", "784-16-10", w);
        const auto e = run_cli({"eval", "--model", ckpt, "--data", dir.string()});
        CHECK(e.code == 1);
        CHECK_MESSAGE(
            e.err.rfind("adgraph: error: checkpoint " + ckpt + ": evaluate: the model's output for image 0, class ",
                        0) == 0,
            e.err);
        CHECK(e.err.find(": its weights overflow float32 in the forward pass; retrain") != std::string::npos);
        CHECK(e.out.find("accuracy") == std::string::npos);
        const auto p = run_cli({"predict", "--model", ckpt, "--data", dir.string(), "--index", "7"});
        CHECK(p.code == 1);
        CHECK_MESSAGE(
            p.err.rfind("adgraph: error: checkpoint " + ckpt + ": evaluate: the model's output for image 7, class ",
                        0) == 0,
            p.err);
        CHECK(p.err.find("basic_string") == std::string::npos);
    }
    // Large but harmless weights still evaluate.
    const std::string fine = write_checkpoint(dir / "fine.safetensors", "784-16-10", 1e-3);
    CHECK(run_cli({"eval", "--model", fine, "--data", dir.string()}).code == 0);
    const auto p = run_cli({"predict", "--model", fine, "--data", dir.string(), "--index", "7"});
    CHECK_MESSAGE(p.code == 0, p.err);
    CHECK(p.out.find("test image 7: true class") != std::string::npos);
    fs::remove_all(dir);
}

// Issue 21, case 4: train --model 784-9999999-10 was accepted and aborted on bad_alloc; a checkpoint whose metadata
// names huge layers did too. The spec's bytes are compared with this machine's memory before anything is allocated.
// 784-9999999-9999999-10 needs hundreds of terabytes, more than any machine running these tests.
TEST_CASE("cli: a model too large for memory is refused before allocating (train, eval, predict, graph)") {
    const fs::path dir = scratch("huge");
    write_split(dir, "train", 16, 28, 28);
    write_split(dir, "t10k", 10, 28, 28);
    const std::string huge = "784-9999999-9999999-10";
    const auto t = run_cli({"train", "--model", huge, "--data", dir.string(), "--out", (dir / "run").string(),
                            "--batch", "8", "--threads", "1"});
    CHECK(t.code == 1);
    CHECK_MESSAGE(
        t.err.rfind(
            "adgraph: error: train: the model " + huge +
                " with adamw and batches of up to 10 rows (parameters, gradients, optimizer state and activations) "
                "needs about ",
            0) == 0,
        t.err);
    CHECK(t.err.find(" of memory but ") != std::string::npos);
    CHECK(t.err.find("; pass a smaller --model or --batch\n") != std::string::npos);
    CHECK_FALSE(fs::exists(dir / "run"));

    // Saved from a small model, with a huge spec in the metadata: the model is built from the metadata first.
    const std::string ckpt = write_checkpoint(dir / "huge.safetensors", "784-16-10", 0, huge);
    for (const auto& args :
         {std::vector<std::string>{"eval", "--model", ckpt, "--data", dir.string()},
          std::vector<std::string>{"predict", "--model", ckpt, "--data", dir.string(), "--index", "1"}}) {
        INFO(args[0]);
        const auto r = run_cli(args);
        CHECK(r.code == 1);
        CHECK_MESSAGE(r.err.rfind("adgraph: error: checkpoint " + ckpt + ": ", 0) == 0, r.err);
        CHECK(r.err.find(huge) != std::string::npos);
    }
    const auto g = run_cli({"graph", "--spec", "4-9999999-9999999-2"});
    CHECK(g.code == 1);
    CHECK_MESSAGE(
        g.err.rfind("adgraph: error: graph: the model 4-9999999-9999999-2 with a batch of 2 needs about ", 0) == 0,
        g.err);
    fs::remove_all(dir);
}

// Issue 21 (retest): a dropout of nan, -nan or -0.5 in a checkpoint's metadata reached Dropout only after it had
// shifted the parameter names, so the message blamed a tensor ("'3.weight' is not a parameter of this model").
TEST_CASE("cli: eval and predict refuse a checkpoint whose metadata dropout is not a probability, naming it") {
    const fs::path dir = scratch("dropout");
    write_split(dir, "t10k", 10, 28, 28);
    adg::Generator gen(1);
    const auto model = adg::nn::Sequential::mlp("784-16-10", gen);
    for (const std::string value : {"nan", "-nan", "-0.5", "inf", "1.5", "1"}) {
        INFO(value);
        const std::string ckpt = (dir / "m.safetensors").string();
        adg::nn::save_checkpoint(ckpt, *model, nullptr, {{"model", "784-16-10"}, {"dropout", value}});
        for (const std::string command : {"eval", "predict"}) {
            std::vector<std::string> args = {command, "--model", ckpt, "--data", dir.string()};
            if (command == "predict") args.insert(args.end(), {"--index", "0"});
            const auto r = run_cli(args);
            CHECK(r.code == 1);
            CHECK(r.err == "adgraph: error: checkpoint " + ckpt + ": metadata 'dropout' is '" + value +
                               "', not a probability in [0, 1); the metadata is corrupt (adgraph train writes e.g. "
                               "'0.100000')\n");
        }
    }
    fs::remove_all(dir);
}

// The sanitizers reserve terabytes of address space up front, so an address-space limit cannot be tried there.
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
namespace {

// Runs test case `name` of this binary in a child (as run_child_case does) but waits at most `seconds`: a child
// still running then is killed and reported as such, so a hang fails the test instead of the suite.
adg::testing::ChildResult run_child_case_bounded(const std::string& name, int seconds) {
    const fs::path log = scratch("child") / "output";
    const std::string filter = "--test-case=" + name;
    const pid_t pid = ::fork();
    if (pid == 0) {
        const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        ::dup2(fd, 1);
        ::dup2(fd, 2);
        ::setenv(adg::testing::child_case_variable, name.c_str(), 1);
        const char* argv[] = {"adgraph_tests", filter.c_str(), "--no-colors=true", nullptr};
        ::execv("/proc/self/exe", const_cast<char* const*>(argv));
        ::_exit(127);
    }
    adg::testing::ChildResult r;
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (pid > 0 && ::waitpid(pid, &r.status, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() > until) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &r.status, 0);
            r.output = "the child did not finish within " + std::to_string(seconds) + " s (killed)\n";
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::ifstream in(log);
    r.output += std::string(std::istreambuf_iterator<char>(in), {});
    fs::remove_all(log.parent_path());
    return r;
}

}  // namespace

// Issue 21 (retest): under ulimit -v every command hung at 100 % CPU: OpenBLAS retries the mmap of its 128 MiB work
// buffer forever when it fails. Each command now refuses up front, naming the limit, the need and the remedy.
TEST_CASE("cli: under an address-space limit too low for OpenBLAS's work buffers every command refuses (no hang)") {
    const char* name =
        "cli: under an address-space limit too low for OpenBLAS's work buffers every command refuses (no hang)";
    if (adg::testing::in_child_case(name)) {
        const fs::path dir = scratch("blas");
        write_split(dir, "train", 16, 28, 28);
        write_split(dir, "t10k", 10, 28, 28);
        const std::string ckpt = write_checkpoint(dir / "m.safetensors", "784-16-10");
        // 64 MB more than is mapped now: less than one buffer. This fresh process has run no GEMM yet.
        REQUIRE(adg::testing::limit_address_space(64u << 20));
        const std::vector<std::vector<std::string>> commands = {
            {"graph", "--spec", "784-16-10", "--out", (dir / "g.dot").string()},
            {"train", "--model", "784-16-10", "--epochs", "1", "--batch", "8", "--threads", "1", "--no-plot", "--data",
             dir.string(), "--out", (dir / "run").string()},
            {"eval", "--model", ckpt, "--data", dir.string()},
            {"predict", "--model", ckpt, "--data", dir.string(), "--index", "1"}};
        for (const auto& args : commands) {
            INFO(args[0]);
            const auto r = run_cli(args);
            CHECK(r.code == 1);
            CHECK_MESSAGE(r.err.rfind("adgraph: error: " + args[0] +
                                          ": OpenBLAS maps a work buffer of 134.2 MB "
                                          "(134217728 bytes) per thread that calls BLAS, ",
                                      0) == 0,
                          r.err);
            CHECK(r.err.find(", but the address-space limit (ulimit -v ") != std::string::npos);
            CHECK(r.err.find("; raise ulimit -v above ") != std::string::npos);
        }
        CHECK_FALSE(fs::exists(dir / "g.dot"));
        CHECK_FALSE(fs::exists(dir / "run"));
        return;
    }
    const auto r = run_child_case_bounded(name, 30);
    CHECK_MESSAGE(r.exited_ok(), r.output);
}
#endif

TEST_CASE("cli: --model cnn brings the preset's defaults for options not given, the MLP keeps its own") {
    const adg::cli::TrainOptions mlp, preset = adg::cli::cnn_preset_options();
    adg::cli::TrainOptions o;
    o.model = "cnn";
    adg::cli::apply_preset_defaults(o, [](const std::string&) { return false; });
    CHECK(o.epochs == preset.epochs);
    CHECK(o.lr == preset.lr);
    CHECK(o.batch == preset.batch);
    CHECK(o.optimizer == preset.optimizer);
    CHECK(o.dropout == preset.dropout);
    CHECK(o.init == preset.init);
    CHECK(o.schedule == preset.schedule);
    adg::cli::TrainOptions given;
    given.model = "cnn";
    given.epochs = 1;
    given.lr = 0.5;
    adg::cli::apply_preset_defaults(given,
                                    [](const std::string& option) { return option == "--epochs" || option == "--lr"; });
    CHECK(given.epochs == 1);
    CHECK(given.lr == 0.5);
    CHECK(given.dropout == preset.dropout);
    // Any other model keeps every default of TrainOptions.
    for (const std::string spec : {"784-256-128-10", "flatten,linear10"}) {
        adg::cli::TrainOptions m;
        m.model = spec;
        adg::cli::apply_preset_defaults(m, [](const std::string&) { return false; });
        CHECK(m.epochs == mlp.epochs);
        CHECK(m.lr == mlp.lr);
        CHECK(m.dropout == mlp.dropout);
        CHECK(m.init == mlp.init);
    }
    CHECK(mlp.model == "784-256-128-10");
    const auto help = run_cli({"train", "--help"});
    CHECK(help.code == 0);
    CHECK(help.out.find("conv<out>k<kernel>[s<stride>][p<padding>]") != std::string::npos);
    CHECK(help.out.find(adg::nn::preset_layers("cnn")) != std::string::npos);
    CHECK(help.out.find(adg::cli::preset_defaults_text("cnn")) != std::string::npos);
    CHECK(adg::cli::preset_defaults_text("cnn").find("--epochs " + std::to_string(preset.epochs)) != std::string::npos);
}

TEST_CASE("cli: --model gru brings its own defaults (Adam, clipping) for options not given, and --help shows them") {
    const adg::cli::TrainOptions mlp, preset = adg::cli::gru_preset_options();
    // The reference setting PyTorch reached 88.5 % with in 3 epochs: Adam at 2e-3, global norm clipped to 5.
    CHECK(preset.optimizer == "adam");
    CHECK(preset.lr == 2e-3);
    CHECK(preset.clip_grad_norm == 5);
    CHECK(preset.weight_decay == 0);
    CHECK(mlp.clip_grad_norm == 0);  // the other models never clip unless told
    adg::cli::TrainOptions o;
    o.model = "gru";
    adg::cli::apply_preset_defaults(o, [](const std::string&) { return false; });
    CHECK(o.epochs == preset.epochs);
    CHECK(o.lr == preset.lr);
    CHECK(o.optimizer == preset.optimizer);
    CHECK(o.clip_grad_norm == preset.clip_grad_norm);
    CHECK(o.weight_decay == preset.weight_decay);
    CHECK(o.init == preset.init);
    adg::cli::TrainOptions given;
    given.model = "gru";
    given.clip_grad_norm = 0;
    given.epochs = 1;
    adg::cli::apply_preset_defaults(
        given, [](const std::string& option) { return option == "--clip-grad-norm" || option == "--epochs"; });
    CHECK(given.clip_grad_norm == 0);
    CHECK(given.epochs == 1);
    CHECK(given.lr == preset.lr);
    // A layer list with a GRU is no preset: it keeps the MLP's defaults.
    adg::cli::TrainOptions list;
    list.model = "rows,gru128,last,linear10";
    adg::cli::apply_preset_defaults(list, [](const std::string&) { return false; });
    CHECK(list.clip_grad_norm == mlp.clip_grad_norm);
    CHECK(list.optimizer == mlp.optimizer);
    const auto help = run_cli({"train", "--help"});
    CHECK(help.code == 0);
    CHECK(help.out.find("rows,gru128,last,linear10") != std::string::npos);
    CHECK(help.out.find("gru<hidden>[x<layers>]") != std::string::npos);
    CHECK(help.out.find("--clip-grad-norm") != std::string::npos);
    const std::string defaults = adg::cli::preset_defaults_text("gru");
    CHECK(help.out.find(defaults) != std::string::npos);
    CHECK(defaults.find("--clip-grad-norm 5") != std::string::npos);
    CHECK(defaults.find("--optimizer adam") != std::string::npos);
    CHECK(defaults.find("--epochs " + std::to_string(preset.epochs)) != std::string::npos);
}

TEST_CASE("cli: bad layer lists and CNNs without 10 outputs are usage errors (exit 2)") {
    const auto unknown = run_cli({"train", "--model", "conv8k3,pool,linear10"});
    CHECK(unknown.code == 2);
    CHECK_MESSAGE(unknown.err.find("adgraph: --model: model spec 'conv8k3,pool,linear10': unknown layer 'pool'; "
                                   "write layers joined by ','") == 0,
                  unknown.err);
    const auto outputs = run_cli({"train", "--model", "conv8k3,flatten,linear5"});
    CHECK(outputs.code == 2);
    CHECK(outputs.err.find("--model conv8k3,flatten,linear5: Fashion-MNIST has 10 classes but the model ends in 5 "
                           "features; end it with linear10") != std::string::npos);
    CHECK(run_cli({"graph", "--spec", "conv8k3"}).code == 2);
    CHECK(run_cli({"eval", "--model", "x.safetensors", "--spec", "linear10"}).code == 2);
}

TEST_CASE("cli: train --model gru --limit, then eval, predict and graph the GRU checkpoint") {
    if (!adg::testing::have_fashion_mnist()) {
        MESSAGE("skipped: install dataset-fashion-mnist for the smoke run");
        return;
    }
    const fs::path out = scratch("gru");
    const auto r = run_cli({"train", "--model", "gru", "--limit", "300", "--epochs", "1", "--batch", "50", "--out",
                            out.string(), "--threads", "1"});
    REQUIRE_MESSAGE(r.code == 0, r.err);
    CHECK_MESSAGE(
        r.out.find("Rows(), GRU(28 -> 128, layers 1, bias), LastStep(), Linear(128 -> 10, bias)") != std::string::npos,
        r.out);
    CHECK(r.out.find("gradients clipped to norm 5") != std::string::npos);
    CHECK(r.out.find("  adam, cosine(lr=0.002") != std::string::npos);
    CHECK(r.out.find("Ankle boot") != std::string::npos);
    CHECK(fs::exists(out / "confusion.csv"));
    CHECK(fs::exists(out / "curves.png"));
    std::ifstream metrics(out / "metrics.jsonl");
    std::size_t lines = 0;
    for (std::string line; std::getline(metrics, line);) ++lines;
    CHECK(lines == 1);
    // The checkpoint stores the preset's name and PyTorch's names inside the Sequential.
    const std::string ckpt = (out / "model.safetensors").string();
    const adg::nn::SafetensorsFile file = adg::nn::read_checkpoint(ckpt);
    CHECK(file.metadata.at("model") == "gru");
    for (const auto& [name, shape] : std::vector<std::pair<std::string, adg::Shape>>{{"1.weight_ih_l0", {384, 28}},
                                                                                     {"1.weight_hh_l0", {384, 128}},
                                                                                     {"1.bias_ih_l0", {384}},
                                                                                     {"1.bias_hh_l0", {384}},
                                                                                     {"3.weight", {10, 128}},
                                                                                     {"3.bias", {10}}}) {
        INFO(name);
        const auto it = std::find_if(file.tensors.begin(), file.tensors.end(),
                                     [&](const auto& entry) { return entry.first == name; });
        REQUIRE(it != file.tensors.end());
        CHECK(it->second.shape() == shape);
    }

    // eval rebuilds the model from the stored spec and reproduces the accuracy train reported on the same images.
    const auto e = run_cli({"eval", "--model", ckpt, "--limit", "300"});
    REQUIRE_MESSAGE(e.code == 0, e.err);
    const std::size_t at = r.out.find("test accuracy ");
    REQUIRE(at != std::string::npos);
    const std::string accuracy = r.out.substr(at, r.out.find('%', at) + 1 - at);
    CHECK_MESSAGE(e.out.find(accuracy) != std::string::npos, accuracy, "\n", e.out);
    CHECK(e.out.find("GRU(28 -> 128") != std::string::npos);
    const auto spelled = run_cli({"eval", "--model", ckpt, "--limit", "300", "--spec", "rows,gru128,last,linear10"});
    REQUIRE_MESSAGE(spelled.code == 0, spelled.err);
    CHECK(spelled.out.find(accuracy) != std::string::npos);
    const auto other = run_cli({"eval", "--model", ckpt, "--spec", "rows,gru64,last,linear10"});
    CHECK(other.code == 1);
    CHECK_MESSAGE(other.err.find("tensor '1.weight_ih_l0' is float32 (384,28) but the model's parameter is float32 "
                                 "(192,28)") != std::string::npos,
                  other.err);

    const auto p = run_cli({"predict", "--model", ckpt, "--index", "3"});
    REQUIRE_MESSAGE(p.code == 0, p.err);
    CHECK(p.out.find("test image 3: true class") != std::string::npos);

    const auto g = run_cli({"graph", "--spec", "rows,gru4,last,linear10", "--batch", "2"});
    REQUIRE_MESSAGE(g.code == 0, g.err);
    CHECK(g.out.rfind("digraph adgraph {", 0) == 0);
    CHECK(g.out.find("gru_gates") != std::string::npos);
    CHECK(g.out.find("softmax_cross_entropy\\nfloat32 ()") != std::string::npos);
    fs::remove_all(out);
}

TEST_CASE("cli: --clip-grad-norm clips a layer list's training and a spec misfit is a usage error") {
    const auto misfit = run_cli({"train", "--model", "gru16,last,linear10", "--data", "/nonexistent/fashion"});
    CHECK(misfit.code == 2);
    CHECK_MESSAGE(misfit.err.rfind("adgraph: --model: model spec 'gru16,last,linear10': layer 'gru16' gets images "
                                   "(1,28,28): a recurrent layer takes sequences (T,F); put rows before it",
                                   0) == 0,
                  misfit.err);
    const auto classes = run_cli({"train", "--model", "rows,rnn8,last,linear7", "--data", "/nonexistent/fashion"});
    CHECK(classes.code == 2);
    CHECK(classes.err.find("Fashion-MNIST has 10 classes but the model ends in 7 features") != std::string::npos);
    if (!adg::testing::have_fashion_mnist()) {
        MESSAGE("skipped: install dataset-fashion-mnist for the smoke run");
        return;
    }
    const fs::path out = scratch("clip");
    const auto r =
        run_cli({"train", "--model", "rows,rnn8x2,last,linear10", "--limit", "100", "--epochs", "1", "--batch", "50",
                 "--clip-grad-norm", "0.5", "--out", out.string(), "--threads", "1", "--no-plot"});
    REQUIRE_MESSAGE(r.code == 0, r.err);
    CHECK(r.out.find("RNN(28 -> 8, layers 2, bias)") != std::string::npos);
    CHECK(r.out.find("gradients clipped to norm 0.5") != std::string::npos);
    fs::remove_all(out);
}

TEST_CASE("cli: train --model cnn --limit, then eval, predict and graph the CNN checkpoint") {
    if (!adg::testing::have_fashion_mnist()) {
        MESSAGE("skipped: install dataset-fashion-mnist for the smoke run");
        return;
    }
    const fs::path out = scratch("cnn");
    const auto r = run_cli({"train", "--model", "cnn", "--limit", "300", "--epochs", "1", "--batch", "50", "--out",
                            out.string(), "--threads", "1"});
    REQUIRE_MESSAGE(r.code == 0, r.err);
    CHECK(r.out.find("Conv2d(1 -> 32, 3x3, padding 1, bias), BatchNorm2d(32), ReLU(), MaxPool2d(2x2)") !=
          std::string::npos);
    CHECK(r.out.find("Dropout(p=") != std::string::npos);
    CHECK(r.out.find("Ankle boot") != std::string::npos);
    CHECK(fs::exists(out / "confusion.csv"));
    CHECK(fs::exists(out / "curves.png"));
    const std::string ckpt = (out / "model.safetensors").string();
    const adg::nn::SafetensorsFile file = adg::nn::read_checkpoint(ckpt);
    CHECK(file.metadata.at("model") == "cnn");
    std::size_t stats = 0;
    for (const auto& [name, a] : file.tensors) {
        if (name == "1.running_mean" || name == "1.running_var" || name == "5.running_mean" ||
            name == "5.running_var") {
            ++stats;
        }
    }
    CHECK(stats == 4);

    // eval of the checkpoint on the same 300 test images gives the accuracy train reported: the running statistics
    // came back with the parameters.
    const auto e = run_cli({"eval", "--model", ckpt, "--limit", "300"});
    REQUIRE_MESSAGE(e.code == 0, e.err);
    const std::size_t at = r.out.find("test accuracy ");
    REQUIRE(at != std::string::npos);
    const std::string accuracy = r.out.substr(at, r.out.find('%', at) + 1 - at);
    CHECK_MESSAGE(e.out.find(accuracy) != std::string::npos, accuracy, "\n", e.out);
    CHECK(e.out.find("BatchNorm2d(64)") != std::string::npos);
    const auto with_spec = run_cli({"eval", "--model", ckpt, "--limit", "300", "--spec", "cnn"});
    CHECK(with_spec.code == 0);
    CHECK(with_spec.out.find(accuracy) != std::string::npos);

    const auto p = run_cli({"predict", "--model", ckpt, "--index", "3"});
    REQUIRE_MESSAGE(p.code == 0, p.err);
    CHECK(p.out.find("test image 3: true class") != std::string::npos);

    const auto g = run_cli({"graph", "--spec", "cnn", "--batch", "2"});
    REQUIRE_MESSAGE(g.code == 0, g.err);
    CHECK(g.out.rfind("digraph adgraph {", 0) == 0);
    CHECK(g.out.find("conv2d") != std::string::npos);
    CHECK(g.out.find("float32 (2,32,28,28)") != std::string::npos);
    CHECK(g.out.find("softmax_cross_entropy\\nfloat32 ()") != std::string::npos);

    // A CNN checkpoint with an MLP spec, and an MLP checkpoint with a CNN spec, name both.
    const auto as_mlp = run_cli({"eval", "--model", ckpt, "--spec", "784-256-128-10"});
    CHECK(as_mlp.code == 1);
    CHECK_MESSAGE(as_mlp.err.find("checkpoint " + ckpt +
                                  ": --spec 784-256-128-10 names an MLP but the checkpoint holds a layer-list model "
                                  "(CNN) (saved for model cnn)") != std::string::npos,
                  as_mlp.err);
    const std::string mlp_ckpt = write_checkpoint(out / "mlp.safetensors", "784-16-10");
    const auto as_cnn = run_cli({"eval", "--model", mlp_ckpt, "--spec", "cnn"});
    CHECK(as_cnn.code == 1);
    CHECK_MESSAGE(as_cnn.err.find("--spec cnn names a layer-list model (CNN) but the checkpoint holds an MLP (saved "
                                  "for model 784-16-10)") != std::string::npos,
                  as_cnn.err);
    fs::remove_all(out);
}
