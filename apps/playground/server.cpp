// The playground's HTTP server: cpp-httplib serving the embedded page and the JSON API over the session store.
// Every method on every path reaches one handler, which routes itself (so a wrong method is 405, not httplib's 404)
// and turns every exception into a JSON error; httplib's own refusals (413, malformed requests) get their JSON body
// in the error handler.
#include "playground/server.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <system_error>
#include <thread>

#include <sys/socket.h>
#include <unistd.h>

#include <httplib.h>

#include <adgraph/nn/checkpoint.hpp>
#include <adgraph/tensor/error.hpp>

#include "playground/assets.hpp"
#include "playground/config_json.hpp"
#include "playground/routes.hpp"
#include "playground/session_json.hpp"
#include "playground/sessions.hpp"

namespace adg::playground {

namespace {

using nlohmann::json;

// Worker threads: a browser keeps up to six connections per host open, each holding a worker while it lives (up to
// the keep-alive timeout when idle), so several tabs need more workers than the machine has cores.
constexpr std::size_t worker_threads = 32;
// Requests per connection before httplib closes it (its default is 5): the page polls one request after another.
constexpr std::size_t keep_alive_requests = 1000;
// Seconds an idle connection is kept (httplib's default is 5): stop() waits for idle connections to time out, and
// a new connection to localhost costs far less than a frame.
constexpr time_t keep_alive_seconds = 1;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

using Clock = std::chrono::steady_clock;

std::string milliseconds(Clock::time_point from, Clock::time_point to) {
    char text[32];
    std::snprintf(text, sizeof text, "%.3f", std::chrono::duration<double, std::milli>(to - from).count());
    return text;
}

// With the charset the type is not one httplib compresses (it matches "application/json" exactly). Compression
// decided the page's frame rate: brotli, which chromium asks for, took 40-70 ms for a 19 KiB step response whose
// training and heat maps take 2-3 ms, and a loopback connection gains nothing from it.
void send_json(httplib::Response& res, int status, const json& body) {
    res.status = status;
    res.set_content(dump(body), "application/json; charset=utf-8");
}

void send_error(httplib::Response& res, int status, const std::string& message) {
    send_json(res, status, {{"error", message}});
}

// A request's own mistake (a bad body or config) as 400, keeping RequestError's status.
template <class F>
auto checked_request(F&& f) -> decltype(f()) {
    try {
        return f();
    } catch (const RequestError&) {
        throw;
    } catch (const value_error& e) {
        throw RequestError(400, e.what());
    }
}

// httplib's server, with access to its listening socket: one bound but never listened on is closed here (httplib
// closes it only in stop(), which does nothing unless it is listening).
struct HttpServer : httplib::Server {
    void close_unused_socket() {
        const socket_t s = svr_sock_.exchange(INVALID_SOCKET);
        if (s != INVALID_SOCKET) ::close(s);
    }
};

}  // namespace

struct Server::Impl {
    ServerOptions options;
    HttpServer http;
    // stop() before listen() must still stop it, and httplib's stop() only works once it is running.
    // ~Server waits on `listen_ended` until a listen() on another thread has returned (listen_done), so that it
    // never destroys what listen() still uses.
    std::mutex lifecycle;
    std::condition_variable listen_ended;
    bool stopped = false;
    bool listening = false;
    std::atomic<bool> listen_done{false};
    SessionStore store;
    int port = -1;

    explicit Impl(ServerOptions o) : options(std::move(o)), store(options.max_sessions, options.idle_seconds) {}

    json session_reply(const std::string& id, SessionEntry& entry) {
        return {{"id", id},
                {"config", config_to_json(entry.session.config())},
                {"data", data_json(entry.session)},
                {"state", state_json(entry.session, true)}};
    }

    // Each session handler gets the session, looked up once by handle(), which holds it until the request ends.
    std::shared_ptr<SessionEntry> create(const httplib::Request& req, httplib::Response& res) {
        const Config config = checked_request([&] { return config_from_json(parse_body(req.body)); });
        auto [id, entry] = checked_request([&] { return store.create(config); });
        std::lock_guard<std::mutex> lock(entry->mutex);
        send_json(res, 200, session_reply(id, *entry));
        return entry;
    }

