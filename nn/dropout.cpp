#include <adgraph/nn/dropout.hpp>

#include <sstream>

#include <xtensor/xrandom.hpp>

#include <adgraph/autodiff/ops.hpp>

namespace adg::nn {

Dropout::Dropout(double p, std::uint64_t seed) : p_(p), gen_(seed) {
    if (!(p >= 0.0 && p < 1.0)) {
        throw value_error("Dropout: p must be in [0, 1) (got " + number_str(p) + ")");
    }
}

Tensor Dropout::forward(const Tensor& x) {
    if (!training() || p_ == 0.0) return x;
    const double keep = 1.0 - p_;
    // The mask is a constant: gradients flow through the kept elements, scaled like the values.
    Array mask = Array::empty(x.shape(), x.dtype());
    mask.visit_mut([&](auto& m) {
        using T = typename std::decay_t<decltype(m)>::value_type;
        std::bernoulli_distribution coin(keep);
        const T scale = static_cast<T>(1.0 / keep);
        for (auto& v : m) v = coin(gen_.engine()) ? scale : T(0);
    });
    return x * Tensor(std::move(mask));
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
