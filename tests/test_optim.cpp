// nn/optim and nn/schedule: optimizers over module.parameters() or named parameters, libtorch-style options, each
// option's effect against PyTorch's update formula on a hand-computed one-parameter case, schedulers attached to an
// optimizer, and optimizer state.

#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <vector>

#include <adgraph/adgraph.hpp>
#include <adgraph/nn/activation.hpp>
#include <adgraph/nn/linear.hpp>
#include <adgraph/nn/loss.hpp>
#include <adgraph/nn/optim.hpp>
#include <adgraph/nn/schedule.hpp>
#include <adgraph/nn/sequential.hpp>

using namespace adg;
using namespace adg::nn;
using doctest::Contains;

namespace {

// Five full-batch steps of a 4-8-3 tanh MLP from the same initial weights and data; returns the final parameters.
// `make` builds the optimizer from the model (over parameters() or named_parameters()).
std::vector<Array> train_mlp(
    const std::function<std::unique_ptr<Optimizer>(const std::shared_ptr<Sequential>&)>& make) {
    Generator gen(3);
    auto net = Sequential::mlp("4-8-3", gen, {"tanh"});
    const Tensor x = Tensor::normal({16, 4}, 0, 1, gen);
    const Tensor y = Tensor::normal({16, 3}, 0, 1, gen);
    auto opt = make(net);
    for (int step = 0; step < 5; ++step) {
        opt->zero_grad();
        mse_loss((*net)(x), y).backward();
        opt->step();
    }
    std::vector<Array> out;
    for (const Tensor& p : net->parameters()) out.push_back(p.value().clone());
    return out;
}

bool bitwise_equal(const std::vector<Array>& a, const std::vector<Array>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (a[i].shape() != b[i].shape()) return false;
        for (std::size_t j = 0; j < a[i].size(); ++j) {
            if (a[i].flat(j) != b[i].flat(j)) return false;
        }
    }
    return true;
}

// The parameter after each of `steps` updates of `opt` on loss p² (so g = 2p), starting from the value `w` holds.
std::vector<double> run_square(Optimizer& opt, const Tensor& w, int steps) {
    std::vector<double> out;
    for (int k = 0; k < steps; ++k) {
        opt.zero_grad();
        sum(w * w).backward();
        opt.step();
        out.push_back(w.value().flat(0));
    }
    return out;
}

}  // namespace

TEST_CASE("optimizers over module.parameters() give bitwise the parameters of the named form") {
    using Net = std::shared_ptr<Sequential>;
    const auto first = train_mlp(
        [](const Net& net) { return std::make_unique<SGD>(net->named_parameters(), SGDOptions(0.1).momentum(0.9)); });
    // The form a libtorch user writes: net->parameters(), options by chained calls.
    const auto plain = train_mlp(
        [](const Net& net) { return std::make_unique<SGD>(net->parameters(), SGDOptions(0.1).momentum(0.9)); });
    CHECK(bitwise_equal(first, plain));
    const auto untrained = train_mlp([](const Net& net) {
        return std::make_unique<SGD>(net->parameters(), SGDOptions(1e-30));  // moves by far less than an ulp
    });
    CHECK(!bitwise_equal(first, untrained));  // the comparison can fail: training moved the weights

    for (const bool decoupled : {false, true}) {
        CAPTURE(decoupled);
        const auto make = [&](bool named) {
            return train_mlp([=](const Net& net) -> std::unique_ptr<Optimizer> {
                if (decoupled) {
                    const auto o = AdamWOptions(0.01).betas({0.8, 0.99}).weight_decay(0.1);
                    if (named) return std::make_unique<AdamW>(net->named_parameters(), o);
                    return std::make_unique<AdamW>(net->parameters(), o);
                }
                const auto o = AdamOptions(0.01).betas({0.8, 0.99}).weight_decay(0.1);
                if (named) return std::make_unique<Adam>(net->named_parameters(), o);
                return std::make_unique<Adam>(net->parameters(), o);
            });
        };
        CHECK(bitwise_equal(make(true), make(false)));
    }
}