    void reconfigure(const Route& r, SessionEntry& entry, const httplib::Request& req, httplib::Response& res) {
        const Config config = checked_request([&] { return config_from_json(parse_body(req.body)); });
        // Built before it replaces the old one, so a failure leaves the session as it was.
        Session fresh = checked_request([&] { return Session(config); });
        std::lock_guard<std::mutex> lock(entry.mutex);
        entry.session = std::move(fresh);
        send_json(res, 200, session_reply(r.id, entry));
    }

    void step(SessionEntry& entry, const httplib::Request& req, httplib::Response& res) {
        const StepRequest s = checked_request(
            [&] { return step_request_from_json(parse_body(req.body), options.max_epochs_per_request); });
        std::lock_guard<std::mutex> lock(entry.mutex);
        // The server's share of a frame, for the page and for measurements: training, the state with its maps, and
        // the JSON text (Server-Timing, in milliseconds).
        const auto t0 = Clock::now();
        entry.session.step(s.epochs);
        const auto t1 = Clock::now();
        json state = {{"state", state_json(entry.session, s.maps)}};
        const auto t2 = Clock::now();
        send_json(res, 200, state);
        const auto t3 = Clock::now();
        res.set_header("Server-Timing", "step;dur=" + milliseconds(t0, t1) + ", state;dur=" + milliseconds(t1, t2) +
                                            ", json;dur=" + milliseconds(t2, t3));
    }

    void reset(SessionEntry& entry, httplib::Response& res) {
        std::lock_guard<std::mutex> lock(entry.mutex);
        entry.session.reset();
        send_json(res, 200, {{"state", state_json(entry.session, true)}});
    }

    void state(SessionEntry& entry, const httplib::Request& req, httplib::Response& res) {
        const bool maps = !(req.has_param("maps") && req.get_param_value("maps") == "0");
        std::lock_guard<std::mutex> lock(entry.mutex);
        send_json(res, 200, {{"state", state_json(entry.session, maps)}});
    }

    void data(SessionEntry& entry, httplib::Response& res) {
        std::lock_guard<std::mutex> lock(entry.mutex);
        send_json(res, 200, {{"data", data_json(entry.session)}});
    }

    void model(SessionEntry& entry, httplib::Response& res) {
        std::string bytes, name;
        {
            std::lock_guard<std::mutex> lock(entry.mutex);
            const Session& s = entry.session;
            try {
                bytes = nn::checkpoint_bytes(*s.model(), nullptr, s.metadata());
            } catch (const value_error& e) {
                throw export_refused(e.what());  // a diverged network: the state, not the request, is at fault
            }
            name = "playground-" + s.config().dataset + "-epoch" + std::to_string(s.epoch()) + ".safetensors";
        }
        res.status = 200;
        res.set_header("Content-Disposition", "attachment; filename=\"" + name + "\"");
        res.set_content(std::move(bytes), "application/octet-stream");
    }

    void asset(const std::string& path, httplib::Response& res) {
        const Asset* a = find_asset(path);
        if (!a) throw std::logic_error("the page's file for " + path + " was not embedded");
        res.status = 200;
        res.set_content(reinterpret_cast<const char*>(a->data), a->size, a->content_type);
    }

