#include "adversarial_attack.hpp"

#include <adgraph/nn/loss.hpp>

#include "support.hpp"

namespace adversarial {

using namespace adg;

namespace {

// The classifier is frozen (outlook::load_classifier): a backward through it must leave its parameters without
// a gradient, or every attack step would also pay for (and store) the parameters' gradients.
void note_parameter_grads(const nn::LoadedModel& model, Probe& probe) {
    probe.after_backward(outlook::parameters_with_grad(*model.model));
}

// Called at the start of each PGD step, when the previous step's graph should be gone.
void note_step(Probe& probe) { probe.after_step(); }

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
    const Tensor g(input_gradient(model, x, labels, probe));
    return clamp(Tensor(x) + eps * sign(g), 0.0, 1.0).data<float>();
}
// [/fgsm]

// [pgd]
Pixels pgd(const nn::LoadedModel& model, const Pixels& x, const std::vector<std::size_t>& labels, double eps,
           const PgdOptions& options, Generator& gen, Probe& probe) {
    const double alpha = options.alpha_ratio * eps;
    // The feasible set: the L∞ ball of radius ε around x, intersected with the pixel range.
    const Tensor lo = clamp(Tensor(x) - eps, 0.0, 1.0), hi = clamp(Tensor(x) + eps, 0.0, 1.0);
    const auto project = [&](const Tensor& t) { return minimum(maximum(t, lo), hi); };
    Tensor adv(x);
    if (options.random_start && eps > 0) adv = project(adv + Tensor::uniform(adv.shape(), -eps, eps, gen));
    for (std::size_t step = 0; step < options.steps; ++step) {
        note_step(probe);
        adv = project(adv + alpha * sign(Tensor(input_gradient(model, adv.data<float>(), labels, probe))));
    }
    return adv.data<float>();
}
// [/pgd]

Tensor logits(const nn::LoadedModel& model, const Pixels& x) {
    NoGrad no_grad;
    return (*model.model)(outlook::as_model_input(outlook::from_unit(Tensor(x)), model.input));
}

}  // namespace adversarial
