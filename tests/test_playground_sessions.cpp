// The playground's session store on a clock the test advances by hand: idle sessions freed after idle_seconds and
// their slots reused, requests keeping a session alive, a session in use never freed, and the cap.

#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <string>

#include "playground/routes.hpp"
#include "playground/sessions.hpp"

using namespace adg::playground;

namespace {

using Clock = SessionStore::Clock;

// A clock that stands still until the test moves it.
struct FakeClock {
    Clock::time_point now{};
    void advance(double seconds) {
        now += std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    }
};

// The status of the RequestError `f` throws (0 if it throws none).
template <class F>
int status_of(F&& f) {
    try {
        f();
    } catch (const RequestError& e) {
        return e.status();
    }
    return 0;
}

}  // namespace

TEST_CASE("playground sessions: idle ones are freed after idle_seconds, requests keep them alive, slots are reused") {
    FakeClock clock;
    SessionStore store(1, 10, [&] { return clock.now; });
    const std::string first = store.create(Config{}).first;
    CHECK(store.size() == 1);
    CHECK(status_of([&] { store.create(Config{}); }) == 503);

    // A request every 6 s: 30 s in all, three times the idle limit, and the session stays.
    for (int i = 0; i < 5; ++i) {
        clock.advance(6);
        CHECK(store.find(first) != nullptr);
    }
    // 10 s without a request is not yet over the limit; a moment more is.
    clock.advance(10);
    CHECK(store.size() == 1);
    CHECK(status_of([&] { store.create(Config{}); }) == 503);
    clock.advance(0.001);
    CHECK(status_of([&] { store.find(first); }) == 404);
    CHECK(store.size() == 0);

    // The freed slot takes a new session.
    const std::string second = store.create(Config{}).first;
    CHECK(second != first);
    CHECK(store.size() == 1);
    clock.advance(10.001);
    // Creating frees the idle one first, so the cap of 1 is no obstacle.
    const std::string third = store.create(Config{}).first;
    CHECK(status_of([&] { store.find(second); }) == 404);
    CHECK(store.find(third) != nullptr);
}

TEST_CASE("playground sessions: a session in use is not freed however long its request takes, and touch restarts it") {
    FakeClock clock;
    SessionStore store(1, 10, [&] { return clock.now; });
    const std::string id = store.create(Config{}).first;
    {
        // A request that holds the session for 100 s (a long step), while another tab's requests arrive.
        const std::shared_ptr<SessionEntry> held = store.find(id);
        clock.advance(100);
        CHECK(status_of([&] { store.create(Config{}); }) == 503);
        CHECK(store.size() == 1);
        // The request ends: it marks the session used at its end.
        store.touch(*held);
    }
    clock.advance(9);
    CHECK(store.find(id) != nullptr);
    clock.advance(10.001);
    CHECK(status_of([&] { store.find(id); }) == 404);
}

TEST_CASE("playground sessions: remove closes a session, and an unknown id is 404") {
    FakeClock clock;
    SessionStore store(2, 10, [&] { return clock.now; });
    const std::string a = store.create(Config{}).first;
    const std::string b = store.create(Config{}).first;
    CHECK(a.size() == 32);
    CHECK(a != b);
    store.remove(a);
    CHECK(store.size() == 1);
    CHECK(status_of([&] { store.remove(a); }) == 404);
    CHECK(status_of([&] { store.find(a); }) == 404);
    CHECK(store.find(b) != nullptr);
}
