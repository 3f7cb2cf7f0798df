// Live-object counters (graph nodes and array buffers) return to their baselines: after a graph goes out of
// scope, after a backward without retain, after an exception inside a sweep, and across training epochs.

#include <doctest/doctest.h>

#include <adgraph/adgraph.hpp>
#include <adgraph/autodiff/op.hpp>

#include "explode_op.hpp"

using namespace adg;

namespace {

struct Counts {
    long nodes = live_node_count(), buffers = live_buffer_count();
};

using testing::Explode;

}  // namespace

TEST_CASE("leaks: a graph going out of scope gives back every node and buffer") {
    const Counts base;
    {
        const Tensor x = Tensor::from({0.5, -1.0, 2.0}).requires_grad();
        Tensor h = x;
        for (int i = 0; i < 20; ++i) h = tanh(h * 1.1 + x);
        sum(h).backward(BackwardOptions{true, false});
        CHECK(live_buffer_count() > base.buffers + 40);
    }
    CHECK(live_node_count() == base.nodes);
    CHECK(live_buffer_count() == base.buffers);
}

TEST_CASE("leaks: a backward without retain frees interior values while the output is held") {
    const Counts base;
    const Tensor x = Tensor::from({0.5, -1.0}).requires_grad();
    const Tensor y = sum(exp(sin(tanh(x))));
    y.backward();
    // x, its grad and y remain, each one node with one buffer.
    CHECK(live_node_count() == base.nodes + 3);
    CHECK(live_buffer_count() == base.buffers + 3);
}

TEST_CASE("leaks: an exception inside a sweep gives everything back") {
    const Counts base;
    {
        const Tensor x = Tensor::from({1.0, 2.0}, f64).requires_grad();
        // A fresh graph for each sweep: a reverse sweep that failed half-way has released what it visited.
        const auto record = [&x] { return sum(apply(Explode{}, exp(x)) * 3.0); };
        CHECK_THROWS_AS(record().backward(), value_error);
        CHECK_THROWS_AS(forward_sweep({x}, {Tensor::ones({1, 2}, f64)}, {record()}), value_error);
        CHECK_THROWS_AS(grad([](const Tensor& v) { return sum(apply(Explode{}, v)); })(x), value_error);
    }
    CHECK(live_node_count() == base.nodes);
    CHECK(live_buffer_count() == base.buffers);
}

TEST_CASE("leaks: training epochs hold a constant number of buffers") {
    const Counts base;
    {
        Generator gen(5);
        nn::Dataset data;
        data.images = Tensor::uniform({96, 8}, -1, 1, gen);
        for (std::size_t i = 0; i < 96; ++i) data.labels.push_back(i % 3);
        data.classes = 3;
        auto model = nn::Sequential::mlp("8-16-3", gen, {"relu", 0.1});
        nn::Adam opt(model->named_parameters(), {});
        const nn::DataLoader loader(data, 32, true, 1);
        std::vector<long> after;
        for (std::size_t epoch = 0; epoch < 3; ++epoch) {
            for (const nn::Batch& b : loader.epoch(epoch)) {
                const Tensor loss = nn::cross_entropy((*model)(b.x), b.labels);
                loss.backward();
                opt.step();
                opt.zero_grad();
            }
            after.push_back(live_buffer_count());
        }
        // Epoch 1 creates the optimizer's slots; later epochs allocate and free the same set.
        CHECK(after[1] == after[2]);
        // What remains: the images tensor and the model's four parameters (the batches and graphs are gone).
        CHECK(live_node_count() == base.nodes + 1 + 4);
    }
    CHECK(live_node_count() == base.nodes);
    CHECK(live_buffer_count() == base.buffers);
}
