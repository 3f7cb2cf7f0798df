#include <adgraph/nn/atomic_file.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <system_error>

#include <adgraph/nn/regular_file.hpp>
#include <adgraph/tensor/error.hpp>

namespace adg::nn {

namespace {

std::string errno_message(int e) { return std::generic_category().message(e); }
std::string in_quotes(const std::string& s) { return "'" + s + "'"; }

constexpr const char* space_hint = "check the free space, quota and file size limit (ulimit -f) there";

std::string parent_dir(const std::string& path) {
    const std::size_t slash = path.find_last_of('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

[[noreturn]] void not_regular(const std::string& path, const std::string& through, mode_t mode) {
    throw io_error(in_quotes(path) + ": is " + file_kind(mode) + through +
                   ", not a regular file; files are written by replacing them whole, which only regular files allow: "
                   "pass the path of a regular file or of a new one");
}

// The file a write to `path` replaces: `path` itself (a regular file, or nothing yet), or, for a symbolic link,
// the regular file it resolves to, so that the link stays a link and what it points to gets the new content.
// A device, FIFO or socket is refused before a temporary file exists: renaming over it would turn e.g. /dev/null
// into a regular file. A directory is left to rename(), which cannot replace it and fails with "Is a directory".
std::string replaced_file(const std::string& path) {
    const auto dangling = [&](int e) {
        return io_error(in_quotes(path) + ": is a symbolic link that does not resolve to a file (" + errno_message(e) +
                        "); remove the link or create the file it points to");
    };
    struct stat st {};
    // A failing lstat (no such file, a missing directory, no permission) is left to creating the temporary file,
    // which reports it with the remedy.
    if (::lstat(path.c_str(), &st) != 0 || S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) return path;
    if (!S_ISLNK(st.st_mode)) not_regular(path, "", st.st_mode);
    if (::stat(path.c_str(), &st) != 0) throw dangling(errno);
    // /dev/stdout on a pipe is a link (through /proc) to an object with no path: realpath fails, stat does not.
    const std::unique_ptr<char, decltype(&std::free)> resolved(::realpath(path.c_str(), nullptr), &std::free);
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
        not_regular(path,
                    resolved ? " (through the symbolic link to " + in_quotes(resolved.get()) + ")"
                             : std::string(" (through a symbolic link)"),
                    st.st_mode);
    }
    if (!resolved) throw dangling(errno);
    return resolved.get();
}

// A fresh file next to `path`, so that rename() stays within one filesystem and is atomic. O_EXCL with the pid
// and a per-process counter makes the name unique (a stale file of a crashed process with the same pid is
// skipped); mode 0666 lets the umask decide, as for any new file.
int create_temp_file(const std::string& path, std::string& tmp) {
    static std::atomic<unsigned long> counter{0};
    for (int attempt = 0;; ++attempt) {
        tmp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
        const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0) return fd;
        const int e = errno;
        if (e != EEXIST || attempt >= 100) {
            throw io_error(in_quotes(path) + ": cannot create the temporary file " + in_quotes(tmp) + ": " +
                           errno_message(e) + "; check that the directory exists and is writable");
        }
    }
}

}  // namespace

void AtomicFileWriter::write(const void* data, std::size_t n) const {
    const char* p = static_cast<const char*>(data);
    while (n > 0) {
        const ssize_t w = ::write(fd_, p, n);
        const int e = errno;
        if (w < 0 && e == EINTR) continue;
        // write() of a regular file returns 0 only if it cannot make progress; treat it as a full disk rather
        // than loop forever.
        if (w <= 0) {
            throw io_error(in_quotes(path_) + ": cannot write the temporary file " + in_quotes(tmp_) + ": " +
                           errno_message(w < 0 ? e : ENOSPC) + "; " + space_hint);
        }
        p += w;
        n -= static_cast<std::size_t>(w);
    }
}

void write_file_atomically(const std::string& path, const std::function<void(const AtomicFileWriter&)>& produce) {
    const std::string target = replaced_file(path);
    std::string tmp;
    int fd = create_temp_file(target, tmp);
    try {
        produce(AtomicFileWriter(fd, path, tmp));
        // The data must be on disk before the rename publishes it, or a crash could leave an empty `path`.
        while (::fsync(fd) != 0) {
            const int e = errno;
            if (e == EINTR) continue;
            throw io_error(in_quotes(path) + ": cannot flush the temporary file " + in_quotes(tmp) +
                           " to disk: " + errno_message(e) + "; " + space_hint);
        }
        const int closed = ::close(fd);
        const int close_errno = errno;
        fd = -1;  // Linux releases the descriptor even when close() reports an error, so it is never retried
        // EINTR: the descriptor is gone and the data was already fsynced, so nothing is lost.
        if (closed != 0 && close_errno != EINTR) {
            throw io_error(in_quotes(path) + ": cannot write the temporary file " + in_quotes(tmp) + ": " +
                           errno_message(close_errno) + "; " + space_hint);
        }
        if (std::rename(tmp.c_str(), target.c_str()) != 0) {
            const int e = errno;
            throw io_error(in_quotes(path) + ": cannot rename the temporary file " + in_quotes(tmp) + " over it: " +
                           errno_message(e) + "; if a directory has that name, remove it or write somewhere else");
        }
    } catch (...) {
        if (fd >= 0) ::close(fd);
        ::unlink(tmp.c_str());
        throw;
    }
    // Persist the rename itself. Best effort: the complete file is already in place, so a failure here only
    // weakens durability across a power cut and must not report a write that did happen as failed.
    const int dir = ::open(parent_dir(target).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
        ::fsync(dir);
        ::close(dir);
    }
}

void write_file_atomically(const std::string& path, std::string_view content) {
    write_file_atomically(path, [&](const AtomicFileWriter& w) { w.write(content); });
}

}  // namespace adg::nn
