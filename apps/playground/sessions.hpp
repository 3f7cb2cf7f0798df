#pragma once
/// \file The server's open sessions: a map from id to session, capped, with idle ones freed. The store's lock is
/// held only to find, add or remove an entry; each session has its own lock for its work, so two tabs train at
/// once.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <utility>

#include "playground/session.hpp"

namespace adg::playground {

/// An open session with its own lock and the time of its last request.
struct SessionEntry {
    explicit SessionEntry(Config config) : session(std::move(config)) {}
    std::mutex mutex;                       ///< held while a request works on `session`
    Session session;                        ///< guarded by `mutex`
    std::atomic<std::int64_t> last_use{0};  ///< steady-clock nanoseconds of the last request
};

/// Sessions by id: at most `max_sessions`, each freed once unused for `idle_seconds` and not in use. Thread-safe.
class SessionStore {
public:
    using Clock = std::chrono::steady_clock;

    /// A store whose idle times are measured with `now` (tests pass a clock they advance themselves).
    SessionStore(std::size_t max_sessions, double idle_seconds, std::function<Clock::time_point()> now = Clock::now);

    /// Frees the idle sessions, then opens a session for `config` under a fresh id (32 lowercase hex characters from
    /// std::random_device). RequestError 503 (too_many_sessions) when max_sessions are still open; Session's
    /// value_error for a bad config. The session is built outside the store's lock.
    std::pair<std::string, std::shared_ptr<SessionEntry>> create(const Config& config);
    /// The session `id`, its last use set to now; RequestError 404 (unknown_session) if it is not open or has been
    /// idle too long (it is then freed). While the caller holds the pointer the session is in use: never freed as
    /// idle, however long the request takes.
    std::shared_ptr<SessionEntry> find(const std::string& id);
    /// Closes session `id` (a request still working on it finishes first); RequestError 404 if it is not open.
    void remove(const std::string& id);
    /// Sessions open now (idle ones not yet freed included).
    std::size_t size() const;
    /// The idle limit in seconds.
    double idle_seconds() const { return idle_seconds_; }

    /// Marks `entry` as used now (a request calls it when it ends, so the idle time counts from then).
    void touch(SessionEntry& entry) const;

private:
    void free_idle_locked();
    std::string new_id_locked();

    std::int64_t now_ns() const;

    std::size_t max_sessions_;
    double idle_seconds_;
    std::function<Clock::time_point()> now_;
    mutable std::mutex mutex_;
    std::map<std::string, std::shared_ptr<SessionEntry>> sessions_;
    std::size_t pending_ = 0;  // sessions being built outside the lock, counted against the cap
    std::random_device random_;
};

}  // namespace adg::playground
