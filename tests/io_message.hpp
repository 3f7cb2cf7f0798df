#pragma once
// Test helper: the message of the io_error a call raises.

#include <string>

#include <adgraph/tensor/error.hpp>

namespace adg::testing {

// The message of the io_error `f` raises ("" if none; any other exception propagates).
template <class F>
std::string io_message(F f) {
    try {
        f();
    } catch (const io_error& e) {
        return e.what();
    }
    return "";
}

}  // namespace adg::testing
