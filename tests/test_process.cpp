// run_process: another program started with an argument vector (no shell), its stdin fed, its stdout and stderr
// collected, its end reported; a missing program is a result, not an error.

#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <adgraph/nn/process.hpp>
#include <adgraph/tensor/error.hpp>

#include "temp_dir.hpp"

using adg::nn::run_process;
using adg::testing::TempDir;
using doctest::Contains;

namespace {

// `n` bytes of every value, NULs and newlines included.
std::string random_bytes(std::size_t n) {
    std::mt19937 gen(21);
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(gen() & 0xFF);
    return s;
}

}  // namespace

TEST_CASE("process: arguments reach the program verbatim and no shell interprets them") {
    TempDir dir("adgraph-process");
    const std::string pwned = dir.file("PWNED");
    const std::vector<std::string> args = {"run';touch " + pwned + ";'",
                                           "\"; touch " + pwned + "; \"",
                                           "$(touch " + pwned + ")",
                                           "`touch " + pwned + "`",
                                           "bob's run",
                                           "a  b\tc",
                                           "$HOME *",
                                           ""};
    std::vector<std::string> argv = {"printf", "[%s]\\n"};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto r = run_process(argv);
    CHECK_MESSAGE(r.succeeded(), (r.how_it_ended() + ": " + r.err));
    std::string expected;
    for (const auto& a : args) expected += "[" + a + "]\n";
    CHECK(r.out == expected);
    CHECK(r.err.empty());
    CHECK_FALSE(std::filesystem::exists(pwned));
}

TEST_CASE("process: megabytes through stdin, stdout and stderr at once do not deadlock") {
    const std::string input = random_bytes(4 << 20);  // far beyond a pipe's 64 KiB buffer
    const auto cat = run_process({"cat"}, input);
    CHECK(cat.succeeded());
    CHECK(cat.out.size() == input.size());
    CHECK(cat.out == input);
    // tee writes every block to stdout and to stderr before it reads the next one: both must be drained while
    // the input is still being written.
    const auto tee = run_process({"tee", "/dev/stderr"}, input);
    CHECK(tee.succeeded());
    CHECK(tee.out == input);
    // stderr is kept to its first MiB, the rest read and counted.
    CHECK(tee.err == input.substr(0, adg::nn::ProcessResult::err_limit));
    CHECK(tee.err_dropped == input.size() - adg::nn::ProcessResult::err_limit);
}

TEST_CASE("process: a program writing megabytes on stderr has only its first MiB kept, the rest counted") {
    const std::size_t limit = adg::nn::ProcessResult::err_limit;
    CHECK(limit == std::size_t{1} << 20);
    const std::string input = random_bytes(3 << 20);
    // dd copies its input to stderr, and nothing to stdout.
    const auto to_err = run_process({"dd", "of=/dev/stderr", "bs=65536", "status=none"}, input);
    CHECK(to_err.succeeded());
    CHECK(to_err.out.empty());
    CHECK(to_err.err.size() == limit);
    CHECK(to_err.err == input.substr(0, limit));
    CHECK(to_err.err_dropped == input.size() - limit);
    // Under the limit, all of it is kept.
    const auto small = run_process({"dd", "of=/dev/stderr", "status=none"}, input.substr(0, 1000));
    CHECK(small.err == input.substr(0, 1000));
    CHECK(small.err_dropped == 0);
}

TEST_CASE("process: a program that stops reading its input early leaves this process running") {
    sigset_t before;
    sigpending(&before);
    const auto r = run_process({"head", "-c", "10"}, random_bytes(4 << 20));
    CHECK_MESSAGE(r.succeeded(), r.how_it_ended());
    CHECK(r.out.size() == 10);
    // The write into the closed pipe raised SIGPIPE while it was blocked; it must not stay pending (it would
    // end the process when a caller unblocks it).
    sigset_t after;
    sigpending(&after);
    CHECK(sigismember(&after, SIGPIPE) == sigismember(&before, SIGPIPE));
}

TEST_CASE("process: a program that is not there is reported as not found, not thrown") {
    for (const std::string name : {"adgraph-no-such-program-21", "/nonexistent/adgraph-no-such-program"}) {
        INFO(name);
        const auto r = run_process({name, "--version"}, "input nobody reads");
        CHECK(r.not_found);
        CHECK_FALSE(r.succeeded());
        CHECK(r.how_it_ended() == "was not found");
        CHECK(r.out.empty());
        CHECK(r.err.empty());
    }
}

TEST_CASE("process: a non-zero exit status and the program's stderr are reported") {
    TempDir dir("adgraph-process");
    const auto r = run_process({"cat", dir.file("missing")});
    CHECK_FALSE(r.not_found);
    CHECK_FALSE(r.succeeded());
    CHECK(r.exit_status == 1);
    CHECK(r.signal == 0);
    CHECK(r.how_it_ended() == "exited with status 1");
    CHECK(r.out.empty());
    CHECK_MESSAGE(r.err.find(dir.file("missing")) != std::string::npos, r.err);

    const auto f = run_process({"false"});
    CHECK(f.exit_status == 1);
    CHECK_FALSE(f.succeeded());
}

TEST_CASE("process: a program ended by a signal is reported with the signal") {
    const auto r = run_process({"perl", "-e", "kill 'KILL', $$"});
    if (r.not_found) {
        MESSAGE("skipped: needs perl");
        return;
    }
    CHECK_FALSE(r.succeeded());
    CHECK(r.signal == SIGKILL);
    CHECK(r.exit_status == -1);
    CHECK(r.how_it_ended() == "was killed by signal 9 (Killed)");
}

