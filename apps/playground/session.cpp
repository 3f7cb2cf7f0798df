// One tab's data and network: training with adgraph's modules, ops and reverse sweeps; the update and the
// regularisation follow playground.tensorflow.org (its nn.ts), so the quality bounds compare with the original's.
#include "playground/session.hpp"

#include <algorithm>
#include <cmath>
#include <random>

#include <adgraph/autodiff/grad_mode.hpp>
#include <adgraph/autodiff/ops.hpp>
#include <adgraph/nn/activation.hpp>
#include <adgraph/nn/linear.hpp>
#include <adgraph/nn/sequential.hpp>
#include <adgraph/tensor/error.hpp>
#include <adgraph/tensor/size.hpp>

#include "playground/checks.hpp"
#include "playground/grid.hpp"

namespace adg::playground {

namespace {

// The original's "linear" activation (and a regression network's output): the Sequential keeps one activation
// module after every Linear, so layer l's parameters are always "<2l>.weight" and "<2l>.bias".
class Identity : public nn::Module {
public:
    Tensor forward(const Tensor& x) override { return x; }
    std::string to_string() const override { return "Identity()"; }
    std::string type_name() const override { return "Identity"; }
};

std::shared_ptr<nn::Module> activation_module(const std::string& name) {
    if (name == "relu") return std::make_shared<nn::ReLU>();
    if (name == "tanh") return std::make_shared<nn::Tanh>();
    if (name == "sigmoid") return std::make_shared<nn::Sigmoid>();
    return std::make_shared<Identity>();  // "linear"; Config::validate admits no other name
}

// Rows of feature values (n, features) and the labels (n, 1) of `points[from, to)`.
std::pair<Tensor, Tensor> rows_of(const std::vector<Point>& points, std::size_t from, std::size_t to,
                                  const std::vector<std::string>& features) {
    const std::size_t n = to - from, f = features.size();
    xt::xarray<double> x = new_xarray<double>({n, f}, "playground");
    xt::xarray<double> y = new_xarray<double>({n, 1}, "playground");
    for (std::size_t i = 0; i < n; ++i) {
        const Point& p = points[from + i];
        for (std::size_t j = 0; j < f; ++j) x.data()[i * f + j] = feature_value(features[j], p.x1, p.x2);
        y.data()[i] = p.label;
    }
    return {Tensor(std::move(x)), Tensor(std::move(y))};
}

// ½(out − label)² averaged over the rows.
Tensor half_mse(const Tensor& out, const Tensor& label) { return mean(square(out - label)) * 0.5; }

double sign(double w) { return w > 0 ? 1.0 : w < 0 ? -1.0 : 0.0; }

}  // namespace

std::vector<std::string> input_features(const Config& c) {
    std::vector<std::string> out;
    for (const auto& f : feature_names()) {
        if (std::find(c.features.begin(), c.features.end(), f) != c.features.end()) out.push_back(f);
    }
    return out;
}

xt::xarray<double> grid_features(const std::vector<std::string>& features, std::size_t side, std::size_t first_row,
                                 std::size_t rows, const char* what) {
    const std::size_t f = features.size();
    xt::xarray<double> grid = new_xarray<double>({rows * side, f}, what);
    for (std::size_t r = 0; r < rows; ++r) {
        const double x2 = -grid_coordinate(first_row + r, side);
        for (std::size_t c = 0; c < side; ++c) {
            const double x1 = grid_coordinate(c, side);
            for (std::size_t j = 0; j < f; ++j)
                grid.data()[(r * side + c) * f + j] = feature_value(features[j], x1, x2);
        }
    }
    return grid;
}

struct Session::State {
    Config config;
    std::vector<std::string> features;
    std::vector<Point> train, test;
    Tensor train_x, train_y, test_x, test_y;
    std::vector<std::pair<Tensor, Tensor>> batches;  // the training rows cut into batches once
    std::shared_ptr<nn::Sequential> net;
    std::vector<std::shared_ptr<nn::Linear>> layers;
    std::vector<std::shared_ptr<nn::Module>> activations;
    nn::StateDict initial;                // the weights after construction, for reset()
    std::vector<std::vector<bool>> dead;  // per layer, weights an L1 step set to zero (never trained again)
    std::size_t epoch = 0;
    std::size_t grid_side = 0;  // node_maps' grid of input features, kept for the next frame
    Tensor grid;

