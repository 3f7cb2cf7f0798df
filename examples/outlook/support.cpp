#include "support.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

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

nn::Image gray_picture(const Tensor& normalised, std::size_t scale) {
    NoGrad no_grad;
    const Tensor unit = clamp(reshape(to_unit(normalised.detach()), {side, side}), 0.0, 1.0);
    nn::Image image = nn::Image::filled(side, side, 1, 0, "gray_picture");
    for (std::size_t i = 0; i < image.pixels.size(); ++i)
        image.pixels[i] = static_cast<std::uint8_t>(unit.value().flat(i) * 255.0 + 0.5);
    return nn::upscale(image, scale);
}

nn::Image rgb_picture(const Tensor& chw) {
    NoGrad no_grad;
    const std::size_t h = chw.shape()[1], w = chw.shape()[2];
    const Tensor unit = clamp(chw.detach(), 0.0, 1.0);
    nn::Image image = nn::Image::filled(w, h, 3, 0, "rgb_picture");
    for (std::size_t c = 0; c < 3; ++c)
        for (std::size_t p = 0; p < h * w; ++p)
            image.pixels[p * 3 + c] = static_cast<std::uint8_t>(unit.value().flat(c * h * w + p) * 255.0 + 0.5);
    return image;
}

std::size_t rss_bytes() {
    std::ifstream statm("/proc/self/statm");
    std::size_t pages = 0, resident = 0;
    if (!(statm >> pages >> resident)) return 0;
    return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

}  // namespace outlook
