// Heat maps as the page receives them: bytes, block averages, base64.
#include "playground/encode.hpp"

#include <algorithm>
#include <cmath>

#include <adgraph/tensor/error.hpp>

namespace adg::playground {

std::string quantise_map(const std::vector<float>& values) {
    std::string out(values.size(), '\0');
    for (std::size_t i = 0; i < values.size(); ++i) {
        const double v = values[i];
        const double clamped = std::isnan(v) ? 0.0 : std::clamp(v, -1.0, 1.0);
        out[i] = static_cast<char>(static_cast<unsigned char>(std::lround((clamped + 1) * 127.5)));
    }
    return out;
}

std::vector<float> block_average(const std::vector<float>& values, std::size_t side, std::size_t factor) {
    if (factor == 0 || side % factor != 0 || values.size() != side * side) {
        throw value_error("playground: block_average: a map of " + std::to_string(values.size()) +
                          " values cannot be read as " + std::to_string(side) + " x " + std::to_string(side) +
                          " cells in blocks of " + std::to_string(factor) +
                          "; pass side² values with side a multiple of factor");
    }
    const std::size_t small = side / factor;
    std::vector<float> out(small * small, 0.0f);
    for (std::size_t r = 0; r < small; ++r) {
        for (std::size_t c = 0; c < small; ++c) {
            double sum = 0;
            for (std::size_t i = 0; i < factor; ++i) {
                for (std::size_t j = 0; j < factor; ++j) sum += values[(r * factor + i) * side + c * factor + j];
            }
            out[r * small + c] = static_cast<float>(sum / static_cast<double>(factor * factor));
        }
    }
    return out;
}

std::string base64(const std::string& bytes) {
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    const auto byte = [&](std::size_t i) { return static_cast<unsigned>(static_cast<unsigned char>(bytes[i])); };
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const unsigned n = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
        for (int k = 3; k >= 0; --k) out += alphabet[(n >> (6 * k)) & 63];
    }
    const std::size_t left = bytes.size() - i;
    if (left > 0) {
        const unsigned n = byte(i) << 16 | (left == 2 ? byte(i + 1) << 8 : 0u);
        out += alphabet[(n >> 18) & 63];
        out += alphabet[(n >> 12) & 63];
        out += left == 2 ? alphabet[(n >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

}  // namespace adg::playground
