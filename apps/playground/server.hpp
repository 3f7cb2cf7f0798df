#pragma once
/// \file `adgraph playground`'s web server: the page, and a JSON API over Sessions, one per browser tab.
/// The API is described in docs/playground.md.

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace adg::playground {

/// How the server runs.
struct ServerOptions {
    std::string host = "127.0.0.1";  ///< address to bind
    int port = 8000;                 ///< 0: any free port (see Server::port)
    /// Live sessions at most: when that many are open, a new one is refused (503) unless some have been idle for
    /// idle_seconds (those are freed first).
    std::size_t max_sessions = 32;
    double idle_seconds = 600;  ///< a session unused for this long is freed (at the next request to the server)
    std::size_t max_epochs_per_request = 100;  ///< the largest `epochs` a step request may ask for
};

/// The server: bound on construction, serving from start() until stop().
class Server {
public:
    /// Binds host:port; io_error naming the address when it cannot (in use, not an address of this machine).
    explicit Server(ServerOptions options);
    /// Stops the server and, when listen() runs on another thread, waits until it has returned.
    ~Server();
    /// The port bound (the chosen one when options.port is 0).
    int port() const;
    /// Serves requests on the calling thread until stop() is called (from any thread).
    void listen();
    /// Stops listen(); safe from any thread and more than once.
    void stop();
    /// Sessions alive now.
    std::size_t session_count() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace adg::playground
