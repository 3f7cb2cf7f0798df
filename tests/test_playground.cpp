// The playground's Session and headless mode (apps/playground): a Session against a forward pass written here with
// loops (losses, node maps), central differences of that loss (gradients, one training step), its own initial
// state (reset) and a Sequential built here (model); the picture against the page's colours at known outputs.
// The data sets, features and Config checks are in test_playground_data.cpp.

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <adgraph/adgraph.hpp>

#include "playground/headless.hpp"
#include "playground/session.hpp"
#include "temp_dir.hpp"

using namespace adg;
using namespace adg::playground;

namespace {

// ---- a reference network, written with loops --------------------------------------------------------------------

double act(const std::string& name, double z) {
    if (name == "tanh") return std::tanh(z);
    if (name == "relu") return z > 0 ? z : 0;
    if (name == "sigmoid") return 1 / (1 + std::exp(-z));
    return z;
}

// The input features of (x1, x2) in the page's order, by formulas written here.
std::vector<double> inputs(const Config& c, double x1, double x2) {
    const std::vector<std::pair<std::string, double>> all = {{"x1", x1},
                                                             {"x2", x2},
                                                             {"x1sq", x1 * x1},
                                                             {"x2sq", x2 * x2},
                                                             {"x1x2", x1 * x2},
                                                             {"sinx1", std::sin(x1)},
                                                             {"sinx2", std::sin(x2)}};
    std::vector<double> v;
    for (const auto& [name, value] : all) {
        if (std::find(c.features.begin(), c.features.end(), name) != c.features.end()) v.push_back(value);
    }
    return v;
}

// Every layer's values for one point: layer 0 the features, then each layer after its activation.
std::vector<std::vector<double>> forward_all(const LayerValues& p, const Config& c, bool classification, double x1,
                                             double x2) {
    std::vector<std::vector<double>> layers = {inputs(c, x1, x2)};
    for (std::size_t l = 0; l < p.weights.size(); ++l) {
        const bool output = l + 1 == p.weights.size();
        std::vector<double> next;
        for (std::size_t j = 0; j < p.biases[l].size(); ++j) {
            double z = p.biases[l][j];
            const std::size_t in = layers.back().size();
            for (std::size_t i = 0; i < in; ++i) z += p.weights[l][j * in + i] * layers.back()[i];
            next.push_back(act(output ? (classification ? "tanh" : "linear") : c.activation, z));
        }
        layers.push_back(next);
    }
    return layers;
}

double output_of(const LayerValues& p, const Config& c, bool classification, const Point& q) {
    return forward_all(p, c, classification, q.x1, q.x2).back()[0];
}

// Mean ½(out − label)² over points[from, to).
double data_loss(const LayerValues& p, const Config& c, const std::vector<Point>& points, std::size_t from,
                 std::size_t to) {
    const bool classification = problem_of(c.dataset) == Problem::classification;
    double s = 0;
    for (std::size_t i = from; i < to; ++i) {
        const double d = output_of(p, c, classification, points[i]) - points[i].label;
        s += 0.5 * d * d;
    }
    return s / static_cast<double>(to - from);
}

double penalty(const LayerValues& p, const Config& c) {
    double s = 0;
    for (const auto& layer : p.weights) {
        for (double w : layer) s += c.regularization == "l2" ? 0.5 * w * w : c.regularization == "l1" ? std::abs(w) : 0;
    }
    return c.regularization_rate * s;
}

// Every weight then every bias, layer by layer, as references into `p`.
std::vector<double*> entries(LayerValues& p) {
    std::vector<double*> out;
    for (std::size_t l = 0; l < p.weights.size(); ++l) {
        for (double& w : p.weights[l]) out.push_back(&w);
        for (double& b : p.biases[l]) out.push_back(&b);
    }
    return out;
}

// Central differences of `f` at `p`, in entries() order.
template <class F>
std::vector<double> numeric_gradient(LayerValues p, F f) {
    std::vector<double> g;
    const double eps = 1e-6;
    for (double* e : entries(p)) {
        const double keep = *e;
        *e = keep + eps;
        const double up = f(p);
        *e = keep - eps;
        const double down = f(p);
        *e = keep;
        g.push_back((up - down) / (2 * eps));
    }
    return g;
}

std::vector<double> flat(LayerValues p) {
    std::vector<double> v;
    for (double* e : entries(p)) v.push_back(*e);
    return v;
}

// Sets the session's weights and biases (through the state dict, which shares the module's arrays).
void set_parameters(const Session& s, LayerValues p) {
    const nn::StateDict sd = s.model()->state_dict();
    for (std::size_t l = 0; l < p.weights.size(); ++l) {
        auto& w = sd[std::to_string(2 * l) + ".weight"].mutable_value().get_mut<double>();
        for (std::size_t k = 0; k < p.weights[l].size(); ++k) w.data()[k] = p.weights[l][k];
        auto& b = sd[std::to_string(2 * l) + ".bias"].mutable_value().get_mut<double>();
        for (std::size_t j = 0; j < p.biases[l].size(); ++j) b.data()[j] = p.biases[l][j];
    }
}

Config small(const std::string& dataset = "circle") {
    Config c;
    c.dataset = dataset;
    c.features = {"x1", "x2", "x1x2"};
    c.layers = {3, 2};
    return c;
}

}  // namespace

