#include <adgraph/nn/init.hpp>

#include <cmath>

namespace adg::nn {

const char* init_name(Init init) {
    switch (init) {
        case Init::uniform:
            return "uniform";
        case Init::xavier:
            return "xavier";
        case Init::he:
            return "he";
    }
    return "?";
}

Init parse_init(const std::string& name) {
    for (Init i : {Init::uniform, Init::xavier, Init::he}) {
        if (name == init_name(i)) return i;
    }
    throw value_error("init: unknown initialisation '" + name + "'; choose uniform, xavier or he");
}

double init_bound(Init init, std::size_t fan_in, std::size_t fan_out) {
    const double in = static_cast<double>(fan_in), out = static_cast<double>(fan_out);
    switch (init) {
        case Init::uniform:
            return 1.0 / std::sqrt(in);
        case Init::xavier:
            return std::sqrt(6.0 / (in + out));
        case Init::he:
            return std::sqrt(6.0 / in);
    }
    return 0.0;
}

Tensor init_weight(std::size_t fan_in, std::size_t fan_out, Init init, Generator& gen, Dtype dtype) {
    if (fan_in == 0 || fan_out == 0) {
        throw value_error("init: a weight needs fan_in and fan_out > 0 (got " + std::to_string(fan_in) + " and " +
                          std::to_string(fan_out) + ")");
    }
    const double c = init_bound(init, fan_in, fan_out);
    try {
        return Tensor::uniform({fan_out, fan_in}, -c, c, gen, dtype);
    } catch (value_error& e) {
        // The array's size or allocation failed: say which layer asked for it.
        e.add_context("init: the weight of a " + std::to_string(fan_in) + " -> " + std::to_string(fan_out) + " layer");
        throw;
    }
}

}  // namespace adg::nn
