#pragma once
/// \file Text taken from a file or a user, made safe to quote in an error message.

#include <cstddef>
#include <cstdio>
#include <string>

namespace adg::nn {

/// Bytes of a quoted text that message_text shows before it cuts.
inline constexpr std::size_t message_text_bytes = 40;

/// Length of the well-formed UTF-8 sequence of 2 to 4 bytes starting at s[i] that a message may show as it is,
/// or 0: 0 also for an invalid sequence (stray continuation byte, truncated, overlong, surrogate, above U+10FFFF)
/// and for the C1 controls U+0080..U+009F and U+2028/U+2029, which a terminal or viewer takes as control or line
/// break.
inline std::size_t message_text_utf8_length(const std::string& s, std::size_t i) {
    const auto at = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
    const unsigned char c = at(0);
    std::size_t n = 0;
    unsigned long cp = 0;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2, cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3, cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4, cp = c & 0x07;
    } else {
        return 0;  // ASCII, a continuation byte, C0/C1 (overlong leads) or F5..FF
    }
    if (s.size() - i < n) return 0;
    for (std::size_t k = 1; k < n; ++k) {
        if ((at(k) & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (at(k) & 0x3F);
    }
    const unsigned long least[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < least[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    if (cp <= 0x9F || cp == 0x2028 || cp == 0x2029) return 0;
    return n;
}

/// `s` made safe to quote in a one-line message: printable ASCII and well-formed UTF-8 (a German path, a tensor
/// name with ü, € or an emoji) appear as they are; every other byte is written as \xNN: NUL, newline, ESC and the
/// other ASCII control bytes, DEL, the C1 controls U+0080..U+009F (C2 80..C2 9F), the separators U+2028/U+2029,
/// and every byte of invalid UTF-8 (stray, truncated, overlong, surrogate, above U+10FFFF), so a tensor name or
/// metadata value cannot clear the terminal, forge a line or cut the message. At most the first `shown` bytes of
/// `s` appear (never cut inside a UTF-8 character: it is left out whole), followed by "... (N bytes)" with its
/// full length when it is longer. The one function for any text from a file or a user in a message (names,
/// metadata, specs, shapes read from headers).
inline std::string message_text(const std::string& s, std::size_t shown = message_text_bytes) {
    std::string out;
    for (std::size_t i = 0; i < s.size() && i < shown;) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c < 0x7F) {
            out += static_cast<char>(c);
            ++i;
        } else if (const std::size_t n = message_text_utf8_length(s, i); n > 0) {
            if (i + n > shown) break;
            out.append(s, i, n);
            i += n;
        } else {
            char hex[5];
            std::snprintf(hex, sizeof hex, "\\x%02X", c);
            out += hex;
            ++i;
        }
    }
    if (s.size() > shown) out += "... (" + std::to_string(s.size()) + " bytes)";
    return out;
}

}  // namespace adg::nn
