// Sizes and resources at their limits: every new array's byte count is checked before it is allocated (a shape
// whose elements × bytes wrap around must not become a small buffer), an allocation that fails is a typed error
// (also inside xtensor's noexcept random generators), and a helper thread that cannot start costs speed, not the
// computation. The limit-based cases run in a fresh child process under a lowered ulimit -v.

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <regex>
#include <string>
#include <system_error>
#include <thread>

#include <adgraph/adgraph.hpp>
#include <adgraph/nn/linear.hpp>
#include <adgraph/tensor/allocator.hpp>
#include <adgraph/tensor/kernels.hpp>

#include "child_case.hpp"

using namespace adg;
using adg::testing::in_child_case;
using adg::testing::run_child_case;

// ASan aborts on an allocation it cannot serve unless told to return null, which is what turns into std::bad_alloc
// (and so into adgraph's typed error) in the ordinary build.
extern "C" const char* __asan_default_options() { return "allocator_may_return_null=1"; }

namespace {

constexpr std::size_t huge = std::size_t{1} << 62;

// The message of the value_error that `f` raises ("" if it raises none or another type).
template <class F>
std::string value_error_of(F&& f) {
    try {
        f();
    } catch (const value_error& e) {
        return e.what();
    } catch (...) {
        return "";
    }
    return "";
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// True if a child's doctest summary says exactly one test case ran and passed (so the child case was not skipped).
bool ran_one_case(const std::string& output) {
    return std::regex_search(output, std::regex(R"(test cases: *1 \| *1 passed \| *0 failed)"));
}

// The largest |a - b| over all elements, relative to max(1, |b|).
double max_rel_diff(const Array& a, const Array& b) {
    double d = 0;
    for (std::size_t i = 0; i < b.size(); ++i) {
        d = std::max(d, std::abs(a.flat(i) - b.flat(i)) / std::max(1.0, std::abs(b.flat(i))));
    }
    return d;
}

#if defined(__SANITIZE_ADDRESS__)
constexpr bool under_asan = true;
#else
constexpr bool under_asan = false;
#endif

}  // namespace

TEST_CASE("shapes whose byte count wraps around size_t are refused before allocation, naming op, shape and bytes") {
    // 2^62 float32 elements are 2^64 bytes: the product wrapped to 0 and a 0-byte buffer was written past.
    const std::string z = value_error_of([] { Tensor::zeros({huge}); });
    CHECK(z ==
          "Tensor::zeros: shape (4611686018427387904) of float32 needs more than 18446744073709551615 bytes, more "
          "than one array can hold (9223372036854775807); check the sizes (a negative size converted to size_t "
          "becomes huge)");
    CHECK(has(value_error_of([] { one_hot({0}, huge); }),
              "one_hot: shape (1,4611686018427387904) of float32 needs more than"));
    CHECK(has(value_error_of([] { pad(Tensor::ones({3}), 0, 0, huge); }),
              "pad: shape (4611686018427387904) of float32 needs more than"));
    // More paths: the other constructors, random draws, broadcasting, where, float64 (8 bytes an element).
    CHECK(has(value_error_of([] { Tensor::ones({huge / 2}, f64); }),
              "Tensor::ones: shape (2305843009213693952) of float64 needs more than"));
    CHECK(has(value_error_of([] {
                  Tensor::full({2, huge}, 1.0);
              }),
              "Tensor::full: shape (2,4611686018427387904) of float32"));
    Generator gen(1);
    CHECK(has(value_error_of([&] { Tensor::uniform({huge}, 0, 1, gen); }),
              "uniform: shape (4611686018427387904) of float32"));
    CHECK(has(value_error_of([&] { Tensor::normal({huge}, 0, 1, gen, f64); }),
              "normal: shape (4611686018427387904) of float64"));
    CHECK(has(value_error_of([] { broadcast_to(Tensor::ones({1}), {huge}); }),
              "broadcast_to: shape (4611686018427387904) of float32"));
    const std::size_t n = std::size_t{1} << 21;  // three 8 MB operands whose broadcast has 2^63 elements
    CHECK(has(value_error_of([&] {
                  where(Tensor::ones({n, 1, 1}), Tensor::ones({1, n, 1}), Tensor::ones({1, 1, n}));
              }),
              "where: shape (2097152,2097152,2097152) of float32 needs more than"));
    CHECK(has(value_error_of([] { index_add(Tensor::ones({1}), 0, {0}, huge); }),
              "index_add: shape (4611686018427387904) of float32"));
    CHECK(has(value_error_of([] { Array::empty({huge / 2}, f64); }),
              "Array::empty: shape (2305843009213693952) of float64"));
}

TEST_CASE("a byte count just above what one array can span is refused, and empty shapes stay allowed") {
    // 2^61 float32 elements are 2^63 bytes: no overflow, but more than PTRDIFF_MAX.
    CHECK(value_error_of([] { Tensor::zeros({std::size_t{1} << 61}); }) ==
          "Tensor::zeros: shape (2305843009213693952) of float32 needs 9223372036854775808 bytes, more than one array "
          "can hold (9223372036854775807); check the sizes (a negative size converted to size_t becomes huge)");
    CHECK(checked_bytes({huge, 0}, f64, "test") == 0);
    CHECK(Tensor::zeros({huge, 0}).value().size() == 0);
    CHECK(checked_bytes({2, 3}, f64, "test") == 48);
    CHECK(checked_bytes({}, f32, "test") == 4);
}

TEST_CASE("an allocation that fails is a value_error naming the op, the shape and the bytes, not std::bad_alloc") {
    // 2^62 bytes pass the size check but exceed any machine's memory and address space: malloc returns null.
    const std::string m = value_error_of([] { Tensor::zeros({std::size_t{1} << 60}); });
    CHECK(m ==
          "Tensor::zeros: out of memory for shape (1152921504606846976) of float32 (4611686018427387904 bytes); use "
          "smaller sizes, free memory, or raise the memory limit (ulimit -v)");
    Generator gen(2);
    // xtensor's random generators allocate inside a noexcept function, where bad_alloc was std::terminate.
    CHECK(has(value_error_of([&] { Tensor::uniform({std::size_t{1} << 59}, -1, 1, gen, f64); }),
              "uniform: out of memory for shape (576460752303423488) of float64 (4611686018427387904 bytes); use "
              "smaller sizes or float32, free memory"));
}

// ---- limits of the process, in a child -------------------------------------------------------------------

TEST_CASE("[child] a layer too large for ulimit -v raises value_error") {
    if (!in_child_case("[child] a layer too large for ulimit -v raises value_error")) return;
    REQUIRE(adg::testing::limit_address_space(std::size_t{256} << 20));
    Generator gen(0);
    // 784 -> 9999999 as in `adgraph train --model 784-9999999-10`: a 31 GB float32 weight.
    const std::string m = value_error_of([&] { nn::Linear(784, 9999999, gen); });
    CHECK(m ==
          "init: the weight of a 784 -> 9999999 layer: uniform: out of memory for shape (9999999,784) of float32 "
          "(31359996864 bytes); use smaller sizes, free memory, or raise the memory limit (ulimit -v)");
}

TEST_CASE("initialising a layer larger than the address-space limit exits with a typed error, not by abort") {
    const auto r = run_child_case("[child] a layer too large for ulimit -v raises value_error");
    INFO(r.output);
    CHECK(r.exited_ok());
    CHECK(ran_one_case(r.output));
}

TEST_CASE("[child] a helper thread that cannot start leaves the computation to the calling thread") {
    if (!in_child_case("[child] a helper thread that cannot start leaves the computation to the calling thread")) {
        return;
    }
    // No call needed: adgraph keeps the first run's freed buffers, so the second run reuses them under the limit.
    Generator gen(3);
    const Tensor x0 = Tensor::uniform({64, 1024}, -1, 1, gen, f64);
    const Tensor w0 = Tensor::uniform({16, 1024}, -1, 1, gen, f64);
    const auto run = [&] {
        Tensor x = x0.detach().requires_grad(), w = w0.detach().requires_grad();
        Tensor y = sum(tanh(x) * x) + sum(linear(x, w));
        y.backward();
        return std::make_pair(x.grad().value().clone(), w.grad().value().clone());
    };
    const auto serial = run();  // one thread: no pool, no helper thread
    REQUIRE(adg::testing::limit_address_space(std::size_t{1} << 20));
    // A thread's stack (8 MB, or 2 MB with an unlimited stack limit) no longer fits.
    CHECK_THROWS_AS(std::thread([] {}).join(), std::system_error);
    set_num_threads(4);
    std::pair<Array, Array> threaded;
    CHECK_NOTHROW(threaded = run());
    REQUIRE(threaded.first.shape() == serial.first.shape());
    REQUIRE(threaded.second.shape() == serial.second.shape());
    // Elementwise parts are bitwise equal at any thread count; GEMMs agree to a few ulps (see test_parallel.cpp).
    CHECK(max_rel_diff(threaded.first, serial.first) <= 1e-12);
    CHECK(max_rel_diff(threaded.second, serial.second) <= 1e-12);
}

TEST_CASE("under an address-space limit too low for a thread's stack, a threaded computation still completes") {
    if (under_asan) return;  // ASan maps fresh memory for every allocation (its quarantine), so no limit fits it
    const auto r =
        run_child_case("[child] a helper thread that cannot start leaves the computation to the calling thread");
    INFO(r.output);
    CHECK(r.exited_ok());
    CHECK(ran_one_case(r.output));
}
