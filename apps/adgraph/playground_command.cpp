// `adgraph playground`: options, the headless run and the server's lifetime (until SIGINT or SIGTERM).
#include "adgraph/playground_command.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <limits>
#include <ostream>
#include <thread>
#include <vector>

#include <adgraph/tensor/error.hpp>
#include <adgraph/tensor/parallel.hpp>

#include "adgraph/options.hpp"
#include "adgraph/train.hpp"
#include "playground/config_json.hpp"

namespace adg::cli {

namespace {

const std::vector<std::string> headless_only = {"--dataset",
                                                "--noise",
                                                "--train-percent",
                                                "--batch",
                                                "--seed",
                                                "--features",
                                                "--layers",
                                                "--activation",
                                                "--lr",
                                                "--regularization",
                                                "--regularization-rate",
                                                "--show-test",
                                                "--report-every"};
const std::vector<std::string> server_only = {"--host", "--port", "--max-sessions", "--idle-seconds"};

std::vector<std::string> split(const std::string& text) {
    std::vector<std::string> parts;
    if (text.empty()) return parts;
    std::size_t start = 0;
    for (;;) {
        const std::size_t comma = text.find(',', start);
        parts.push_back(text.substr(start, comma - start));
        if (comma == std::string::npos) return parts;
        start = comma + 1;
    }
}

std::vector<std::size_t> parse_layers(const std::string& text) {
    std::vector<std::size_t> layers;
    for (std::string part : split(text)) {
        const std::string problem = check_number(part, whole_range(0, 1000));
        if (!problem.empty()) {
            throw UsageError{"--layers: " + problem +
                             "; give the neurons of each hidden layer joined by ',' (e.g. 8,8), or \"\" for none"};
        }
        layers.push_back(static_cast<std::size_t>(std::stoul(part)));
    }
    return layers;
}

// The write end of the pipe the signal handler wakes the server's watcher through (-1: none).
std::atomic<int> stop_pipe{-1};

extern "C" void on_stop_signal(int) {
    const int saved_errno = errno;
    const char byte = 1;
    const int fd = stop_pipe.load();
    if (fd >= 0 && ::write(fd, &byte, 1) < 0) {
        // a full pipe already holds a wake-up: nothing is lost
    }
    errno = saved_errno;
}

int serve(const playground::ServerOptions& options, std::ostream& out) {
    // Each request trains on its own worker thread, so one thread per request keeps tabs from competing for the
    // cores. Process-wide and never undone, so it belongs here, where the process is the server, and not in Server
    // (tests run servers inside a process that goes on).
    set_num_threads(1);
    playground::Server server(options);
    // SIGINT and SIGTERM may arrive on any thread (OpenBLAS starts its own before main), so a process-wide
    // handler only writes a byte to a pipe, and a watcher thread stops the server as ordinary code.
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
        throw io_error("playground: cannot create a pipe: " + std::string(std::strerror(errno)));
    stop_pipe = fds[1];
    struct sigaction action {
    }, previous_int{}, previous_term{};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGINT, &action, &previous_int);
    ::sigaction(SIGTERM, &action, &previous_term);
    struct Restore {
        int fds[2];
        struct sigaction previous_int, previous_term;
        ~Restore() {
            ::sigaction(SIGINT, &previous_int, nullptr);
            ::sigaction(SIGTERM, &previous_term, nullptr);
            stop_pipe = -1;
            ::close(fds[0]);
            ::close(fds[1]);
        }
    } restore{{fds[0], fds[1]}, previous_int, previous_term};

    std::thread watcher([&] {
        char byte;
        while (::read(fds[0], &byte, 1) < 0 && errno == EINTR) {
        }
        server.stop();
    });
    // However serving ends (listen() returns when its socket fails, or the output or listen() throws), the watcher
    // is woken and joined before the server and the pipe go: a joinable std::thread destroyed is std::terminate.
    // After a signal it has already stopped the server, and the extra byte is never read.
    struct JoinWatcher {
        std::thread& thread;
        ~JoinWatcher() {
            on_stop_signal(0);
            thread.join();
        }
    } join_watcher{watcher};
    const std::string host = options.host.find(':') != std::string::npos ? "[" + options.host + "]" : options.host;
    out << "adgraph playground: serving on http://" << host << ":" << server.port() << "/" << std::endl;
    server.listen();
    return 0;
}

}  // namespace

