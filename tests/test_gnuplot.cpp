// plot_png: a gnuplot script in, a whole PNG file out (or the reason there is none); no path reaches gnuplot.

#include <doctest/doctest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <adgraph/nn/gnuplot.hpp>
#include <adgraph/nn/process.hpp>

#include "temp_dir.hpp"

using adg::nn::plot_png;
using adg::testing::read_file;
using adg::testing::TempDir;

namespace {

const std::string png_signature = "\x89PNG\r\n\x1a\n";

const std::string line_plot =
    "set terminal pngcairo size 320,200\n"
    "$points << EOD\n1 2\n2 3\n3 1\nEOD\n"
    "plot $points using 1:2 with lines title 'points'\n";

bool have_gnuplot() {
    if (!adg::nn::run_process({"gnuplot", "--version"}).not_found) return true;
    MESSAGE("skipped: needs gnuplot (gnuplot-nox)");
    return false;
}

// PATH set to `value` for the scope, then restored.
struct PathSetTo {
    std::string old;
    bool had;
    explicit PathSetTo(const std::string& value) : had(std::getenv("PATH") != nullptr) {
        if (had) old = std::getenv("PATH");
        ::setenv("PATH", value.c_str(), 1);
    }
    ~PathSetTo() {
        if (had) {
            ::setenv("PATH", old.c_str(), 1);
        } else {
            ::unsetenv("PATH");
        }
    }
    PathSetTo(const PathSetTo&) = delete;
    PathSetTo& operator=(const PathSetTo&) = delete;
};

}  // namespace

TEST_CASE("gnuplot: plot_png writes a whole PNG to a path with quotes, spaces and semicolons, and nothing else") {
    if (!have_gnuplot()) return;
    TempDir dir("adgraph-gnuplot");
    for (const std::string name : {"bob's plot.png", "run';touch PWNED;'.png", "a\"b;$(touch PWNED).png"}) {
        INFO(name);
        const std::string png = dir.file(name);
        CHECK(plot_png(line_plot, png) == "");
        const std::string bytes = read_file(png);
        CHECK(bytes.size() > png_signature.size());
        CHECK(bytes.compare(0, png_signature.size(), png_signature) == 0);
    }
    // Only the three PNGs: no script, data or temporary file beside them, and nothing a shell would have made.
    CHECK(dir.list() ==
          std::vector<std::string>{"a\"b;$(touch PWNED).png", "bob's plot.png", "run';touch PWNED;'.png"});
    CHECK_FALSE(std::filesystem::exists("PWNED"));
}

TEST_CASE("gnuplot: a failing script is reported with gnuplot's stderr, and the old PNG is kept") {
    if (!have_gnuplot()) return;
    TempDir dir("adgraph-gnuplot");
    const std::string png = dir.file("plot.png");
    std::ofstream(png) << "old";
    const std::string why = plot_png("set terminal pngcairo\nplot $nosuch using 1:2\n", png);
    CHECK(why.rfind("gnuplot exited with status 1, no " + png + " written: ", 0) == 0);
    CHECK_MESSAGE(why.find("no datablock named $nosuch") != std::string::npos, why);
    CHECK(read_file(png) == "old");
    CHECK(dir.list() == std::vector<std::string>{"plot.png"});
}

TEST_CASE("gnuplot: a script whose output is not a PNG writes nothing") {
    if (!have_gnuplot()) return;
    TempDir dir("adgraph-gnuplot");
    const std::string png = dir.file("plot.png");
    const std::string why = plot_png("set terminal dumb\nplot x\n", png);
    CHECK_MESSAGE(why.rfind("gnuplot printed no PNG on stdout (", 0) == 0, why);
    CHECK(why.find("no " + png + " written") != std::string::npos);
    CHECK(dir.list().empty());
}

TEST_CASE("gnuplot: a PNG that cannot be written is reported with the file and the reason") {
    if (!have_gnuplot()) return;
    TempDir dir("adgraph-gnuplot");
    const std::string png = dir.file("plot.png");
    std::filesystem::create_directory(png);
    const std::string why = plot_png(line_plot, png);
    CHECK_MESSAGE(why.rfind("no " + png + " written: '" + png + "': ", 0) == 0, why);
    CHECK(std::filesystem::is_directory(png));
    CHECK(std::filesystem::is_empty(png));
    CHECK(dir.list() == std::vector<std::string>{"plot.png"});
}

TEST_CASE("gnuplot: without gnuplot on PATH plot_png says how to install it") {
    TempDir dir("adgraph-gnuplot");
    const std::string png = dir.file("plot.png");
    std::string why;
    {
        PathSetTo empty_path(dir.path.string());
        why = plot_png(line_plot, png);
    }
    CHECK(why == "gnuplot is not installed (apt-get install gnuplot-nox); no " + png + " written");
    CHECK(dir.list().empty());
}

TEST_CASE("gnuplot: a gnuplot that hangs is killed at the time limit and plot_png says so") {
    using namespace std::chrono_literals;
    TempDir dir("adgraph-gnuplot");
    const std::string fake = dir.file("gnuplot");
    std::ofstream(fake) << "#!/bin/sh\nsleep 100\n";
    std::filesystem::permissions(fake, std::filesystem::perms::owner_all);
    const std::string png = dir.file("plot.png");
    std::string why;
    {
        const char* path = std::getenv("PATH");
        PathSetTo fake_first(dir.path.string() + ":" + (path ? path : "/usr/bin:/bin"));
        why = plot_png(line_plot, png, 300ms);
    }
    CHECK(why == "gnuplot timed out after 0.3 s and was killed, no " + png +
                     " written; check that the gnuplot on PATH is a working gnuplot (it draws a plot in well under "
                     "a second)");
    CHECK(dir.list() == std::vector<std::string>{"gnuplot"});
}