    void handle(const httplib::Request& req, httplib::Response& res) {
        try {
            const Route r = route_of(req.method, req.path);
            // Held until the request ends: the store never frees a session in use as idle.
            std::shared_ptr<SessionEntry> entry;
            const bool session_endpoint = !r.id.empty() && r.endpoint != Endpoint::remove;
            if (session_endpoint) entry = store.find(r.id);
            switch (r.endpoint) {
                case Endpoint::page:
                case Endpoint::script:
                case Endpoint::style:
                    asset(req.path, res);
                    break;
                case Endpoint::create:
                    entry = create(req, res);
                    break;
                case Endpoint::remove:
                    store.remove(r.id);
                    res.status = 204;
                    break;
                case Endpoint::config:
                    reconfigure(r, *entry, req, res);
                    break;
                case Endpoint::step:
                    step(*entry, req, res);
                    break;
                case Endpoint::reset:
                    reset(*entry, res);
                    break;
                case Endpoint::state:
                    state(*entry, req, res);
                    break;
                case Endpoint::data:
                    data(*entry, res);
                    break;
                case Endpoint::model:
                    model(*entry, res);
                    break;
            }
            // "Every response to a session endpoint refreshes the session's last-use time": also when it ends, so a
            // long step counts as a use at its end. A session deleted meanwhile is only an entry nobody finds.
            if (entry) store.touch(*entry);
        } catch (const RequestError& e) {
            if (!e.allow().empty()) res.set_header("Allow", e.allow());
            send_error(res, e.status(), e.what());
        } catch (const std::exception& e) {
            send_error(res, 500, internal_error(e.what()).what());
        }
    }
};

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
    auto& http = impl_->http;
    const auto handler = [this](const httplib::Request& req, httplib::Response& res) { impl_->handle(req, res); };
    http.Get(".*", handler);
    http.Post(".*", handler);
    http.Put(".*", handler);
    http.Patch(".*", handler);
    http.Delete(".*", handler);
    http.Options(".*", handler);
    http.set_payload_max_length(max_body_bytes);
    // A response goes out in two writes (headers, body): with Nagle's algorithm the second waits for the client's
    // delayed ACK of the first, about 40 ms a request on Linux, which alone would cap the page below 30 frames/s.
    http.set_tcp_nodelay(true);
    http.set_keep_alive_max_count(keep_alive_requests);
    http.set_keep_alive_timeout(keep_alive_seconds);
    // SO_REUSEADDR only (a restart may bind while old connections linger), never SO_REUSEPORT: a second server on
    // a port in use must fail to bind rather than share it.
    http.set_socket_options([](socket_t sock) {
        const int yes = 1;
        ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
    http.set_default_headers({{"Cache-Control", "no-store"}});
    http.new_task_queue = [] { return new httplib::ThreadPool(worker_threads); };
    // httplib's own refusals (a body over the limit, a request it cannot parse) come without a body: give them the
    // API's JSON error.
    http.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        if (res.status == 413) {
            send_error(res, 413, body_too_large(max_body_bytes).what());
        } else if (res.status == 400) {
            send_error(res, 400, malformed_request().what());
        } else {
            send_error(res, res.status, refused_request(res.status).what());
        }
        return httplib::Server::HandlerResponse::Handled;
    }));
    http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "unknown exception";
        try {
            std::rethrow_exception(ep);
        } catch (const std::exception& e) {
            what = e.what();
        } catch (...) {
        }
        send_error(res, 500, internal_error(what).what());
    });

    const ServerOptions& o = impl_->options;
    errno = 0;
    if (o.port == 0) {
        impl_->port = http.bind_to_any_port(o.host);
    } else if (http.bind_to_port(o.host, o.port)) {
        impl_->port = o.port;
    }
    if (impl_->port < 0) {
        const int e = errno;
        throw io_error("playground: cannot listen on " + o.host + " port " + std::to_string(o.port) + ": " +
                       (e != 0 ? std::generic_category().message(e) : std::string("no such address")) +
                       "; pick another --port (0: any free one) or a --host of this machine");
    }
}

Server::~Server() {
    stop();
    {
        std::unique_lock<std::mutex> lock(impl_->lifecycle);
        impl_->listen_ended.wait(lock, [&] { return !impl_->listening || impl_->listen_done; });
    }
    impl_->http.close_unused_socket();
}

int Server::port() const { return impl_->port; }

void Server::listen() {
    {
        std::lock_guard<std::mutex> lock(impl_->lifecycle);
        if (impl_->stopped || impl_->listening) return;
        impl_->listening = true;
    }
    // Marks the end also when httplib throws; notified under the lock, so ~Server cannot run on before the lock
    // is released, and nothing of the server is touched after that.
    struct Ended {
        Impl& impl;
        ~Ended() {
            std::lock_guard<std::mutex> lock(impl.lifecycle);
            impl.listen_done = true;
            impl.listen_ended.notify_all();
        }
    } ended{*impl_};
    impl_->http.listen_after_bind();
}

void Server::stop() {
    {
        std::lock_guard<std::mutex> lock(impl_->lifecycle);
        impl_->stopped = true;
        if (!impl_->listening) return;
    }
    // listen() has begun: wait until httplib runs (or has ended), so that its stop() takes effect.
    while (!impl_->http.is_running() && !impl_->listen_done) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    impl_->http.stop();
}

std::size_t Server::session_count() const { return impl_->store.size(); }

}  // namespace adg::playground
