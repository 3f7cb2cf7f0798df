// The playground's data sets, features and Config checks (apps/playground): the points against the geometric rules
// of playground.tensorflow.org's generators (written here), the features against hand-computed values, the checks
// against their documented messages.

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <vector>

#include <adgraph/adgraph.hpp>

#include "playground/session.hpp"

using namespace adg;
using namespace adg::playground;

namespace {

constexpr double pi = 3.14159265358979323846;

}  // namespace

// ---- data sets -----------------------------------------------------------------------------------------------------

TEST_CASE("playground data sets: counts, labels, ranges and determinism by seed") {
    for (const auto& name : dataset_names()) {
        INFO(name);
        const bool classification = problem_of(name) == Problem::classification;
        const std::vector<Point> a = generate(name, 200, 10, 7);
        REQUIRE(a.size() == 200);
        std::set<double> labels;
        for (const Point& p : a) {
            labels.insert(p.label);
            CHECK(p.label >= -1.0);
            CHECK(p.label <= 1.0);
            if (name != "gauss") {  // normal clouds have no bound
                CHECK(std::abs(p.x1) <= domain);
                CHECK(std::abs(p.x2) <= domain);
            }
        }
        if (classification) CHECK(labels == std::set<double>{-1.0, 1.0});
        if (!classification) CHECK(labels.size() > 100);  // a continuous label

        const std::vector<Point> again = generate(name, 200, 10, 7);
        const std::vector<Point> other = generate(name, 200, 10, 8);
        bool same = true, differs = false;
        for (std::size_t i = 0; i < a.size(); ++i) {
            same = same && a[i].x1 == again[i].x1 && a[i].x2 == again[i].x2 && a[i].label == again[i].label;
            differs = differs || a[i].x1 != other[i].x1 || a[i].x2 != other[i].x2;
        }
        CHECK(same);
        CHECK(differs);
        CHECK(generate(name, 0, 0, 1).empty());
        CHECK(generate(name, 5, 0, 1).size() == 5);
    }
}

TEST_CASE("playground data sets: without noise the labels follow each set's geometric rule") {
    const std::size_t n = 400;
    SUBCASE("circle: +1 inside radius 2.5, -1 on the ring from 3.5 to 5, half each") {
        int positive = 0;
        for (const Point& p : generate("circle", n, 0, 3)) {
            const double r = std::hypot(p.x1, p.x2);
            CHECK(p.label == (r < 2.5 ? 1.0 : -1.0));
            if (p.label < 0) CHECK((r >= 3.5 - 1e-12 && r <= 5 + 1e-12));
            positive += p.label > 0;
        }
        CHECK(positive == 200);
    }
    SUBCASE("xor: the sign of x1 x2, points at least 0.3 from the axes") {
        for (const Point& p : generate("xor", n, 0, 3)) {
            CHECK(p.label == (p.x1 * p.x2 >= 0 ? 1.0 : -1.0));
            CHECK(std::abs(p.x1) >= 0.3);
            CHECK(std::abs(p.x2) >= 0.3);
            CHECK(std::abs(p.x1) <= 5.3);
        }
    }
    SUBCASE("spiral: each point on its arm, angle 1.75 * 2 pi * r / 5, the second arm turned by pi") {
        int positive = 0;
        for (const Point& p : generate("spiral", n, 0, 3)) {
            const double r = std::hypot(p.x1, p.x2);
            const double t = 1.75 * 2 * pi * r / 5 + (p.label > 0 ? 0 : pi);
            CHECK(p.x1 == doctest::Approx(r * std::sin(t)).epsilon(1e-9));
            CHECK(p.x2 == doctest::Approx(r * std::cos(t)).epsilon(1e-9));
            CHECK(r <= 5);
            positive += p.label > 0;
        }
        CHECK(positive == 200);
    }
    SUBCASE("plane: (x1 + x2) / 10, clamped to [-1, 1]") {
        for (const Point& p : generate("plane", n, 0, 3)) {
            CHECK(p.label == doctest::Approx(std::max(-1.0, std::min(1.0, (p.x1 + p.x2) / 10))));
        }
    }
    SUBCASE("multigauss: the largest signed bump 1 - d/2 of the six centres") {
        const double c[6][3] = {{-4, 2.5, 1}, {0, 2.5, -1}, {4, 2.5, 1}, {-4, -2.5, -1}, {0, -2.5, 1}, {4, -2.5, -1}};
        for (const Point& p : generate("multigauss", n, 0, 3)) {
            double best = 0;
            for (const auto& g : c) {
                const double v = g[2] * std::max(0.0, 1 - std::hypot(p.x1 - g[0], p.x2 - g[1]) / 2);
                if (std::abs(v) > std::abs(best)) best = v;
            }
            CHECK(p.label == doctest::Approx(best));
        }
    }
    SUBCASE("gauss: clouds around (2, 2) and (-2, -2) whose variance grows from 0.5 to 4 with the noise") {
        for (const double noise : {0.0, 50.0}) {
            const std::vector<Point> points = generate("gauss", 4000, noise, 3);
            double sum[2] = {0, 0}, sq[2] = {0, 0};
            int count[2] = {0, 0};
            for (const Point& p : points) {
                const int k = p.label > 0;
                sum[k] += p.x1;
                sq[k] += p.x1 * p.x1;
                ++count[k];
            }
            CHECK(count[0] == 2000);
            CHECK(count[1] == 2000);
            for (int k = 0; k < 2; ++k) {
                const double mean = sum[k] / count[k], var = sq[k] / count[k] - mean * mean;
                CHECK(mean == doctest::Approx(k ? 2.0 : -2.0).epsilon(0.1));
                CHECK(var == doctest::Approx(noise == 0 ? 0.5 : 4.0).epsilon(0.1));
            }
        }
    }
    SUBCASE("the set is shuffled: the labels alternate") {
        const std::vector<Point> points = generate("circle", n, 0, 3);
        int changes = 0;
        for (std::size_t i = 1; i < points.size(); ++i) changes += points[i].label != points[i - 1].label;
        CHECK(changes > 100);
    }
}

