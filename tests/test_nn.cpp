// nn/: modules, MLP specs, initialisation, losses, dropout, an MLP trained with SGD (optimizers and schedules:
// test_optim.cpp).

#include <doctest/doctest.h>

#include <cmath>

#include <adgraph/adgraph.hpp>
#include <adgraph/nn/activation.hpp>
#include <adgraph/nn/dropout.hpp>
#include <adgraph/nn/linear.hpp>
#include <adgraph/nn/loss.hpp>
#include <adgraph/nn/optim.hpp>
#include <adgraph/nn/sequential.hpp>

using namespace adg;
using namespace adg::nn;
using doctest::Contains;

TEST_CASE("Sequential::mlp builds the layers of a spec with named parameters") {
    Generator gen(1);
    auto net = Sequential::mlp("784-256-128-10", gen);
    CHECK(net->to_string() ==
          "Sequential(Linear(784 -> 256, bias), ReLU(), Linear(256 -> 128, bias), ReLU(), Linear(128 -> 10, bias))");
    const auto named = net->named_parameters();
    REQUIRE(named.size() == 6);
    CHECK(named[0].first == "0.weight");
    CHECK(named[1].first == "0.bias");
    CHECK(named[5].first == "4.bias");
    CHECK(named[0].second.shape() == Shape{256, 784});
    CHECK(net->parameter_count() == 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10);
    for (const auto& [name, p] : named) CHECK(p.needs_grad());
    const Tensor y = (*net)(Tensor::zeros({5, 784}));
    CHECK(y.shape() == Shape{5, 10});
    auto with_dropout = Sequential::mlp("4-3-2", gen, {"tanh", 0.25});
    CHECK(with_dropout->to_string() ==
          "Sequential(Linear(4 -> 3, bias), Tanh(), Dropout(p=0.25), Linear(3 -> 2, bias))");
}

TEST_CASE("bad MLP specs name the spec and the fault") {
    Generator gen(1);
    CHECK_THROWS_WITH_AS(Sequential::mlp("784--10", gen), Contains("model spec '784--10': empty layer size"),
                         value_error);
    CHECK_THROWS_WITH_AS(Sequential::mlp("784-abc-10", gen), Contains("'abc' is not a whole number"), value_error);
    CHECK_THROWS_WITH_AS(Sequential::mlp("784", gen), Contains("needs at least an input and an output size"),
                         value_error);
    CHECK_THROWS_WITH_AS(Sequential::mlp("784-0-10", gen), Contains("layer sizes must be positive"), value_error);
    CHECK_THROWS_WITH_AS(Sequential::mlp("4-2", gen, {"swish"}), Contains("activation 'swish' is unknown"),
                         value_error);
}

TEST_CASE("initialisations draw U(-c, c) with the documented bounds and repeat for a seed") {
    Generator g1(5), g2(5);
    for (Init init : {Init::uniform, Init::xavier, Init::he}) {
        const double c = init_bound(init, 300, 100);
        const Tensor w = init_weight(300, 100, init, g1);
        CHECK(w.shape() == Shape{100, 300});
        double lo = 1e9, hi = -1e9;
        for (std::size_t i = 0; i < w.size(); ++i) {
            lo = std::min(lo, w.value().flat(i));
            hi = std::max(hi, w.value().flat(i));
        }
        CHECK(lo >= -c);
        CHECK(hi <= c);
        CHECK(hi > 0.95 * c);  // 30000 draws reach the edges
        CHECK((w.data<float>() == init_weight(300, 100, init, g2).data<float>()));
    }
    CHECK(init_bound(Init::uniform, 100, 7) == doctest::Approx(0.1));
    CHECK(init_bound(Init::xavier, 100, 50) == doctest::Approx(std::sqrt(6.0 / 150)));
    CHECK(init_bound(Init::he, 100, 50) == doctest::Approx(std::sqrt(0.06)));
    CHECK_THROWS_WITH_AS(parse_init("glorot"), Contains("unknown initialisation 'glorot'"), value_error);
}

