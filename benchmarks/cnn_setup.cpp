#include "cnn_setup.hpp"

#include <cmath>

namespace adg::bench {

std::string CnnConfig::optimizer_line() const {
    if (optimizer == "sgd") return format("sgd lr %g momentum %g", lr(), momentum());
    return format("adamw lr %g betas 0.9/0.999 eps 1e-08 weight decay %g", lr(), weight_decay());
}

std::string CnnConfig::model() const {
    return format(
        "cnn: conv 1-32 3x3 p1, bn, relu, maxpool 2, conv 32-64 3x3 p1, bn, relu, maxpool 2, "
        "linear 3136-128, relu, dropout %g, linear 128-10",
        dropout);
}

CnnInit initial_cnn(std::uint64_t seed) {
    // A conv weight (O, C, kh, kw) is row-major an (O, C·kh·kw) matrix with fan_in C·kh·kw: the same draw as a
    // Linear's.
    CnnInit init;
    init.conv1 = initial_layers({1 * 3 * 3, 32}, seed).front();
    init.conv2 = initial_layers({32 * 3 * 3, 64}, seed + 1).front();
    const auto fc = initial_layers({3136, 128, 10}, seed + 2);
    init.fc1 = fc[0];
    init.fc2 = fc[1];
    return init;
}

double ConvCase::forward_flops() const {
    return 2.0 * static_cast<double>(n * o * out_h() * out_w()) * static_cast<double>(c * k * k);
}

std::string ConvCase::shape() const {
    return format("%zux%zux%zux%zu -> %zu, %zux%zu s%zu p%zu", n, c, h, w, o, k, k, stride, pad);
}

std::vector<ConvCase> conv_cases(bool quick) {
    if (quick) {
        return {{"cnn conv1", 2, 1, 8, 8, 4, 3, 1, 1, false}, {"cnn conv2", 2, 4, 4, 4, 8, 3, 1, 1, true}};
    }
    return {{"cnn conv1", 128, 1, 28, 28, 32, 3, 1, 1, false},
            {"cnn conv2", 128, 32, 14, 14, 64, 3, 1, 1, true},
            {"resnet 64 3x3", 32, 64, 32, 32, 64, 3, 1, 1, true},
            {"resnet down 3x3 s2", 32, 64, 32, 32, 128, 3, 2, 1, true}};
}

std::string LayerCase::shape() const { return format("%zux%zux%zux%zu", n, c, h, w); }

std::vector<LayerCase> layer_cases(bool quick) {
    const std::size_t n = quick ? 2 : 128, s = quick ? 4 : 1;
    return {{"cnn bn1", "batch_norm", n, 32 / s, 28 / s, 28 / s},
            {"cnn pool1", "max_pool2d", n, 32 / s, 28 / s, 28 / s},
            {"cnn bn2", "batch_norm", n, 64 / s, 14 / s, 14 / s},
            {"cnn pool2", "max_pool2d", n, 64 / s, 14 / s, 14 / s}};
}

std::vector<float> pattern(std::size_t n, double phase) {
    std::vector<float> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<float>(std::sin(0.618 * static_cast<double>(i) + phase));
    return v;
}

double cnn_step_flops(std::size_t rows) {
    const double r = static_cast<double>(rows);
    const double conv1 = 2.0 * 32 * 9 * 28 * 28 * r, conv2 = 2.0 * 64 * 288 * 14 * 14 * r;
    const double fc1 = 2.0 * 3136 * 128 * r, fc2 = 2.0 * 128 * 10 * r;
    return 2 * conv1 + 3 * conv2 + 3 * fc1 + 3 * fc2;
}

}  // namespace adg::bench
