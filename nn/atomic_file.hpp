#pragma once
/// \file Atomic file replacement: a file is written beside its target and renamed over it only when complete,
/// so readers (and a crash) see either the old content or the whole new content, never a half-written file.

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace adg::nn {

/// The open temporary file that write_file_atomically() hands to its producer. Bytes are appended in order.
class AtomicFileWriter {
public:
    AtomicFileWriter(const AtomicFileWriter&) = delete;
    AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

    /// Appends `n` bytes from `data`, retrying short writes and EINTR. Throws io_error naming the target and the
    /// temporary file with the system's reason (e.g. "No space left on device").
    void write(const void* data, std::size_t n) const;
    /// Appends the bytes of `bytes`.
    void write(std::string_view bytes) const { write(bytes.data(), bytes.size()); }

private:
    friend void write_file_atomically(const std::string& path,
                                      const std::function<void(const AtomicFileWriter&)>& produce);
    AtomicFileWriter(int fd, const std::string& path, const std::string& tmp) : fd_(fd), path_(path), tmp_(tmp) {}

    int fd_;
    const std::string& path_;
    const std::string& tmp_;
};

/// Replaces `path` with the bytes that `produce` writes, atomically: they go to a new file
/// `<path>.tmp.<pid>.<n>` in the same directory (created with O_EXCL, mode 0666 less the umask), which is
/// fsynced, closed and renamed over `path`; the directory is then fsynced (best effort: the file is already
/// in place). Only a regular file (or nothing) is replaced: a device, FIFO or socket at `path` is refused with
/// io_error "'<path>': is a FIFO, not a regular file; ..." before any temporary file exists (a directory makes
/// the rename fail). A symbolic link is followed: the file it resolves to is replaced (its temporary file is
/// made in that file's directory) and the link stays; a link that does not resolve is refused.
///
/// On any failure the temporary file is removed and `path` keeps its old content (or stays absent). Failures
/// of the file system throw io_error whose message starts with `path` in quotes and gives the system's reason,
/// e.g. "'out/m.json': cannot rename the temporary file 'out/m.json.tmp.42.0' over it: Is a directory; ...";
/// an exception thrown by `produce` propagates unchanged.
void write_file_atomically(const std::string& path, const std::function<void(const AtomicFileWriter&)>& produce);

/// Replaces `path` with `content` atomically; see the overload above for the guarantees and errors.
void write_file_atomically(const std::string& path, std::string_view content);

}  // namespace adg::nn
