// The playground's data sets, drawn as playground.tensorflow.org draws them (its dataset.ts), from a seeded
// std::mt19937_64 instead of the page's Math.random, so a seed reproduces the points.
#include <algorithm>
#include <cmath>
#include <random>
#include <utility>

#include "playground/checks.hpp"
#include "playground/session.hpp"

namespace adg::playground {

namespace {

constexpr double pi = 3.14159265358979323846;

// Uniform draws from the engine's top 53 bits: the same numbers on every platform (std:: distributions may differ
// between standard libraries).
class Draw {
public:
    explicit Draw(std::uint64_t seed) : engine_(seed) {}
    double unit() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
    double uniform(double lo, double hi) { return lo + unit() * (hi - lo); }
    // N(mean, variance) by the polar method, as the original (it takes a variance, not a standard deviation).
    double normal(double mean, double variance) {
        double v1 = 0, v2 = 0, s = 0;
        do {
            v1 = 2 * unit() - 1;
            v2 = 2 * unit() - 1;
            s = v1 * v1 + v2 * v2;
        } while (s > 1 || s == 0);
        return mean + std::sqrt(variance) * std::sqrt(-2 * std::log(s) / s) * v1;
    }
    std::size_t below(std::size_t n) { return std::min(n - 1, static_cast<std::size_t>(unit() * n)); }

private:
    std::mt19937_64 engine_;
};

// Inside radius 2.5 (of the circle's 5) is +1, else −1; the label is taken at the noisy point.
void circle(std::vector<Point>& out, std::size_t n, double noise, Draw& d) {
    constexpr double radius = 5;
    const auto add = [&](double r_lo, double r_hi) {
        const double r = d.uniform(r_lo, r_hi);
        const double angle = d.uniform(0, 2 * pi);
        const double x = r * std::sin(angle), y = r * std::cos(angle);
        const double nx = x + d.uniform(-radius, radius) * noise, ny = y + d.uniform(-radius, radius) * noise;
        out.push_back({x, y, std::hypot(nx, ny) < radius * 0.5 ? 1.0 : -1.0});
    };
    for (std::size_t i = 0; i < n - n / 2; ++i) add(0, radius * 0.5);
    for (std::size_t i = 0; i < n / 2; ++i) add(radius * 0.7, radius);
}

// Quadrants, points pushed 0.3 away from the axes; +1 where the noisy x·y ≥ 0.
void xor_quadrants(std::vector<Point>& out, std::size_t n, double noise, Draw& d) {
    constexpr double padding = 0.3;
    for (std::size_t i = 0; i < n; ++i) {
        double x = d.uniform(-5, 5);
        x += x > 0 ? padding : -padding;
        double y = d.uniform(-5, 5);
        y += y > 0 ? padding : -padding;
        const double nx = x + d.uniform(-5, 5) * noise, ny = y + d.uniform(-5, 5) * noise;
        out.push_back({x, y, nx * ny >= 0 ? 1.0 : -1.0});
    }
}

// Two normal clouds whose variance grows from 0.5 to 4 as the noise goes from 0 to 0.5.
void gauss(std::vector<Point>& out, std::size_t n, double noise, Draw& d) {
    const double variance = 0.5 + noise / 0.5 * (4 - 0.5);
    const auto cloud = [&](std::size_t count, double c, double label) {
        for (std::size_t i = 0; i < count; ++i) {
            const double x = d.normal(c, variance);
            const double y = d.normal(c, variance);
            out.push_back({x, y, label});
        }
    };
    cloud(n - n / 2, 2, 1);
    cloud(n / 2, -2, -1);
}

// Two arms, r = 5·i/count at angle 1.75·2π·i/count (+π for the second arm), moved by U(−1, 1)·noise.
void spiral(std::vector<Point>& out, std::size_t n, double noise, Draw& d) {
    const auto arm = [&](std::size_t count, double delta, double label) {
        for (std::size_t i = 0; i < count; ++i) {
            const double f = static_cast<double>(i) / static_cast<double>(count);
            const double r = f * 5;
            const double t = 1.75 * f * 2 * pi + delta;
            const double x = r * std::sin(t) + d.uniform(-1, 1) * noise;
            const double y = r * std::cos(t) + d.uniform(-1, 1) * noise;
            out.push_back({x, y, label});
        }
    };
    arm(n - n / 2, 0, 1);
    arm(n / 2, pi, -1);
}

// Uniform points on [−6, 6]², each labelled by `label` at the point moved by U(−6, 6)·noise in each coordinate.
template <class Label>
void uniform_regression(std::vector<Point>& out, std::size_t n, double noise, Draw& d, Label label) {
    for (std::size_t i = 0; i < n; ++i) {
        const double x = d.uniform(-domain, domain);
        const double y = d.uniform(-domain, domain);
        const double nx = x + d.uniform(-domain, domain) * noise, ny = y + d.uniform(-domain, domain) * noise;
        out.push_back({x, y, label(nx, ny)});
    }
}

// (x1 + x2)/10 as the original scales it; the original leaves the corners where |x1 + x2| > 10 above 1 (up to 1.2
// without noise), this one clamps them to [−1, 1], the range a Point's regression label promises.
double plane_label(double x, double y) { return std::clamp((x + y) / 10, -1.0, 1.0); }

// Six gaussian bumps of alternating sign; the label is the signed bump 1 − d/2 (d the distance to its centre,
// clamped to [0, 1]) that is largest in absolute value.
double multigauss_label(double x, double y) {
    static constexpr double bumps[6][3] = {{-4, 2.5, 1},   {0, 2.5, -1}, {4, 2.5, 1},
                                           {-4, -2.5, -1}, {0, -2.5, 1}, {4, -2.5, -1}};
    double label = 0;
    for (const auto& b : bumps) {
        const double v = b[2] * std::clamp(1 - std::hypot(x - b[0], y - b[1]) / 2, 0.0, 1.0);
        if (std::abs(v) > std::abs(label)) label = v;
    }
    return label;
}

}  // namespace

std::vector<Point> generate(const std::string& dataset, std::size_t n, double noise, std::uint64_t seed) {
    problem_of(dataset);  // value_error for an unknown name
    check_noise(noise);
    Draw d(seed);
    const double f = noise / 100;
    std::vector<Point> points;
    points.reserve(n);
    if (dataset == "circle") circle(points, n, f, d);
    if (dataset == "xor") xor_quadrants(points, n, f, d);
    if (dataset == "gauss") gauss(points, n, f, d);
    if (dataset == "spiral") spiral(points, n, f, d);
    if (dataset == "plane") uniform_regression(points, n, f, d, plane_label);
    if (dataset == "multigauss") uniform_regression(points, n, f, d, multigauss_label);
    // Fisher–Yates from the back, as the original shuffles its points once.
    for (std::size_t k = points.size(); k > 1; --k) std::swap(points[k - 1], points[d.below(k)]);
    return points;
}

}  // namespace adg::playground