TEST_CASE("losses: values and gradients") {
    const Tensor p = Tensor::from({{0.5, -1.0}, {2.0, 0.0}}, f64);
    const Tensor t = Tensor::from({{1.0, -1.0}, {0.0, 1.0}}, f64);
    CHECK(mse_loss(p, t).item() == doctest::Approx((0.25 + 0 + 4 + 1) / 4.0));
    CHECK(mse_loss(p, t, Reduction::sum).item() == doctest::Approx(5.25));
    CHECK(l1_loss(p, t).item() == doctest::Approx((0.5 + 0 + 2 + 1) / 4.0));
    const Tensor logits = Tensor::from({{2.0, 1.0, 0.1}, {0.5, 2.5, -1.0}}, f64);
    const double ce0 = -std::log(std::exp(2.0) / (std::exp(2.0) + std::exp(1.0) + std::exp(0.1)));
    const double ce1 = -std::log(std::exp(-1.0) / (std::exp(0.5) + std::exp(2.5) + std::exp(-1.0)));
    CHECK(cross_entropy(logits, {0, 2}).item() == doctest::Approx((ce0 + ce1) / 2));
    CHECK(accuracy(logits, {0, 2}) == 0.5);
    for (const auto& f : std::vector<MultiFn>{
             [&](const std::vector<Tensor>& x) { return mse_loss(x[0], t); },
             [&](const std::vector<Tensor>& x) { return l1_loss(x[0], t); },
             [&](const std::vector<Tensor>& x) {
                 return cross_entropy(x[0], {1, 0});
             },
         }) {
        CHECK(gradcheck(f, {p}).ok);
    }
    CHECK_THROWS_WITH_AS(mse_loss(p, Tensor::zeros({2}, f64)),
                         Contains("mse_loss: prediction (2,2) and target (2) differ"), shape_error);
    CHECK_THROWS_WITH_AS(cross_entropy(logits, {0}), Contains("cross_entropy: logits (2,3) and 1 labels do not fit"),
                         shape_error);
    CHECK_THROWS_WITH_AS(cross_entropy(logits, {0, 3}), Contains("label 3 at position 1 is out of range for 3 classes"),
                         value_error);
}

TEST_CASE("dropout drops about p while training, scales the rest, and is the identity in eval mode") {
    Dropout d(0.25, 3);
    const Tensor x = Tensor::ones({100, 100});
    const Tensor y = d(x);
    double kept = 0;
    for (std::size_t i = 0; i < y.size(); ++i) {
        const double v = y.value().flat(i);
        CHECK((v == 0.0 || v == doctest::Approx(1.0 / 0.75)));
        kept += v != 0.0;
    }
    CHECK(kept / 10000 == doctest::Approx(0.75).epsilon(0.03));
    d.eval();
    CHECK(d(x).node() == x.node());
    CHECK_THROWS_WITH_AS(Dropout(1.0), Contains("Dropout: p must be in [0, 1)"), value_error);
}

TEST_CASE("dropout keyed by step and first row gives a split batch the masks of the whole batch") {
    Generator gen(4);
    const Tensor x = Tensor::uniform({7, 5}, 1, 2, gen);  // no zeros: a zero in the output is a dropped element
    Dropout whole(0.5, 11), part(0.5, 11);
    whole.key(3, 0);
    const Array all = whole(x).value();
    // Rows 0-2 and 3-6 as two processes would take them, each keyed with its first row.
    part.key(3, 0);
    const Array top = part(x.slice(0, 0, 3)).value();
    part.key(3, 3);
    const Array bottom = part(x.slice(0, 3, 7)).value();
    std::size_t dropped = 0;
    for (std::size_t i = 0; i < 35; ++i) {
        const double expect = i < 15 ? top.flat(i) : bottom.flat(i - 15);
        CHECK(all.flat(i) == expect);
        dropped += all.flat(i) == 0.0;
    }
    CHECK(dropped > 0);
    CHECK(dropped < 35);
    // A second call after one key, another step or another seed draws other masks.
    const auto differs = [&](const Array& other) {
        for (std::size_t i = 0; i < 35; ++i) {
            if ((other.flat(i) == 0.0) != (all.flat(i) == 0.0)) return true;
        }
        return false;
    };
    CHECK(differs(whole(x).value()));
    whole.key(4, 0);
    CHECK(differs(whole(x).value()));
    Dropout other_seed(0.5, 12);
    other_seed.key(3, 0);
    CHECK(differs(other_seed(x).value()));
    // key_dropout reaches a Dropout inside a Sequential.
    auto net = std::make_shared<Sequential>();
    net->add(std::make_shared<Dropout>(0.5, 11));
    key_dropout(*net, 3, 0);
    const Array via_net = (*net)(x).value();
    for (std::size_t i = 0; i < 35; ++i) CHECK(via_net.flat(i) == all.flat(i));
}

TEST_CASE("minibatch SGD fits a small regression (the lecture's quadratic loss)") {
    Generator gen(9);
    auto net = Sequential::mlp("1-16-1", gen, {"tanh"});
    SGD opt(net->parameters(), SGDOptions(0.1).momentum(0.9));
    const Tensor x = Tensor::uniform({64, 1}, -2, 2, gen);
    const Tensor y = sin(x);
    double first = 0, last = 0;
    for (int epoch = 0; epoch < 300; ++epoch) {
        opt.zero_grad();
        const Tensor loss = mse_loss((*net)(x), y);
        loss.backward();
        opt.step();
        if (epoch == 0) first = loss.item();
        last = loss.item();
    }
    CHECK(last < 0.02 * first);
}

TEST_CASE("optimizer state with a step count that is not a whole number of steps is rejected") {
    const Tensor w = Tensor::from({0.5}, f64).requires_grad();
    Adam opt({{"w", w}}, {});
    CHECK_THROWS_WITH_AS(opt.load_state({{"step", Array::scalar(-1.0, f64)}}),
                         Contains("the step count 'step' is -1, not a whole number of steps"), io_error);
    CHECK_THROWS_AS(opt.load_state({{"step", Array::scalar(2.5, f64)}}), io_error);
}
