// The playground's names (data sets, features) and the checks of a Config.
#include "playground/session.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include <adgraph/nn/message_text.hpp>
#include <adgraph/tensor/error.hpp>

#include "playground/checks.hpp"

namespace adg::playground {

namespace {

std::string joined(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
}

bool is_one_of(const std::string& v, const std::vector<std::string>& allowed) {
    return std::find(allowed.begin(), allowed.end(), v) != allowed.end();
}

// "playground: <field> <value> is out of range; use <allowed>" for a number outside [lo, hi] (or NaN).
void check_range(const char* field, double v, double lo, double hi, const std::string& allowed) {
    if (!(v >= lo && v <= hi)) {
        throw value_error(std::string("playground: ") + field + " " + number_text(v) + " is out of range; use " +
                          allowed);
    }
}

void check_name(const char* field, const std::string& v, const std::vector<std::string>& allowed) {
    if (!is_one_of(v, allowed)) {
        throw value_error(std::string("playground: unknown ") + field + " '" + nn::message_text(v) + "'; use one of " +
                          joined(allowed));
    }
}

}  // namespace

std::string number_text(double v) {
    char buf[32];  // the longest double, -2.2250738585072014e-308, takes 24
    const auto end = std::to_chars(buf, buf + sizeof buf, v).ptr;
    return std::string(buf, end);
}

void check_noise(double noise) { check_range("noise", noise, 0, 50, "0..50 (percent)"); }

const std::vector<std::string>& dataset_names() {
    static const std::vector<std::string> names = {"circle", "xor", "gauss", "spiral", "plane", "multigauss"};
    return names;
}

Problem problem_of(const std::string& dataset) {
    check_name("dataset", dataset, dataset_names());
    return dataset == "plane" || dataset == "multigauss" ? Problem::regression : Problem::classification;
}

const std::vector<std::string>& feature_names() {
    static const std::vector<std::string> names = {"x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2"};
    return names;
}

double feature_value(const std::string& name, double x1, double x2) {
    if (name == "x1") return x1;
    if (name == "x2") return x2;
    if (name == "x1sq") return x1 * x1;
    if (name == "x2sq") return x2 * x2;
    if (name == "x1x2") return x1 * x2;
    if (name == "sinx1") return std::sin(x1);
    if (name == "sinx2") return std::sin(x2);
    check_name("feature", name, feature_names());
    return 0;  // not reached
}

void Config::validate() const {
    check_name("dataset", dataset, dataset_names());
    check_noise(noise);
    check_range("train_percent", train_percent, 10, 90, "10..90");
    check_range("batch_size", batch_size, 1, 30, "1..30");
    if (features.empty())
        throw value_error("playground: no input features; switch on at least one of " + joined(feature_names()));
    for (std::size_t i = 0; i < features.size(); ++i) {
        check_name("feature", features[i], feature_names());
        if (std::find(features.begin(), features.begin() + static_cast<std::ptrdiff_t>(i), features[i]) !=
            features.begin() + static_cast<std::ptrdiff_t>(i)) {
            throw value_error("playground: feature '" + nn::message_text(features[i]) +
                              "' is listed twice; list each at most once");
        }
    }
    if (layers.size() > max_layers) {
        throw value_error("playground: " + std::to_string(layers.size()) + " hidden layers; use at most " +
                          std::to_string(max_layers));
    }
    for (std::size_t i = 0; i < layers.size(); ++i) {
        if (layers[i] < 1 || layers[i] > max_neurons) {
            throw value_error("playground: hidden layer " + std::to_string(i + 1) + " has " +
                              std::to_string(layers[i]) + " neurons; use 1.." + std::to_string(max_neurons));
        }
    }
    check_name("activation", activation, {"relu", "tanh", "sigmoid", "linear"});
    if (!(learning_rate > 0 && learning_rate <= 10)) {
        throw value_error("playground: learning_rate " + number_text(learning_rate) +
                          " is out of range; use a rate in (0, 10]");
    }
    check_name("regularization", regularization, {"none", "l1", "l2"});
    check_range("regularization_rate", regularization_rate, 0, 10, "0..10");
}

}  // namespace adg::playground
