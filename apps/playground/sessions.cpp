// The session store: lookup, insertion and eviction under one short lock; the work on a session under its own.
#include "playground/sessions.hpp"

#include "playground/routes.hpp"

namespace adg::playground {

SessionStore::SessionStore(std::size_t max_sessions, double idle_seconds, std::function<Clock::time_point()> now)
    : max_sessions_(max_sessions), idle_seconds_(idle_seconds), now_(std::move(now)) {}

std::int64_t SessionStore::now_ns() const {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(now_().time_since_epoch()).count();
}

void SessionStore::touch(SessionEntry& entry) const { entry.last_use.store(now_ns()); }

void SessionStore::free_idle_locked() {
    const std::int64_t now = now_ns();
    const double limit_ns = idle_seconds_ * 1e9;
    for (auto it = sessions_.begin(); it != sessions_.end();) {
        // A request holds its own reference while it works (copied from the map only under this lock, so the count
        // cannot grow meanwhile): a step longer than the idle limit must not lose its session to another tab's
        // request. It counts as used again when it ends.
        const bool in_use = it->second.use_count() > 1;
        if (!in_use && static_cast<double>(now - it->second->last_use.load()) > limit_ns) {
            it = sessions_.erase(it);
        } else {
            ++it;
        }
    }
}

std::string SessionStore::new_id_locked() {
    static const char hex[] = "0123456789abcdef";
    for (;;) {
        std::string id;
        for (int word = 0; word < 4; ++word) {
            const std::uint32_t r = random_();
            for (int k = 7; k >= 0; --k) id += hex[(r >> (4 * k)) & 15];
        }
        if (sessions_.count(id) == 0) return id;
    }
}

std::pair<std::string, std::shared_ptr<SessionEntry>> SessionStore::create(const Config& config) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        free_idle_locked();
        if (sessions_.size() + pending_ >= max_sessions_) throw too_many_sessions(max_sessions_, idle_seconds_);
        ++pending_;
    }
    std::shared_ptr<SessionEntry> entry;
    try {
        entry = std::make_shared<SessionEntry>(config);
    } catch (...) {
        std::lock_guard<std::mutex> lock(mutex_);
        --pending_;
        throw;
    }
    touch(*entry);
    std::lock_guard<std::mutex> lock(mutex_);
    --pending_;
    std::string id = new_id_locked();
    sessions_.emplace(id, entry);
    return {std::move(id), std::move(entry)};
}

std::shared_ptr<SessionEntry> SessionStore::find(const std::string& id) {
    std::lock_guard<std::mutex> lock(mutex_);
    free_idle_locked();
    const auto it = sessions_.find(id);
    if (it == sessions_.end()) throw unknown_session(id, idle_seconds_);
    touch(*it->second);
    return it->second;
}

void SessionStore::remove(const std::string& id) {
    std::lock_guard<std::mutex> lock(mutex_);
    free_idle_locked();
    if (sessions_.erase(id) == 0) throw unknown_session(id, idle_seconds_);
}

std::size_t SessionStore::size() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return sessions_.size();
}

}  // namespace adg::playground
