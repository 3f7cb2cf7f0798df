#include <adgraph/tensor/parallel.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <sched.h>

#include <adgraph/tensor/error.hpp>

extern "C" void openblas_set_num_threads(int);

namespace adg {

namespace {

// A pool of n-1 workers beside the calling thread; written by hand rather than with OpenMP, whose region-end
// barrier waits for every thread of the team: on a loaded machine a worker that the OS had not yet scheduled
// made a 0.7 ms GEMM take 8 ms (measured), while here the caller runs the parts nobody has claimed and waits
// only for parts already started.
//
// A job's parts are claimed from one 64-bit word: generation (24 bits) | parts (20) | next part (20), so a
// worker that wakes late can never claim a part of a job other than the one it saw.
class Pool {
public:
    static Pool& instance() {
        // Never destroyed: workers stay blocked at exit instead of racing static destructors.
        static Pool* pool = new Pool;
        return *pool;
    }

    void run(std::size_t parts, detail::PartFn fn, void* context, int threads) {
        bool expected = false;
        // One job at a time; a second caller (another thread, or a part that itself calls parallel_for) runs
        // its parts itself.
        if (parts > max_parts || !busy_.compare_exchange_strong(expected, true, std::memory_order_acquire)) {
            for (std::size_t p = 0; p < parts; ++p) fn(context, p);
            return;
        }
        resize(threads - 1);
        fn_ = fn;
        context_ = context;
        error_ = nullptr;
        done_.store(0, std::memory_order_relaxed);
        generation_ = (generation_ + 1) & gen_mask;
        word_.store(pack(generation_, parts, 0), std::memory_order_seq_cst);
        if (sleepers_.load(std::memory_order_seq_cst) > 0) {
            const std::lock_guard<std::mutex> lock(mutex_);
            wake_.notify_all();
        }
        work(generation_);
        for (unsigned spins = 0; done_.load(std::memory_order_acquire) < parts; ++spins) {
            // A worker still running a part it claimed: spin briefly, then give the core away, which is what
            // lets that worker run on a busy machine.
            if (spins < 2000) {
                pause();
            } else {
                sched_yield();
            }
        }
        std::exception_ptr error = error_;
        busy_.store(false, std::memory_order_release);
        if (error) std::rethrow_exception(error);
    }

private:
    static constexpr std::uint64_t index_bits = 20, gen_mask = (std::uint64_t{1} << 24) - 1;
    static constexpr std::size_t max_parts = (std::size_t{1} << index_bits) - 1;

    static std::uint64_t pack(std::uint64_t gen, std::uint64_t parts, std::uint64_t next) {
        return gen << (2 * index_bits) | parts << index_bits | next;
    }
    static void pause() {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    }

    // Claims and runs parts of job `gen` until none is left.
    void work(std::uint64_t gen) {
        std::uint64_t w = word_.load(std::memory_order_acquire);
        while (true) {
            const std::uint64_t parts = (w >> index_bits) & max_parts, next = w & max_parts;
            if ((w >> (2 * index_bits)) != gen || next >= parts) return;
            if (!word_.compare_exchange_weak(w, w + 1, std::memory_order_acq_rel, std::memory_order_acquire)) {
                continue;
            }
            try {
                fn_(context_, static_cast<std::size_t>(next));
            } catch (...) {
                const std::lock_guard<std::mutex> lock(error_mutex_);
                if (!error_) error_ = std::current_exception();
            }
            done_.fetch_add(1, std::memory_order_acq_rel);
            w = word_.load(std::memory_order_acquire);
        }
    }

    void worker_loop() {
        std::uint64_t seen = word_.load(std::memory_order_acquire) >> (2 * index_bits);
        while (true) {
            std::uint64_t gen = seen;
            // Jobs come every few microseconds during a training step: poll for 0.2 ms before sleeping. Polling
            // with sched_yield rather than a pause loop: the MLP epoch at 2 threads took 0.61-0.85 s against
            // 0.74-0.85 s with pause (3 alternating runs; floor/adgraph 0.81-0.87 against 0.74-0.80), as the caller's
            // serial work between jobs runs beside the polling worker (vCPUs may share a core).
            const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(200);
            for (unsigned spins = 1; gen == seen && !quit_.load(std::memory_order_relaxed); ++spins) {
                sched_yield();
                gen = word_.load(std::memory_order_acquire) >> (2 * index_bits);
                if (spins % 64 == 0 && std::chrono::steady_clock::now() > until) break;
            }
            if (gen == seen) {
                std::unique_lock<std::mutex> lock(mutex_);
                sleepers_.fetch_add(1, std::memory_order_seq_cst);
                wake_.wait(lock, [&] {
                    return quit_.load() || (word_.load(std::memory_order_seq_cst) >> (2 * index_bits)) != seen;
                });
                sleepers_.fetch_sub(1, std::memory_order_seq_cst);
                gen = word_.load(std::memory_order_acquire) >> (2 * index_bits);
            }
            if (quit_.load()) return;
            seen = gen;
            work(gen);
        }
    }

