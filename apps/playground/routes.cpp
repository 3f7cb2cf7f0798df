// The API's paths: which endpoint a method and path select, and the messages of refused requests.
#include "playground/routes.hpp"

#include <sstream>

#include <adgraph/nn/message_text.hpp>

namespace adg::playground {

namespace {

const std::string sessions_prefix = "/api/sessions/";

std::string quoted_path(const std::string& path) { return "'" + nn::message_text(path, 100) + "'"; }

// `route` when `method` is the one `path` takes, else 405.
Route only(const std::string& method, const std::string& allowed, const std::string& path, Route route) {
    if (method == allowed || (method == "HEAD" && allowed == "GET")) return route;
    throw RequestError(
        405,
        "playground: " + nn::message_text(method, 20) + " is not allowed on " + quoted_path(path) + "; use " + allowed,
        allowed);
}

}  // namespace

Route route_of(const std::string& method, const std::string& path) {
    if (path == "/") return only(method, "GET", path, {Endpoint::page, ""});
    if (path == "/app.js") return only(method, "GET", path, {Endpoint::script, ""});
    if (path == "/style.css") return only(method, "GET", path, {Endpoint::style, ""});
    if (path == "/api/sessions") return only(method, "POST", path, {Endpoint::create, ""});
    if (path.rfind(sessions_prefix, 0) == 0) {
        const std::string rest = path.substr(sessions_prefix.size());
        const std::size_t slash = rest.find('/');
        const std::string id = rest.substr(0, slash);
        if (!id.empty()) {
            if (slash == std::string::npos) return only(method, "DELETE", path, {Endpoint::remove, id});
            const std::string tail = rest.substr(slash + 1);
            if (tail == "config") return only(method, "PUT", path, {Endpoint::config, id});
            if (tail == "step") return only(method, "POST", path, {Endpoint::step, id});
            if (tail == "reset") return only(method, "POST", path, {Endpoint::reset, id});
            if (tail == "state") return only(method, "GET", path, {Endpoint::state, id});
            if (tail == "data") return only(method, "GET", path, {Endpoint::data, id});
            if (tail == "model.safetensors") return only(method, "GET", path, {Endpoint::model, id});
        }
    }
    throw RequestError(404, "playground: nothing at " + quoted_path(path) +
                                "; the playground serves /, /app.js, /style.css and /api/sessions (see "
                                "docs/playground.md)");
}

RequestError refused_request(int status) {
    return RequestError(status, "playground: the request was refused with HTTP status " + std::to_string(status) +
                                    "; check its request line (path up to 8 KiB) and headers");
}

RequestError internal_error(const std::string& what) {
    return RequestError(500, "playground: internal error: " + nn::message_text(what, 300) +
                                 "; the request was not completed (other sessions are unaffected)");
}

std::string seconds_text(double seconds) {
    std::ostringstream s;
    s << seconds;
    return s.str();
}

RequestError unknown_session(const std::string& id, double idle_seconds) {
    return RequestError(404, "playground: unknown session '" + nn::message_text(id) +
                                 "'; it may have been freed after " + seconds_text(idle_seconds) +
                                 " s without requests: reload the page");
}

RequestError too_many_sessions(std::size_t open, double idle_seconds) {
    return RequestError(503, "playground: " + std::to_string(open) +
                                 " sessions are open, the most this server allows; close a tab or wait " +
                                 seconds_text(idle_seconds) + " s for idle ones to be freed");
}

RequestError export_refused(const std::string& why) {
    return RequestError(409, "playground: cannot export the model: " + why);
}

RequestError body_too_large(std::size_t limit) {
    return RequestError(413, "playground: the request body is over " + std::to_string(limit) +
                                 " bytes, more than any request of the API needs; send a smaller one");
}

RequestError malformed_request() {
    return RequestError(400,
                        "playground: the request is not well-formed HTTP/1.1; send a valid request line and "
                        "headers");
}

}  // namespace adg::playground