void add_playground_options(CLI::App& cmd, PlaygroundOptions& o) {
    playground::ServerOptions& s = o.server;
    playground::HeadlessOptions& h = o.headless;
    playground::Config& c = h.config;
    cmd.add_option("--host", s.host, "server: address to listen on")->capture_default_str();
    add_number(cmd, "--port", s.port, "server: port to listen on (0: any free port)", whole_range(0, 65535));
    add_number(cmd, "--max-sessions", s.max_sessions, "server: open sessions (browser tabs) at most",
               whole_range(1, 10000));
    add_number(cmd, "--idle-seconds", s.idle_seconds, "server: free a session unused for this long",
               real_range(0, std::numeric_limits<double>::infinity(), true));

    cmd.add_option("--dataset", c.dataset, "headless: data set")
        ->check(CLI::IsMember(playground::dataset_names()))
        ->capture_default_str();
    add_number(cmd, "--noise", c.noise, "headless: noise in percent", real_range(0, 50));
    add_number(cmd, "--train-percent", c.train_percent, "headless: share of the points used for training",
               whole_range(10, 90));
    add_number(cmd, "--batch", c.batch_size, "headless: points per update", whole_range(1, 30));
    // The API's limit, so that every headless run can be reproduced in the page (a JavaScript number holds it).
    add_number(cmd, "--seed", c.seed, "headless: seed of the data and the initial weights",
               whole_range(0, playground::max_json_seed));
    cmd.add_option("--features", o.features,
                   "headless: input features joined by ',' (x1, x2, x1sq, x2sq, x1x2, sinx1, sinx2)")
        ->capture_default_str();
    cmd.add_option("--layers", o.layers, "headless: neurons of each hidden layer joined by ',' (\"\": none)")
        ->capture_default_str();
    cmd.add_option("--activation", c.activation, "headless: activation of the hidden layers")
        ->check(CLI::IsMember({"relu", "tanh", "sigmoid", "linear"}))
        ->capture_default_str();
    add_number(cmd, "--lr", c.learning_rate, "headless: learning rate", real_range(0, 10, true));
    cmd.add_option("--regularization", c.regularization, "headless: none, l1 or l2")
        ->check(CLI::IsMember({"none", "l1", "l2"}))
        ->capture_default_str();
    add_number(cmd, "--regularization-rate", c.regularization_rate, "headless: regularization rate", real_range(0, 10));
    add_number(cmd, "--steps", h.steps, "headless: epochs to train (runs without a browser)",
               whole_range(0, max_epochs));
    cmd.add_option("--png", h.png, "headless: write the decision surface to this PNG (runs without a browser)");
    cmd.add_flag("--show-test", h.show_test, "headless: draw the test points too");
    add_number(cmd, "--report-every", h.report_every, "headless: print the losses every N epochs (0: at the end)",
               whole_range(0, max_epochs));
    cmd.footer(
        "Without --steps or --png: serves the playground page; open the URL it prints.\n"
        "With --steps or --png: trains without a browser and writes the decision surface, e.g.\n"
        "  adgraph playground --dataset spiral --features x1,x2,sinx1,sinx2 --layers 8,8 --steps 2000 --png "
        "spiral.png");
}

int playground_command(const CLI::App& cmd, PlaygroundOptions& o, std::ostream& out) {
    const bool headless = cmd.count("--steps") > 0 || cmd.count("--png") > 0;
    const std::vector<std::string>& misplaced = headless ? server_only : headless_only;
    for (const auto& name : misplaced) {
        if (cmd.count(name) == 0) continue;
        throw UsageError{headless ? name + ": a server option; leave it out of a headless run (--steps or --png)"
                                  : name +
                                        ": sets up a headless run; add --steps N or --png FILE (the server takes "
                                        "its settings from the page)"};
    }
    if (!headless) return serve(o.server, out);
    if (cmd.count("--png") > 0 && o.headless.png.empty()) {
        throw UsageError{"--png: the path is empty; name a file, or leave --png out"};
    }
    playground::Config& c = o.headless.config;
    c.features = split(o.features);
    c.layers = parse_layers(o.layers);
    try {
        c.validate();
    } catch (const value_error& e) {
        throw UsageError{e.what()};
    }
    return playground::run_headless(o.headless, out);
}

}  // namespace adg::cli
