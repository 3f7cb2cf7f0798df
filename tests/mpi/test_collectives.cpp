// adg::mpi's collectives on every rank of the job: shard() on hand cases, sum, lowest_rank_where, broadcast_state
// from different initialisations, the layout check, and DataParallel::local_batch's shards (even, uneven, empty).
// Only CHECKs around collectives: a REQUIRE failing on one rank would leave the others waiting in the next one.

#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include <adgraph/adgraph.hpp>
#include <adgraph/mpi/data_parallel.hpp>
#include <adgraph/mpi/environment.hpp>
#include <adgraph/mpi/internal/call.hpp>
#include <adgraph/mpi/internal/errors.hpp>
#include <adgraph/nn/batch_norm.hpp>

using namespace adg;

namespace adg::mpi_test {
extern std::string rank_before_init;  // main.cpp
}

namespace {

std::vector<double> flat(const Tensor& t) {
    std::vector<double> out(t.size());
    for (std::size_t k = 0; k < t.size(); ++k) out[k] = t.value().flat(k);
    return out;
}

std::vector<double> state_values(const nn::Module& m) {
    std::vector<double> out;
    for (const auto& [name, t] : m.state_dict()) {
        const std::vector<double> v = flat(t);
        out.insert(out.end(), v.begin(), v.end());
    }
    return out;
}

// Linear(4 -> 3), BatchNorm1d(3) (buffers), Linear(3 -> 2) in float64, drawn from `seed`.
std::shared_ptr<nn::Sequential> small_model(std::uint64_t seed) {
    Generator gen(seed);
    auto m = std::make_shared<nn::Sequential>();
    m->add(std::make_shared<nn::Linear>(4, 3, gen, true, nn::Init::uniform, f64));
    m->add(std::make_shared<nn::BatchNorm1d>(3, 0.1, 1e-5, f64));
    m->add(std::make_shared<nn::Linear>(3, 2, gen, true, nn::Init::uniform, f32));
    return m;
}

}  // namespace

TEST_CASE("mpi shard: contiguous rows in rank order, the first rows % size ranks take one more") {
    const auto rows_of = [](std::size_t rows, int size) {
        std::vector<std::pair<std::size_t, std::size_t>> out;
        for (int r = 0; r < size; ++r) {
            const mpi::RowRange s = mpi::shard(rows, r, size);
            out.emplace_back(s.begin, s.end);
        }
        return out;
    };
    using V = std::vector<std::pair<std::size_t, std::size_t>>;
    CHECK(rows_of(10, 3) == V{{0, 4}, {4, 7}, {7, 10}});
    CHECK(rows_of(9, 3) == V{{0, 3}, {3, 6}, {6, 9}});
    CHECK(rows_of(7, 1) == V{{0, 7}});
    CHECK(rows_of(11, 2) == V{{0, 6}, {6, 11}});
    // Fewer rows than ranks: the last ranks get empty shards at the end.
    CHECK(rows_of(2, 3) == V{{0, 1}, {1, 2}, {2, 2}});
    CHECK(rows_of(1, 4) == V{{0, 1}, {1, 1}, {1, 1}, {1, 1}});
    CHECK(rows_of(0, 2) == V{{0, 0}, {0, 0}});
    CHECK(mpi::shard(5, 1, 3).size() == 2);
    CHECK_THROWS_WITH_AS(mpi::shard(5, 3, 3), mpi::detail::bad_rank("mpi::shard", 3, 3).what(), value_error);
    CHECK_THROWS_WITH_AS(mpi::shard(5, -1, 2), "mpi::shard: rank -1 is out of range for 2 ranks; pass a rank in [0, 2)",
                         value_error);
}

TEST_CASE("mpi sum and lowest_rank_where agree with the sums and ranks computed by hand") {
    const int rank = mpi::rank(), size = mpi::size();
    std::vector<double> v{static_cast<double>(rank), 1.0, 0.5 * rank + 0.25};
    mpi::sum(v);
    const double ranks = size * (size - 1) / 2.0;
    CHECK(v == std::vector<double>{ranks, static_cast<double>(size), 0.5 * ranks + 0.25 * size});
    std::vector<double> none;
    mpi::sum(none);
    CHECK(none.empty());

    CHECK(mpi::lowest_rank_where(false) == -1);
    CHECK(mpi::lowest_rank_where(true) == 0);
    CHECK(mpi::lowest_rank_where(rank >= 1) == (size > 1 ? 1 : -1));
    CHECK(mpi::lowest_rank_where(rank == size - 1) == size - 1);

    if (size > 1) {
        // Different lengths are refused on every rank alike, not read past.
        std::vector<double> uneven(rank == 0 ? 2 : 3, 1.0);
        CHECK_THROWS_WITH_AS(mpi::sum(uneven), mpi::detail::sum_lengths(2, 3).what(), value_error);
    }
}

