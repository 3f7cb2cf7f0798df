// A GRU learns to predict the next sample of a noisy sine wave: at every step t it reads the noisy sample x_t and
// predicts the clean value at t + 1, so it has to both filter the noise and carry the wave's phase and frequency
// in its state. Prints the test loss against two baselines and draws the prediction against the truth.
#include <CLI/CLI.hpp>

#include <adgraph/adgraph.hpp>
#include <adgraph/nn/gnuplot.hpp>
#include <adgraph/nn/linear.hpp>
#include <adgraph/nn/loss.hpp>
#include <adgraph/nn/optim.hpp>
#include <adgraph/nn/rnn.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "png_size.hpp"

using namespace adg;
namespace fs = std::filesystem;

namespace {

struct Options {
    std::string out = ".";
    std::size_t steps = 400, hidden = 16, batch = 32, length = 40;
    double lr = 1e-2, noise = 0.1;
    std::uint64_t seed = 1;
    // The trained model must beat "the next value is the one just read" by this factor on held-out waves.
    double max_ratio = 0.3;
    bool require_png = false;
};

constexpr double pi = 3.14159265358979323846;

// A batch of waves sin(ω t + φ) with ω drawn in [2π/30, 2π/12] and φ in [0, 2π): noisy inputs (batch, T, 1)
// and the clean next values (batch, T) as targets.
struct Waves {
    Tensor inputs, targets;
    std::vector<double> noisy, clean;  // row-major (batch, T + 1): the clean wave and its noisy reading
};

Waves waves(std::size_t batch, std::size_t T, double noise, std::mt19937_64& rng) {
    std::uniform_real_distribution<double> omega(2 * pi / 30, 2 * pi / 12), phase(0, 2 * pi);
    std::normal_distribution<double> eps(0, noise);
    Waves w;
    w.noisy.resize(batch * (T + 1));
    w.clean.resize(batch * (T + 1));
    std::vector<double> in(batch * T), next(batch * T);
    for (std::size_t b = 0; b < batch; ++b) {
        const double om = omega(rng), ph = phase(rng);
        for (std::size_t t = 0; t <= T; ++t) {
            w.clean[b * (T + 1) + t] = std::sin(om * static_cast<double>(t) + ph);
            w.noisy[b * (T + 1) + t] = w.clean[b * (T + 1) + t] + eps(rng);
        }
        for (std::size_t t = 0; t < T; ++t) {
            in[b * T + t] = w.noisy[b * (T + 1) + t];
            next[b * T + t] = w.clean[b * (T + 1) + t + 1];
        }
    }
    w.inputs = Tensor::from(in, {batch, T, 1});
    w.targets = Tensor::from(next, {batch, T});
    return w;
}

// The GRU's state after each step, read out by a linear layer into one prediction per step: (batch, T).
struct Predictor {
    nn::GRU gru;
    nn::Linear head;
    Predictor(std::size_t hidden, Generator& gen) : gru(nn::RNNOptions(1, hidden), gen), head(hidden, 1, gen) {}
    Tensor operator()(const Tensor& x) {
        const Tensor states = gru(x);  // (batch, T, hidden)
        const std::size_t B = states.shape()[0], T = states.shape()[1], H = states.shape()[2];
        return reshape(head(reshape(states, {B * T, H})), {B, T});
    }
    std::vector<Tensor> parameters() {
        std::vector<Tensor> ps = gru.parameters();
        for (const Tensor& p : head.parameters()) ps.push_back(p);
        return ps;
    }
};

double mse(const std::vector<double>& a, const std::vector<double>& b) {
    double s = 0;
    for (std::size_t i = 0; i < a.size(); ++i) s += (a[i] - b[i]) * (a[i] - b[i]);
    return s / static_cast<double>(a.size());
}

std::vector<double> values(const Tensor& t) {
    std::vector<double> v(t.size());
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = t.value().flat(i);
    return v;
}

// Returns "" on success, else why no PNG was written. The data goes inline and gnuplot prints the PNG on stdout.
std::string plot(const fs::path& png, const std::vector<double>& losses, const Waves& shown,
                 const std::vector<double>& prediction, std::size_t T) {
    std::ostringstream s;
    s << "set terminal pngcairo size 1100,420 font 'sans,10'\n$loss << EOD\n";
    for (std::size_t i = 0; i < losses.size(); ++i) s << i + 1 << " " << losses[i] << "\n";
    s << "EOD\n$wave << EOD\n# t noisy clean_next predicted\n";
    for (std::size_t t = 0; t < T; ++t) {
        s << t << " " << shown.noisy[t] << " " << shown.clean[t + 1] << " " << prediction[t] << "\n";
    }
    s << "EOD\n"
      << "set multiplot layout 1,2 title 'GRU predicting the next sample of a noisy sine'\n"
      << "set grid\nset xlabel 'training step'\nset ylabel 'mse (batch)'\nset logscale y\n"
      << "plot $loss using 1:2 with lines lc rgb '#1f77b4' notitle\n"
      << "unset logscale y\nset xlabel 't'\nset ylabel 'value'\nset key below horizontal\n"
      << "plot $wave using 1:2 with points pt 7 ps 0.5 lc rgb '#999999' title 'noisy input x_t', "
      << "'' using 1:3 with lines lw 3 lc rgb '#bbbbbb' title 'clean x_{t+1}', "
      << "'' using 1:4 with lines lw 1.5 lc rgb '#d62728' title 'GRU prediction'\n"
      << "unset multiplot\n";
    return nn::plot_png(s.str(), png.string());
}

bool parse(int argc, char** argv, Options& o) {
    CLI::App app{"Trains a GRU to predict the next sample of noisy sine waves; draws sine_gru.png"};
    app.add_option("--out", o.out, "where sine_gru.png goes")->capture_default_str();
    app.add_option("--steps", o.steps, "Adam steps")->check(CLI::Range(1, 10000000))->capture_default_str();
    app.add_option("--hidden", o.hidden, "GRU state size")->check(CLI::Range(1, 4096))->capture_default_str();
    app.add_option("--batch", o.batch, "waves per step")->check(CLI::Range(1, 100000))->capture_default_str();
    app.add_option("--length", o.length, "steps per training wave")
        ->check(CLI::Range(2, 100000))
        ->capture_default_str();
    app.add_option("--lr", o.lr, "Adam's learning rate")->check(CLI::PositiveNumber)->capture_default_str();
    app.add_option("--noise", o.noise, "standard deviation of the noise")
        ->check(CLI::Range(0.0, 10.0))
        ->capture_default_str();
    app.add_option("--seed", o.seed, "seed of waves and weights")->capture_default_str();
    app.add_option("--max-ratio", o.max_ratio,
                   "fail unless the test mse is at most this fraction of the repeat-the-last-sample baseline's")
        ->capture_default_str();
    app.add_flag("--require-png", o.require_png, "fail when the PNG cannot be drawn (gnuplot missing)");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (app.exit(e) == 0) std::exit(0);
        return false;
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    if (!parse(argc, argv, o)) return 2;
    const auto t0 = std::chrono::steady_clock::now();
    Generator gen(o.seed);
    std::mt19937_64 rng(o.seed + 1000);
    Predictor model(o.hidden, gen);
    nn::Adam opt(model.parameters(), nn::AdamOptions(o.lr));
    std::printf(
        "sine_gru: GRU(1 -> %zu) + Linear(%zu -> 1), Adam lr %g, %zu steps of %zu waves x %zu samples, "
        "noise %g, seed %llu\n",
        o.hidden, o.hidden, o.lr, o.steps, o.batch, o.length, o.noise, static_cast<unsigned long long>(o.seed));
    std::vector<double> losses;
    for (std::size_t step = 0; step < o.steps; ++step) {
        const Waves w = waves(o.batch, o.length, o.noise, rng);
        const Tensor loss = nn::mse_loss(model(w.inputs), w.targets);
        loss.backward();
        opt.step();
        opt.zero_grad();
        losses.push_back(loss.item());
        if ((step + 1) % 100 == 0 || step + 1 == o.steps) {
            std::printf("  step %5zu  batch mse %.5f\n", step + 1, losses.back());
        }
    }

    // Held-out waves, three times as long as the training ones: the state has to keep the phase beyond the length
    // it was trained on.
    const std::size_t T = 3 * o.length;
    const Waves test = waves(256, T, o.noise, rng);
    std::vector<double> pred;
    {
        NoGrad no_grad;
        pred = values(model(test.inputs));
    }
    const std::vector<double> truth = values(test.targets), last = values(reshape(test.inputs, {256, T}));
    // Both errors skip the first 5 steps of each wave, where no predictor can know the phase yet.
    std::vector<double> p, y, l;
    for (std::size_t b = 0; b < 256; ++b) {
        for (std::size_t t = 5; t < T; ++t) {
            p.push_back(pred[b * T + t]);
            y.push_back(truth[b * T + t]);
            l.push_back(last[b * T + t]);
        }
    }
    const double model_mse = mse(p, y), repeat_mse = mse(l, y);
    std::vector<double> zeros(y.size(), 0.0);
    std::printf(
        "\nheld-out waves of %zu samples (from step 5): mse of the GRU %.5f, of repeating the last sample "
        "%.5f, of predicting 0 %.5f (%.1f s)\n",
        T, model_mse, repeat_mse, mse(zeros, y),
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());

    int status = 0;
    std::error_code ec;
    fs::create_directories(o.out, ec);
    const fs::path png = fs::path(o.out) / "sine_gru.png";
    Waves shown;
    shown.noisy.assign(test.noisy.begin(), test.noisy.begin() + static_cast<long>(T + 1));
    shown.clean.assign(test.clean.begin(), test.clean.begin() + static_cast<long>(T + 1));
    const std::string why = ec ? "cannot create --out " + o.out + ": " + ec.message()
                               : plot(png, losses, shown, std::vector<double>(pred.begin(), pred.begin() + T), T);
    if (why.empty()) {
        const auto [w, h] = demo::png_size(png.string());
        std::printf("wrote %s (%u x %u)\n", png.string().c_str(), w, h);
        if (w != 1100 || h != 420) {
            std::fprintf(stderr, "sine_gru: FAIL: %s is %u x %u, not the 1100 x 420 asked for\n", png.string().c_str(),
                         w, h);
            status = 1;
        }
    } else {
        std::fprintf(stderr, "sine_gru: %s: %s\n", o.require_png ? "FAIL" : "warning", why.c_str());
        if (o.require_png) status = 1;
    }
    if (!(model_mse <= o.max_ratio * repeat_mse)) {
        std::fprintf(stderr, "sine_gru: FAIL: the GRU's mse %.5f is not below %.2f x the baseline's %.5f\n", model_mse,
                     o.max_ratio, repeat_mse);
        return 1;
    }
    std::printf("ok: the GRU's mse is %.2f x that of repeating the last sample (at most %.2f asked)\n",
                model_mse / repeat_mse, o.max_ratio);
    return status;
}
