#pragma once
/// \file Fuzzing support: a per-process scratch file that the readers under test open by path.
///
/// read_idx and load_safetensors take a path, not a buffer, so each input is written to a file first. The file
/// is a memfd (an anonymous in-memory file, opened by path through /proc/self/fd/N), so no disk is touched and
/// nothing is left behind; where memfd_create or /proc is missing, a file under $TMPDIR (or /tmp) named after the
/// process id is used and removed at exit.

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace adg::fuzz {

class ScratchFile {
public:
    explicit ScratchFile(const char* tag) {
        fd_ = ::memfd_create(tag, MFD_CLOEXEC);
        if (fd_ >= 0) {
            path_ = "/proc/self/fd/" + std::to_string(fd_);
            if (::access(path_.c_str(), R_OK) == 0) return;
            ::close(fd_);
        }
        const char* dir = std::getenv("TMPDIR");
        path_ = std::string(dir && *dir ? dir : "/tmp") + "/adgraph-" + tag + "-" + std::to_string(::getpid());
        fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd_ < 0) die("cannot create");
        unlink_ = true;
    }
    ~ScratchFile() {
        ::close(fd_);
        if (unlink_) ::unlink(path_.c_str());
    }
    ScratchFile(const ScratchFile&) = delete;
    ScratchFile& operator=(const ScratchFile&) = delete;

    /// Replaces the file's content with `size` bytes at `data` and returns its path.
    const std::string& write(const std::uint8_t* data, std::size_t size) {
        if (::ftruncate(fd_, 0) != 0) die("cannot truncate");
        std::size_t done = 0;
        while (done < size) {
            const ssize_t n = ::pwrite(fd_, data + done, size - done, static_cast<off_t>(done));
            if (n <= 0) die("cannot write");
            done += static_cast<std::size_t>(n);
        }
        return path_;
    }

private:
    // A harness failure, not a finding in the code under test: say so and stop.
    [[noreturn]] void die(const char* what) const {
        std::fprintf(stderr, "fuzz harness: %s scratch file %s\n", what, path_.c_str());
        std::abort();
    }

    std::string path_;
    int fd_ = -1;
    bool unlink_ = false;
};

/// Stops with a message naming the broken promise: for the targets' checks on what a reader accepted (an abort is
/// a finding for libFuzzer and a failure for the replay driver).
inline void expect(bool ok, const char* what) {
    if (ok) return;
    std::fprintf(stderr, "fuzz target: accepted input breaks a promise: %s\n", what);
    std::abort();
}

/// The process's scratch file (created on first use, removed at exit).
inline ScratchFile& scratch(const char* tag) {
    static ScratchFile file(tag);
    return file;
}

}  // namespace adg::fuzz
