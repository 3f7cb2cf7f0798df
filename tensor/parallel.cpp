#include <adgraph/tensor/parallel.hpp>

#include <atomic>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <string>
#include <thread>

#include <omp.h>

#include <adgraph/tensor/error.hpp>

extern "C" void openblas_set_num_threads(int);

namespace adg {

namespace {

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
    char* end = nullptr;
    const long n = std::strtol(v, &end, 10);
    if (*end != '\0' || n < 0 || n > 4096) {
        throw value_error(std::string("ADGRAPH_NUM_THREADS='") + v +
                          "' is not a thread count: set a whole number from 0 (one per core) to 4096, or unset it");
    }
    store_threads(static_cast<int>(n));
    return true;
}

void init_once() {
    static const bool done = read_environment();
    (void)done;
}

}  // namespace

void set_num_threads(int n) {
    init_once();
    store_threads(n);
}

int num_threads() {
    init_once();
    return threads_.load(std::memory_order_relaxed);
}

namespace detail {

void run_parts(std::size_t parts, PartFn fn, void* context) {
    const int threads = static_cast<int>(std::min<std::size_t>(parts, static_cast<std::size_t>(num_threads())));
    // Inside someone else's parallel region (or with one thread) the parts run here, one after another.
    if (threads <= 1 || omp_in_parallel()) {
        for (std::size_t p = 0; p < parts; ++p) fn(context, p);
        return;
    }
    std::exception_ptr error;
    std::mutex error_mutex;
    const auto n = static_cast<long>(parts);
#pragma omp parallel for num_threads(threads) schedule(static)
    for (long p = 0; p < n; ++p) {
        // An exception must not leave an OpenMP region (that terminates); the first one is rethrown after it.
        try {
            fn(context, static_cast<std::size_t>(p));
        } catch (...) {
            const std::lock_guard<std::mutex> lock(error_mutex);
            if (!error) error = std::current_exception();
        }
    }
    if (error) std::rethrow_exception(error);
}

}  // namespace detail

}  // namespace adg