TEST_CASE("playground data sets: noise moves the point the label is taken at") {
    // At 50 % the noise reaches ±2.5 in each coordinate: some circle and xor labels disagree with their point.
    for (const std::string name : {"circle", "xor"}) {
        int disagree = 0;
        for (const Point& p : generate(name, 400, 50, 5)) {
            const double rule =
                name == "circle" ? (std::hypot(p.x1, p.x2) < 2.5 ? 1.0 : -1.0) : (p.x1 * p.x2 >= 0 ? 1.0 : -1.0);
            disagree += p.label != rule;
        }
        CHECK(disagree > 10);
        CHECK(disagree < 200);
    }
}

TEST_CASE("playground data sets and features: bad names and noise are value_errors") {
    CHECK_THROWS_WITH_AS(
        generate("moons", 10, 0, 1),
        "playground: unknown dataset 'moons'; use one of circle, xor, gauss, spiral, plane, multigauss", value_error);
    CHECK_THROWS_WITH_AS(generate("circle", 10, 51, 1), "playground: noise 51 is out of range; use 0..50 (percent)",
                         value_error);
    CHECK_THROWS_WITH_AS(generate("circle", 10, -1, 1), "playground: noise -1 is out of range; use 0..50 (percent)",
                         value_error);
    CHECK_THROWS_AS(generate("circle", 10, std::nan(""), 1), value_error);
    CHECK_THROWS_WITH_AS(feature_value("cosx1", 1, 2),
                         "playground: unknown feature 'cosx1'; use one of x1, x2, x1sq, x2sq, x1x2, sinx1, sinx2",
                         value_error);
}

TEST_CASE("playground features: the seven inputs at a point") {
    CHECK(feature_names() == std::vector<std::string>{"x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2"});
    CHECK(feature_value("x1", 0.5, -2) == 0.5);
    CHECK(feature_value("x2", 0.5, -2) == -2);
    CHECK(feature_value("x1sq", 0.5, -2) == 0.25);
    CHECK(feature_value("x2sq", 0.5, -2) == 4);
    CHECK(feature_value("x1x2", 0.5, -2) == -1);
    CHECK(feature_value("sinx1", 0.5, -2) == doctest::Approx(0.479425538604203));
    CHECK(feature_value("sinx2", 0.5, -2) == doctest::Approx(-0.909297426825682));
}