TEST_CASE("nn::SGD opt(net->parameters(), ...) and net.parameters() compile as in libtorch") {
    Generator gen(1);
    auto net = Sequential::mlp("2-3-1", gen);
    SGD opt(net->parameters(), SGDOptions(0.1).momentum(0.9));
    Sequential seq;
    seq.add(std::make_shared<Linear>(2, 1, gen));
    Adam adam(seq.parameters());  // AdamOptions() defaults, as libtorch's
    AdamW adamw(seq.parameters(), {});
    CHECK(adam.lr() == 1e-3);
    CHECK(adamw.options().weight_decay() == 1e-2);  // AdamW's default, as libtorch's
    CHECK(adam.options().weight_decay() == 0);
    CHECK(std::get<1>(adam.options().betas()) == 0.999);
    SGD brace(net->parameters(), {0.5});  // SGDOptions(double) reads from braces
    CHECK(brace.lr() == 0.5);
    CHECK(brace.options().momentum() == 0);
    // Plain tensors are named by position: the names their state is saved under.
    REQUIRE(opt.named_parameters().size() == 4);
    CHECK(opt.named_parameters()[3].first == "3");
    CHECK(opt.named_parameters()[3].second.node() == net->parameters()[3].node());
}

TEST_CASE("SGD: lr, weight decay, momentum, dampening and Nesterov each as PyTorch's formula (two steps by hand)") {
    // p0 = 1, loss p², g = 2p, lr 0.1. d = g + wd·p; b = d on the first step, then μ·b + (1 − dampening)·d;
    // the step is b, or d + μ·b with Nesterov; p -= lr·step.
    const auto two_steps = [](const SGDOptions& o) {
        const Tensor w = Tensor::from({1.0}, f64).requires_grad();
        SGD opt({w}, o);
        return run_square(opt, w, 2);
    };
    const auto near = [](double a, double b) { return a == doctest::Approx(b).epsilon(1e-14); };
    // Plain: p1 = 1 − 0.1·2 = 0.8; p2 = 0.8 − 0.1·1.6 = 0.64.
    auto p = two_steps(SGDOptions(0.1));
    CHECK(near(p[0], 0.8));
    CHECK(near(p[1], 0.64));
    // Weight decay 0.01: d = 2.01·p, so each step multiplies p by 1 − 0.201.
    p = two_steps(SGDOptions(0.1).weight_decay(0.01));
    CHECK(near(p[0], 0.799));
    CHECK(near(p[1], 0.799 * 0.799));
    // Momentum 0.9 with weight decay 0.01: b1 = d1 = 2.01, p1 = 0.799; d2 = 2.01·0.799 = 1.60599,
    // b2 = 0.9·2.01 + 1.60599 = 3.41499, p2 = 0.799 − 0.341499 = 0.457501 (libtorch 1.13 prints the same).
    p = two_steps(SGDOptions(0.1).momentum(0.9).weight_decay(0.01));
    CHECK(near(p[0], 0.799));
    CHECK(near(p[1], 0.457501));
    // Nesterov: step1 = d1 + 0.9·b1 = 2.01 + 1.809 = 3.819, p1 = 0.6181; d2 = 2.01·0.6181 = 1.242381,
    // b2 = 1.809 + 1.242381 = 3.051381, step2 = 1.242381 + 0.9·3.051381 = 3.9886239, p2 = 0.21923761 (libtorch too).
    p = two_steps(SGDOptions(0.1).momentum(0.9).weight_decay(0.01).nesterov(true));
    CHECK(near(p[0], 0.6181));
    CHECK(near(p[1], 0.21923761));
    // Dampening 0.5 (the first step is undamped): b1 = 2, p1 = 0.8; d2 = 1.6, b2 = 0.9·2 + 0.5·1.6 = 2.6,
    // p2 = 0.8 − 0.26 = 0.54.
    p = two_steps(SGDOptions(0.1).momentum(0.9).dampening(0.5));
    CHECK(near(p[0], 0.8));
    CHECK(near(p[1], 0.54));
}

