// `adgraph playground`'s headless command line: a run that trains and writes its PNG, and options refused with exit 2.

#include <doctest/doctest.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "cli_run.hpp"
#include "temp_dir.hpp"

namespace {

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE("playground cli: a headless run prints its epochs and writes the PNG, and bad options exit 2") {
    const adg::testing::TempDir dir("adgraph-playground-cli");
    const std::string png = dir.file("xor.png");
    auto r = adg::testing::run_cli({"playground", "--dataset", "xor", "--features", "x1,x2", "--layers", "4", "--steps",
                                    "20", "--report-every", "10", "--png", png, "--show-test"});
    CHECK(r.code == 0);
    CHECK(r.err == "");
    CHECK(r.out.find("epoch 10 ") != std::string::npos);
    CHECK(r.out.find("epoch 20 ") != std::string::npos);
    const std::string bytes = read_file(png);
    CHECK(bytes.rfind("\x89PNG\r\n\x1a\n", 0) == 0);

    // No hidden layers ("") is a valid network.
    r = adg::testing::run_cli({"playground", "--layers", "", "--steps", "2", "--report-every", "0"});
    CHECK(r.code == 0);
    CHECK(r.out.find("epoch 2 ") != std::string::npos);

    const auto usage = [](std::vector<std::string> args, const std::string& message) {
        const auto got = adg::testing::run_cli(args);
        CHECK(got.code == 2);
        CHECK(got.err == "adgraph: " + message + "\nRun 'adgraph playground --help' for the options.\n");
        CHECK(got.out == "");
    };
    usage({"playground", "--layers", "4,9", "--steps", "1"}, "playground: hidden layer 2 has 9 neurons; use 1..8");
    usage({"playground", "--layers", "4,x", "--steps", "1"},
          "--layers: x is not a whole number from 0 to 1000; give the neurons of each hidden layer joined by ',' "
          "(e.g. 8,8), or \"\" for none");
    usage({"playground", "--features", "x1,x3", "--steps", "1"},
          "playground: unknown feature 'x3'; use one of x1, x2, x1sq, x2sq, x1x2, sinx1, sinx2");
    usage({"playground", "--dataset", "spiral"},
          "--dataset: sets up a headless run; add --steps N or --png FILE (the server takes its settings from the "
          "page)");
    usage({"playground", "--port", "9000", "--steps", "1"},
          "--port: a server option; leave it out of a headless run (--steps or --png)");
    usage({"playground", "--png", "", "--steps", "1"}, "--png: the path is empty; name a file, or leave --png out");
    const auto parse_error = adg::testing::run_cli({"playground", "--dataset", "moons", "--steps", "1"});
    CHECK(parse_error.code == 2);
    CHECK(parse_error.err.find("--dataset: moons not in {circle,xor,gauss,spiral,plane,multigauss}") !=
          std::string::npos);
    const auto bad_lr = adg::testing::run_cli({"playground", "--lr", "-1", "--steps", "1"});
    CHECK(bad_lr.code == 2);
    CHECK(bad_lr.err.find("--lr: -1 is not a number in (0, 10]") != std::string::npos);
}

TEST_CASE("playground cli: --seed takes the seeds the API takes, up to 2^53 - 1, so the page can reproduce a run") {
    const auto ok =
        adg::testing::run_cli({"playground", "--seed", "9007199254740991", "--layers", "2", "--steps", "1"});
    CHECK(ok.code == 0);
    CHECK(ok.err == "");
    const auto over = adg::testing::run_cli({"playground", "--seed", "9007199254740992", "--steps", "1"});
    CHECK(over.code == 2);
    CHECK(over.err.find("--seed: 9007199254740992 is not a whole number from 0 to 9007199254740991") !=
          std::string::npos);
    CHECK(over.out == "");
}