TEST_CASE("mpi broadcast_state makes every rank's parameters and buffers the root's") {
    const int rank = mpi::rank(), size = mpi::size();
    const int root = size - 1;
    auto model = small_model(100 + rank);
    // Buffers that differ too (BatchNorm's running mean), not only the drawn weights.
    model->buffers()[0].mutable_value().get_mut<double>().fill(0.5 * rank);
    const std::vector<double> before = state_values(*model);
    std::vector<double> rank0(before.size());
    for (std::size_t k = 0; k < before.size(); ++k) rank0[k] = rank == 0 ? before[k] : 0.0;
    mpi::sum(rank0);
    // The ranks start apart (so the check below can fail) ...
    if (size > 1 && rank != 0) CHECK(before != rank0);

    mpi::broadcast_state(*model, root);
    auto expected = small_model(100 + root);
    expected->buffers()[0].mutable_value().get_mut<double>().fill(0.5 * root);
    // ... and end with the root's values exactly.
    CHECK(state_values(*model) == state_values(*expected));

    CHECK_THROWS_WITH_AS(mpi::broadcast_state(*model, size),
                         mpi::detail::bad_rank("mpi::broadcast_state", size, size).what(), value_error);
}

TEST_CASE("mpi DataParallel starts every rank from rank 0's state; broadcast_buffers copies rank 0's buffers only") {
    const int rank = mpi::rank();
    // Drawn from another seed on each rank: the constructor must start every rank from rank 0's state.
    auto model = small_model(7 + rank);
    mpi::DataParallel dp(*model);
    CHECK(state_values(*model) == state_values(*small_model(7)));
    // Each rank's BatchNorm statistics as its own rows would leave them; the parameters a rank's own step made.
    model->buffers()[0].mutable_value().get_mut<double>().fill(1.0 + rank);
    model->parameters()[0].mutable_value().get_mut<double>().fill(2.0 + rank);
    dp.broadcast_buffers();
    for (double v : flat(model->buffers()[0])) CHECK(v == 1.0);
    for (double v : flat(model->parameters()[0])) CHECK(v == 2.0 + rank);
}

TEST_CASE("mpi DataParallel refuses models whose layouts differ between ranks, on every rank") {
    const int rank = mpi::rank(), size = mpi::size();
    if (size < 2) return;
    Generator gen(1);
    // Different sizes: 15 vs 10 float32 elements.
    nn::Linear a(4, rank == 0 ? 3 : 2, gen);
    std::string what;
    try {
        mpi::DataParallel dp(a);
    } catch (const value_error& e) {
        what = e.what();
    }
    // docs/errors.md quotes this message (tests/test_error_catalog.cpp).
    CHECK(what ==
          "DataParallel: rank 1's model does not match rank 0's (rank 0: 2 parameters, 0 buffers, 15 float32 and 0 "
          "float64 elements, shapes b5f895d4c7fc8802; rank 1: 2 parameters, 0 buffers, 10 float32 and 0 float64 "
          "elements, "
          "shapes f8aeec7f9e86a9e2); build the same model, with the same dtypes, on every rank");
    // The same number of elements in other shapes (6x2 + 6 vs 3x5 + 3) is refused as well, by the shapes' hash.
    nn::Linear b(rank == 0 ? 2 : 5, rank == 0 ? 6 : 3, gen);
    CHECK_THROWS_AS(mpi::DataParallel{b}, value_error);
    CHECK_THROWS_AS(mpi::broadcast_state(b), value_error);
    // The same layout everywhere passes.
    nn::Linear c(4, 3, gen);
    CHECK_NOTHROW(mpi::DataParallel{c});
}

TEST_CASE("mpi DataParallel::local_batch takes this rank's shard of each global batch, possibly empty") {
    const int rank = mpi::rank(), size = mpi::size();
    // 10 rows in batches of 4, 4 and 2: the last is uneven, and smaller than the ranks at -np 3.
    const std::size_t n = 10;
    std::vector<double> x(n * 3);
    for (std::size_t k = 0; k < x.size(); ++k) x[k] = static_cast<double>(k);
    std::vector<std::size_t> labels(n);
    for (std::size_t k = 0; k < n; ++k) labels[k] = k % 3;
    const nn::DataLoader loader(nn::TensorDataset(Tensor::from(x, {n, 3}, f64), labels), 4, true, 5);
    Generator gen(3);
    nn::Linear model(3, 2, gen, true, nn::Init::uniform, f64);
    mpi::DataParallel dp(model);
    const nn::Epoch epoch = loader.epoch(1);
    for (std::size_t i = 0; i < epoch.size(); ++i) {
        const nn::Batch whole = epoch.batch(i);
        const mpi::RowRange mine = mpi::shard(whole.labels.size(), rank, size);
        const nn::Batch b = dp.local_batch(epoch, i);
        CHECK(b.x.shape() == Shape{mine.size(), 3});
        CHECK(b.labels == std::vector<std::size_t>(whole.labels.begin() + mine.begin, whole.labels.begin() + mine.end));
        const std::vector<double> all = flat(whole.x);
        CHECK(flat(b.x) == std::vector<double>(all.begin() + 3 * mine.begin, all.begin() + 3 * mine.end));
        CHECK(dp.steps() == i + 1);
    }
    if (size == 3) CHECK(dp.local_batch(epoch, 2).labels.size() == (rank < 2 ? 1u : 0u));
    CHECK_THROWS_WITH_AS(dp.local_batch(epoch, 3), mpi::detail::batch_out_of_range(3, 3).what(), value_error);
}

