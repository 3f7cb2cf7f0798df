// Data-parallel training over MPI (issue 18): the user starts this program plainly; it runs itself under
// `mpirun -np P --oversubscribe` for each P (1, 2, 4 by default; an argument vector, no shell; one thread per
// rank), where every rank trains with adg::mpi::DataParallel as a user's loop does (data_parallel_worker.cpp), and
// prints per P the epoch time, the time in allreduce and its share, speed-up and efficiency against P = 1, for the
// MLP 784-256-128-10 and the `cnn` preset. Then MPI_Allreduce alone per message size against the α–β model, the
// step's compute in one process for the rows one node gets, and from those the model on paper of 1–64 nodes on
// 10 GbE (docs/distributed.md).
#include <mpi.h>
#include <unistd.h>
#include <adgraph/adgraph.hpp>
#include <adgraph/mpi/environment.hpp>
#include <adgraph/nn/atomic_file.hpp>
#include <adgraph/nn/process.hpp>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "data_parallel_model.hpp"
#include "data_parallel_report.hpp"
#include "data_parallel_setup.hpp"
#include "data_parallel_worker.hpp"
#include "machine.hpp"
#include "output.hpp"

using namespace adg;

namespace {

// The exit status CTest reads as "skipped" (SKIP_RETURN_CODE).
constexpr int skipped = 77;

std::vector<std::string> split(const std::string& s) {
    std::vector<std::string> out;
    std::stringstream in(s);
    std::string item;
    while (std::getline(in, item, ',')) {
        if (!item.empty()) out.push_back(item);
    }
    return out;
}

template <class T>
std::vector<T> numbers(const std::string& s, const char* option) {
    std::vector<T> out;
    for (const std::string& item : split(s)) {
        std::size_t used = 0;
        long long v = -1;
        try {
            v = std::stoll(item, &used);
        } catch (const std::exception&) {
        }
        if (used != item.size() || v < 1) {
            throw CLI::ValidationError(option, "takes a comma-separated list of whole numbers >= 1 (got '" + s + "')");
        }
        out.push_back(static_cast<T>(v));
    }
    return out;
}

std::string load_average() {
    std::ifstream in("/proc/loadavg");
    std::string a, b, c;
    in >> a >> b >> c;
    return a + " " + b + " " + c;
}

// Each rank: MPI for the program's life; on an exception every rank is ended (MPI_Abort), never left waiting in a
// collective for the rank that threw.
int worker_main(const bench::WorkerOptions& o) {
    try {
        return bench::run_worker(o);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_data_parallel: rank %d: %s\n", mpi::rank(), e.what());
        MPI_Abort(MPI_COMM_WORLD, 1);
        return 1;
    }
}

}  // namespace