    // The loss the training takes a gradient of over `x`, `y`: the mean ½(out − label)², plus for gradients() the
    // regularisation term of the weights.
    Tensor loss(const Tensor& x, const Tensor& y, bool with_penalty) const {
        Tensor l = half_mse(net->forward(x), y);
        if (!with_penalty || config.regularization == "none") return l;
        for (const auto& layer : layers) {
            const Tensor& w = layer->weight();
            l = l + (config.regularization == "l2" ? sum(square(w)) * (0.5 * config.regularization_rate)
                                                   : sum(abs(w)) * config.regularization_rate);
        }
        return l;
    }

    // One plain gradient step on a batch's mean loss, then the original's regularisation step: w −= rate·lr·w
    // (l2) or rate·lr·sign(w) (l1), where an l1 step that carries a weight across zero leaves it at zero, dead.
    void train_batch(const Tensor& x, const Tensor& y) {
        net->zero_grad();
        loss(x, y, false).backward();
        NoGrad no_grad;
        const double lr = config.learning_rate, rr = config.regularization_rate;
        const bool l1 = config.regularization == "l1", l2 = config.regularization == "l2";
        for (std::size_t l = 0; l < layers.size(); ++l) {
            const Tensor grad_w = layers[l]->weight().grad(), grad_b = layers[l]->bias().grad();
            xt::xarray<double>& w = layers[l]->weight().mutable_value().get_mut<double>();
            const xt::xarray<double>& gw = grad_w.data<double>();
            for (std::size_t i = 0; i < w.size(); ++i) {
                if (dead[l][i]) continue;
                const double old = w.data()[i];
                const double moved = old - lr * gw.data()[i];
                const double penalty = l2 ? old : l1 ? sign(old) : 0.0;
                const double next = moved - lr * rr * penalty;
                if (l1 && moved * next < 0) {
                    w.data()[i] = 0;
                    dead[l][i] = true;
                } else {
                    w.data()[i] = next;
                }
            }
            xt::xarray<double>& b = layers[l]->bias().mutable_value().get_mut<double>();
            const xt::xarray<double>& gb = grad_b.data<double>();
            for (std::size_t i = 0; i < b.size(); ++i) b.data()[i] -= lr * gb.data()[i];
        }
        net->zero_grad();
    }
};

Session::Session(Config config) : s_(std::make_unique<State>()) {
    config.validate();
    State& s = *s_;
    s.config = std::move(config);
    s.features = input_features(s.config);

    const bool classification = problem_of(s.config.dataset) == Problem::classification;
    std::vector<Point> points = generate(s.config.dataset, classification ? classification_points : regression_points,
                                         s.config.noise, s.config.seed);
    const std::size_t split = points.size() * static_cast<std::size_t>(s.config.train_percent) / 100;
    s.train.assign(points.begin(), points.begin() + static_cast<std::ptrdiff_t>(split));
    s.test.assign(points.begin() + static_cast<std::ptrdiff_t>(split), points.end());
    std::tie(s.train_x, s.train_y) = rows_of(s.train, 0, s.train.size(), s.features);
    std::tie(s.test_x, s.test_y) = rows_of(s.test, 0, s.test.size(), s.features);
    const auto batch = static_cast<std::size_t>(s.config.batch_size);
    for (std::size_t from = 0; from < s.train.size(); from += batch) {
        s.batches.push_back(rows_of(s.train, from, std::min(from + batch, s.train.size()), s.features));
    }

    // The weights come from their own stream of the seed, not the data's.
    std::mt19937_64 engine(s.config.seed ^ 0x9e3779b97f4a7c15ULL);
    Generator unused(0);  // Linear draws its own initial weights, which the original's replace
    std::vector<std::size_t> sizes = {s.features.size()};
    sizes.insert(sizes.end(), s.config.layers.begin(), s.config.layers.end());
    sizes.push_back(1);
    s.net = std::make_shared<nn::Sequential>();
    for (std::size_t l = 0; l + 1 < sizes.size(); ++l) {
        auto layer = std::make_shared<nn::Linear>(sizes[l], sizes[l + 1], unused, true, nn::Init::uniform, f64);
        xt::xarray<double>& w = layer->weight().mutable_value().get_mut<double>();
        for (std::size_t i = 0; i < w.size(); ++i) {
            w.data()[i] = static_cast<double>(engine() >> 11) * 0x1.0p-53 - 0.5;
        }
        layer->bias().mutable_value().get_mut<double>().fill(0.1);
        const bool output = l + 2 == sizes.size();
        auto act = activation_module(output ? (classification ? "tanh" : "linear") : s.config.activation);
        s.net->add(layer);
        s.net->add(act);
        s.layers.push_back(layer);
        s.activations.push_back(act);
        s.dead.emplace_back(sizes[l] * sizes[l + 1], false);
    }
    s.initial = s.net->state_dict().clone();
}

Session::~Session() = default;
Session::Session(Session&&) noexcept = default;
Session& Session::operator=(Session&&) noexcept = default;

const Config& Session::config() const { return s_->config; }
const std::vector<Point>& Session::train_points() const { return s_->train; }
const std::vector<Point>& Session::test_points() const { return s_->test; }
std::size_t Session::epoch() const { return s_->epoch; }

void Session::step(std::size_t epochs) {
    for (std::size_t e = 0; e < epochs; ++e) {
        for (const auto& [x, y] : s_->batches) s_->train_batch(x, y);
        ++s_->epoch;
    }
}

void Session::reset() {
    s_->net->load_state_dict(s_->initial);
    for (auto& d : s_->dead) std::fill(d.begin(), d.end(), false);
    s_->epoch = 0;
}

Losses Session::losses() const {
    NoGrad no_grad;
    return {s_->loss(s_->train_x, s_->train_y, false).item(), s_->loss(s_->test_x, s_->test_y, false).item()};
}

std::vector<std::size_t> Session::layer_sizes() const {
    std::vector<std::size_t> sizes = {s_->features.size()};
    for (const auto& layer : s_->layers) sizes.push_back(layer->out_features());
    return sizes;
}

namespace {

LayerValues values_of(const std::vector<std::shared_ptr<nn::Linear>>& layers, bool grads) {
    LayerValues out;
    for (const auto& layer : layers) {
        const Tensor w = grads ? layer->weight().grad() : layer->weight();
        const Tensor b = grads ? layer->bias().grad() : layer->bias();
        out.weights.emplace_back(w.data<double>().begin(), w.data<double>().end());
        out.biases.emplace_back(b.data<double>().begin(), b.data<double>().end());
    }
    return out;
}

}  // namespace

LayerValues Session::parameters() const { return values_of(s_->layers, false); }

LayerValues Session::gradients() const {
    s_->net->zero_grad();
    s_->loss(s_->train_x, s_->train_y, true).backward();
    LayerValues g = values_of(s_->layers, true);
    s_->net->zero_grad();
    return g;
}

std::vector<std::vector<float>> Session::node_maps(std::size_t side) const {
    if (side < 1 || side > 1000) {
        throw value_error("playground: a node map of side " + std::to_string(side) +
                          " is out of range; use a side of 1..1000 cells");
    }
    const std::size_t n = side * side;
    // The grid's features stay the same from frame to frame: computed once per side.
    if (s_->grid_side != side) {
        s_->grid = Tensor(grid_features(s_->features, side, 0, side, "playground"));
        s_->grid_side = side;
    }
    std::vector<std::vector<float>> maps;
    // Node k of a layer is column k of its (n, width) output.
    const auto collect = [&](const xt::xarray<double>& h) {
        const std::size_t width = h.shape()[1];
        for (std::size_t k = 0; k < width; ++k) {
            std::vector<float> m(n);
            for (std::size_t i = 0; i < n; ++i) m[i] = static_cast<float>(h.data()[i * width + k]);
            maps.push_back(std::move(m));
        }
    };
    NoGrad no_grad;
    Tensor h = s_->grid;
    collect(h.data<double>());
    for (std::size_t l = 0; l < s_->layers.size(); ++l) {
        h = s_->activations[l]->forward(s_->layers[l]->forward(h));
        collect(h.data<double>());
    }
    return maps;
}

std::shared_ptr<nn::Module> Session::model() const { return s_->net; }

std::map<std::string, std::string> Session::metadata() const {
    const Config& c = s_->config;
    std::string features, layers;
    for (const auto& f : s_->features) features += (features.empty() ? "" : ",") + f;
    for (auto n : c.layers) layers += (layers.empty() ? "" : ",") + std::to_string(n);
    return {{"playground.dataset", c.dataset},
            {"playground.noise", number_text(c.noise)},
            {"playground.train_percent", std::to_string(c.train_percent)},
            {"playground.batch_size", std::to_string(c.batch_size)},
            {"playground.seed", std::to_string(c.seed)},
            {"playground.features", features},
            {"playground.layers", layers},
            {"playground.activation", c.activation},
            {"playground.learning_rate", number_text(c.learning_rate)},
            {"playground.regularization", c.regularization},
            {"playground.regularization_rate", number_text(c.regularization_rate)},
            {"playground.epoch", std::to_string(s_->epoch)}};
}

}  // namespace adg::playground
