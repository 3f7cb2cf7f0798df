#pragma once
/// \file Typed errors raised by adgraph; every message names the op or file, what is wrong and the remedy.

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

namespace adg {

/// Base of all adgraph errors; `what()` is the full message, context prepended by `add_context`.
class error : public std::exception {
public:
    /// An error with message `msg`.
    explicit error(std::string msg) : msg_(std::move(msg)) {}
    /// The full message.
    const char* what() const noexcept override { return msg_.c_str(); }
    /// Prepends `ctx` (e.g. "in the VJP rule of 'tanh'") so the error says where a sweep failed.
    void add_context(const std::string& ctx) { msg_ = ctx + ": " + msg_; }

private:
    std::string msg_;
};

/// Shapes that do not fit together (broadcasting, matmul, seeds, reshape).
class shape_error : public error {
    using error::error;
};

/// Mixed or unsupported dtypes.
class dtype_error : public error {
    using error::error;
};

/// Misuse of the recorded graph (released graph, non-scalar backward, missing grad).
class graph_error : public error {
    using error::error;
};

/// An argument value that is out of range or meaningless (bad axis, index, option).
class value_error : public error {
    using error::error;
};

/// A file that cannot be read or written, or whose bytes are not what they claim to be.
class io_error : public error {
    using error::error;
};

/// `v` for a message: the shortest text that reads back as `v` ("0.001", "-1e-09", "nan"), where
/// std::to_string would print "0.000000" for a small or negative-small value.
inline std::string number_str(double v) {
    char buf[32];
    for (int digits = 1; digits <= 17; ++digits) {
        std::snprintf(buf, sizeof buf, "%.*g", digits, v);
        if (std::strtod(buf, nullptr) == v) break;
    }
    return buf;
}

}  // namespace adg