int main(int argc, char** argv) {
    // A worker (started by mpirun) joins MPI before anything else reads its arguments.
    bool is_worker = false;
    for (int i = 1; i < argc; ++i) is_worker = is_worker || std::strcmp(argv[i], "--worker") == 0;
    std::optional<mpi::Environment> env;
    if (is_worker) env.emplace(&argc, &argv);

    bench::WorkerOptions w;
    w.data = nn::default_fashion_mnist_dir;
    std::string np_arg = "1,2,4", cases_arg = "mlp,cnn", counts_arg, csv_path, mpirun = "mpirun";
    double profile_budget = 1.0, alpha_us = 30, link_gbps = 10, link_efficiency = 0.9, loss_tolerance = 1e-3;
    int timeout_s = 3600, rounds = 1;
    bool quick = false, no_profile = false, worker = false;
    CLI::App app{
        "Data-parallel training over MPI: runs itself under mpirun -np P for each P (1 thread per rank) and "
        "prints epoch time, time in allreduce, speed-up and efficiency; MPI_Allreduce alone; the compute per "
        "step in one process; the model on paper for 1-64 nodes on 10 GbE"};
    app.add_option("--np", np_arg, "process counts, comma-separated")->capture_default_str();
    app.add_option("--cases", cases_arg, "models: mlp (784-256-128-10), cnn (the cnn preset)")->capture_default_str();
    app.add_option("--data", w.data, "Fashion-MNIST directory (synthetic data if it holds none)")
        ->capture_default_str();
    app.add_option("--limit", w.limit, "training rows of the MLP's epochs (0: all 60000)")->capture_default_str();
    app.add_option("--epochs", w.epochs, "the MLP's timed epochs (median), after one warm-up epoch")
        ->check(CLI::Range(1, 1000))
        ->capture_default_str();
    app.add_option("--steps", w.cnn_steps, "the CNN's timed global steps")
        ->check(CLI::Range(1, 100000))
        ->capture_default_str();
    app.add_option("--warmup-steps", w.warmup_steps, "the CNN's untimed first steps")
        ->check(CLI::Range(0, 100000))
        ->capture_default_str();
    app.add_option("--batch", w.batch, "global batch")->check(CLI::Range(1, 1 << 20))->capture_default_str();
    app.add_option("--rounds", rounds,
                   "rounds over all P (a round runs each P once): training medians over all rounds, MPI_Allreduce "
                   "alone from the "
                   "least disturbed round")
        ->check(CLI::Range(1, 100))
        ->capture_default_str();
    app.add_option("--allreduce-reps", w.allreduce_reps, "repetitions per size of MPI_Allreduce alone")
        ->check(CLI::Range(1, 100000))
        ->capture_default_str();
    app.add_option("--profile-budget", profile_budget, "seconds per point of the compute profile")
        ->check(CLI::Range(0.001, 3600.0))
        ->capture_default_str();
    app.add_flag("--no-profile", no_profile, "skip the compute profile and the model on paper");
    app.add_option("--alpha-us", alpha_us, "the model's latency per message, microseconds")
        ->check(CLI::Range(0.0, 1e6))
        ->capture_default_str();
    app.add_option("--link-gbps", link_gbps, "the model's link speed, Gbit/s")
        ->check(CLI::Range(1e-3, 1e6))
        ->capture_default_str();
    app.add_option("--link-efficiency", link_efficiency, "the share of the link TCP/IP leaves for data")
        ->check(CLI::Range(0.01, 1.0))
        ->capture_default_str();
    app.add_option("--loss-tolerance", loss_tolerance,
                   "largest relative difference of the MLP's first-epoch loss between P, else exit 1 (--quick: 1e-6)")
        ->check(CLI::Range(0.0, 1.0))
        ->capture_default_str();
    app.add_option("--csv", csv_path, "also write every table's rows as CSV to this file");
    app.add_option("--mpirun", mpirun, "the mpirun to start")->capture_default_str();
    app.add_option("--timeout", timeout_s, "seconds each mpirun job may take before it is killed")
        ->check(CLI::Range(1, 86400))
        ->capture_default_str();
    app.add_flag("--quick", quick, "tiny sizes (CTest smoke run)");
    app.add_flag("--worker", worker, "internal: run as one rank under mpirun");
    app.add_option("--allreduce-counts", counts_arg, "internal: float counts of MPI_Allreduce alone (workers)");
    CLI11_PARSE(app, argc, argv);

    std::vector<int> nps;
    try {
        nps = numbers<int>(np_arg, "--np");
        w.cases = split(cases_arg);
        for (const std::string& c : w.cases) bench::dp_case(c);
        w.allreduce_counts = numbers<std::size_t>(counts_arg, "--allreduce-counts");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_data_parallel: %s\n", e.what());
        return 2;
    }
    if (worker) return worker_main(w);

    if (quick) {
        w.limit = 512;
        w.epochs = 1;
        w.cnn_steps = 2;
        w.warmup_steps = 1;
        w.allreduce_reps = 5;
        w.batch = 16;
        profile_budget = 0.01;
        // 32 steps: P = 2 and 4 measured 2e-8 from P = 1; a rank training on other rows than one process's would
        // not stay within this.
        if (app.count("--loss-tolerance") == 0) loss_tolerance = 1e-6;
    }
    // Children inherit this environment: one BLAS thread per rank, and mpirun's consent to run as root.
    setenv("OPENBLAS_NUM_THREADS", "1", 1);
    if (geteuid() == 0) {
        setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
        setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
    }
    const nn::ProcessResult version = nn::run_process({mpirun, "--version"}, {}, std::chrono::seconds(30));
    if (!version.succeeded()) {
        const char* require = std::getenv("ADGRAPH_REQUIRE_MPI");
        std::fprintf(stderr, "bench_data_parallel: '%s --version' %s; install openmpi-bin or pass --mpirun\n",
                     mpirun.c_str(), version.how_it_ended().c_str());
        return version.not_found && !(require && std::string(require) == "1") ? skipped : 1;
    }
    const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();

    // The sizes of MPI_Allreduce alone: latency-bound to bandwidth-bound, with both models' gradients among them.
    std::vector<std::size_t> grads;
    for (const std::string& c : w.cases) grads.push_back(bench::dp_model(bench::dp_case(c))->parameter_count());
    std::vector<std::size_t> counts{1, 1024, 16384, 65536, std::size_t{1} << 19};
    counts.insert(counts.end(), grads.begin(), grads.end());
    std::sort(counts.begin(), counts.end());

    std::printf(
        "bench_data_parallel: data-parallel training over MPI, 1 thread per rank (OPENBLAS_NUM_THREADS=1, "
        "set_num_threads(1))\n");
    std::printf("machine: %s, %s; adgraph kernels %s, float32\n", bench::cpu_model().c_str(),
                (std::to_string(bench::cores()) + " cores").c_str(), simd_arch());
    std::printf(
        "This machine has %u cores: P = %u ranks at most run at once, each on its own core; more ranks are "
        "oversubscribed (mpirun --oversubscribe) and take turns on the cores, so their rows measure the "
        "overhead of sharing, not a speed-up.\n",
        bench::cores(), bench::cores());
    std::printf("Each P: %s -np P --oversubscribe --bind-to none %s --worker ... (%s)\n", mpirun.c_str(), self.c_str(),
                version.out.substr(0, version.out.find('\n')).c_str());

    bench::Measured m;
    for (int round = 0; round < rounds; ++round) {
        for (int p : nps) {
            bench::WorkerOptions job = w;
            if (p == 1) {
                job.allreduce_counts.clear();
            } else {
                job.allreduce_counts = counts;
            }
            std::vector<std::string> args{mpirun, "-np", std::to_string(p), "--oversubscribe", "--bind-to",
                                          "none", self};
            for (std::string& a : bench::worker_arguments(job)) args.push_back(std::move(a));
            m.nps.push_back(p);
            m.loads.push_back(load_average());
            std::fprintf(stderr, "bench_data_parallel: round %d, P = %d ...\n", round + 1, p);
            // On timeout, SIGTERM first: mpirun then ends its ranks (each in a process group of its own, which
            // a SIGKILL of mpirun's group would leave running), then SIGKILL after 2 s.
            const nn::ProcessResult r =
                nn::run_process(args, {}, std::chrono::seconds(timeout_s), std::chrono::seconds(2));
            if (!r.succeeded()) {
                std::fprintf(stderr, "bench_data_parallel: mpirun -np %d %s:\n%s%s\n", p, r.how_it_ended().c_str(),
                             r.out.c_str(), r.err.c_str());
                return 1;
            }
            std::istringstream lines(r.out);
            std::string line;
            while (std::getline(lines, line)) {
                if (line.empty() || line.front() != '{') continue;  // anything mpirun itself prints
                // Not throwing: a line of mpirun's own that starts with '{' is not a measurement.
                const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
                if (j.is_discarded() || !j.is_object()) continue;
                (j.value("kind", "") == "train" ? m.train : m.allreduce).push_back(j);
            }
        }
    }

    bench::Csv csv;
    const bool same = bench::print_measured(m, bench::cores(), loss_tolerance, csv);
    bench::print_allreduce(m, csv);
    if (!no_profile) {
        bench::PaperSettings ps;
        ps.global_batch = w.batch;
        ps.link_gbps = link_gbps;
        ps.link_efficiency = link_efficiency;
        ps.net.alpha = alpha_us * 1e-6;
        ps.net.bandwidth = link_gbps / 8 * 1e9 * link_efficiency;
        std::vector<std::size_t> rows;  // the rows of the slowest of P nodes: ⌈batch / P⌉
        for (int p : ps.ps) {
            const std::size_t r = (w.batch + static_cast<std::size_t>(p) - 1) / static_cast<std::size_t>(p);
            if (std::find(rows.begin(), rows.end(), r) == rows.end()) rows.push_back(r);
        }
        std::string source;
        const nn::Dataset data = bench::dp_data(w.data, w.batch, source);
        for (const std::string& name : w.cases) {
            const bench::DpCase c = bench::dp_case(name);
            const auto profile = bench::compute_profile(c, data, {1, 2}, rows, profile_budget);
            bench::print_profile(c, profile, csv);
            const double bytes = static_cast<double>(bench::gradient_bytes(*bench::dp_model(c)));
            bench::print_paper_model(c, profile, bytes, bench::copy_seconds_per_step(m, name), ps, csv);
        }
        std::printf("   load average after: %s\n", load_average().c_str());
    }
    if (!csv_path.empty()) {
        try {
            nn::write_file_atomically(csv_path, csv.text());
        } catch (const std::exception& e) {
            std::fprintf(stderr, "bench_data_parallel: %s\n", e.what());
            return 1;
        }
    }
    if (!same) {
        std::fprintf(stderr,
                     "bench_data_parallel: the MLP's first-epoch loss differs between P by more than %g "
                     "(relative): the runs did not train alike\n",
                     loss_tolerance);
        return 1;
    }
    return 0;
}