TEST_CASE("Adam with weight decay vs AdamW, as PyTorch's formulas") {
    // p0 = 0.5, loss p², lr 0.01, betas (0.9, 0.99), eps 1e-8, weight decay 0.1. The reference is the update written
    // out here; libtorch 1.13 gives 0.49000000009523809, 0.48000531907465088 (Adam) and 0.4895000001,
    // 0.47901611491591101 (AdamW) for the same case.
    const auto reference = [](bool decoupled) {
        double p = 0.5, m = 0, v = 0;
        std::vector<double> out;
        for (int t = 1; t <= 3; ++t) {
            double d = 2 * p;
            if (decoupled) {
                p -= 0.01 * 0.1 * p;
            } else {
                d += 0.1 * p;
            }
            m = 0.9 * m + 0.1 * d;
            v = 0.99 * v + 0.01 * d * d;
            p -= 0.01 * (m / (1 - std::pow(0.9, t))) / (std::sqrt(v / (1 - std::pow(0.99, t))) + 1e-8);
            out.push_back(p);
        }
        return out;
    };
    const Tensor a = Tensor::from({0.5}, f64).requires_grad();
    Adam adam({a}, AdamOptions(0.01).betas({0.9, 0.99}).eps(1e-8).weight_decay(0.1));
    const auto pa = run_square(adam, a, 3);
    const Tensor b = Tensor::from({0.5}, f64).requires_grad();
    AdamW adamw({b}, AdamWOptions(0.01).betas({0.9, 0.99}).eps(1e-8).weight_decay(0.1));
    const auto pb = run_square(adamw, b, 3);
    const auto ra = reference(false), rb = reference(true);
    for (int t = 0; t < 3; ++t) {
        CHECK(pa[t] == doctest::Approx(ra[t]).epsilon(1e-13));
        CHECK(pb[t] == doctest::Approx(rb[t]).epsilon(1e-13));
    }
    CHECK(pa[0] == doctest::Approx(0.49000000009523809).epsilon(1e-13));
    CHECK(pa[1] == doctest::Approx(0.48000531907465088).epsilon(1e-13));
    CHECK(pb[0] == doctest::Approx(0.4895000001).epsilon(1e-13));
    CHECK(pb[1] == doctest::Approx(0.47901611491591101).epsilon(1e-13));
    // The two decays differ: the coupled one passes through the moments, the decoupled one does not.
    CHECK(std::abs(pa[2] - pb[2]) > 1e-4);
    CHECK(adam.name() == "adam");
    CHECK(adamw.name() == "adamw");
}

TEST_CASE("Adam with AMSGrad divides by the largest second moment seen (PyTorch's formula)") {
    // p0 = 0.5, loss p², lr 0.4, betas (0.5, 0.5): v is 0.5 after the first step and falls to 0.27 after the second,
    // so from the second step on AMSGrad divides by v_max = 0.5 and moves less than Adam.
    const auto reference = [](bool amsgrad) {
        double p = 0.5, m = 0, v = 0, v_max = 0;
        std::vector<double> out;
        for (int t = 1; t <= 3; ++t) {
            const double g = 2 * p;
            m = 0.5 * m + 0.5 * g;
            v = 0.5 * v + 0.5 * g * g;
            v_max = std::max(v_max, v);
            const double c = 1 - std::pow(0.5, t);
            p -= 0.4 * (m / c) / (std::sqrt((amsgrad ? v_max : v) / c) + 1e-8);
            out.push_back(p);
        }
        return out;
    };
    std::vector<double> got[2];
    for (const bool amsgrad : {false, true}) {
        const Tensor w = Tensor::from({0.5}, f64).requires_grad();
        Adam opt({w}, AdamOptions(0.4).betas({0.5, 0.5}).amsgrad(amsgrad));
        got[amsgrad] = run_square(opt, w, 3);
        const auto ref = reference(amsgrad);
        for (int t = 0; t < 3; ++t) CHECK(got[amsgrad][t] == doctest::Approx(ref[t]).epsilon(1e-13));
        CHECK(opt.state().size() == (amsgrad ? 4 : 3));  // v_max is a third slot
    }
    CHECK(got[0][0] == got[1][0]);
    CHECK(std::abs(got[0][1] - got[1][1]) > 0.05);
}

