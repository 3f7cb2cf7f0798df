#include "style_features.hpp"

#include <cmath>

namespace style {

using namespace adg;

RandomFeatures::RandomFeatures(std::size_t width, std::uint64_t seed) {
    Generator gen(seed);
    const auto he = [&](std::size_t out, std::size_t in, std::size_t k) {
        return Tensor::normal({out, in, k, k}, 0.0, std::sqrt(2.0 / static_cast<double>(in * k * k)), gen);
    };
    for (std::size_t k : {3, 5, 7}) first_.push_back(he(width, 3, k));
    std::size_t channels = 3 * width;
    for (std::size_t level = 1; level < levels; ++level) {
        deeper_.push_back(he(2 * width, channels, 3));
        channels = 2 * width;
    }
}

std::vector<Tensor> RandomFeatures::operator()(const Tensor& x) const {
    std::vector<Tensor> out;
    const Tensor centred = x - 0.5;  // zero-mean input, so the random filters respond to structure, not brightness
    std::vector<Tensor> maps;
    for (const Tensor& w : first_) maps.push_back(conv2d(centred, w, Tensor(), 1, w.shape()[2] / 2));
    out.push_back(relu(concat(maps, 1)));
    for (const Tensor& w : deeper_) out.push_back(relu(conv2d(avg_pool2d(out.back(), 2), w, Tensor(), 1, 1)));
    return out;
}

std::vector<Tensor> RandomFeatures::weights() const {
    std::vector<Tensor> all = first_;
    all.insert(all.end(), deeper_.begin(), deeper_.end());
    return all;
}

Tensor gram(const Tensor& f) {
    const std::size_t c = f.shape()[1], positions = f.shape()[2] * f.shape()[3];
    const Tensor m = reshape(f, {c, positions});
    return matmul(m, transpose(m)) / static_cast<double>(positions);
}

}  // namespace style
