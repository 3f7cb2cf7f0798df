#include "gan_report.hpp"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include <adgraph/nn/data.hpp>
#include <adgraph/nn/gnuplot.hpp>

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
