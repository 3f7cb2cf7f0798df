#include "support.hpp"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <utility>

#include <unistd.h>

namespace outlook {

using namespace adg;

nn::Dataset load_split(const std::string& program, const std::string& dir, nn::Split split, std::size_t limit) {
    try {
        return nn::load_fashion_mnist(dir, split, limit);
    } catch (const error& e) {
        std::fprintf(stderr, "%s: %s\n", program.c_str(), e.what());
        std::exit(std::filesystem::is_directory(dir) ? 1 : 77);
    }
}

nn::LoadedModel load_classifier(const std::string& program, const std::string& path) {
    try {
        nn::LoadedModel m = nn::load_model(path);
        m.model->requires_grad(false);
        return m;
    } catch (const error& e) {
        std::fprintf(stderr, "%s: %s\n", program.c_str(), e.what());
        std::exit(1);
    }
}

Tensor as_model_input(const Tensor& rows, const Shape& input) {
    if (input.size() <= 1) return rows;
    Shape shape{rows.shape()[0]};
    shape.insert(shape.end(), input.begin(), input.end());
    return reshape(rows, shape);
}

Tensor to_unit(const Tensor& normalised) {
    const nn::Normalization n;
    return normalised * n.std + n.mean;
}

Tensor from_unit(const Tensor& unit) {
    const nn::Normalization n;
    return (unit - n.mean) / n.std;
}

namespace {

// A value in [0, 1] (clamped) as a byte; NaN (which clamping lets through) becomes 0, as the cast would be undefined.
std::uint8_t to_byte(double unit) {
    if (!(unit > 0.0)) return 0;  // also NaN
    return unit >= 1.0 ? 255 : static_cast<std::uint8_t>(unit * 255.0 + 0.5);
}

}  // namespace

nn::Image gray_picture(const Tensor& normalised, std::size_t scale) {
    NoGrad no_grad;
    const std::size_t n = normalised.size();
    const auto s = static_cast<std::size_t>(std::llround(std::sqrt(static_cast<double>(n))));
    if (n == 0 || s * s != n) {
        throw value_error("gray_picture: " + std::to_string(n) +
                          " pixels are not a square image; pass s x s pixels (e.g. 28 x 28)");
    }
    const Tensor unit = to_unit(normalised.detach());
    nn::Image image = nn::Image::filled(s, s, 1, 0, "gray_picture");
    for (std::size_t i = 0; i < n; ++i) image.pixels[i] = to_byte(unit.value().flat(i));
    return nn::upscale(image, scale);
}

nn::Image rgb_picture(const Tensor& chw) {
    NoGrad no_grad;
    const std::size_t h = chw.shape()[1], w = chw.shape()[2];
    const Tensor unit = chw.detach();
    nn::Image image = nn::Image::filled(w, h, 3, 0, "rgb_picture");
    for (std::size_t c = 0; c < 3; ++c)
        for (std::size_t p = 0; p < h * w; ++p) image.pixels[p * 3 + c] = to_byte(unit.value().flat(c * h * w + p));
    return image;
}

std::size_t rss_bytes() {
    std::ifstream statm("/proc/self/statm");
    std::size_t pages = 0, resident = 0;
    if (!(statm >> pages >> resident)) return 0;
    return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

std::size_t parameters_with_grad(const std::vector<Tensor>& parameters) {
    std::size_t n = 0;
    for (const Tensor& p : parameters) n += p.has_grad() ? 1 : 0;
    return n;
}

Probe::Probe(std::string model, std::size_t settle) : model_(std::move(model)), settle_(settle) {}

void Probe::after_backward(std::size_t parameters_with_grad) {
    ++backwards_;
    parameter_grads_ += parameters_with_grad;
}

void Probe::after_step() {
    ++steps_;
    ++phase_steps_;
    const long nodes = adg::live_node_count();
    if (steps_ == settle_) {
        nodes_before_ = nodes_most_ = nodes;
    } else if (steps_ > settle_ && nodes > nodes_most_) {
        nodes_most_ = nodes;
    }
    nodes_after_ = nodes;
    if (phase_steps_ == settle_) rss_start_ = rss_bytes();
    rss_end_ = rss_bytes();
}

void Probe::new_phase(std::string what) {
    phase_ = std::move(what);
    phase_steps_ = 0;
    rss_start_ = rss_end_ = 0;
}

bool Probe::report(const std::string& program, const std::string& prefix) const {
    const double mib = 1024.0 * 1024.0;
    const std::string in_phase = phase_.empty() ? "" : " (" + phase_ + ")";
    if (phase_steps_ >= settle_) {
        std::printf("%srss: start %.1f MiB, end %.1f MiB over %zu steps%s\n", prefix.c_str(),
                    static_cast<double>(rss_start_) / mib, static_cast<double>(rss_end_) / mib, phase_steps_,
                    in_phase.c_str());
    } else {
        std::printf("%srss: too few steps to compare (%zu%s; the first %zu settle)\n", prefix.c_str(), phase_steps_,
                    phase_.empty() ? "" : (" in " + phase_).c_str(), settle_);
    }
    bool ok = true;
    if (steps_ > settle_) {
        std::printf("%slive nodes: before %ld, after %ld (most between steps %ld)\n", prefix.c_str(), nodes_before_,
                    nodes_after_, nodes_most_);
        if (nodes_most_ > nodes_before_) {
            std::fprintf(stderr, "%s: FAIL: %slive graph nodes grew between steps, from %ld to %ld\n", program.c_str(),
                         prefix.c_str(), nodes_before_, nodes_most_);
            ok = false;
        }
    } else {
        std::printf("%slive nodes: too few steps to compare (%zu; the first %zu settle)\n", prefix.c_str(), steps_,
                    settle_);
    }
    if (backwards_ == 0) return ok;  // nothing frozen to check (the GAN trains its parameters)
    std::printf("%s%s parameters holding a gradient after %zu backward passes: %zu\n", prefix.c_str(), model_.c_str(),
                backwards_, parameter_grads_);
    if (parameter_grads_ != 0) {
        std::fprintf(stderr,
                     "%s: FAIL: %sthe frozen %s's parameters collected gradients (%zu in %zu backward passes)\n",
                     program.c_str(), prefix.c_str(), model_.c_str(), parameter_grads_, backwards_);
        ok = false;
    }
    return ok;
}

}  // namespace outlook
