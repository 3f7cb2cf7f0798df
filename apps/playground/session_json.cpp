// The data and state objects the page draws from.
#include "playground/session_json.hpp"

#include <cmath>
#include <stdexcept>

#include "playground/encode.hpp"

namespace adg::playground {

namespace {

using nlohmann::json;

// JSON has no NaN or Inf: a diverged value is null, which the page shows as "diverged".
json number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

json points(const std::vector<Point>& ps) {
    json out = json::array();
    for (const Point& p : ps) out.push_back(json::array({number(p.x1), number(p.x2), number(p.label)}));
    return out;
}

// Per layer, per receiving neuron, its weights; and per layer the biases.
json layer_values(const LayerValues& values, const std::vector<std::size_t>& sizes, const char* what) {
    json weights = json::array(), biases = json::array();
    if (values.weights.size() + 1 != sizes.size() || values.biases.size() + 1 != sizes.size()) {
        throw std::logic_error(std::string("playground: the session's ") + what + " have " +
                               std::to_string(values.weights.size()) + " layers for layer sizes of " +
                               std::to_string(sizes.size()) + " entries; this is a bug, please report it");
    }
    for (std::size_t l = 0; l + 1 < sizes.size(); ++l) {
        const std::size_t in = sizes[l], out = sizes[l + 1];
        const auto& w = values.weights[l];
        const auto& b = values.biases[l];
        if (w.size() != in * out || b.size() != out) {
            throw std::logic_error(std::string("playground: the session's ") + what + " of layer " + std::to_string(l) +
                                   " hold " + std::to_string(w.size()) + " weights and " + std::to_string(b.size()) +
                                   " biases for " + std::to_string(out) + " x " + std::to_string(in) +
                                   "; this is a bug, please report it");
        }
        json rows = json::array(), bs = json::array();
        for (std::size_t r = 0; r < out; ++r) {
            json row = json::array();
            for (std::size_t c = 0; c < in; ++c) row.push_back(number(w[r * in + c]));
            rows.push_back(std::move(row));
            bs.push_back(number(b[r]));
        }
        weights.push_back(std::move(rows));
        biases.push_back(std::move(bs));
    }
    return {{"weights", std::move(weights)}, {"biases", std::move(biases)}};
}

}  // namespace

json data_json(const Session& session) {
    return {
        {"problem", problem_of(session.config().dataset) == Problem::classification ? "classification" : "regression"},
        {"train", points(session.train_points())},
        {"test", points(session.test_points())}};
}

json state_json(const Session& session, bool maps) {
    const std::vector<std::size_t> sizes = session.layer_sizes();
    const Losses losses = session.losses();
    json params = layer_values(session.parameters(), sizes, "parameters");
    json state = {{"epoch", session.epoch()},
                  {"loss", {{"train", number(losses.train)}, {"test", number(losses.test)}}},
                  {"layers", sizes},
                  {"weights", std::move(params["weights"])},
                  {"biases", std::move(params["biases"])},
                  {"gradients", layer_values(session.gradients(), sizes, "gradients")}};
    if (maps) {
        const std::vector<std::vector<float>> all = session.node_maps(output_map_side);
        json nodes = json::array();
        for (const auto& m : all) {
            nodes.push_back(base64(quantise_map(block_average(m, output_map_side, output_map_side / node_map_side))));
        }
        state["maps"] = {{"output_side", output_map_side},
                         {"output", all.empty() ? "" : base64(quantise_map(all.back()))},
                         {"node_side", node_map_side},
                         {"nodes", std::move(nodes)}};
    }
    return state;
}

}  // namespace adg::playground
