#include "gan_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <stdexcept>

#include <adgraph/nn/data.hpp>
#include <adgraph/nn/gnuplot.hpp>

#include <xtensor-blas/xlinalg.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xview.hpp>

#include "support.hpp"

namespace gan {

using namespace adg;

Verdict judge(nn::LoadedModel& classifier, const Tensor& normalised) {
    NoGrad no_grad;
    const std::size_t n = normalised.shape()[0];
    Verdict v;
    v.share.assign(10, 0.0);
    for (std::size_t from = 0; from < n; from += 250) {
        const std::size_t to = std::min(n, from + 250);
        const Tensor p =
            softmax((*classifier.model)(outlook::as_model_input(slice(normalised, 0, from, to), classifier.input)), -1);
        const Tensor top = p.max({1}), cls = p.argmax(1);
        for (std::size_t i = 0; i < to - from; ++i) {
            v.confidence += top.value().flat(i);
            const auto c = static_cast<std::size_t>(cls.value().flat(i));
            if (c >= v.share.size()) v.share.resize(c + 1, 0.0);
            v.share[c] += 1;
        }
    }
    v.confidence /= static_cast<double>(n);
    for (double& s : v.share) s /= static_cast<double>(n);
    return v;
}

xt::xtensor<double, 2> features(nn::LoadedModel& classifier, const Tensor& normalised) {
    NoGrad no_grad;
    const auto& layers = classifier.model->children();
    if (layers.size() < 2) throw std::runtime_error("the classifier has no layer before its last");
    const std::size_t n = normalised.shape()[0];
    xt::xtensor<double, 2> out;
    for (std::size_t from = 0; from < n; from += 250) {
        const std::size_t to = std::min(n, from + 250);
        Tensor h = outlook::as_model_input(slice(normalised, 0, from, to), classifier.input);
        for (std::size_t i = 0; i + 1 < layers.size(); ++i) h = (*layers[i].second)(h);
        const std::size_t width = h.size() / (to - from);
        if (from == 0) out = xt::zeros<double>({n, width});
        for (std::size_t k = 0; k < h.size(); ++k) out(from + k / width, k % width) = h.value().flat(k);
    }
    return out;
}

Moments moments(const xt::xtensor<double, 2>& f) {
    const std::size_t n = f.shape()[0];
    if (n < 2) throw std::runtime_error("moments need at least two rows");
    Moments m;
    m.mean = xt::mean(f, {0});
    const xt::xtensor<double, 2> centred = f - m.mean;
    m.cov = xt::linalg::dot(xt::transpose(centred), centred) / static_cast<double>(n - 1);
    return m;
}

namespace {

// The eigenvalues of a symmetric matrix, made exactly symmetric first (products of symmetric matrices are so only
// up to rounding) and clipped at 0: the matrices here are covariances, positive semi-definite.
std::pair<xt::xtensor<double, 1>, xt::xtensor<double, 2>> eigh_psd(const xt::xtensor<double, 2>& s) {
    const xt::xtensor<double, 2> sym = 0.5 * (s + xt::transpose(s));
    auto [w, v] = xt::linalg::eigh(sym);
    return {xt::maximum(w, 0.0), v};
}

}  // namespace

double frechet_distance(const Moments& a, const Moments& b) {
    if (a.mean.size() != b.mean.size()) throw std::runtime_error("frechet_distance: different feature sizes");
    const auto [wa, va] = eigh_psd(a.cov);
    // Σa^½ = V diag(√w) Vᵀ: V's columns scaled by √w, times Vᵀ.
    const xt::xtensor<double, 2> root_a = xt::linalg::dot(va * xt::sqrt(wa), xt::transpose(va));
    const xt::xtensor<double, 2> inner = xt::linalg::dot(xt::linalg::dot(root_a, b.cov), root_a);
    const auto [wi, vi] = eigh_psd(inner);
    const double mean_term = xt::sum(xt::square(a.mean - b.mean))();
    return mean_term + xt::sum(xt::diagonal(a.cov))() + xt::sum(xt::diagonal(b.cov))() - 2.0 * xt::sum(xt::sqrt(wi))();
}

std::string check_frechet_distance() {
    std::ostringstream why;
    const auto expect = [&](const char* what, double got, double want) {
        if (!(std::abs(got - want) <= 1e-9 * std::max(1.0, std::abs(want))))
            why << what << ": " << got << " instead of " << want << "; ";
    };
    // Diagonal covariances commute: Σ_i (μa_i − μb_i)² + (σa_i − σb_i)² = (1 + 0 + 4) + (1 + 0 + 4).
    Moments a{{1, 2, 3}, {{1, 0, 0}, {0, 4, 0}, {0, 0, 9}}}, b{{0, 2, 5}, {{4, 0, 0}, {0, 4, 0}, {0, 0, 1}}};
    expect("diagonal", frechet_distance(a, b), 10.0);
    // Σa = diag(4, 1) and Σb = [[2, 1], [1, 2]] do not commute: Σa^½ Σb Σa^½ = [[8, 2], [2, 2]] has trace 10 and
    // determinant 12, so the sum of its eigenvalues' roots is √(10 + 2√12).
    const Moments c{{0, 0}, {{4, 0}, {0, 1}}}, d{{0, 0}, {{2, 1}, {1, 2}}};
    const double cd = 4 + 1 + 2 + 2 - 2 * std::sqrt(10 + 2 * std::sqrt(12.0));
    expect("non-commuting", frechet_distance(c, d), cd);
    expect("non-commuting, swapped", frechet_distance(d, c), cd);
    expect("same Gaussian", frechet_distance(d, d), 0.0);
    // A rotation of both changes nothing.
    const double t = 0.7;
    const xt::xtensor<double, 2> q{{std::cos(t), -std::sin(t)}, {std::sin(t), std::cos(t)}};
    const auto rotate = [&](const Moments& m) {
        return Moments{xt::linalg::dot(q, m.mean), xt::linalg::dot(xt::linalg::dot(q, m.cov), xt::transpose(q))};
    };
    expect("rotated", frechet_distance(rotate(c), rotate(d)), cd);
    // The moments of four corners of a square of side 2: mean (1, 1), covariance 4/3 on the diagonal.
    const Moments m = moments(xt::xtensor<double, 2>{{0, 0}, {2, 0}, {0, 2}, {2, 2}});
    expect("mean", m.mean(1), 1.0);
    expect("variance", m.cov(0, 0), 4.0 / 3.0);
    expect("covariance", m.cov(0, 1), 0.0);
    return why.str();
}

void print_verdicts(const std::vector<std::string>& titles, const std::vector<Verdict>& verdicts) {
    std::printf("%-14s", "");
    for (const auto& t : titles) std::printf(" %18s", t.c_str());
    std::printf("\n%-14s", "confidence");
    for (const auto& v : verdicts) std::printf(" %17.1f%%", 100 * v.confidence);
    std::printf("\n");
    const auto& names = nn::fashion_mnist_classes();
    std::size_t classes = 0;
    for (const auto& v : verdicts) classes = std::max(classes, v.share.size());
    for (std::size_t c = 0; c < classes; ++c) {
        std::printf("  %-12s", c < names.size() ? names[c] : std::to_string(c).c_str());
        for (const auto& v : verdicts) std::printf(" %17.1f%%", c < v.share.size() ? 100 * v.share[c] : 0.0);
        std::printf("\n");
    }
}

double mean_image_distance(const Tensor& a, const Tensor& b) {
    NoGrad no_grad;
    return (a.mean({0}) - b.mean({0})).abs().mean().item();
}

std::string plot_losses(const std::vector<double>& d_loss, const std::vector<double>& g_loss,
                        std::size_t steps_per_epoch, const std::string& png) {
    // Blocks of steps keep the script small (at most about 400 points per curve); the data is inline.
    const std::size_t n = d_loss.size(), block = std::max<std::size_t>(1, n / 400);
    std::ostringstream s;
    s << "set terminal pngcairo size 900,400 font 'sans,10'\n$losses << EOD\n# step d_loss g_loss\n";
    for (std::size_t from = 0; from < n; from += block) {
        const std::size_t to = std::min(n, from + block);
        double d = 0, g = 0;
        for (std::size_t i = from; i < to; ++i) {
            d += d_loss[i];
            g += g_loss[i];
        }
        const double k = static_cast<double>(to - from);
        s << (static_cast<double>(from + to) / 2.0) / static_cast<double>(steps_per_epoch) << " " << d / k << " "
          << g / k << "\n";
    }
    s << "EOD\n"
      << "set title 'GAN on Fashion-MNIST: the two losses (mean over " << block << " step" << (block > 1 ? "s" : "")
      << ")'\nset xlabel 'epoch'\nset ylabel 'loss'\nset grid\nset key top right\n"
      << "plot $losses using 1:2 with lines lw 2 title 'discriminator  -log s(D(x)) - log(1 - s(D(G(z))))', "
      << "'' using 1:3 with lines lw 2 title 'generator  -log s(D(G(z)))'\n";
    return nn::plot_png(s.str(), png);
}

}  // namespace gan
