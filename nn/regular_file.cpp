#include <adgraph/nn/regular_file.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include <adgraph/tensor/error.hpp>

namespace adg::nn {

const char* file_kind(mode_t mode) {
    if (S_ISREG(mode)) return "a regular file";
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISSOCK(mode)) return "a socket";
    if (S_ISLNK(mode)) return "a symbolic link";
    return "not a regular file";
}

namespace {

[[noreturn]] void cannot_open(const std::string& prefix, int e) {
    throw io_error(prefix + "cannot open the file: " + std::generic_category().message(e) + "; check the path");
}

[[noreturn]] void not_regular(const std::string& prefix, mode_t mode) {
    throw io_error(prefix + "is " + file_kind(mode) + ", not a regular file; pass the path of a regular file");
}

}  // namespace

int open_regular_file(const std::string& path, const std::string& prefix) {
    // Checked before opening: opening a device can have effects of its own, and a FIFO would block.
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) cannot_open(prefix, errno);
    if (!S_ISREG(st.st_mode)) not_regular(prefix, st.st_mode);
    const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) cannot_open(prefix, errno);
    // The name may have been given to another file between stat and open; the descriptor's own type decides.
    if (::fstat(fd, &st) != 0) {
        const int e = errno;
        ::close(fd);
        cannot_open(prefix, e);
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd);
        not_regular(prefix, st.st_mode);
    }
    // Regular files ignore O_NONBLOCK, but the descriptor is handed on: give it the ordinary blocking mode.
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags >= 0) ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    return fd;
}

}  // namespace adg::nn