TEST_CASE("StepLR attached to an optimizer sets the rate each step uses (PyTorch's sequence)") {
    // Loss sum(w), g = 1: each SGD step moves w by exactly −lr, so w records the rates the steps used.
    const Tensor w = Tensor::from({0.0}, f64).requires_grad();
    SGD opt({w}, SGDOptions(1.0));
    StepLR sched(opt, 2, 0.5);
    // lr = 1·0.5^⌊n/2⌋ after n scheduler steps: 1, 1, 0.5, 0.5, 0.25, 0.25.
    const double expected[] = {1.0, 1.0, 0.5, 0.5, 0.25, 0.25};
    double moved = 0;
    for (int n = 0; n < 6; ++n) {
        CHECK(opt.lr() == expected[n]);
        CHECK(sched.lr_at(static_cast<std::size_t>(n)) == expected[n]);
        opt.zero_grad();
        sum(w).backward();
        opt.step();
        sched.step();
        moved += expected[n];
        CHECK(w.value().flat(0) == -moved);
    }
    CHECK(sched.step_count() == 6);
    CHECK(opt.lr() == 0.125);
    sched.set_step_count(1);  // resuming: the rate follows the position
    CHECK(opt.lr() == 1.0);
    CHECK(sched.to_string() == "step(lr=1, every=2, gamma=0.5)");
}

TEST_CASE("CosineAnnealingLR sets the cosine sequence computed by hand, with and without warm-up") {
    const Tensor w = Tensor::from({0.0}, f64).requires_grad();
    SGD opt({w}, SGDOptions(1.0));
    {
        // eta_min + (1 − eta_min)·(1 + cos(π·n/4))/2 with eta_min 0.1: n = 1 and 3 sit at cos = ±√½.
        CosineAnnealingLR sched(opt, 4, 0.1);
        const double h = std::sqrt(0.5);
        const double expected[] = {1.0, 0.1 + 0.45 * (1 + h), 0.55, 0.1 + 0.45 * (1 - h), 0.1, 0.1};
        for (const double e : expected) {
            CHECK(opt.lr() == doctest::Approx(e).epsilon(1e-15));
            sched.step();
        }
        CHECK(sched.to_string() == "cosine(lr=1, steps=4, warmup=0, min=0.1)");
    }
    opt.set_lr(0.1);
    {
        // Warm-up over 2 steps (0.1·(n+1)/2), then half a cosine from 0.1 to 0 over steps 2 to 6; lr 0 at the end.
        CosineAnnealingLR sched(opt, 6, 0.0, 2);
        const double h = std::sqrt(0.5);
        const double expected[] = {0.05, 0.1, 0.1, 0.05 * (1 + h), 0.05, 0.05 * (1 - h), 0.0, 0.0};
        for (const double e : expected) {
            CHECK(opt.lr() == doctest::Approx(e).epsilon(1e-15));
            sched.step();
        }
    }
}

TEST_CASE("LambdaLR and the CLI's schedules by name") {
    const Tensor w = Tensor::from({0.0}, f64).requires_grad();
    SGD opt({w}, SGDOptions(0.3));
    LambdaLR lambda(opt, [](std::size_t n) { return 1.0 / static_cast<double>(n + 1); });
    lambda.step();
    lambda.step();
    CHECK(opt.lr() == doctest::Approx(0.1).epsilon(1e-15));
    opt.set_lr(0.1);
    // The CLI's cosine: warm-up of 10 steps over a run of 100 (0.01 at step 0, the full rate at step 9).
    const auto cosine = make_scheduler("cosine", opt, 100, 10);
    CHECK(opt.lr() == doctest::Approx(0.01));
    CHECK(cosine->lr_at(9) == doctest::Approx(0.1));
    CHECK(cosine->lr_at(55) == doctest::Approx(0.05));
    CHECK(cosine->to_string() == "cosine(lr=0.1, steps=100, warmup=10, min=0)");
    opt.set_lr(0.1);
    const auto step = make_scheduler("step", opt, 9, 0);  // ×0.1 every third of the run
    CHECK(step->lr_at(2) == 0.1);
    CHECK(step->lr_at(3) == doctest::Approx(0.01));
    const auto constant = make_scheduler("constant", opt, 9, 0);
    CHECK(constant->lr_at(8) == 0.1);
    CHECK(constant->to_string() == "constant(lr=0.1)");
    CHECK_THROWS_WITH_AS(make_scheduler("linear", opt, 10, 0), Contains("schedule 'linear' is unknown"), value_error);
}

