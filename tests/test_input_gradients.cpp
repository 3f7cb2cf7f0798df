// Differentiating with respect to inputs (issue 19's engine points): a frozen model computes and stores no
// parameter gradient; two optimizers over disjoint parameter sets with detach between them, a model used twice in
// one graph (a GAN's steps); graph memory stays flat over many input-optimisation steps.
#include <doctest/doctest.h>

#include <adgraph/adgraph.hpp>
#include <adgraph/nn/linear.hpp>
#include <adgraph/nn/model_spec.hpp>
#include <adgraph/nn/optim.hpp>

#include <cmath>

using namespace adg;

namespace {

double sigma(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// A small CNN on (1, 8, 8) images in float64, frozen (eval mode, no parameter requires grad).
std::shared_ptr<nn::Sequential> frozen_cnn(Generator& gen) {
    nn::MlpOptions options;
    options.dtype = f64;
    auto model = nn::build_model("conv4k3p1,bn,relu,maxpool2,flatten,linear3", gen, options, {1, 8, 8});
    model->eval();
    model->requires_grad(false);
    return model;
}

// Records which inputs' reverse rules ran: a product x·w with a hand-written vjp per input.
CustomFunction counted_product(int (&calls)[2]) {
    CustomFunction f;
    f.name = "counted_product";
    f.forward = [](const std::vector<Tensor>& x) { return x[0] * x[1]; };
    f.jvp = [](const std::vector<Tensor>& x, const Tensor&, const std::vector<Tensor>& t) {
        Tensor r;
        if (t[0].defined()) r = t[0] * x[1];
        if (t[1].defined()) r = r.defined() ? r + x[0] * t[1] : x[0] * t[1];
        return r;
    };
    f.vjp = [&calls](const std::vector<Tensor>& x, const Tensor&, const Tensor& ct, std::size_t i) {
        ++calls[i];
        return ct * x[1 - i];
    };
    return f;
}

}  // namespace

TEST_CASE("a frozen model's backward pass gives the input's gradient and no parameter gradient") {
    Generator gen(3);
    auto model = frozen_cnn(gen);
    const Tensor x = Tensor::normal({2, 1, 8, 8}, 0.0, 1.0, gen, f64).requires_grad();
    sum((*model)(x)*Tensor::from({1.0, -2.0, 0.5}, f64)).backward();
    REQUIRE(x.grad().defined());
    for (const auto& [name, p] : model->named_parameters()) {
        CAPTURE(name);
        CHECK_FALSE(p.needs_grad());
        CHECK_FALSE(p.has_grad());
    }
    // The same gradient as with trainable parameters, whose gradients are then stored.
    model->requires_grad(true);
    const Tensor x2 = x.detach().requires_grad();
    sum((*model)(x2)*Tensor::from({1.0, -2.0, 0.5}, f64)).backward();
    CHECK(max(abs(x2.grad() - x.grad())).item() == 0.0);
    CHECK(model->parameters().front().grad().defined());
}

TEST_CASE("the reverse sweep runs no rule for an input that does not require grad") {
    int calls[2] = {0, 0};
    const CustomFunction f = counted_product(calls);
    const Tensor x = Tensor::from({1.0, 2.0}, f64).requires_grad();
    Tensor w = Tensor::from({3.0, 4.0}, f64);
    sum(call(f, {x, w})).backward();
    CHECK(calls[0] == 1);
    CHECK(calls[1] == 0);  // w's gradient is neither computed nor stored
    CHECK(x.grad().item(1) == 4.0);
    w.requires_grad();
    sum(call(f, {x, w})).backward();
    CHECK(calls[1] == 1);  // the count does see a computed gradient
}

TEST_CASE("a GAN's two steps: two optimizers, detached fakes, the discriminator used twice in one graph") {
    Generator gen(5);
    const nn::Linear g(1, 1, gen, true, nn::Init::uniform, f64), d(1, 1, gen, true, nn::Init::uniform, f64);
    nn::SGD opt_g({g.weight(), g.bias()}, nn::SGDOptions(0.1));
    nn::SGD opt_d({d.weight(), d.bias()}, nn::SGDOptions(0.1));
    const Tensor real = Tensor::from({1.0, 2.0, 0.5}, {3, 1}, f64);
    const Tensor z = Tensor::from({-1.0, 0.3, 2.0}, {3, 1}, f64);
    const auto D = [&](const Tensor& t) { return linear(t, d.weight(), d.bias()); };
    const auto G = [&](const Tensor& t) { return linear(t, g.weight(), g.bias()); };
    const double wg = g.weight().item(0, 0), bg = g.bias().item(0), wd = d.weight().item(0, 0), bd = d.bias().item(0);

    // Discriminator step: real and detached fake batches through D in one loss.
    const Tensor fake = G(z).detach();
    const Tensor loss_d = mean(softplus(-D(real))) + mean(softplus(D(fake)));
    loss_d.backward();
    CHECK_FALSE(g.weight().has_grad());  // the fakes were detached: nothing reaches G
    double grad_wd = 0;                  // d/dwd of (1/3)Σ softplus(−D(r)) + (1/3)Σ softplus(D(f))
    for (int i = 0; i < 3; ++i) {
        const double r = real.item(i, 0), f = wg * z.item(i, 0) + bg;
        grad_wd += (-sigma(-(wd * r + bd)) * r + sigma(wd * f + bd) * f) / 3.0;
    }
    CHECK(d.weight().grad().item(0, 0) == doctest::Approx(grad_wd).epsilon(1e-12));
    opt_d.step();
    const double wd1 = d.weight().item(0, 0), bd1 = d.bias().item(0);
    CHECK(wd1 != wd);
    opt_d.zero_grad();

    // Generator step: the non-saturating loss through D; only G's optimizer steps.
    const Tensor loss_g = mean(softplus(-D(G(z))));
    loss_g.backward();
    double grad_wg = 0;  // d/dwg of (1/3)Σ softplus(−(wd·(wg·z + bg) + bd))
    for (int i = 0; i < 3; ++i) grad_wg += -sigma(-(wd1 * (wg * z.item(i, 0) + bg) + bd1)) * wd1 * z.item(i, 0) / 3.0;
    CHECK(g.weight().grad().item(0, 0) == doctest::Approx(grad_wg).epsilon(1e-12));
    opt_g.step();
    CHECK(g.weight().item(0, 0) == doctest::Approx(wg - 0.1 * grad_wg).epsilon(1e-12));
    CHECK(d.weight().item(0, 0) == wd1);  // D's gradient is there, but its optimizer did not step
    CHECK(d.bias().item(0) == bd1);
}

TEST_CASE("graph nodes stay flat over a thousand steps of optimising an input") {
    Generator gen(4);
    auto model = frozen_cnn(gen);
    const Tensor x = Tensor::normal({1, 1, 8, 8}, 0.0, 0.1, gen, f64).requires_grad();
    nn::Adam opt({x}, nn::AdamOptions(0.05));
    long at_step_1 = 0, at_last_step = 0;  // between steps, when no step's graph is alive
    double first_score = 0, score = 0;
    for (int step = 0; step < 1000; ++step) {
        if (step == 1) at_step_1 = live_node_count();
        at_last_step = live_node_count();
        const Tensor objective = index_select((*model)(x), 1, {2});  // class 2's score, ascended
        score = objective.item();
        (-sum(objective) + 0.01 * sum(square(x))).backward();
        opt.step();
        opt.zero_grad();
        if (step == 0) first_score = score;
    }
    CHECK(at_last_step == at_step_1);
    CHECK(score > first_score + 1.0);  // the steps did optimise the input
    for (const Tensor& p : model->parameters()) CHECK_FALSE(p.has_grad());
}
