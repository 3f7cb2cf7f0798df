#include "gru_setup.hpp"

#include <cmath>

namespace adg::bench {

std::string GruConfig::model() const {
    return format("gru %zu-%zu (%zu steps, batch-first, last state), linear %zu-%zu", input, hidden, steps, hidden,
                  classes);
}

std::string GruConfig::optimizer_line() const {
    const std::string c = clip > 0 ? format(", clip_grad_norm %g", clip) : std::string(", no clipping");
    return format("adam lr %g betas 0.9/0.999 eps 1e-08", lr) + c;
}

GruInit initial_gru(const GruConfig& cfg, std::uint64_t seed) {
    GruInit init;
    // initial_layers draws U(−1/√in, 1/√in); every GRU parameter's bound is 1/√hidden, so weight_ih and bias_ih
    // (drawn with in = input) are rescaled by √input/√hidden, exactly the same on every engine.
    init.ih = initial_layers({cfg.input, 3 * cfg.hidden}, seed).front();
    const double scale = std::sqrt(static_cast<double>(cfg.input) / static_cast<double>(cfg.hidden));
    for (float& w : init.ih.weight) w = static_cast<float>(w * scale);
    for (float& b : init.ih.bias) b = static_cast<float>(b * scale);
    init.hh = initial_layers({cfg.hidden, 3 * cfg.hidden}, seed + 1).front();
    init.fc = initial_layers({cfg.hidden, cfg.classes}, seed + 2).front();
    return init;
}

double gru_step_flops(const GruConfig& cfg, std::size_t rows) {
    const double b = static_cast<double>(rows), g = 3.0 * static_cast<double>(cfg.hidden);
    const double i = static_cast<double>(cfg.input), h = static_cast<double>(cfg.hidden);
    const double c = static_cast<double>(cfg.classes);
    const double per_step = 2 * b * g * (i + h)    // forward
                            + 2 * b * g * (i + h)  // dW_ih, dW_hh
                            + 2 * b * g * h;       // dh
    return static_cast<double>(cfg.steps) * per_step + 3 * 2 * b * h * c;
}

}  // namespace adg::bench
