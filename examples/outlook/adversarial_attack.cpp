#include "adversarial_attack.hpp"

#include <algorithm>

#include <xtensor/xmath.hpp>

#include <adgraph/nn/loss.hpp>

#include "support.hpp"

namespace adversarial {

using namespace adg;

namespace {

// The classifier is frozen (outlook::load_classifier): a backward through it must leave its parameters without
// a gradient, or every attack step would also pay for (and store) the parameters' gradients.
void note_parameter_grads(const nn::LoadedModel& model, Probe& probe) {
    ++probe.backwards;
    for (const auto& [name, p] : model.model->named_parameters())
        if (p.has_grad()) probe.parameter_grad = true;
}

// Called at the start of each PGD step, when the previous step's graph should be gone.
void note_step(Probe& probe) {
    const long nodes = live_node_count();
    if (probe.nodes_first < 0) probe.nodes_first = nodes;
    probe.nodes_most = std::max(probe.nodes_most, nodes);
    // After a few steps the allocator has its working set; growth from there on would be a leak.
    if (++probe.steps == 3) probe.rss_start = outlook::rss_bytes();
}

}  // namespace

// [fgsm]
Pixels input_gradient(const nn::LoadedModel& model, const Pixels& pixels, const std::vector<std::size_t>& labels,
                      Probe& probe) {
    const Tensor x = Tensor(pixels).requires_grad();
    const Tensor input = outlook::as_model_input(outlook::from_unit(x), model.input);
    // Summed, not averaged, so each image's gradient is its own loss's, whatever the batch size.
    const Tensor loss = nn::cross_entropy((*model.model)(input), labels, nn::Reduction::sum);
    loss.backward();
    note_parameter_grads(model, probe);
    return x.grad().data<float>();
}

Pixels fgsm(const nn::LoadedModel& model, const Pixels& x, const std::vector<std::size_t>& labels, double eps,
            Probe& probe) {
    const float e = static_cast<float>(eps);
    return xt::clip(x + e * xt::sign(input_gradient(model, x, labels, probe)), 0.0f, 1.0f);
}
// [/fgsm]

// [pgd]
Pixels pgd(const nn::LoadedModel& model, const Pixels& x, const std::vector<std::size_t>& labels, double eps,
           const PgdOptions& options, Generator& gen, Probe& probe) {
    const float e = static_cast<float>(eps), alpha = static_cast<float>(options.alpha_ratio * eps);
    // The feasible set: the L∞ ball of radius ε around x, intersected with the pixel range.
    const Pixels lo = xt::maximum(x - e, 0.0f), hi = xt::minimum(x + e, 1.0f);
    Pixels adv = x;
    if (options.random_start && eps > 0) {
        const Tensor noise = Tensor::uniform({x.shape()[0], x.shape()[1]}, -eps, eps, gen);
        adv = xt::clip(x + noise.data<float>(), lo, hi);
    }
    for (std::size_t step = 0; step < options.steps; ++step) {
        note_step(probe);
        adv = xt::clip(adv + alpha * xt::sign(input_gradient(model, adv, labels, probe)), lo, hi);
    }
    return adv;
}
// [/pgd]

Tensor logits(const nn::LoadedModel& model, const Pixels& x) {
    NoGrad no_grad;
    return (*model.model)(outlook::as_model_input(outlook::from_unit(Tensor(x)), model.input));
}

}  // namespace adversarial
