#pragma once
/// \file Test support for the playground's HTTP tests: a Server on a free port serving on its own thread, requests
/// through cpp-httplib's client, and the API's error bodies.

#include <doctest/doctest.h>

#include <string>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "playground/server.hpp"

namespace adg::testing::http {

using nlohmann::json;
using playground::Server;
using playground::ServerOptions;

/// A Server on 127.0.0.1 and a free port, serving on its own thread until the end of the scope.
struct RunningServer {
    Server server;
    std::thread thread;
    explicit RunningServer(ServerOptions options = {}) : server(with_any_port(options)) {
        thread = std::thread([this] { server.listen(); });
    }
    ~RunningServer() {
        server.stop();
        thread.join();
    }
    static ServerOptions with_any_port(ServerOptions o) {
        o.host = "127.0.0.1";
        o.port = 0;
        return o;
    }
    httplib::Client client() const {
        httplib::Client c("127.0.0.1", server.port());
        c.set_connection_timeout(10);
        c.set_read_timeout(60);
        c.set_write_timeout(10);
        return c;
    }
};

/// A response: status, body and headers.
struct Reply {
    int status = 0;
    std::string body;
    httplib::Headers headers;
    json j() const { return json::parse(body); }
    std::string header(const std::string& name) const {
        const auto it = headers.find(name);
        return it == headers.end() ? "" : it->second;
    }
};

/// `method` on `path` (REQUIRE: an answer comes).
inline Reply call(httplib::Client& c, const std::string& method, const std::string& path,
                  const std::string& body = "") {
    httplib::Result r = method == "GET"      ? c.Get(path.c_str())
                        : method == "POST"   ? c.Post(path.c_str(), body, "application/json")
                        : method == "PUT"    ? c.Put(path.c_str(), body, "application/json")
                        : method == "PATCH"  ? c.Patch(path.c_str(), body, "application/json")
                        : method == "DELETE" ? c.Delete(path.c_str())
                                             : c.Options(path.c_str());
    REQUIRE_MESSAGE(r, "no HTTP response to ", method, " ", path);
    return {r->status, r->body, r->headers};
}

/// Status and the exact {"error": message} body.
inline void check_error(const Reply& r, int status, const std::string& message) {
    CHECK(r.status == status);
    CHECK(r.header("Content-Type") == "application/json; charset=utf-8");
    const json j = json::parse(r.body, nullptr, false);
    REQUIRE_MESSAGE(j.is_object(), r.body);
    CHECK(j.size() == 1);
    CHECK(j.value("error", std::string("<none>")) == message);
}

/// A new session for `config`; its id.
inline std::string create(httplib::Client& c, const json& config = json::object()) {
    const Reply r = call(c, "POST", "/api/sessions", config.dump());
    REQUIRE_MESSAGE(r.status == 200, r.body);
    return r.j().at("id").get<std::string>();
}

/// The 404 message for session `id` on a server with idle limit `idle` (as written in the message).
inline std::string unknown_message(const std::string& id, const std::string& idle) {
    return "playground: unknown session '" + id + "'; it may have been freed after " + idle +
           " s without requests: reload the page";
}

}  // namespace adg::testing::http
