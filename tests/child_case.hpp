#pragma once
/// \file Test support: a test case run again in a fresh child process of this test binary, for tests that lower a
/// process-wide limit (ulimit -v) or must see a crash (abort) as an exit status instead of dying with it.

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace adg::testing {

/// The variable that tells a test case it runs as the child started by run_child_case (its value: the case's name).
inline constexpr const char* child_case_variable = "ADGRAPH_TEST_CHILD_CASE";

/// True in the child that run_child_case started for test case `name`; such a case does nothing otherwise.
inline bool in_child_case(const std::string& name) {
    const char* v = std::getenv(child_case_variable);
    return v != nullptr && name == v;
}

/// Exit status and output (stdout and stderr) of a child.
struct ChildResult {
    int status = -1;  ///< as waitpid reports it
    std::string output;
    /// True if the child exited (not killed by a signal) with code 0.
    bool exited_ok() const { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }
};

/// Runs this test binary (/proc/self/exe) again with only test case `name` selected and child_case_variable set:
/// a fresh process, so no thread pool or allocator state of earlier tests is inherited. Started with fork + execv
/// (no shell).
inline ChildResult run_child_case(const std::string& name) {
    int fds[2];
    if (::pipe(fds) != 0) return {};
    const std::string filter = "--test-case=" + name;
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(fds[1], 1);
        ::dup2(fds[1], 2);
        ::close(fds[0]);
        ::close(fds[1]);
        ::setenv(child_case_variable, name.c_str(), 1);
        const char* argv[] = {"adgraph_tests", filter.c_str(), "--no-colors=true", nullptr};
        ::execv("/proc/self/exe", const_cast<char* const*>(argv));
        ::_exit(127);
    }
    ::close(fds[1]);
    ChildResult r;
    char buf[4096];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) r.output.append(buf, static_cast<std::size_t>(n));
    ::close(fds[0]);
    if (pid > 0) ::waitpid(pid, &r.status, 0);
    return r;
}

/// Lowers this process's address-space limit (ulimit -v) to its current size plus `headroom` bytes, so any larger
/// allocation (or a thread's stack) fails. Returns false if the limit could not be set.
inline bool limit_address_space(std::size_t headroom) {
    std::ifstream statm("/proc/self/statm");
    std::size_t pages = 0;
    if (!(statm >> pages)) return false;
    rlimit lim{};
    lim.rlim_cur = lim.rlim_max = pages * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)) + headroom;
    return ::setrlimit(RLIMIT_AS, &lim) == 0;
}

}  // namespace adg::testing
