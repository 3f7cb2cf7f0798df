#pragma once
/// \file Opening files to read only when they are regular files: a FIFO, a device or a directory is refused
/// before it can block a reader or be read as data.

#include <sys/types.h>

#include <string>

namespace adg::nn {

/// What `mode` (a stat st_mode) describes, as a phrase for messages: "a directory", "a FIFO", "a character
/// device", "a block device", "a socket", "a symbolic link" or "a regular file".
const char* file_kind(mode_t mode);

/// Opens `path` read-only if it is a regular file (symbolic links followed), and returns the descriptor (the
/// caller closes it). The file is stat'ed before it is opened, then opened with O_NONBLOCK (so a FIFO without a
/// writer cannot block) and checked again with fstat on the descriptor (so a file swapped in between is seen);
/// O_NONBLOCK is then cleared. Throws io_error "<prefix>cannot open the file: <reason>; check the path" or
/// "<prefix>is a FIFO, not a regular file; pass the path of a regular file".
int open_regular_file(const std::string& path, const std::string& prefix);

}  // namespace adg::nn
