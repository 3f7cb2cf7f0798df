// `adgraph playground`'s server refusing requests over real HTTP: every bad request with its status and exact
// message while the server keeps serving, bytes that are not HTTP, and the server's lifetime (stop before listen,
// destroyed while listening, a port in use).

#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <adgraph/tensor/error.hpp>

#include "playground/server.hpp"
#include "playground_http_client.hpp"

using namespace adg;
using namespace adg::playground;
using namespace adg::testing::http;
using nlohmann::json;

namespace {

// Sends `bytes` on a raw TCP connection and returns what comes back until the server closes it.
std::string raw_exchange(int port, const std::string& bytes) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    timeval tv{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size()));
    std::string got;
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) got.append(buf, static_cast<std::size_t>(n));
    ::close(fd);
    return got;
}

}  // namespace

TEST_CASE("playground http: every bad request gets its status and message, and the server keeps serving") {
    ServerOptions options;
    options.max_sessions = 3;
    RunningServer rs(options);
    auto c = rs.client();
    const std::string id = create(c);
    const std::string session = "/api/sessions/" + id;

    const auto bad_config = [&](const std::string& body, const std::string& message) {
        INFO(body);
        check_error(call(c, "POST", "/api/sessions", body), 400, message);
        check_error(call(c, "PUT", session + "/config", body), 400, message);
    };
    bad_config(R"({"dataset": "moons"})",
               "playground: unknown dataset 'moons'; use one of circle, xor, gauss, spiral, plane, multigauss");
    bad_config(R"({"layers": [0]})", "playground: hidden layer 1 has 0 neurons; use 1..8");
    bad_config(R"({"layers": [4, 9]})", "playground: hidden layer 2 has 9 neurons; use 1..8");
    bad_config(R"({"layers": [1, 1, 1, 1, 1, 1, 1]})", "playground: 7 hidden layers; use at most 6");
    bad_config(R"({"learning_rate": -0.1})", "playground: learning_rate -0.1 is out of range; use a rate in (0, 10]");
    bad_config(R"({"regularization_rate": -1})", "playground: regularization_rate -1 is out of range; use 0..10");
    bad_config(R"({"noise": 60})", "playground: noise 60 is out of range; use 0..50 (percent)");
    bad_config(R"({"features": []})",
               "playground: no input features; switch on at least one of x1, x2, x1sq, x2sq, x1x2, sinx1, sinx2");
    bad_config(R"({"noise": 0,})",
               "playground: the request body is not valid JSON: [json.exception.parse_error.101] parse error at line "
               "1, column 13: syntax error while parsing object key - unexpected '}'; expected string literal");
    bad_config("{\"noise\": \x01}",
               "playground: the request body is not valid JSON: [json.exception.parse_error.101] parse error at line "
               "1, column 11: syntax error while parsing value - invalid literal; last read: '\"noise\": <U+0001>'");
    bad_config("[1, 2]",
               "playground: the request body must be a JSON object, not an array; send {} or an object with the "
               "fields of docs/playground.md");
    bad_config("\"circle\"",
               "playground: the request body must be a JSON object, not a string; send {} or an object with the "
               "fields of docs/playground.md");
    bad_config(R"({"noise": "high"})", "playground: field 'noise' must be a number, not a string");
    bad_config(R"({"dataset": 3})", "playground: field 'dataset' must be a string, not a number");
    bad_config(R"({"learning_rate": null})", "playground: field 'learning_rate' must be a number, not null");
    bad_config(R"({"layers": [4, "2"]})", "playground: field 'layers[1]' must be an integer, not a string");
    bad_config(R"({"layers": 4})", "playground: field 'layers' must be an array of integers, not a number");
    bad_config(R"({"layers": [-1]})",
               "playground: field 'layers[0]' must be an integer from 0 to 9007199254740991, not -1");
    bad_config(R"({"features": "x1"})", "playground: field 'features' must be an array of strings, not a string");
    bad_config(R"({"features": ["x1", true]})", "playground: field 'features[1]' must be a string, not a boolean");
    bad_config(R"({"train_percent": 50.5})",
               "playground: field 'train_percent' must be an integer, not 50.5 (a number with a fractional part)");
    bad_config(R"({"batch_size": 1e10})",
               "playground: field 'batch_size' must be an integer from -2147483648 to 2147483647, not 10000000000.0");
    bad_config(R"({"seed": -1})", "playground: field 'seed' must be an integer from 0 to 9007199254740991, not -1");
    bad_config(R"({"seed": 9007199254740992})",
               "playground: field 'seed' must be an integer from 0 to 9007199254740991, not 9007199254740992");
    bad_config(R"({"nosie": 5})",
               "playground: unknown field 'nosie' in the configuration; use dataset, noise, train_percent, "
               "batch_size, seed, features, layers, activation, learning_rate, regularization, regularization_rate");
    // Integral numbers written as floats are the integers they equal.
    CHECK(call(c, "PUT", session + "/config", R"({"batch_size": 5.0, "seed": 1e2})").status == 200);

    // Steps: epochs 1..100, maps a boolean, nothing else.
    check_error(call(c, "POST", session + "/step", R"({"epochs": 101})"), 400,
                "playground: field 'epochs' must be an integer from 1 to 100, not 101");
    check_error(call(c, "POST", session + "/step", R"({"epochs": 0})"), 400,
                "playground: field 'epochs' must be an integer from 1 to 100, not 0");
    check_error(call(c, "POST", session + "/step", R"({"maps": 1})"), 400,
                "playground: field 'maps' must be a boolean, not a number");
    check_error(call(c, "POST", session + "/step", R"({"epoch": 2})"), 400,
                "playground: unknown field 'epoch' in the step request; use epochs, maps");
    check_error(call(c, "POST", session + "/step", "{"), 400,
                "playground: the request body is not valid JSON: [json.exception.parse_error.101] parse error at "
                "line 1, column 2: syntax error while parsing object key - unexpected end of input; expected string "
                "literal");

    // A refused configuration leaves the session as it was.
    REQUIRE(call(c, "POST", session + "/step", R"({"epochs": 2, "maps": false})").status == 200);
    const json before = call(c, "GET", session + "/state?maps=0").j();
    check_error(call(c, "PUT", session + "/config", R"({"layers": [9]})"), 400,
                "playground: hidden layer 1 has 9 neurons; use 1..8");
    CHECK(call(c, "GET", session + "/state?maps=0").j() == before);
    CHECK(before.at("state").at("epoch") == 2);

    // Unknown sessions, on every session endpoint.
    const std::string ghost = "0123456789abcdef0123456789abcdef";
    for (const auto& [method, tail] : std::vector<std::pair<std::string, std::string>>{{"GET", "/state"},
                                                                                       {"GET", "/data"},
                                                                                       {"GET", "/model.safetensors"},
                                                                                       {"POST", "/step"},
                                                                                       {"POST", "/reset"},
                                                                                       {"PUT", "/config"},
                                                                                       {"DELETE", ""}}) {
        INFO(method, " ", tail);
        check_error(call(c, method, "/api/sessions/" + ghost + tail, "{}"), 404, unknown_message(ghost, "600"));
    }
    check_error(call(c, "GET", "/api/sessions/%1b[2J/state"), 404, unknown_message("\\x1B[2J", "600"));

    // A body over 64 KiB.
    const std::string huge = "{\"noise\": \"" + std::string(70000, 'x') + "\"}";
    check_error(call(c, "POST", "/api/sessions", huge), 413,
                "playground: the request body is over 65536 bytes, more than any request of the API needs; send a "
                "smaller one");
    check_error(call(c, "POST", session + "/step", huge), 413,
                "playground: the request body is over 65536 bytes, more than any request of the API needs; send a "
                "smaller one");

    // Wrong methods on known paths, with the Allow header.
    const auto not_allowed = [&](const std::string& method, const std::string& path, const std::string& allowed) {
        INFO(method, " ", path);
        const Reply r = call(c, method, path, "{}");
        check_error(r, 405, "playground: " + method + " is not allowed on '" + path + "'; use " + allowed);
        CHECK(r.header("Allow") == allowed);
    };
    not_allowed("PUT", "/api/sessions", "POST");
    not_allowed("GET", "/api/sessions", "POST");
    not_allowed("GET", session + "/step", "POST");
    not_allowed("DELETE", session + "/state", "GET");
    not_allowed("POST", session, "DELETE");
    not_allowed("PATCH", session + "/config", "PUT");
    not_allowed("OPTIONS", "/", "GET");
    not_allowed("POST", "/app.js", "GET");

    // Paths the API does not have.
    for (const std::string& path : std::vector<std::string>{"/nope", "/api", "/api/sessions/", session + "/weights",
                                                            session + "/step/x", "/index.html"}) {
        check_error(call(c, "GET", path), 404,
                    "playground: nothing at '" + path +
                        "'; the playground serves /, /app.js, /style.css and /api/sessions (see docs/playground.md)");
    }

    // Bytes that are not HTTP, and a JSON body nested 60000 deep.
    const std::string garbage = raw_exchange(rs.server.port(), "\x01\x02 garbage\r\n\r\n");
    CHECK(garbage.rfind("HTTP/1.1 400", 0) == 0);
    CHECK(garbage.find("{\"error\":\"playground: the request is not well-formed HTTP/1.1; send a valid request "
                       "line and headers\"}") != std::string::npos);
    const std::string deep = std::string(30000, '[') + std::string(30000, ']');
    check_error(call(c, "POST", "/api/sessions", deep), 400,
                "playground: the request body must be a JSON object, not an array; send {} or an object with the "
                "fields of docs/playground.md");

    // The cap: 3 sessions, then 503 until one is closed.
    const std::string second = create(c);
    create(c);
    check_error(call(c, "POST", "/api/sessions", "{}"), 503,
                "playground: 3 sessions are open, the most this server allows; close a tab or wait 600 s for idle "
                "ones to be freed");
    CHECK(rs.server.session_count() == 3);
    CHECK(call(c, "DELETE", "/api/sessions/" + second).status == 204);

    // After all of that the server still serves: a new session trains, and the first kept its state.
    const std::string fresh = create(c, {{"dataset", "gauss"}});
    const Reply stepped = call(c, "POST", "/api/sessions/" + fresh + "/step", R"({"epochs": 2})");
    REQUIRE(stepped.status == 200);
    CHECK(stepped.j().at("state").at("epoch") == 2);
    CHECK(call(c, "GET", session + "/state?maps=0").j() == before);
}

TEST_CASE("playground server: stop before listen, destroyed while listening, a port in use is an io_error") {
    {
        Server s(RunningServer::with_any_port({}));
        s.stop();
        s.listen();  // returns at once
    }
    {
        // Destroyed on this thread while listen() serves on another: ~Server waits until listen() has returned
        // (ASan reports a use after free if it does not).
        auto s = std::make_unique<Server>(RunningServer::with_any_port({}));
        Server* const raw = s.get();
        std::thread serving([raw] { raw->listen(); });
        httplib::Client c("127.0.0.1", s->port());
        c.set_connection_timeout(10);
        const httplib::Result page = c.Get("/");  // answered only once listen() runs
        CHECK((page && page->status == 200));
        s.reset();
        serving.join();
    }
    RunningServer rs;
    ServerOptions taken;
    taken.port = rs.server.port();
    try {
        Server second(taken);
        FAIL("a second server bound the same port");
    } catch (const io_error& e) {
        CHECK(std::string(e.what()) == "playground: cannot listen on 127.0.0.1 port " + std::to_string(taken.port) +
                                           ": Address already in use; pick another --port (0: any free one) or a "
                                           "--host of this machine");
    }
}
