#pragma once
/// \file Test support: a scope in which files cannot grow past a few KB, so writes fail half-way (EFBIG).

#include <sys/resource.h>

#include <csignal>

namespace adg::testing {

/// Lowers RLIMIT_FSIZE to 4096 bytes and ignores SIGXFSZ (so a write past the limit fails instead of killing the
/// process) until destruction, which restores both.
struct FileSizeLimit {
    rlimit old_limit{};
    void (*old_handler)(int);
    FileSizeLimit() : old_handler(std::signal(SIGXFSZ, SIG_IGN)) {
        ::getrlimit(RLIMIT_FSIZE, &old_limit);
        rlimit small = old_limit;
        small.rlim_cur = 4096;
        ::setrlimit(RLIMIT_FSIZE, &small);
    }
    ~FileSizeLimit() {
        ::setrlimit(RLIMIT_FSIZE, &old_limit);
        std::signal(SIGXFSZ, old_handler);
    }
    FileSizeLimit(const FileSizeLimit&) = delete;
    FileSizeLimit& operator=(const FileSizeLimit&) = delete;
};

}  // namespace adg::testing