TEST_CASE("process: the program gets no open file of this process beyond its three pipes") {
    TempDir dir("adgraph-process");
    std::ofstream(dir.file("f")) << "x";
    const int fd = ::open(dir.file("f").c_str(), O_RDONLY);  // not close-on-exec
    REQUIRE(fd >= 0);
    const int high = ::dup2(fd, 200);
    ::close(fd);
    REQUIRE(high == 200);
    const auto r = run_process({"ls", "/proc/self/fd"});
    ::close(high);
    REQUIRE(r.succeeded());
    // ls lists 0, 1, 2 and the descriptor it reads the directory with.
    CHECK_MESSAGE(r.out.find("200") == std::string::npos, r.out);
    CHECK(r.out.rfind("0\n1\n2\n", 0) == 0);
}

TEST_CASE("process: a file that cannot be executed and an empty argument vector are typed errors") {
    TempDir dir("adgraph-process");
    const std::string plain = dir.file("plain.sh");
    std::ofstream(plain) << "#!/bin/sh\necho hello\n";
    ::chmod(plain.c_str(), 0644);
    CHECK_THROWS_WITH_AS(
        run_process({plain}),
        ("run_process: cannot start '" + plain + "': Permission denied; check that it is an executable program")
            .c_str(),
        adg::io_error);
    CHECK_THROWS_AS(run_process({}), adg::value_error);
}

TEST_CASE("process: a program that outlives its time limit is killed with what it started, and reported") {
    using namespace std::chrono_literals;
    const auto r = run_process({"sleep", "100"}, {}, 200ms);
    CHECK(r.timed_out);
    CHECK(r.time_limit == 200ms);
    CHECK_FALSE(r.succeeded());
    CHECK(r.signal == SIGKILL);
    CHECK(r.how_it_ended() == "timed out after 0.2 s and was killed");

    // A script whose child keeps the output pipes open: its whole process group is killed, and what it printed
    // before is kept.
    const auto s = run_process({"sh", "-c", "sleep 100 & echo $!; wait"}, {}, 300ms);
    CHECK(s.timed_out);
    CHECK(s.how_it_ended() == "timed out after 0.3 s and was killed");
    REQUIRE_MESSAGE(!s.out.empty(), s.err);
    const pid_t sleeper = std::stoi(s.out);
    // Gone, or a zombie waiting for init to reap it: not sleeping on. SIGKILL takes effect as the process is
    // next scheduled, so it is given a moment (the loop ends as soon as it is gone).
    std::string state;
    for (int tries = 0; tries < 250; ++tries) {
        std::ifstream stat("/proc/" + std::to_string(sleeper) + "/stat");
        std::string pid, comm;
        if (!(stat >> pid >> comm >> state) || state == "Z") {
            state = "gone";
            break;
        }
        ::usleep(20000);
    }
    CHECK_MESSAGE(state == "gone", ("the background sleep is still " + state));
}

TEST_CASE("process: with a grace a timed-out program gets SIGTERM first and may end on it, without one SIGKILL") {
    using namespace std::chrono_literals;
    // The shell exits 7 on SIGTERM (its sleep, in the same group, ends on it too). The grace is 20 s: ending long
    // before it shows the exit was seen, not waited out.
    const std::vector<std::string> polite = {"sh", "-c", "trap 'exit 7' TERM; while :; do sleep 0.05; done"};
    const auto started = std::chrono::steady_clock::now();
    const auto r = run_process(polite, {}, 300ms, 20s);
    const auto took = std::chrono::steady_clock::now() - started;
    CHECK(r.timed_out);
    CHECK(r.signal == 0);
    CHECK(r.exit_status == 7);
    CHECK(took < 10s);
    // No grace: straight to SIGKILL, which no trap sees.
    const auto k = run_process(polite, {}, 300ms);
    CHECK(k.timed_out);
    CHECK(k.signal == SIGKILL);
    // A program that ignores SIGTERM (and so does its sleep: an ignored signal stays ignored across exec) is killed
    // once the grace runs out.
    const auto stubborn = run_process({"sh", "-c", "trap '' TERM; while :; do sleep 0.05; done"}, {}, 300ms, 300ms);
    CHECK(stubborn.timed_out);
    CHECK(stubborn.signal == SIGKILL);
}

TEST_CASE("process: a program that ends within its time limit is not affected by it") {
    using namespace std::chrono_literals;
    const auto r = run_process({"cat"}, "within the limit", 30s);
    CHECK(r.succeeded());
    CHECK_FALSE(r.timed_out);
    CHECK(r.out == "within the limit");
    CHECK(r.how_it_ended() == "exited with status 0");
}

TEST_CASE("process: a time limit that is not positive is a value_error") {
    using namespace std::chrono_literals;
    CHECK_THROWS_WITH_AS(run_process({"true"}, {}, 0ms),
                         "run_process: the time limit for 'true' is 0 s; pass a positive limit, or none to wait until "
                         "it ends",
                         adg::value_error);
    CHECK_THROWS_WITH_AS(run_process({"true"}, {}, -1500ms),
                         "run_process: the time limit for 'true' is -1.5 s; pass a positive limit, or none to wait "
                         "until it ends",
                         adg::value_error);
    CHECK(adg::nn::seconds_str(60s) == "60 s");
    CHECK(adg::nn::seconds_str(250ms) == "0.25 s");
    CHECK(adg::nn::seconds_str(-200ms) == "-0.2 s");
}
