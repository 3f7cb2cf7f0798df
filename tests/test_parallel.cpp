// tensor/parallel: adgraph's own threads. Parts cover their range once, exceptions come back typed, and threaded
// kernels give the 1-thread result: bitwise for elementwise parts, the optimizer and the batch copy; GEMM blocks
// round in the last bits as OpenBLAS does for a block starting elsewhere or below its small-matrix threshold.

#include <doctest/doctest.h>

#include <atomic>
#include <cmath>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <adgraph/adgraph.hpp>
#include <adgraph/nn/data.hpp>
#include <adgraph/nn/loss.hpp>
#include <adgraph/nn/optim.hpp>
#include <adgraph/nn/sequential.hpp>

using namespace adg;

namespace {

// Sets adgraph's thread count for a scope and restores the previous one.
class ThreadCount {
public:
    explicit ThreadCount(int n) : before_(num_threads()) { set_num_threads(n); }
    ~ThreadCount() { set_num_threads(before_); }
    ThreadCount(const ThreadCount&) = delete;
    ThreadCount& operator=(const ThreadCount&) = delete;

private:
    int before_;
};

// f() evaluated at 1, 2 and 3 threads; every result must be the 1-thread one: bitwise when tol is 0, else
// within tol·(1 + |1-thread value|).
template <class F>
void same_at_any_thread_count(F&& f, double tol = 0) {
    std::vector<Array> one;
    {
        ThreadCount t(1);
        for (const Tensor& x : f()) one.push_back(x.value().clone());
    }
    for (int n : {2, 3}) {
        ThreadCount t(n);
        const std::vector<Tensor> got = f();
        REQUIRE(got.size() == one.size());
        for (std::size_t i = 0; i < got.size(); ++i) {
            CAPTURE(n);
            CAPTURE(i);
            REQUIRE(got[i].shape() == one[i].shape());
            got[i].value().visit([&](const auto& g) {
                using T = typename std::decay_t<decltype(g)>::value_type;
                const auto& w = one[i].get<T>();
                std::size_t differ = 0;
                for (std::size_t j = 0; j < g.size(); ++j) {
                    const double a = g.data()[j], b = w.data()[j];
                    differ += tol == 0 ? a != b : !(std::abs(a - b) <= tol * (1 + std::abs(b)));
                }
                CHECK(differ == 0);
            });
        }
    }
}

}  // namespace

TEST_CASE("parallel_for covers its range once, in aligned parts, on at most num_threads threads") {
    for (int threads : {1, 2, 3}) {
        ThreadCount t(threads);
        CHECK(num_threads() == threads);
        for (std::size_t n : {0u, 1u, 15u, 16u, 17u, 1000u, 65537u}) {
            for (std::size_t grain : {0u, 1u, 100u}) {
                for (std::size_t align : {1u, 16u}) {
                    CAPTURE(threads);
                    CAPTURE(n);
                    CAPTURE(grain);
                    CAPTURE(align);
                    std::vector<int> seen(n, 0);
                    std::vector<std::pair<std::size_t, std::size_t>> parts(64, {0, 0});
                    std::atomic<std::size_t> count{0};
                    parallel_for(n, grain, align, [&](std::size_t b, std::size_t e) {
                        parts[count++] = {b, e};
                        for (std::size_t i = b; i < e; ++i) ++seen[i];
                    });
                    std::size_t bad = 0;
                    for (int s : seen) bad += s != 1;
                    CHECK(bad == 0);
                    CHECK(count.load() >= 1);
                    CHECK(count.load() <= static_cast<std::size_t>(threads));
                    for (std::size_t p = 0; p < count.load(); ++p) CHECK(parts[p].first % align == 0);
                }
            }
        }
    }
}

TEST_CASE("an exception thrown in a part reaches the caller with its type") {
    ThreadCount t(2);
    CHECK_THROWS_AS(parallel_for(100000, 10, 1,
                                 [](std::size_t b, std::size_t) {
                                     if (b > 0) throw value_error("second part");
                                 }),
                    value_error);
    // The threads are still usable afterwards.
    std::atomic<std::size_t> total{0};
    parallel_for(100000, 10, 1, [&](std::size_t b, std::size_t e) { total += e - b; });
    CHECK(total.load() == 100000);
}