    // Runs under busy_, so no job is in flight. Never throws: a worker that cannot be started (no memory for its
    // stack under ulimit -v, or the process limit reached) is left out, and the caller runs the parts nobody
    // claims, so a job never fails for want of a helper thread. The count asked for is remembered, so a pool that
    // could not grow does not try again on every job.
    void resize(int workers) noexcept {
        if (workers < 0) workers = 0;
        if (workers == wanted_) return;
        {
            const std::lock_guard<std::mutex> lock(mutex_);
            quit_.store(true);
            wake_.notify_all();
        }
        for (auto& t : workers_) t.join();
        workers_.clear();
        quit_.store(false);
        wanted_ = workers;
        try {
            workers_.reserve(static_cast<std::size_t>(workers));
            for (int i = 0; i < workers; ++i) workers_.emplace_back([this] { worker_loop(); });
        } catch (const std::exception&) {
            // std::system_error from std::thread, or std::bad_alloc: run with the workers started so far.
        }
    }

    std::atomic<bool> busy_{false}, quit_{false};
    std::atomic<std::uint64_t> word_{0};
    std::atomic<std::size_t> done_{0};
    std::atomic<int> sleepers_{0};
    std::uint64_t generation_ = 0;
    detail::PartFn fn_ = nullptr;
    void* context_ = nullptr;
    std::exception_ptr error_;
    std::mutex error_mutex_, mutex_;
    std::condition_variable wake_;
    std::vector<std::thread> workers_;
    int wanted_ = 0;  // the worker count last asked of resize (workers_ may hold fewer)
};

std::atomic<int> threads_{1};

void store_threads(int n) {
    if (n <= 0) n = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    threads_.store(n, std::memory_order_relaxed);
    // OpenBLAS's own workers would compete with ours: after each call they spin (sched_yield) for a while, and a
    // single-threaded loop that runs next was measured up to 3x slower beside them. adgraph splits GEMMs itself.
    openblas_set_num_threads(1);
}

// ADGRAPH_NUM_THREADS, when set, is the thread count before any set_num_threads call.
bool read_environment() {
    const char* v = std::getenv("ADGRAPH_NUM_THREADS");
    if (v == nullptr || *v == '\0') return false;
    store_threads(detail::parse_thread_count(v));
    return true;
}

void init_once() {
    static const bool done = read_environment();
    (void)done;
}

}  // namespace

void set_num_threads(int n) {
    if (n < 0 || n > max_threads) {
        throw value_error("set_num_threads: " + std::to_string(n) +
                          " is not a thread count; pass 0 (one per core) to " + std::to_string(max_threads));
    }
    init_once();
    store_threads(n);
}

int num_threads() {
    init_once();
    return threads_.load(std::memory_order_relaxed);
}

namespace detail {

int parse_thread_count(const char* text) {
    char* end = nullptr;
    const long n = std::strtol(text, &end, 10);
    if (end == text || *end != '\0' || n < 0 || n > max_threads) {
        throw value_error(std::string("ADGRAPH_NUM_THREADS='") + text +
                          "' is not a thread count: set a whole number from 0 (one per core) to " +
                          std::to_string(max_threads) + ", or unset it");
    }
    return static_cast<int>(n);
}

void run_parts(std::size_t parts, PartFn fn, void* context) {
    const int threads = num_threads();
    if (parts <= 1 || threads <= 1) {
        for (std::size_t p = 0; p < parts; ++p) fn(context, p);
        return;
    }
    Pool::instance().run(parts, fn, context, threads);
}

}  // namespace detail

}  // namespace adg