TEST_CASE("optimizer state over plain tensors is saved by position and a restored run continues bitwise") {
    for (const bool adam : {false, true}) {
        CAPTURE(adam);
        const auto make = [&](const Tensor& w, const Tensor& b) -> std::unique_ptr<Optimizer> {
            if (adam) return std::make_unique<AdamW>(std::vector<Tensor>{w, b}, AdamWOptions(0.05));
            return std::make_unique<SGD>(std::vector<Tensor>{w, b}, SGDOptions(0.05).momentum(0.9).dampening(0.3));
        };
        const auto loss = [](const Tensor& w, const Tensor& b) { return sum(square(w * b - 1.0)); };
        const auto step = [&](Optimizer& o, const Tensor& w, const Tensor& b) {
            o.zero_grad();
            loss(w, b).backward();
            o.step();
        };
        const Tensor w = Tensor::from({0.5, -1.5}, f64).requires_grad(), b = Tensor::from({2.0}, f64).requires_grad();
        auto whole = make(w, b);
        for (int k = 0; k < 4; ++k) step(*whole, w, b);

        const Tensor w2 = Tensor::from({0.5, -1.5}, f64).requires_grad(), b2 = Tensor::from({2.0}, f64).requires_grad();
        auto first = make(w2, b2);
        for (int k = 0; k < 2; ++k) step(*first, w2, b2);
        const NamedArrays state = first->state();
        CHECK(state.front().first == (adam ? "0.m" : "0.momentum"));
        CHECK(state.back().first == "step");
        auto resumed = make(w2, b2);
        resumed->load_state(state);
        CHECK(resumed->steps() == 2);
        for (int k = 0; k < 2; ++k) step(*resumed, w2, b2);
        CHECK(w2.value().flat(0) == w.value().flat(0));
        CHECK(w2.value().flat(1) == w.value().flat(1));
        CHECK(b2.value().flat(0) == b.value().flat(0));
        // Without the state, the momentum/moments start over and the run differs.
        const Tensor w3 = Tensor::from({0.5, -1.5}, f64).requires_grad(), b3 = Tensor::from({2.0}, f64).requires_grad();
        auto restarted = make(w3, b3);
        for (int k = 0; k < 2; ++k) step(*restarted, w3, b3);
        auto fresh = make(w3, b3);
        for (int k = 0; k < 2; ++k) step(*fresh, w3, b3);
        CHECK(w3.value().flat(0) != w.value().flat(0));
    }
    const Tensor wrong = Tensor::from({0.5, 1.0}, f64).requires_grad();
    Adam mismatched({{"w", wrong}});
    const Tensor w = Tensor::from({0.5}, f64).requires_grad();
    Adam saved({{"w", w}});
    run_square(saved, w, 1);
    CHECK_THROWS_WITH_AS(mismatched.load_state(saved.state()),
                         Contains("slot 'w.m' is float64 (1) but the parameter is"), io_error);
}