TEST_CASE("playground Config: the defaults validate and each bad field names itself") {
    CHECK_NOTHROW(Config{}.validate());
    const auto fails = [](auto change, const std::string& message) {
        Config c;
        change(c);
        CHECK_THROWS_WITH_AS(c.validate(), message.c_str(), value_error);
    };
    fails([](Config& c) { c.dataset = "moons"; },
          "playground: unknown dataset 'moons'; use one of circle, xor, gauss, spiral, plane, multigauss");
    fails([](Config& c) { c.noise = 60; }, "playground: noise 60 is out of range; use 0..50 (percent)");
    fails([](Config& c) { c.train_percent = 5; }, "playground: train_percent 5 is out of range; use 10..90");
    fails([](Config& c) { c.batch_size = 0; }, "playground: batch_size 0 is out of range; use 1..30");
    fails([](Config& c) { c.features = {}; },
          "playground: no input features; switch on at least one of x1, x2, x1sq, x2sq, x1x2, sinx1, sinx2");
    fails(
        [](Config& c) {
            c.features = {"x1", "cosx1"};
        },
        "playground: unknown feature 'cosx1'; use one of x1, x2, x1sq, x2sq, x1x2, sinx1, sinx2");
    fails(
        [](Config& c) {
            c.features = {"x1", "x2", "x1"};
        },
        "playground: feature 'x1' is listed twice; list each at most once");
    fails([](Config& c) { c.layers = {1, 1, 1, 1, 1, 1, 1}; }, "playground: 7 hidden layers; use at most 6");
    fails([](Config& c) { c.layers = {4, 9}; }, "playground: hidden layer 2 has 9 neurons; use 1..8");
    fails([](Config& c) { c.layers = {0}; }, "playground: hidden layer 1 has 0 neurons; use 1..8");
    fails([](Config& c) { c.activation = "softmax"; },
          "playground: unknown activation 'softmax'; use one of relu, tanh, sigmoid, linear");
    fails([](Config& c) { c.learning_rate = 0; }, "playground: learning_rate 0 is out of range; use a rate in (0, 10]");
    fails([](Config& c) { c.learning_rate = std::nan(""); },
          "playground: learning_rate nan is out of range; use a rate in (0, 10]");
    fails([](Config& c) { c.regularization = "l3"; },
          "playground: unknown regularization 'l3'; use one of none, l1, l2");
    fails([](Config& c) { c.regularization_rate = -1; },
          "playground: regularization_rate -1 is out of range; use 0..10");
    CHECK_THROWS_WITH_AS(Session([] {
                             Config c;
                             c.layers = {9};
                             return c;
                         }()),
                         "playground: hidden layer 1 has 9 neurons; use 1..8", value_error);
}

TEST_CASE("playground Config: a name from the user is quoted safely, numbers in full") {
    // The expected texts are written out by hand: control bytes as \xNN, a long name cut after 40 bytes with its
    // length (nn::message_text's rules).
    const auto message = [](auto change) {
        Config c;
        change(c);
        try {
            c.validate();
        } catch (const value_error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    const std::string with_nul("mo\0ons", 6);
    CHECK(message([&](Config& c) { c.dataset = with_nul; }) ==
          "playground: unknown dataset 'mo\\x00ons'; use one of circle, xor, gauss, spiral, plane, multigauss");
    CHECK(message([](Config& c) {
              c.features = {"x1", "x1\nplayground: forged"};
          }) ==
          "playground: unknown feature 'x1\\x0Aplayground: forged'; use one of x1, x2, x1sq, x2sq, x1x2, sinx1, "
          "sinx2");
    const std::string long_name(60000, 'a');
    CHECK(message([&](Config& c) { c.activation = long_name; }) ==
          "playground: unknown activation '" + std::string(40, 'a') +
              "... (60000 bytes)'; use one of relu, tanh, sigmoid, linear");
    // Shortest round-trip text, the same in Config::validate and generate (6 significant digits would print 50).
    CHECK(message([](Config& c) { c.noise = 50.0000001; }) ==
          "playground: noise 50.0000001 is out of range; use 0..50 (percent)");
    CHECK_THROWS_WITH_AS(generate("circle", 10, 50.0000001, 1),
                         "playground: noise 50.0000001 is out of range; use 0..50 (percent)", value_error);
    CHECK(message([](Config& c) { c.learning_rate = 12.3456789; }) ==
          "playground: learning_rate 12.3456789 is out of range; use a rate in (0, 10]");
}
