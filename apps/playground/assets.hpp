#pragma once
/// \file The page's files (web/index.html, app.js, style.css), compiled into the binary by embed_assets.cmake.

#include <cstddef>
#include <string>

namespace adg::playground {

/// One file of the page: the path it is served at, its content type and its bytes.
struct Asset {
    const char* path;
    const char* content_type;
    const unsigned char* data;
    std::size_t size;
};

/// The asset served at `path` ("/", "/app.js", "/style.css"), or nullptr.
const Asset* find_asset(const std::string& path);

}  // namespace adg::playground
