#pragma once
// For the demos' self-checks: the size a PNG file declares, read from its signature and IHDR chunk.

#include <fstream>
#include <string>
#include <utility>

namespace demo {

/// (width, height) from the IHDR chunk of the PNG file at `path`; (0, 0) if it is missing or not a PNG.
inline std::pair<unsigned, unsigned> png_size(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    unsigned char h[24] = {};
    if (!in.read(reinterpret_cast<char*>(h), sizeof h)) return {0, 0};
    if (std::string(reinterpret_cast<const char*>(h), 16) != std::string("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", 16)) {
        return {0, 0};
    }
    const auto be32 = [&](int at) {
        return (unsigned{h[at]} << 24) | (unsigned{h[at + 1]} << 16) | (unsigned{h[at + 2]} << 8) | unsigned{h[at + 3]};
    };
    return {be32(16), be32(20)};
}

}  // namespace demo