TEST_CASE("bad options and parameters name the optimizer, the option and the remedy") {
    const Tensor w = Tensor::ones({2}).requires_grad();
    CHECK_THROWS_WITH_AS(SGD({w}, SGDOptions(0.0)),
                         "SGD: lr must be a finite number > 0 (got 0); pass SGDOptions(lr) with lr > 0", value_error);
    CHECK_THROWS_WITH_AS(SGD({w}, SGDOptions(0.1).momentum(-0.5)),
                         Contains("SGD: momentum must be in [0, 1) (got -0.5)"), value_error);
    CHECK_THROWS_WITH_AS(SGD({w}, SGDOptions(0.1).momentum(0.9).dampening(0.1).nesterov(true)),
                         Contains("(got momentum 0.9, dampening 0.1)"), value_error);
    CHECK_THROWS_WITH_AS(Adam({w}, AdamOptions().betas({-0.1, 0.9})), Contains("Adam: betas must be in [0, 1)"),
                         value_error);
    CHECK_THROWS_WITH_AS(AdamW({w}, AdamWOptions(std::nan(""))), Contains("AdamW: lr must be a finite number > 0"),
                         value_error);
    // A module's frozen parameter is named by its path.
    Generator gen(2);
    auto net = Sequential::mlp("2-2", gen);
    net->parameters()[1].requires_grad(false);
    CHECK_THROWS_WITH_AS(SGD(net->named_parameters(), SGDOptions(0.1)),
                         Contains("SGD: parameter '0.bias' does not require grad"), value_error);
    CHECK_THROWS_WITH_AS(Adam({{"a", w}, {"b", w}}),
                         Contains("Adam: parameter 'b' is the same tensor as parameter 'a'"), value_error);
    SGD opt({w}, SGDOptions(0.1));
    CHECK_THROWS_AS(opt.set_lr(std::nan("")), value_error);
    opt.set_lr(0);  // a schedule may end at 0
    CHECK(opt.lr() == 0);
}

namespace {

constexpr double inf_norm = std::numeric_limits<double>::infinity();

// w (2) and b (1) in float64 whose gradients are g_w and g_b, by one backward of Σ w·g_w + Σ b·g_b.
std::pair<Tensor, Tensor> with_grads(const std::vector<double>& g_w, double g_b, Dtype dtype = f64) {
    const Tensor w = Tensor::from({0.5, -1.0}, dtype).requires_grad(), b = Tensor::from({2.0}, dtype).requires_grad();
    (sum(w * Tensor::from(g_w, {2}, dtype)) + sum(b * g_b)).backward();
    return {w, b};
}

}  // namespace

TEST_CASE("clip_grad_norm: the total norm over all gradients, scaled by max_norm / (total + 1e-6) as PyTorch's") {
    // Gradients (3, 4) and (12): total 2-norm 13, 1-norm 19, ∞-norm 12; a parameter without grad is skipped.
    auto [w, b] = with_grads({3, 4}, 12);
    const Tensor frozen = Tensor::from({1.0, 2.0}, f64).requires_grad();
    CHECK(clip_grad_norm({w, frozen, b}, 20.0) == 13.0);  // below max_norm: nothing changes
    CHECK(w.grad().value().flat(0) == 3.0);
    CHECK(w.grad().value().flat(1) == 4.0);
    CHECK(b.grad().value().flat(0) == 12.0);
    CHECK(clip_grad_norm({w, b}, 20.0, 1) == 19.0);
    CHECK(clip_grad_norm({w, b}, 20.0, inf_norm) == 12.0);
    CHECK(clip_grad_norm({w, b}, 2000.0, 3) == doctest::Approx(std::cbrt(27.0 + 64.0 + 1728.0)).epsilon(1e-15));
    CHECK(!frozen.has_grad());

    const Tensor before = w.grad().detach();  // shares the gradient's buffer, which clipping copies before writing
    CHECK(clip_grad_norm({w, frozen, b}, 6.5) == 13.0);
    const double coef = 6.5 / (13.0 + 1e-6);
    CHECK(w.grad().value().flat(0) == 3.0 * coef);
    CHECK(w.grad().value().flat(1) == 4.0 * coef);
    CHECK(b.grad().value().flat(0) == 12.0 * coef);
    CHECK(before.value().flat(0) == 3.0);
    // Clipped once, the norm is max_norm·13/(13 + 1e-6), still above max_norm − 1e-6, so (as in PyTorch) a second
    // call scales once more, by a factor just below 1.
    const double total = 13.0 * coef, coef2 = 6.5 / (total + 1e-6);
    CHECK(clip_grad_norm({w, b}, 6.5) == doctest::Approx(total).epsilon(1e-15));
    CHECK(w.grad().value().flat(0) == doctest::Approx(3.0 * coef * coef2).epsilon(1e-15));
    CHECK(coef2 < 1);
    // By the ∞-norm: 12 → 6.
    auto [w2, b2] = with_grads({3, -4}, -12);
    CHECK(clip_grad_norm({w2, b2}, 6.0, inf_norm) == 12.0);
    CHECK(b2.grad().value().flat(0) == -12.0 * (6.0 / (12.0 + 1e-6)));
    CHECK(clip_grad_norm({frozen}, 1.0) == 0.0);
}