// ---- Session -------------------------------------------------------------------------------------------------------

TEST_CASE("playground Session: the points split as the configuration says, the network has its layer sizes") {
    Config c;
    c.train_percent = 30;
    c.features = {"sinx1", "x2", "x1"};  // listed out of order: the inputs keep feature_names() order
    c.layers = {5, 3};
    const Session s(c);
    CHECK(s.train_points().size() == 150);
    CHECK(s.test_points().size() == 350);
    const std::vector<Point> all = generate("circle", 500, 0, 1);
    CHECK(s.train_points().front().x1 == all.front().x1);
    CHECK(s.test_points().front().x1 == all[150].x1);
    CHECK(s.test_points().back().x2 == all.back().x2);
    CHECK(s.layer_sizes() == std::vector<std::size_t>{3, 5, 3, 1});
    CHECK(s.epoch() == 0);

    Config r = c;
    r.dataset = "multigauss";
    r.layers = {};
    const Session reg(r);
    CHECK(reg.train_points().size() + reg.test_points().size() == regression_points);
    CHECK(reg.layer_sizes() == std::vector<std::size_t>{3, 1});
    CHECK(reg.metadata().at("playground.dataset") == "multigauss");
    CHECK(reg.metadata().at("playground.features") == "x1,x2,sinx1");
    CHECK(reg.metadata().at("playground.epoch") == "0");
}

TEST_CASE("playground Session: initial weights U(-0.5, 0.5) and biases 0.1, drawn from the seed") {
    const Session a(small()), b(small());
    Config other = small();
    other.seed = 2;
    const Session c(other);
    const LayerValues p = a.parameters();
    REQUIRE(p.weights.size() == 3);
    const std::vector<std::size_t> sizes = a.layer_sizes();
    double lo = 1, hi = -1;
    for (std::size_t l = 0; l < 3; ++l) {
        REQUIRE(p.weights[l].size() == sizes[l + 1] * sizes[l]);
        REQUIRE(p.biases[l].size() == sizes[l + 1]);
        for (double w : p.weights[l]) {
            lo = std::min(lo, w);
            hi = std::max(hi, w);
        }
        for (double bias : p.biases[l]) CHECK(bias == 0.1);
    }
    CHECK(lo >= -0.5);
    CHECK(hi < 0.5);
    CHECK(hi - lo > 0.3);  // 17 draws spread over the range
    CHECK(flat(b.parameters()) == flat(p));
    CHECK(flat(c.parameters()) != flat(p));
}

