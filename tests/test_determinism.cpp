// Determinism: with one BLAS thread and a fixed seed, two training runs write bitwise-identical checkpoints, and
// a backward repeated on a retained graph gives bitwise-identical gradients.

#include <doctest/doctest.h>

#include <adgraph/adgraph.hpp>

#include "cli_run.hpp"
#include "temp_dir.hpp"

using namespace adg;

TEST_CASE("determinism: two training runs with one thread and one seed write identical checkpoints") {
    if (!testing::have_fashion_mnist()) {
        MESSAGE("skipped: install dataset-fashion-mnist for the training runs");
        return;
    }
    // Dropout and shuffling draw from the seeded generator; Adam's state is in the checkpoint too.
    std::vector<std::string> files;
    const testing::TempDir dir("adgraph-determinism");
    for (const std::string run : {"a", "b", "seed2"}) {
        const std::string out = dir.file(run);
        const auto r = testing::run_cli({"train", "--limit", "500", "--epochs", "2", "--batch", "50", "--model",
                                         "784-32-10", "--dropout", "0.2", "--threads", "1", "--no-plot", "--seed",
                                         run == "seed2" ? "2" : "1", "--out", out});
        REQUIRE_MESSAGE(r.code == 0, r.err);
        files.push_back(testing::read_file(out + "/model.safetensors"));
        REQUIRE(files.back().size() > 784 * 32 * 4);
    }
    CHECK(files[0] == files[1]);
    CHECK(files[0] != files[2]);  // the comparison can see a difference
}

TEST_CASE("determinism: a backward repeated on a retained graph gives bitwise identical gradients") {
    Generator gen(8);
    const Tensor w = Tensor::uniform({16, 32}, -1, 1, gen).requires_grad();
    const Tensor x = Tensor::uniform({64, 32}, -1, 1, gen);
    const Tensor y = sum(log_softmax(tanh(linear(x, w)), -1));
    y.backward(BackwardOptions{true, false});
    const Array first = w.grad().value().clone();
    w.zero_grad();
    y.backward();
    const Array second = w.grad().value();
    for (std::size_t i = 0; i < first.size(); ++i) REQUIRE(first.flat(i) == second.flat(i));
}