TEST_CASE("mpi errors: a failed MPI call becomes io_error naming it, a bad share and MPI not running value_error") {
    // A root that is no rank makes MPI_Bcast fail (MPI_COMM_WORLD returns errors: mpi::Environment set it so).
    double x = 0;
    const int code = MPI_Bcast(&x, 1, MPI_DOUBLE, mpi::size(), MPI_COMM_WORLD);
    CHECK(code != MPI_SUCCESS);
    // docs/errors.md quotes this message (tests/test_error_catalog.cpp).
    CHECK_THROWS_WITH_AS(mpi::detail::check(code, "mpi::broadcast_state", "MPI_Bcast"),
                         "mpi::broadcast_state: MPI_Bcast failed (MPI error 8: MPI_ERR_ROOT: invalid root); MPI's "
                         "text says which: fix the argument it names, the rank that failed, or the ranks' calls (every "
                         "rank must make the same adg::mpi calls in the same order)",
                         io_error);

    Generator gen(1);
    nn::Linear model(2, 2, gen);
    mpi::DataParallel dp(model);
    CHECK_THROWS_WITH_AS(dp.allreduce_gradients(std::nan("")), mpi::detail::bad_share(std::nan("")).what(),
                         value_error);
    CHECK(dp.allreduce_seconds() >= 0.0);

    // A layer added after the DataParallel was made is refused (its gradients would not line up across ranks).
    nn::Sequential grown;
    grown.add(std::make_shared<nn::Linear>(4, 3, gen));
    mpi::DataParallel grown_dp(grown);
    grown.add(std::make_shared<nn::Linear>(3, 2, gen));
    std::string what;
    try {
        grown_dp.allreduce_gradients();
    } catch (const value_error& e) {
        what = e.what();
    }
    // docs/errors.md quotes rank 0's message (tests/test_error_catalog.cpp).
    CHECK(what ==
          "DataParallel::allreduce_gradients: rank " + std::to_string(mpi::rank()) +
              "'s model changed after its DataParallel was made (2 parameters, 0 buffers, 15 float32 and 0 "
              "float64 elements, shapes b5f895d4c7fc8802 then, 4 parameters, 0 buffers, 23 float32 and 0 "
              "float64 elements, shapes 6c494113fa1c31c2 now); make the DataParallel once the model is complete");

    // main() called mpi::rank() before creating the Environment.
    CHECK(adg::mpi_test::rank_before_init == mpi::detail::not_initialised("mpi::rank").what());
}

TEST_CASE("mpi allreduce_gradients: a bad share or a changed model on one rank makes every rank throw, none waits") {
    const int rank = mpi::rank(), size = mpi::size();
    if (size < 2) return;
    const auto thrown = [](const std::function<void()>& f) {
        try {
            f();
        } catch (const value_error& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    Generator gen(1);
    nn::Linear model(2, 2, gen);
    mpi::DataParallel dp(model);
    // Rank 1 alone passes a share that is not a number: it raises its own error, every other rank one naming it
    // (before the check was collective, the others went on into the MPI_Allreduce that rank 1 never joined).
    const std::string share_error = thrown([&] { dp.allreduce_gradients(rank == 1 ? std::nan("") : 0.5); });
    CHECK(share_error == (rank == 1 ? mpi::detail::bad_share(std::nan("")).what()
                                    : mpi::detail::peer_refused("DataParallel::allreduce_gradients", 1, true).what()));
    // The last rank alone grows its model after its DataParallel was made.
    nn::Sequential grown;
    grown.add(std::make_shared<nn::Linear>(4, 3, gen));
    mpi::DataParallel grown_dp(grown);
    if (rank == size - 1) grown.add(std::make_shared<nn::Linear>(3, 2, gen));
    const std::string layout_error = thrown([&] { grown_dp.allreduce_gradients(); });
    if (rank == size - 1) {
        CHECK(layout_error.find("'s model changed after its DataParallel was made (2 parameters") != std::string::npos);
    } else {
        CHECK(layout_error == mpi::detail::peer_refused("DataParallel::allreduce_gradients", size - 1, false).what());
    }
    // No rank was left in a collective: the ranks are still in step, and the next allreduce works everywhere.
    CHECK(thrown([&] { dp.allreduce_gradients(); }).empty());
    std::vector<double> one{1.0};
    mpi::sum(one);
    CHECK(one[0] == size);
}