TEST_CASE("playground Session: losses and node maps equal a forward pass written with loops") {
    for (const std::string activation : {"tanh", "relu", "sigmoid", "linear"}) {
        for (const std::string dataset : {"spiral", "plane"}) {
            INFO(activation, " ", dataset);
            Config c = small(dataset);
            c.activation = activation;
            c.features = {"x1", "x2", "x2sq", "sinx1"};
            Session s(c);
            s.step(2);
            const LayerValues p = s.parameters();
            const bool classification = dataset == "spiral";
            const Losses l = s.losses();
            CHECK(l.train ==
                  doctest::Approx(data_loss(p, c, s.train_points(), 0, s.train_points().size())).epsilon(1e-12));
            CHECK(l.test ==
                  doctest::Approx(data_loss(p, c, s.test_points(), 0, s.test_points().size())).epsilon(1e-12));

            const std::size_t side = 7;
            const std::vector<std::vector<float>> maps = s.node_maps(side);
            const std::vector<std::size_t> sizes = s.layer_sizes();
            std::size_t nodes = 0;
            for (auto n : sizes) nodes += n;
            REQUIRE(maps.size() == nodes);
            for (const auto& m : maps) REQUIRE(m.size() == side * side);
            for (std::size_t r = 0; r < side; ++r) {
                for (std::size_t col = 0; col < side; ++col) {
                    // Row 0 at the top (x2 = +6), cell centres 12/7 apart.
                    const double x1 = -6 + (col + 0.5) * 12.0 / side, x2 = 6 - (r + 0.5) * 12.0 / side;
                    const auto values = forward_all(p, c, classification, x1, x2);
                    std::size_t k = 0;
                    for (const auto& layer : values) {
                        for (double v : layer) {
                            CHECK(maps[k][r * side + col] == doctest::Approx(v).epsilon(1e-6));
                            ++k;
                        }
                    }
                }
            }
        }
    }
    const Session s(small());
    CHECK(s.node_maps(1).front() == std::vector<float>{0.0f});  // one cell: its centre is the origin, x1 = 0
    CHECK_THROWS_WITH_AS(s.node_maps(0),
                         "playground: a node map of side 0 is out of range; use a side of 1..1000 cells", value_error);
}

TEST_CASE("playground Session: gradients() equal central differences of the loss with its l1 or l2 term") {
    for (const std::string reg : {"none", "l1", "l2"}) {
        for (const std::string activation : {"tanh", "sigmoid"}) {
            INFO(reg, " ", activation);
            Config c = small("xor");
            c.activation = activation;
            c.regularization = reg;
            c.regularization_rate = reg == "none" ? 0 : 0.3;
            Session s(c);
            s.step(1);  // away from the initial biases
            const auto& train = s.train_points();
            const std::vector<double> numeric = numeric_gradient(s.parameters(), [&](const LayerValues& p) {
                return data_loss(p, c, train, 0, train.size()) + penalty(p, c);
            });
            const std::vector<double> exact = flat(s.gradients());
            REQUIRE(exact.size() == numeric.size());
            for (std::size_t i = 0; i < exact.size(); ++i) {
                CHECK(exact[i] == doctest::Approx(numeric[i]).epsilon(1e-6).scale(1e-3));
            }
            CHECK(s.epoch() == 1);
        }
    }
}

TEST_CASE("playground Session: step() is one plain gradient step per batch, then the original's penalty step") {
    for (const std::string reg : {"none", "l2", "l1"}) {
        INFO(reg);
        Config c = small("circle");
        c.train_percent = 10;  // 50 points: batches of 30 and 20
        c.batch_size = 30;
        c.learning_rate = 0.1;
        c.regularization = reg;
        c.regularization_rate = reg == "l1" ? 3 : 0.5;  // l1: lr * rate = 0.3 carries many weights across zero
        Session s(c);
        LayerValues expected = s.parameters();
        const auto& train = s.train_points();
        std::vector<bool> dead(flat(expected).size(), false);
        for (int epoch = 0; epoch < 2; ++epoch) {
            for (std::size_t from : {0, 30}) {
                const std::size_t to = std::min<std::size_t>(from + 30, train.size());
                const std::vector<double> g =
                    numeric_gradient(expected, [&](const LayerValues& p) { return data_loss(p, c, train, from, to); });
                // Weights first in each layer, then biases (entries() order); only weights are penalised.
                std::vector<bool> is_weight;
                for (std::size_t l = 0; l < expected.weights.size(); ++l) {
                    is_weight.insert(is_weight.end(), expected.weights[l].size(), true);
                    is_weight.insert(is_weight.end(), expected.biases[l].size(), false);
                }
                std::vector<double*> e = entries(expected);
                for (std::size_t i = 0; i < e.size(); ++i) {
                    if (dead[i]) continue;
                    const double old = *e[i], moved = old - c.learning_rate * g[i];
                    double next = moved;
                    if (is_weight[i] && reg == "l2") next -= c.learning_rate * c.regularization_rate * old;
                    if (is_weight[i] && reg == "l1") {
                        next -= c.learning_rate * c.regularization_rate * (old > 0 ? 1 : -1);
                        if (moved * next < 0) {
                            next = 0;
                            dead[i] = true;
                        }
                    }
                    *e[i] = next;
                }
            }
            s.step();
            const std::vector<double> want = flat(expected), got = flat(s.parameters());
            for (std::size_t i = 0; i < want.size(); ++i)
                CHECK(got[i] == doctest::Approx(want[i]).epsilon(1e-7).scale(1e-6));
        }
        if (reg == "l1") {
            const std::size_t zeros = static_cast<std::size_t>(std::count(dead.begin(), dead.end(), true));
            CHECK(zeros > 2);  // the crossing rule was exercised
        }
        CHECK(s.epoch() == 2);
    }
}

