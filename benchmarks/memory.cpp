#include "memory.hpp"

#include <fstream>
#include <string>

namespace adg::bench {

namespace {

std::size_t status_kb(const char* key) {
    std::ifstream in("/proc/self/status");
    std::string line;
    const std::string k = std::string(key) + ":";
    while (std::getline(in, line)) {
        if (line.rfind(k, 0) == 0) return std::stoul(line.substr(k.size())) * 1024;
    }
    return 0;
}

}  // namespace

std::size_t current_rss() { return status_kb("VmRSS"); }

std::size_t peak_rss() { return status_kb("VmHWM"); }

bool reset_peak_rss() {
    std::ofstream f("/proc/self/clear_refs");
    f << "5";
    f.flush();
    return static_cast<bool>(f);
}

}  // namespace adg::bench
