#pragma once
/// \file Running another program without a shell: an argument vector in, its stdout, stderr and exit status out.

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace adg::nn {

/// How a program started by run_process() ended, and what it printed.
struct ProcessResult {
    /// True if there was no program to run (nothing on PATH by that name, no file at the path given, or no
    /// interpreter for its #! line); then nothing ran and the other fields are empty.
    bool not_found = false;
    /// Its exit status if it exited, else -1.
    int exit_status = -1;
    /// The signal that ended it, else 0.
    int signal = 0;
    /// True if it was still running (or still held its output open) when the time limit ran out: then it was
    /// killed with SIGKILL (after SIGTERM and a grace period, if asked), with every process in its process group,
    /// and reaped.
    bool timed_out = false;
    /// The time limit it overran, if `timed_out`.
    std::chrono::milliseconds time_limit{0};
    /// Everything it wrote on stdout.
    std::string out;
    /// What it wrote on stderr, up to the first `err_limit` bytes (a diagnostic, not data: a program writing
    /// without end must not take this process's memory).
    std::string err;
    /// How many bytes it wrote on stderr beyond `err_limit`, read and dropped (0 if `err` is all of it).
    std::size_t err_dropped = 0;
    /// The most of its stderr kept in `err`: 1 MiB.
    static constexpr std::size_t err_limit = std::size_t{1} << 20;

    /// True if it ran and exited with status 0 within its time limit.
    bool succeeded() const { return !not_found && !timed_out && signal == 0 && exit_status == 0; }
    /// "exited with status 1", "was killed by signal 9 (Killed)", "timed out after 60 s and was killed" or
    /// "was not found", for messages.
    std::string how_it_ended() const;
};

/// Runs the program `argv[0]` (looked up on PATH unless it contains a '/') with the arguments `argv`, passed to
/// it verbatim: no shell is involved, so quotes, spaces, ';' or '$' in an argument are just characters. `input`
/// is written to its stdin, which is then closed; its stdout (whole) and stderr (its first 1 MiB, the rest read
/// and counted) are collected while the input is written, so neither side blocks however much each writes. It
/// inherits the environment, the working directory and the signal mask, and no open file beyond its three pipes.
/// Returns when it has ended.
///
/// With a `time_limit`, the program runs in a process group of its own, and if it has not ended (or something
/// it started still holds its stdout or stderr open) when the limit runs out, that whole group is killed with
/// SIGKILL and the program reaped; the result says `timed_out`, with what it printed until then. With a positive
/// `term_grace`, the group is sent SIGTERM first and given that long to end before the SIGKILL: for a launcher
/// such as mpirun, which puts what it starts in process groups of its own and ends them on SIGTERM.
///
/// A program that is not there is reported in the result (`not_found`), not thrown, so callers can treat an
/// optional tool as missing. Throws value_error if `argv` is empty, and io_error if the program cannot be
/// started otherwise (not executable, no processes or file descriptors left) or the pipes fail, e.g.
/// "run_process: cannot start '/tmp/x.sh': Permission denied; check that it is an executable program".
/// Throws value_error if `time_limit` is not positive.
ProcessResult run_process(const std::vector<std::string>& argv, std::string_view input = {},
                          std::optional<std::chrono::milliseconds> time_limit = std::nullopt,
                          std::chrono::milliseconds term_grace = std::chrono::milliseconds{0});

/// `d` for a message: "60 s", "0.25 s".
std::string seconds_str(std::chrono::milliseconds d);

}  // namespace adg::nn