TEST_CASE("playground Session: the losses fall on circle, reset() restores the start, model() is the network") {
    Config c = small("circle");
    Session s(c);
    const LayerValues start = s.parameters();
    const Losses before = s.losses();
    s.step(20);
    CHECK(s.epoch() == 20);
    CHECK(s.losses().train < 0.8 * before.train);
    CHECK(s.metadata().at("playground.epoch") == "20");
    const std::vector<double> after20 = flat(s.parameters());

    s.reset();
    CHECK(s.epoch() == 0);
    CHECK(flat(s.parameters()) == flat(start));
    CHECK(s.losses().train == before.train);
    s.step(20);
    CHECK(flat(s.parameters()) == after20);  // the same run again

    // The state dict loads into a Sequential built here and predicts what the session's node maps show.
    const nn::StateDict state = s.model()->state_dict();
    CHECK(state.keys() == std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"});
    Generator gen(0);
    nn::Sequential copy;
    copy.add(std::make_shared<nn::Linear>(3, 3, gen, true, nn::Init::uniform, f64)).add(std::make_shared<nn::Tanh>());
    copy.add(std::make_shared<nn::Linear>(3, 2, gen, true, nn::Init::uniform, f64)).add(std::make_shared<nn::Tanh>());
    copy.add(std::make_shared<nn::Linear>(2, 1, gen, true, nn::Init::uniform, f64)).add(std::make_shared<nn::Tanh>());
    copy.load_state_dict(state);
    const std::vector<float> output = s.node_maps(4).back();
    const double x1 = -6 + 1.5 * 3, x2 = 6 - 0.5 * 3;  // row 0, column 1 of a 4 x 4 map
    const Tensor y = copy.forward(Tensor::from({{x1, x2, x1 * x2}}, f64));
    CHECK(y.item() == doctest::Approx(output[1]).epsilon(1e-6));
}

TEST_CASE("playground Session: a diverging network gives NaN or huge losses, not exceptions") {
    Config c;
    c.dataset = "plane";
    c.activation = "relu";
    c.features = {"x1sq", "x2sq", "x1x2"};
    c.layers = {8, 8, 8};
    c.learning_rate = 10;
    Session s(c);
    CHECK_NOTHROW(s.step(5));
    const Losses l = s.losses();
    CHECK(!(l.train < 1e3));  // NaN or huge
    CHECK_NOTHROW(s.gradients());
    CHECK_NOTHROW(s.node_maps(3));
}

TEST_CASE("playground quality: circle and xor with x1, x2 and one hidden layer of 4 reach test loss 0.05 in 300") {
    // The original's settings (tanh, learning rate 0.03, batch 10, noise 0) on the first five seeds, unpicked. The
    // counts asserted (circle 5, xor 3 of seeds 1..5) are our own measured counts on these seeds (xor seed 1 stays
    // at 0.080, seed 2 at 0.0504), not an independent reference: this case only guards against a regression. The
    // independent comparison is bench_playground, which sets the share of seeds meeting the bound against the
    // original's share (docs/benchmarks.md): the bound does not hold for every seed, in the original either; over
    // seeds 1..200 circle meets it for 197 here and 196 in the original, xor for 141 here and 122 there (given the
    // same points and initial weights, this Session follows the original's nn.ts to 4e-16 in the losses).
    for (const auto& [dataset, at_least] : std::vector<std::pair<std::string, int>>{{"circle", 5}, {"xor", 3}}) {
        int meeting = 0;
        for (std::uint64_t seed = 1; seed <= 5; ++seed) {
            Config c;
            c.dataset = dataset;
            c.seed = seed;
            c.layers = {4};
            Session s(c);
            s.step(300);
            if (s.losses().test <= 0.05) ++meeting;
        }
        INFO(dataset);
        CHECK(meeting >= at_least);
    }
}

// ---- headless ------------------------------------------------------------------------------------------------------

TEST_CASE("playground render_surface: page colours for a known output, points in their label's colour") {
    Config c;
    c.layers = {};  // output = tanh(w · x + b)
    Session s(c);
    const auto with_bias = [&](double b) {
        LayerValues p = s.parameters();
        p.weights[0] = {0, 0};
        p.biases[0] = {b};
        set_parameters(s, p);
        return render_surface(s, 240, false);
    };
    const auto pixel = [](const nn::Image& img, std::size_t x, std::size_t y) {
        const std::uint8_t* q = img.pixels.data() + (y * img.width + x) * 3;
        return std::vector<int>{q[0], q[1], q[2]};
    };
    const nn::Image blue = with_bias(40), orange = with_bias(-40), white = with_bias(0),
                    part = with_bias(std::atanh(0.4));
    CHECK(blue.width == 240);
    CHECK(blue.height == 240);
    CHECK(blue.channels == 3);
    CHECK(blue.pixels.size() == 240 * 240 * 3);
    // The corners lie outside the circle's points (radius 5 of the domain's 6).
    CHECK(pixel(blue, 0, 0) == std::vector<int>{0x08, 0x77, 0xbd});
    CHECK(pixel(orange, 239, 239) == std::vector<int>{0xf5, 0x93, 0x22});
    CHECK(pixel(white, 0, 239) == std::vector<int>{0xe8, 0xea, 0xeb});
    CHECK(pixel(part, 239, 0) == std::vector<int>{142, 188, 217});  // 0.4 of the way from e8eaeb to 0877bd, rounded

    // A point's centre pixel has its label's colour (unless a later point's disc covers it).
    const auto centre_has_label_colour = [&](const nn::Image& img, const std::vector<Point>& points) {
        std::size_t hits = 0;
        for (const Point& p : points) {
            const auto x = static_cast<std::size_t>((p.x1 + 6) / 12 * 240),
                       y = static_cast<std::size_t>((6 - p.x2) / 12 * 240);
            hits += pixel(img, x, y) ==
                    (p.label > 0 ? std::vector<int>{0x08, 0x77, 0xbd} : std::vector<int>{0xf5, 0x93, 0x22});
        }
        return static_cast<double>(hits) / static_cast<double>(points.size());
    };
    CHECK(centre_has_label_colour(white, s.train_points()) > 0.8);
    // Test points are drawn only when asked, with a dark outline the training points do not have.
    const nn::Image with = render_surface(s, 240, true);
    CHECK(centre_has_label_colour(with, s.test_points()) > 0.5);
    const auto dark = [&](const nn::Image& img) {
        for (std::size_t y = 0; y < 240; ++y) {
            for (std::size_t x = 0; x < 240; ++x) {
                if (pixel(img, x, y) == std::vector<int>{0x22, 0x22, 0x22}) return true;
            }
        }
        return false;
    };
    CHECK(dark(with));
    CHECK(!dark(white));
    CHECK_THROWS_WITH_AS(render_surface(s, 0, false),
                         "playground: a picture of side 0 pixels is out of range; use a side of 1..4096 pixels",
                         value_error);
}

TEST_CASE("playground run_headless: progress lines with the session's losses, then the PNG") {
    const adg::testing::TempDir dir("adgraph-playground");
    HeadlessOptions o;
    o.config.dataset = "xor";
    o.steps = 3;
    o.report_every = 2;
    o.png = dir.file("xor.png");
    o.png_side = 32;
    std::ostringstream out;
    CHECK(run_headless(o, out) == 0);

    Session s(o.config);
    char want[200];
    s.step(2);
    const Losses at2 = s.losses();
    s.step(1);
    const Losses at3 = s.losses();
    std::snprintf(want, sizeof want,
                  "epoch 2  train loss %.6f  test loss %.6f\nepoch 3  train loss %.6f  test loss %.6f\n", at2.train,
                  at2.test, at3.train, at3.test);
    CHECK(out.str() == std::string(want) + "wrote " + o.png + "\n");
    std::ifstream png(o.png, std::ios::binary);
    char magic[8] = {};
    png.read(magic, 8);
    CHECK(std::string(magic + 1, 3) == "PNG");

    o.png_side = 5000;
    std::ostringstream none;
    CHECK_THROWS_WITH_AS(run_headless(o, none),
                         "playground: a picture of side 5000 pixels is out of range; use a side of 1..4096 pixels",
                         value_error);
    CHECK(none.str().empty());
}