TEST_CASE("jobs from several caller threads at once all complete, each part run once") {
    ThreadCount t(3);
    constexpr int rounds = 3000;
    std::vector<long> totals(3, 0);
    std::vector<std::thread> callers;
    for (int c = 0; c < 3; ++c) {
        callers.emplace_back([&totals, c] {
            for (int r = 0; r < rounds; ++r) {
                std::atomic<long> sum{0};
                // Sizes vary so that parts, and the job word's part count, change from job to job.
                const std::size_t n = 64 + static_cast<std::size_t>((r * 37 + c) % 200);
                parallel_for(n, 8, 1, [&](std::size_t b, std::size_t e) {
                    long s = 0;
                    for (std::size_t i = b; i < e; ++i) s += static_cast<long>(i);
                    sum += s;
                });
                totals[static_cast<std::size_t>(c)] += sum.load() - static_cast<long>(n * (n - 1) / 2);
            }
        });
    }
    for (auto& th : callers) th.join();
    for (long d : totals) CHECK(d == 0);
}

TEST_CASE("GEMMs split over threads give the 1-thread result (to a few ulps)") {
    Generator gen(3);
    for (Dtype dt : {f32, f64}) {
        const std::string dtype = dtype_name(dt);
        CAPTURE(dtype);
        const Tensor a = Tensor::normal({130, 300}, 0, 1, gen, dt);
        const Tensor b = Tensor::normal({300, 70}, 0, 1, gen, dt);
        const Tensor w = Tensor::normal({257, 300}, 0, 1, gen, dt);
        const Tensor bias = Tensor::normal({257}, 0, 1, gen, dt);
        const Tensor batched = Tensor::normal({3, 40, 300}, 0, 1, gen, dt);
        const Tensor few = Tensor::normal({40, 300}, 0, 1, gen, dt);
        same_at_any_thread_count(
            [&] {
                NoGrad ng;
                return std::vector<Tensor>{matmul(a, b),                        // blocks of rows
                                           matmul(transpose(b), transpose(a)),  // both operands stored transposed
                                           linear(a, w, bias),                  // beta = 1 onto the bias
                                           linear(few, w, bias),                // 40 rows: blocks of columns
                                           matmul(transpose(few), few),
                                           matmul(batched, b)};
            },
            // Sums of 300 products of size ~1: a few ulps of 20. Not bitwise even in float64: on AVX-512 machines
            // OpenBLAS 0.3.21 multiplies blocks below its small-matrix threshold with another kernel, which sums
            // in another order (seen on a Zen 4 EPYC: up to 41 of 9100 elements differ in the last bit).
            dt == f64 ? 1e-13 : 1e-4);
    }
}

TEST_CASE("elementwise kernels and their rules split over threads give the 1-thread result bitwise") {
    Generator gen(4);
    for (Dtype dt : {f32, f64}) {
        const Tensor x = Tensor::normal({100003}, 0, 1, gen, dt);
        const Tensor m = Tensor::normal({300, 333}, 0, 1, gen, dt);
        const Tensor row = Tensor::normal({333}, 0, 1, gen, dt);
        same_at_any_thread_count([&] {
            const Tensor xr = x.detach().requires_grad();
            const Tensor y = tanh(xr) * exp(xr * 0.5);
            const Tensor g = grad([](const Tensor& v) { return sum(tanh(v) * v); })(xr);
            NoGrad ng;
            return std::vector<Tensor>{y, g, m + row, row * m, m * 3.0, relu(m)};
        });
    }
}

TEST_CASE("training on several threads gives the 1-thread batches, and parameters up to float32 GEMM rounding") {
    Generator data_gen(5);
    nn::Dataset ds;
    ds.images = Tensor::uniform({200, 784}, 0, 1, data_gen);
    for (std::size_t i = 0; i < 200; ++i) ds.labels.push_back(i % 10);
    ds.classes = 10;
    same_at_any_thread_count(
        [&] {
            Generator gen(6);
            auto net = nn::Sequential::mlp("784-256-10", gen);
            nn::SGD opt(net->parameters(), nn::SGDOptions(0.1).momentum(0.9));
            const nn::DataLoader loader(ds, 64, true, 9);
            std::vector<Tensor> out;
            for (const nn::Batch& b : loader.epoch(0)) {
                out.push_back(b.x);
                nn::cross_entropy((*net)(b.x), b.labels).backward();
                opt.step();
                opt.zero_grad();
            }
            for (const Tensor& p : net->parameters()) out.push_back(p.detach());
            return out;
        },
        1e-5);
    // The optimizer alone is bitwise: the same gradients give the same parameters at any thread count.
    same_at_any_thread_count([&] {
        Generator gen(7);
        const Tensor w = Tensor::normal({300, 300}, 0, 1, gen).requires_grad();
        nn::SGD opt({w}, nn::SGDOptions(0.1).momentum(0.9));
        for (int step = 0; step < 3; ++step) {
            sum(w * w * 0.5).backward();
            opt.step();
            opt.zero_grad();
        }
        return std::vector<Tensor>{w.detach()};
    });
}
