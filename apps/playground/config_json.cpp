// Config and request bodies from JSON: every field checked for its type before Config::validate sees it.
#include "playground/config_json.hpp"

#include <cmath>
#include <cstdint>
#include <limits>

#include <adgraph/nn/message_text.hpp>
#include <adgraph/tensor/error.hpp>

namespace adg::playground {

namespace {

using nlohmann::json;

// "a string", "an array", ... as a message names what was sent.
std::string kind_of(const json& v) {
    switch (v.type()) {
        case json::value_t::null:
            return "null";
        case json::value_t::boolean:
            return "a boolean";
        case json::value_t::string:
            return "a string";
        case json::value_t::array:
            return "an array";
        case json::value_t::object:
            return "an object";
        case json::value_t::number_integer:
        case json::value_t::number_unsigned:
        case json::value_t::number_float:
            return "a number";
        default:
            return "a " + std::string(v.type_name());
    }
}

[[noreturn]] void wrong_type(const std::string& field, const char* expected, const json& v) {
    throw value_error("playground: field '" + field + "' must be " + expected + ", not " + kind_of(v));
}

std::string text_of(const json& v) { return nn::message_text(v.dump(), 60); }

double number_field(const json& v, const std::string& field) {
    if (!v.is_number()) wrong_type(field, "a number", v);
    return v.get<double>();
}

std::string string_field(const json& v, const std::string& field) {
    if (!v.is_string()) wrong_type(field, "a string", v);
    return v.get<std::string>();
}

bool bool_field(const json& v, const std::string& field) {
    if (!v.is_boolean()) wrong_type(field, "a boolean", v);
    return v.get<bool>();
}

// An integer in [lo, hi] (|lo|, hi ≤ 2^53, so a double holds the range exactly). A number with a fractional part is
// refused; one written with a zero fraction or an exponent (3.0, 1e2) is the integer it equals.
std::int64_t integer_field(const json& v, const std::string& field, std::int64_t lo, std::int64_t hi) {
    if (!v.is_number()) wrong_type(field, "an integer", v);
    const auto out_of_range = [&] {
        return value_error("playground: field '" + field + "' must be an integer from " + std::to_string(lo) + " to " +
                           std::to_string(hi) + ", not " + text_of(v));
    };
    if (v.is_number_unsigned()) {
        const std::uint64_t u = v.get<std::uint64_t>();
        if (u > static_cast<std::uint64_t>(hi) || static_cast<std::int64_t>(u) < lo) throw out_of_range();
        return static_cast<std::int64_t>(u);
    }
    if (v.is_number_integer()) {
        const std::int64_t i = v.get<std::int64_t>();
        if (i < lo || i > hi) throw out_of_range();
        return i;
    }
    const double d = v.get<double>();
    if (std::floor(d) != d) {
        throw value_error("playground: field '" + field + "' must be an integer, not " + text_of(v) +
                          " (a number with a fractional part)");
    }
    if (d < static_cast<double>(lo) || d > static_cast<double>(hi)) throw out_of_range();
    return static_cast<std::int64_t>(d);
}

constexpr std::int64_t int_lo = std::numeric_limits<int>::min();
constexpr std::int64_t int_hi = std::numeric_limits<int>::max();
constexpr std::int64_t count_hi = static_cast<std::int64_t>(max_json_seed);

const char* const config_fields =
    "dataset, noise, train_percent, batch_size, seed, features, layers, activation, learning_rate, regularization, "
    "regularization_rate";

[[noreturn]] void unknown_field(const std::string& name, const char* where, const char* known) {
    throw value_error("playground: unknown field '" + nn::message_text(name) + "' in " + where + "; use " + known);
}

}  // namespace

json parse_body(const std::string& body) {
    if (body.find_first_not_of(" \t\r\n") == std::string::npos) return json::object();
    json j;
    try {
        j = json::parse(body);
    } catch (const json::exception& e) {
        throw value_error("playground: the request body is not valid JSON: " + nn::message_text(e.what(), 300));
    }
    if (!j.is_object()) {
        throw value_error("playground: the request body must be a JSON object, not " + kind_of(j) +
                          "; send {} or an object with the fields of docs/playground.md");
    }
    return j;
}

Config config_from_json(const json& object) {
    if (!object.is_object()) wrong_type("config", "an object", object);
    Config c;
    for (const auto& [key, v] : object.items()) {
        if (key == "dataset") {
            c.dataset = string_field(v, key);
        } else if (key == "noise") {
            c.noise = number_field(v, key);
        } else if (key == "train_percent") {
            c.train_percent = static_cast<int>(integer_field(v, key, int_lo, int_hi));
        } else if (key == "batch_size") {
            c.batch_size = static_cast<int>(integer_field(v, key, int_lo, int_hi));
        } else if (key == "seed") {
            c.seed = static_cast<std::uint64_t>(integer_field(v, key, 0, count_hi));
        } else if (key == "features") {
            if (!v.is_array()) wrong_type(key, "an array of strings", v);
            c.features.clear();
            for (std::size_t i = 0; i < v.size(); ++i) {
                c.features.push_back(string_field(v[i], key + "[" + std::to_string(i) + "]"));
            }
        } else if (key == "layers") {
            if (!v.is_array()) wrong_type(key, "an array of integers", v);
            c.layers.clear();
            for (std::size_t i = 0; i < v.size(); ++i) {
                c.layers.push_back(
                    static_cast<std::size_t>(integer_field(v[i], key + "[" + std::to_string(i) + "]", 0, count_hi)));
            }
        } else if (key == "activation") {
            c.activation = string_field(v, key);
        } else if (key == "learning_rate") {
            c.learning_rate = number_field(v, key);
        } else if (key == "regularization") {
            c.regularization = string_field(v, key);
        } else if (key == "regularization_rate") {
            c.regularization_rate = number_field(v, key);
        } else {
            unknown_field(key, "the configuration", config_fields);
        }
    }
    c.validate();
    return c;
}

json config_to_json(const Config& c) {
    return {{"dataset", c.dataset},
            {"noise", c.noise},
            {"train_percent", c.train_percent},
            {"batch_size", c.batch_size},
            {"seed", c.seed},
            {"features", c.features},
            {"layers", c.layers},
            {"activation", c.activation},
            {"learning_rate", c.learning_rate},
            {"regularization", c.regularization},
            {"regularization_rate", c.regularization_rate}};
}

StepRequest step_request_from_json(const json& object, std::size_t max_epochs) {
    if (!object.is_object()) wrong_type("step request", "an object", object);
    StepRequest r;
    for (const auto& [key, v] : object.items()) {
        if (key == "epochs") {
            r.epochs = static_cast<std::size_t>(integer_field(v, key, 1, static_cast<std::int64_t>(max_epochs)));
        } else if (key == "maps") {
            r.maps = bool_field(v, key);
        } else {
            unknown_field(key, "the step request", "epochs, maps");
        }
    }
    return r;
}

}  // namespace adg::playground
