#pragma once
/// \file Test support: FIFOs, and a reader that must refuse one at once rather than block on it.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <future>
#include <string>

#include <doctest/doctest.h>

#include <adgraph/tensor/error.hpp>

namespace adg::testing {

/// Makes a FIFO at `path` (fails the test if it cannot).
inline void make_fifo(const std::string& path) { REQUIRE(::mkfifo(path.c_str(), 0600) == 0); }

/// Runs `read` (which opens the FIFO `path`, which has no writer) on another thread and returns the io_error
/// message it raised. A reader that blocks fails the test after 10 s instead of hanging it: a writer is then
/// opened and closed, which releases a reader blocked in open() or read().
inline std::string refusal_of_fifo(const std::string& path, const std::function<void()>& read) {
    auto result = std::async(std::launch::async, [read]() -> std::string {
        try {
            read();
        } catch (const adg::io_error& e) {
            return e.what();
        } catch (const std::exception& e) {
            return std::string("not an io_error: ") + e.what();
        }
        return "nothing was thrown";
    });
    if (result.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
        FAIL_CHECK("the reader blocked on the FIFO " << path);
        const int w = ::open(path.c_str(), O_WRONLY | O_NONBLOCK);
        if (w >= 0) ::close(w);
    }
    return result.get();
}

}  // namespace adg::testing