TEST_CASE("clip_grad_norm: float32 gradients, and float64 gradients whose squares overflow") {
    auto [w, b] = with_grads({3, 4}, 0, f32);
    CHECK(clip_grad_norm({w, b}, 1.0) == 5.0);
    CHECK(w.grad().dtype() == f32);
    CHECK(w.grad().value().flat(0) == doctest::Approx(0.6).epsilon(1e-6));
    CHECK(w.grad().value().flat(1) == doctest::Approx(0.8).epsilon(1e-6));
    // 1e200² overflows a double; the norm is still 1e200·√2 and the gradients end at norm 1.
    auto [u, c] = with_grads({1e200, -1e200}, 0);
    CHECK(clip_grad_norm({u, c}, 1.0) == doctest::Approx(1e200 * std::sqrt(2.0)).epsilon(1e-14));
    CHECK(u.grad().value().flat(0) == doctest::Approx(1 / std::sqrt(2.0)).epsilon(1e-14));
    CHECK(u.grad().value().flat(1) == doctest::Approx(-1 / std::sqrt(2.0)).epsilon(1e-14));
}

TEST_CASE("clip_grad_norm: NaN or infinite gradients and bad arguments raise errors and change nothing") {
    for (double bad : {std::nan(""), inf_norm}) {
        for (double p : {2.0, 1.0, inf_norm}) {
            CAPTURE(bad);
            CAPTURE(p);
            auto [w, b] = with_grads({1, 2}, bad);
            CHECK_THROWS_WITH_AS(clip_grad_norm({w, b}, 1.0, p),
                                 "clip_grad_norm: the gradient of parameter 1 (1) holds NaN or infinity, so the total "
                                 "norm is not finite (nothing was scaled); find the op that made it with anomaly "
                                 "mode, or lower the learning rate",
                                 value_error);
            CHECK(w.grad().value().flat(1) == 2.0);
        }
    }
    auto [w, b] = with_grads({1, 2}, 3);
    for (double m : {0.0, -1.0, std::nan(""), inf_norm}) {
        CHECK_THROWS_WITH_AS(clip_grad_norm({w, b}, m),
                             Contains("clip_grad_norm: max_norm must be a finite number > 0"), value_error);
    }
    for (double p : {0.0, -2.0, std::nan("")}) {
        CHECK_THROWS_WITH_AS(clip_grad_norm({w, b}, 1.0, p),
                             Contains("clip_grad_norm: norm_type must be a number > 0 or INFINITY"), value_error);
    }
    CHECK(w.grad().value().flat(1) == 2.0);
    // A gradient recorded for higher order (create_graph) is part of a graph: not scaled in place.
    const Tensor x = Tensor::from({1.0, 2.0}, f64).requires_grad();
    sum(x * x * x).backward(BackwardOptions{false, true});
    CHECK_THROWS_WITH_AS(clip_grad_norm({x}, 1.0), Contains("clip_grad_norm: the gradient of parameter 0 was recorded"),
                         graph_error);
    x.zero_grad();  // the recorded gradient refers to x through its graph: a cycle until it is dropped
}
