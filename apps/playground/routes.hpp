#pragma once
/// \file The playground API's paths and methods, and the errors a request gets with their HTTP status
/// (docs/playground.md lists them).

#include <cstddef>
#include <string>
#include <utility>

#include <adgraph/tensor/error.hpp>

namespace adg::playground {

/// A refused request: a value_error with the HTTP status to answer with (and the methods allowed, for 405).
class RequestError : public value_error {
public:
    RequestError(int status, const std::string& message, std::string allow = "")
        : value_error(message), status_(status), allow_(std::move(allow)) {}
    /// The HTTP status: 400, 404, 405, 409, 413 or 503.
    int status() const { return status_; }
    /// For 405: the methods the path takes ("GET", "POST"), for the Allow header.
    const std::string& allow() const { return allow_; }

private:
    int status_;
    std::string allow_;
};

/// What a request asks for.
enum class Endpoint { page, script, style, create, remove, config, step, reset, state, data, model };

/// An endpoint and, for the session endpoints, the session's id as written in the path.
struct Route {
    Endpoint endpoint;
    std::string id;
};

/// The endpoint of `method` on `path` (HEAD as GET). RequestError 404 for a path the API does not have, 405 (with
/// the allowed method) for a method the path does not take.
Route route_of(const std::string& method, const std::string& path);

/// 404 for a session id that is not (or no longer) open; `idle_seconds` is the server's idle limit.
RequestError unknown_session(const std::string& id, double idle_seconds);
/// 503 when `open` sessions, the cap, are open after freeing the idle ones.
RequestError too_many_sessions(std::size_t open, double idle_seconds);
/// 409 for a model export of a network that cannot be saved (it diverged); `why` is checkpoint_bytes' message.
RequestError export_refused(const std::string& why);
/// 413 for a body over `limit` bytes.
RequestError body_too_large(std::size_t limit);
/// 400 for a request httplib could not read as HTTP.
RequestError malformed_request();

/// Any other refusal httplib makes itself (e.g. 414 for a path over 8 KiB), with its status.
RequestError refused_request(int status);

/// 500 for an exception that is not the request's fault (a bug); `what` is its message.
RequestError internal_error(const std::string& what);

/// The largest request body the server reads: 64 KiB.
inline constexpr std::size_t max_body_bytes = 64 * 1024;

/// `seconds` as a message shows it: 600, 0.5.
std::string seconds_text(double seconds);

}  // namespace adg::playground
