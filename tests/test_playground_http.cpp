// `adgraph playground`'s server over real HTTP (cpp-httplib's client against a Server on a free port): the API of
// docs/playground.md against Sessions built here, sessions training at once, a diverged network, the model export
// and Server-Timing. Refused requests and the server's lifetime are in test_playground_http_errors.cpp; the
// encoding, the session store and the command line have files of their own.

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <fstream>
#include <memory>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <adgraph/adgraph.hpp>
#include <adgraph/nn/checkpoint.hpp>

#include "playground/server.hpp"
#include "playground/session.hpp"
#include "playground_http_client.hpp"
#include "temp_dir.hpp"

using namespace adg;
using namespace adg::playground;
using namespace adg::testing::http;
using nlohmann::json;

namespace {

// RFC 4648 base64 decoding, written here independently of the server's encoder.
std::vector<unsigned char> decode_base64(const std::string& text) {
    const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    REQUIRE(text.size() % 4 == 0);
    std::vector<unsigned char> out;
    for (std::size_t i = 0; i < text.size(); i += 4) {
        unsigned n = 0;
        int pad = 0;
        for (int k = 0; k < 4; ++k) {
            const char ch = text[i + k];
            if (ch == '=') {
                ++pad;
                n <<= 6;
                continue;
            }
            const std::size_t v = alphabet.find(ch);
            REQUIRE(v != std::string::npos);
            n = (n << 6) | static_cast<unsigned>(v);
        }
        out.push_back(static_cast<unsigned char>(n >> 16));
        if (pad < 2) out.push_back(static_cast<unsigned char>(n >> 8));
        if (pad < 1) out.push_back(static_cast<unsigned char>(n));
    }
    return out;
}

// The API's quantisation, written out: clamp to [-1, 1], then round((v + 1) · 127.5).
unsigned char quantised(float v) {
    const double c = std::min(1.0, std::max(-1.0, static_cast<double>(v)));
    return static_cast<unsigned char>(std::lround((c + 1) * 127.5));
}

// Checks `state`'s weights, biases, gradients and losses against `s`, number by number.
void check_state_matches(const json& state, const Session& s) {
    CHECK(state.at("epoch").get<std::size_t>() == s.epoch());
    const Losses losses = s.losses();
    CHECK(state.at("loss").at("train").get<double>() == losses.train);
    CHECK(state.at("loss").at("test").get<double>() == losses.test);
    const std::vector<std::size_t> sizes = s.layer_sizes();
    CHECK(state.at("layers").get<std::vector<std::size_t>>() == sizes);
    const auto check_values = [&](const json& weights, const json& biases, const LayerValues& v) {
        REQUIRE(weights.size() + 1 == sizes.size());
        for (std::size_t l = 0; l + 1 < sizes.size(); ++l) {
            REQUIRE(weights[l].size() == sizes[l + 1]);
            for (std::size_t r = 0; r < sizes[l + 1]; ++r) {
                REQUIRE(weights[l][r].size() == sizes[l]);
                for (std::size_t c = 0; c < sizes[l]; ++c) {
                    CHECK(weights[l][r][c].get<double>() == v.weights[l][r * sizes[l] + c]);
                }
                CHECK(biases[l][r].get<double>() == v.biases[l][r]);
            }
        }
    };
    check_values(state.at("weights"), state.at("biases"), s.parameters());
    check_values(state.at("gradients").at("weights"), state.at("gradients").at("biases"), s.gradients());
}

// The maps of `state` decoded against s.node_maps(100): the output at 100², every node averaged over 5×5 blocks.
void check_maps_match(const json& state, const Session& s) {
    const json& maps = state.at("maps");
    REQUIRE(maps.at("output_side").get<int>() == 100);
    REQUIRE(maps.at("node_side").get<int>() == 20);
    const std::vector<std::vector<float>> all = s.node_maps(100);
    const std::vector<unsigned char> output = decode_base64(maps.at("output").get<std::string>());
    REQUIRE(output.size() == 100 * 100);
    for (std::size_t i = 0; i < output.size(); ++i) {
        if (output[i] != quantised(all.back()[i])) FAIL_CHECK("output cell ", i);
    }
    REQUIRE(maps.at("nodes").size() == all.size());
    for (std::size_t k = 0; k < all.size(); ++k) {
        const std::vector<unsigned char> node = decode_base64(maps.at("nodes")[k].get<std::string>());
        REQUIRE(node.size() == 20 * 20);
        for (std::size_t r = 0; r < 20; ++r) {
            for (std::size_t c = 0; c < 20; ++c) {
                double sum = 0;
                for (std::size_t i = 0; i < 5; ++i) {
                    for (std::size_t j = 0; j < 5; ++j) sum += all[k][(r * 5 + i) * 100 + c * 5 + j];
                }
                if (node[r * 20 + c] != quantised(static_cast<float>(sum / 25))) {
                    FAIL_CHECK("node ", k, " cell ", r, ",", c);
                }
            }
        }
    }
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE("playground http: create, step, state, reset, data, config and delete against a Session in-process") {
    RunningServer rs;
    auto c = rs.client();

    Reply r = call(c, "POST", "/api/sessions", "{}");
    REQUIRE_MESSAGE(r.status == 200, r.body);
    CHECK(r.header("Content-Type") == "application/json; charset=utf-8");
    CHECK(r.header("Cache-Control") == "no-store");
    json j = r.j();
    const std::string id = j.at("id").get<std::string>();
    CHECK(id.size() == 32);
    CHECK(std::all_of(id.begin(), id.end(),
                      [](char ch) { return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'); }));
    CHECK(j.at("config") == json::parse(R"({"dataset": "circle", "noise": 0, "train_percent": 50, "batch_size": 10,
        "seed": 1, "features": ["x1", "x2"], "layers": [4, 2], "activation": "tanh", "learning_rate": 0.03,
        "regularization": "none", "regularization_rate": 0})"));
    CHECK(rs.server.session_count() == 1);
    // Not compressed, whatever the client accepts: brotli cost a browser 40-70 ms per frame (server.cpp, send_json).
    const httplib::Headers accept{{"Accept-Encoding", "br, gzip, deflate"}};
    const httplib::Result state = c.Get(("/api/sessions/" + id + "/state").c_str(), accept);
    REQUIRE(state);
    CHECK(state->status == 200);
    CHECK_FALSE(state->has_header("Content-Encoding"));

    Session local{Config{}};
    const auto check_points = [](const json& points, const std::vector<Point>& expected) {
        REQUIRE(points.size() == expected.size());
        for (std::size_t i = 0; i < expected.size(); ++i) {
            CHECK(points[i] == json::array({expected[i].x1, expected[i].x2, expected[i].label}));
        }
    };
    CHECK(j.at("data").at("problem") == "classification");
    check_points(j.at("data").at("train"), local.train_points());
    check_points(j.at("data").at("test"), local.test_points());
    check_state_matches(j.at("state"), local);
    check_maps_match(j.at("state"), local);

    // Three epochs, then one with the defaults (epochs 1, maps true), then one without maps.
    r = call(c, "POST", "/api/sessions/" + id + "/step", R"({"epochs": 3, "maps": true})");
    REQUIRE_MESSAGE(r.status == 200, r.body);
    local.step(3);
    check_state_matches(r.j().at("state"), local);
    check_maps_match(r.j().at("state"), local);
    r = call(c, "POST", "/api/sessions/" + id + "/step", "");
    REQUIRE(r.status == 200);
    local.step(1);
    check_state_matches(r.j().at("state"), local);
    CHECK(r.j().at("state").contains("maps"));
    r = call(c, "POST", "/api/sessions/" + id + "/step", R"({"maps": false})");
    REQUIRE(r.status == 200);
    local.step(1);
    check_state_matches(r.j().at("state"), local);
    CHECK(!r.j().at("state").contains("maps"));
    CHECK(r.j().size() == 1);

    r = call(c, "GET", "/api/sessions/" + id + "/state");
    REQUIRE(r.status == 200);
    CHECK(r.j().at("state").at("epoch") == 5);
    check_maps_match(r.j().at("state"), local);
    r = call(c, "GET", "/api/sessions/" + id + "/state?maps=0");
    REQUIRE(r.status == 200);
    check_state_matches(r.j().at("state"), local);
    CHECK(!r.j().at("state").contains("maps"));

    r = call(c, "GET", "/api/sessions/" + id + "/data");
    REQUIRE(r.status == 200);
    check_points(r.j().at("data").at("train"), local.train_points());
    check_points(r.j().at("data").at("test"), local.test_points());

    r = call(c, "POST", "/api/sessions/" + id + "/reset", "ignored");
    REQUIRE(r.status == 200);
    local.reset();
    CHECK(local.epoch() == 0);
    check_state_matches(r.j().at("state"), local);
    check_maps_match(r.j().at("state"), local);

    // A new configuration rebuilds data and network: a regression set, other features, three layers.
    const json config = {{"dataset", "plane"},
                         {"noise", 10},
                         {"features", {"x1", "x2", "sinx1"}},
                         {"layers", {3, 2, 1}},
                         {"activation", "relu"},
                         {"seed", 7},
                         {"batch_size", 5},
                         {"train_percent", 70},
                         {"learning_rate", 0.1},
                         {"regularization", "l2"},
                         {"regularization_rate", 0.001}};
    r = call(c, "PUT", "/api/sessions/" + id + "/config", config.dump());
    REQUIRE_MESSAGE(r.status == 200, r.body);
    CHECK(r.j().at("id") == id);
    CHECK(r.j().at("config") == config);
    Config cfg;
    cfg.dataset = "plane";
    cfg.noise = 10;
    cfg.features = {"x1", "x2", "sinx1"};
    cfg.layers = {3, 2, 1};
    cfg.activation = "relu";
    cfg.seed = 7;
    cfg.batch_size = 5;
    cfg.train_percent = 70;
    cfg.learning_rate = 0.1;
    cfg.regularization = "l2";
    cfg.regularization_rate = 0.001;
    Session plane{cfg};
    CHECK(r.j().at("data").at("problem") == "regression");
    check_points(r.j().at("data").at("train"), plane.train_points());
    check_state_matches(r.j().at("state"), plane);
    check_maps_match(r.j().at("state"), plane);
    r = call(c, "POST", "/api/sessions/" + id + "/step", R"({"epochs": 2})");
    REQUIRE(r.status == 200);
    plane.step(2);
    check_state_matches(r.j().at("state"), plane);

    // The page's files, as compiled in, equal the files in the source tree.
    const std::string web = std::string(ADGRAPH_SOURCE_DIR) + "/apps/playground/web/";
    for (const auto& [path, file, type] :
         std::vector<std::array<std::string, 3>>{{"/", "index.html", "text/html; charset=utf-8"},
                                                 {"/app.js", "app.js", "text/javascript; charset=utf-8"},
                                                 {"/style.css", "style.css", "text/css; charset=utf-8"}}) {
        r = call(c, "GET", path);
        CHECK(r.status == 200);
        CHECK(r.header("Content-Type") == type);
        CHECK(r.header("Cache-Control") == "no-store");
        CHECK(r.body == read_file(web + file));
    }

    r = call(c, "DELETE", "/api/sessions/" + id);
    CHECK(r.status == 204);
    CHECK(rs.server.session_count() == 0);
    check_error(call(c, "GET", "/api/sessions/" + id + "/state"), 404, unknown_message(id, "600"));
    check_error(call(c, "DELETE", "/api/sessions/" + id), 404, unknown_message(id, "600"));
}

TEST_CASE("playground http: the model export loads into an identical network and gives the same outputs") {
    RunningServer rs;
    auto c = rs.client();
    const json config = {{"dataset", "xor"}, {"layers", {3}}, {"seed", 5}};
    const std::string id = create(c, config);
    REQUIRE(call(c, "POST", "/api/sessions/" + id + "/step", R"({"epochs": 4, "maps": false})").status == 200);
    const Reply r = call(c, "GET", "/api/sessions/" + id + "/model.safetensors");
    REQUIRE(r.status == 200);
    CHECK(r.header("Content-Type") == "application/octet-stream");
    CHECK(r.header("Content-Disposition") == "attachment; filename=\"playground-xor-epoch4.safetensors\"");

    Config cfg;
    cfg.dataset = "xor";
    cfg.layers = {3};
    cfg.seed = 5;
    Session trained{cfg};
    trained.step(4);
    const adg::testing::TempDir dir("adgraph-playground-model");
    // The same bytes as save_checkpoint writes for the same network and metadata: one encoding.
    nn::save_checkpoint(dir.file("local.safetensors"), *trained.model(), trained.metadata());
    CHECK(r.body == read_file(dir.file("local.safetensors")));

    // Loaded into a network of the same shape with other weights (another seed), it computes what the trained one
    // does.
    std::ofstream(dir.file("got.safetensors"), std::ios::binary) << r.body;
    cfg.seed = 99;
    Session other{cfg};
    const nn::Metadata meta = nn::load_checkpoint(dir.file("got.safetensors"), *other.model());
    for (const auto& [key, value] : trained.metadata()) CHECK(meta.at(key) == value);
    const Dtype dtype = trained.model()->named_parameters().front().second.dtype();
    const Tensor x(Array(xt::xarray<double>{{0.5, -1.0}, {2.0, 3.0}, {-4.0, 0.25}}).to(dtype));
    const Array expected = trained.model()->forward(x).value();
    const Array got = other.model()->forward(x).value();
    REQUIRE(got.shape() == expected.shape());
    for (std::size_t i = 0; i < got.size(); ++i) CHECK(got.flat(i) == expected.flat(i));
}

namespace {

// A request from a thread of its own: doctest's REQUIRE must not fail there (it would end the whole binary), so a
// failure is thrown as std::runtime_error, caught in the thread and checked after it joins.
json post_in_thread(httplib::Client& c, const std::string& path, const std::string& body) {
    const httplib::Result r = c.Post(path.c_str(), body, "application/json");
    if (!r) throw std::runtime_error("no HTTP response to POST " + path);
    if (r->status != 200) throw std::runtime_error("POST " + path + ": " + std::to_string(r->status) + " " + r->body);
    return json::parse(r->body);
}

}  // namespace

TEST_CASE("playground http: two sessions training at once end exactly as each trained alone") {
    ServerOptions options;
    options.max_sessions = 8;
    RunningServer rs(options);
    const std::vector<json> configs = {
        {{"dataset", "spiral"}, {"features", {"x1", "x2", "sinx1", "sinx2"}}, {"layers", {8, 8}}, {"seed", 3}},
        {{"dataset", "xor"}, {"layers", {4}}, {"activation", "relu"}, {"learning_rate", 0.1}, {"seed", 4}}};
    // Ten requests of 3 epochs, the final state with maps.
    const auto train = [&](const json& config) {
        auto c = rs.client();
        const std::string id = post_in_thread(c, "/api/sessions", config.dump()).at("id").get<std::string>();
        const std::string session = "/api/sessions/" + id;
        for (int i = 0; i < 10; ++i) post_in_thread(c, session + "/step", R"({"epochs": 3, "maps": false})");
        const httplib::Result state = c.Get((session + "/state").c_str());
        if (!state || state->status != 200) throw std::runtime_error("GET " + session + "/state failed");
        const httplib::Result removed = c.Delete(session.c_str());
        if (!removed || removed->status != 204) throw std::runtime_error("DELETE " + session + " failed");
        return json::parse(state->body).at("state");
    };
    const json alone0 = train(configs[0]);
    const json alone1 = train(configs[1]);
    CHECK(alone0.at("epoch") == 30);

    json together0, together1;
    std::string error0, error1, error2;
    std::atomic<bool> done{false};
    std::atomic<int> churn{0};
    const auto guarded = [](std::string& error, const auto& work) {
        try {
            work();
        } catch (const std::exception& e) {
            error = e.what();
        }
    };
    std::thread t0([&] { guarded(error0, [&] { together0 = train(configs[0]); }); });
    std::thread t1([&] { guarded(error1, [&] { together1 = train(configs[1]); }); });
    // Meanwhile a third client opens, steps and closes sessions, and tries to close sessions that do not exist.
    std::thread t2([&] {
        guarded(error2, [&] {
            auto c = rs.client();
            while (!done) {
                const httplib::Result r =
                    c.Post("/api/sessions", R"({"dataset": "circle", "layers": [2]})", "application/json");
                if (!r) throw std::runtime_error("no HTTP response to POST /api/sessions");
                if (r->status != 200) continue;
                const std::string session = "/api/sessions/" + json::parse(r->body).at("id").get<std::string>();
                post_in_thread(c, session + "/step", R"({"maps": false})");
                const httplib::Result first = c.Delete(session.c_str());
                const httplib::Result second = c.Delete(session.c_str());
                if (!first || first->status != 204 || !second || second->status != 404) {
                    throw std::runtime_error("DELETE " + session + " twice did not answer 204, then 404");
                }
                ++churn;
            }
        });
    });
    t0.join();
    t1.join();
    done = true;
    t2.join();
    CHECK(error0 == "");
    CHECK(error1 == "");
    CHECK(error2 == "");
    CHECK(churn > 0);
    CHECK(together0 == alone0);
    CHECK(together1 == alone1);
    CHECK(rs.server.session_count() == 0);
}

TEST_CASE("playground http: a diverging network shows null numbers, and its export is 409 with the reason") {
    RunningServer rs;
    auto c = rs.client();
    // Learning rate 10 on squared features and three ReLU layers: the weights overflow within a few epochs.
    const json config = {{"dataset", "plane"},
                         {"activation", "relu"},
                         {"features", {"x1sq", "x2sq", "x1x2"}},
                         {"layers", {8, 8, 8}},
                         {"learning_rate", 10}};
    const std::string session = "/api/sessions/" + create(c, config);
    const Reply r = call(c, "POST", session + "/step", R"({"epochs": 5, "maps": false})");
    REQUIRE_MESSAGE(r.status == 200, r.body);
    const json state = r.j().at("state");
    CHECK(state.at("epoch") == 5);
    // The same run in-process diverged: the numbers JSON cannot hold are null.
    Config cfg;
    cfg.dataset = "plane";
    cfg.activation = "relu";
    cfg.features = {"x1sq", "x2sq", "x1x2"};
    cfg.layers = {8, 8, 8};
    cfg.learning_rate = 10;
    Session local{cfg};
    local.step(5);
    REQUIRE_FALSE(std::isfinite(local.losses().train));
    CHECK(state.at("loss").at("train").is_null());
    CHECK(state.at("loss").at("test").is_null());
    std::size_t null_weights = 0;
    for (const json& layer : state.at("weights")) {
        for (const json& row : layer) null_weights += std::count(row.begin(), row.end(), json(nullptr));
    }
    CHECK(null_weights > 0);

    const Reply exported = call(c, "GET", session + "/model.safetensors");
    CHECK(exported.status == 409);
    const json j = json::parse(exported.body, nullptr, false);
    REQUIRE_MESSAGE(j.is_object(), exported.body);
    const std::string message = j.value("error", std::string());
    CHECK(message.rfind("playground: cannot export the model: checkpoint_bytes: tensor '", 0) == 0);
    CHECK(message.find("; the model diverged, so no checkpoint was made: train again with a smaller learning rate") !=
          std::string::npos);
    // The session still serves: after a reset its weights are finite again and export.
    CHECK(call(c, "POST", session + "/reset").status == 200);
    CHECK(call(c, "GET", session + "/model.safetensors").status == 200);
}

TEST_CASE("playground http: a step answers with Server-Timing, three durations in milliseconds") {
    RunningServer rs;
    auto c = rs.client();
    const std::string session = "/api/sessions/" + create(c);
    const std::regex form(R"(step;dur=(\d+\.\d{3}), state;dur=(\d+\.\d{3}), json;dur=(\d+\.\d{3}))");
    for (const char* body : {R"({"epochs": 2})", R"({"maps": false})"}) {
        INFO(body);
        const Reply r = call(c, "POST", session + "/step", body);
        REQUIRE(r.status == 200);
        const std::string timing = r.header("Server-Timing");
        std::smatch m;
        REQUIRE_MESSAGE(std::regex_match(timing, m, form), timing);
        for (int k = 1; k <= 3; ++k) CHECK(std::stod(m[k].str()) >= 0);
    }
    // Only steps are timed.
    CHECK(call(c, "GET", session + "/state").header("Server-Timing") == "");
}
