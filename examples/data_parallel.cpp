// Data-parallel training by hand with adgraph_mpi: every rank holds the model, trains on its shard of each global
// batch, and DataParallel averages the gradients over all ranks before each step, so every rank takes the step one
// process would take with the whole batch. Run it as `mpirun -np 4 ./data_parallel` (docs/distributed.md); started
// directly it is one rank of one.
//
// The data: points in the plane labelled by the ring they fall in (3 classes). The program checks what it shows:
// the test accuracy (evaluated split across ranks and summed) reaches --min-accuracy, and every rank ends with the
// same parameters bitwise; it exits 1 otherwise.
#include <CLI/CLI.hpp>

#include <adgraph/adgraph.hpp>
#include <adgraph/mpi/data_parallel.hpp>
#include <adgraph/mpi/environment.hpp>

#include <cmath>
#include <cstdio>
#include <vector>

using namespace adg;

namespace {

// n points uniform in [-1.5, 1.5]², labelled 0, 1 or 2 by their radius (below 0.7, below 1.2, beyond).
nn::TensorDataset rings(std::size_t n, std::uint64_t seed) {
    Generator gen(seed);
    const Tensor x = Tensor::uniform({n, 2}, -1.5, 1.5, gen);
    std::vector<std::size_t> labels(n);
    for (std::size_t i = 0; i < n; ++i) {
        const double r = std::hypot(x.value().flat(2 * i), x.value().flat(2 * i + 1));
        labels[i] = r < 0.7 ? 0 : r < 1.2 ? 1 : 2;
    }
    return nn::TensorDataset(x, labels);
}

// Correct predictions on this rank's shard of `data` (in eval mode, no graph recorded).
double correct_on_shard(nn::Module& model, const nn::TensorDataset& data) {
    const mpi::RowRange mine = mpi::shard(data.size(), mpi::rank(), mpi::size());
    std::vector<std::size_t> rows(mine.size());
    for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = mine.begin + i;
    const nn::Batch b = data.gather(rows);
    if (b.labels.empty()) return 0;
    NoGrad no_grad;
    const Tensor predicted = argmax(model(b.x), 1);
    double correct = 0;
    for (std::size_t i = 0; i < b.labels.size(); ++i) correct += predicted.value().flat(i) == b.labels[i];
    return correct;
}

}  // namespace

// An adg::error escaping main ends this rank (terminate, abort) and mpirun then ends the whole job. A rank that
// caught an error only it raised and returned would wait in MPI_Finalize for ranks waiting in a collective: such a
// handler must call mpi::abort() (DataParallel's own checks throw on every rank alike).
int main(int argc, char** argv) {
    mpi::Environment env(&argc, &argv);  // MPI for the life of main
    std::size_t steps = 600, batch = 64, rows = 3000;
    double min_accuracy = 0.9;
    CLI::App app("Data-parallel training of an MLP over MPI ranks (run under mpirun)");
    app.add_option("--steps", steps, "optimizer steps")->check(CLI::PositiveNumber);
    app.add_option("--batch", batch, "global batch (split across the ranks)")->check(CLI::PositiveNumber);
    app.add_option("--rows", rows, "training points")->check(CLI::PositiveNumber);
    app.add_option("--min-accuracy", min_accuracy, "exit 1 below this test accuracy");
    CLI11_PARSE(app, argc, argv);
    const bool root = mpi::rank() == 0;

    // The same seeds on every rank: the same data, the same shuffles; DataParallel broadcasts rank 0's weights.
    Generator gen(1);
    nn::MlpOptions options;
    options.dropout = 0.1;
    auto model = nn::Sequential::mlp("2-64-64-3", gen, options);
    mpi::DataParallel dp(*model);
    nn::Adam opt(model->parameters(), nn::AdamOptions(0.01));
    const nn::DataLoader loader(rings(rows, 2), batch, /*shuffle=*/true, /*seed=*/3);

    for (std::size_t e = 0; dp.steps() < steps; ++e) {
        const nn::Epoch epoch = loader.epoch(e);
        double loss_sum = 0, seen = 0;  // this rank's rows' losses summed over the epoch, and its rows
        for (std::size_t i = 0; i < epoch.size() && dp.steps() < steps; ++i) {
            const nn::Batch b = dp.local_batch(epoch, i);  // this rank's rows of global batch i
            if (!b.labels.empty()) {
                const Tensor loss = nn::cross_entropy((*model)(b.x), b.labels);
                loss.backward();
                loss_sum += loss.item() * static_cast<double>(b.labels.size());
                seen += static_cast<double>(b.labels.size());
            }
            dp.allreduce_gradients();  // every rank now holds the global batch's mean gradient
            opt.step();
            opt.zero_grad();
        }
        std::vector<double> loss{loss_sum, seen};
        mpi::sum(loss);
        if (root) std::printf("epoch %zu: mean loss %.4f over %.0f rows\n", e + 1, loss[0] / loss[1], loss[1]);
    }

    // Evaluation split across ranks: each counts its shard, the counts are summed.
    model->eval();
    const nn::TensorDataset test = rings(1000, 4);
    std::vector<double> correct{correct_on_shard(*model, test)};
    mpi::sum(correct);
    const double accuracy = correct[0] / static_cast<double>(test.size());

    // Every rank must hold rank 0's parameters exactly (x + 0 + ... + 0 is x: the sum is rank 0's value).
    std::vector<double> mine, rank0;
    for (const Tensor& p : model->parameters()) {
        for (std::size_t k = 0; k < p.size(); ++k) mine.push_back(p.value().flat(k));
    }
    rank0 = root ? mine : std::vector<double>(mine.size(), 0.0);
    mpi::sum(rank0);
    const int apart = mpi::lowest_rank_where(mine != rank0);
    std::vector<double> seconds(static_cast<std::size_t>(mpi::size()), 0.0);
    seconds[static_cast<std::size_t>(mpi::rank())] = dp.allreduce_seconds();
    mpi::sum(seconds);

    if (root) {
        std::printf("%d ranks, %zu steps of global batch %zu: test accuracy %.3f (required %.3f)\n", mpi::size(), steps,
                    batch, accuracy, min_accuracy);
        for (std::size_t r = 0; r < seconds.size(); ++r) {
            std::printf("rank %zu: %.4f s in allreduce_gradients\n", r, seconds[r]);
        }
        if (apart >= 0) std::printf("rank %d's parameters differ from rank 0's\n", apart);
        std::printf("%s\n", accuracy >= min_accuracy && apart < 0 ? "ok" : "FAILED");
    }
    return accuracy >= min_accuracy && apart < 0 ? 0 : 1;
}
