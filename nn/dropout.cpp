#include <adgraph/nn/dropout.hpp>

#include <sstream>

#include <adgraph/autodiff/ops.hpp>

namespace adg::nn {

namespace {

// SplitMix64's output function: a bijection of 64-bit words whose outputs for consecutive inputs pass the usual
// statistical tests, so hashing (seed, step, call, row) and adding the element's index gives independent draws.
std::uint64_t mix(std::uint64_t z) {
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

}  // namespace

Dropout::Dropout(double p, std::uint64_t seed) : p_(p), seed_(seed) {
    if (!(p >= 0.0 && p < 1.0)) {
        throw value_error("Dropout: p must be in [0, 1) (got " + number_str(p) + ")");
    }
}

Tensor Dropout::forward(const Tensor& x) {
    if (!training() || p_ == 0.0) return x;
    const std::uint64_t call = call_++;
    const double keep = 1.0 - p_;
    // An element is kept when its 53-bit uniform draw u·2⁻⁵³ is below keep, i.e. u < keep·2⁵³ (exact in double).
    const double threshold = keep * 9007199254740992.0;
    const std::uint64_t call_key = mix(mix(mix(seed_) ^ step_) ^ call);
    const std::size_t rows = x.dim() == 0 ? 1 : x.shape()[0];
    const std::size_t width = rows == 0 ? 0 : x.size() / rows;
    // The mask is a constant: gradients flow through the kept elements, scaled like the values.
    Array mask = Array::empty(x.shape(), x.dtype());
    mask.visit_mut([&](auto& m) {
        using T = typename std::decay_t<decltype(m)>::value_type;
        const T scale = static_cast<T>(1.0 / keep);
        T* out = m.data();
        for (std::size_t r = 0; r < rows; ++r) {
            const std::uint64_t row_key = mix(call_key ^ static_cast<std::uint64_t>(first_row_ + r));
            for (std::size_t j = 0; j < width; ++j) {
                const double u = static_cast<double>(mix(row_key + j) >> 11);
                out[r * width + j] = u < threshold ? scale : T(0);
            }
        }
    });
    return x * Tensor(std::move(mask));
}

void Dropout::key(std::uint64_t step, std::size_t first_row) {
    step_ = step;
    first_row_ = first_row;
    call_ = 0;
}

void key_dropout(Module& model, std::uint64_t step, std::size_t first_row) {
    if (auto* d = dynamic_cast<Dropout*>(&model)) d->key(step, first_row);
    for (const auto& child : model.children()) key_dropout(*child.second, step, first_row);
}

std::string Dropout::to_string() const {
    std::ostringstream s;
    s << "Dropout(p=" << p_ << ")";
    return s.str();
}

std::string Dropout::extra_repr() const {
    std::ostringstream s;
    s << "p=" << p_;
    return s.str();
}

}  // namespace adg::nn
