#pragma once
/// \file Text taken from a file or a user, made safe to quote in an error message.

#include <cstddef>
#include <cstdio>
#include <string>

namespace adg::nn {

/// Bytes of a quoted text that message_text shows before it cuts.
inline constexpr std::size_t message_text_bytes = 40;

/// `s` made safe to quote in a one-line message: every byte outside printable ASCII (NUL, newline, ESC and the
/// other control bytes, DEL, and every byte of non-ASCII or invalid UTF-8) is written as \xNN, so a tensor name or
/// metadata value cannot clear the terminal, forge a line or cut the message; and at most the first `shown` bytes
/// of `s` appear, followed by "... (N bytes)" with its full length when it is longer. The one function for any
/// text from a file or a user in a message (names, metadata, specs, shapes read from headers).
inline std::string message_text(const std::string& s, std::size_t shown = message_text_bytes) {
    std::string out;
    for (std::size_t i = 0; i < s.size() && i < shown; ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c < 0x7F) {
            out += static_cast<char>(c);
        } else {
            char hex[5];
            std::snprintf(hex, sizeof hex, "\\x%02X", c);
            out += hex;
        }
    }
    if (s.size() > shown) out += "... (" + std::to_string(s.size()) + " bytes)";
    return out;
}

}  // namespace adg::nn
