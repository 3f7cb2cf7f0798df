#include <adgraph/nn/process.hpp>

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include <adgraph/tensor/error.hpp>

extern char** environ;

namespace adg::nn {

namespace {

std::string errno_message(int e) { return std::generic_category().message(e); }

// One end of a pipe, closed when it goes out of scope or is done with.
struct Fd {
    int fd = -1;
    Fd() = default;
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { close(); }
    void close() {
        if (fd >= 0) ::close(fd);
        fd = -1;
    }
    bool open() const { return fd >= 0; }
};

// A close-on-exec pipe whose ends are above 0, 1 and 2: if the caller runs with a standard stream closed, a pipe
// end could otherwise take its number and be overwritten by the child's dup2 of another end onto it.
void make_pipe(Fd& read_end, Fd& write_end, const std::string& prog) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        throw io_error("run_process: cannot start '" + prog + "': no pipe for its input and output: " +
                       errno_message(errno) + "; close files or raise the limit on open files (ulimit -n)");
    }
    read_end.fd = fds[0];
    write_end.fd = fds[1];
    for (Fd* end : {&read_end, &write_end}) {
        if (end->fd > 2) continue;
        const int moved = ::fcntl(end->fd, F_DUPFD_CLOEXEC, 3);
        if (moved < 0) {
            throw io_error("run_process: cannot start '" + prog + "': no pipe for its input and output: " +
                           errno_message(errno) + "; close files or raise the limit on open files (ulimit -n)");
        }
        end->close();
        end->fd = moved;
    }
}

void set_nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

[[noreturn]] void lost(const std::string& prog, const char* step, int e) {
    throw io_error("run_process: '" + prog + "': " + step + " failed: " + errno_message(e) +
                   "; the program's outcome is unknown, run it again");
}

// Writing to a program that stopped reading raises SIGPIPE, whose default action would end this process. It is
// blocked in this thread for the call (the child is given the caller's mask back) and, if a write raised it, the
// pending signal is taken away before the mask is restored.
class SigpipeBlocked {
public:
    SigpipeBlocked() {
        sigemptyset(&pipe_);
        sigaddset(&pipe_, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
        sigset_t pending;
        sigpending(&pending);
        was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    }
    ~SigpipeBlocked() {
        if (raised_ && !was_pending_) {
            const timespec zero{0, 0};
            while (sigtimedwait(&pipe_, nullptr, &zero) < 0 && errno == EINTR) {
            }
        }
        pthread_sigmask(SIG_SETMASK, &old_, nullptr);
    }
    SigpipeBlocked(const SigpipeBlocked&) = delete;
    SigpipeBlocked& operator=(const SigpipeBlocked&) = delete;
    void raised() { raised_ = true; }
    const sigset_t& caller_mask() const { return old_; }

private:
    sigset_t pipe_{}, old_{};
    bool was_pending_ = false, raised_ = false;
};

// The started child: if an error unwinds the call before it is reaped, it is killed (with its process group if
// it leads one) and reaped, so no zombie or orphan is left behind.
struct Child {
    pid_t pid = -1;
    bool leads_group = false;
    Child() = default;
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    ~Child() {
        if (pid <= 0) return;
        kill();
        while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
        }
    }
    // Until it is reaped its pid (and so its group id) cannot be reused, so this reaches only its processes.
    void kill() const { ::kill(leads_group ? -pid : pid, SIGKILL); }
    // SIGTERM, then up to `grace` for it to exit (seen without reaping it: WNOWAIT keeps its pid and group id
    // ours for the SIGKILL that follows). A launcher such as mpirun ends on SIGTERM what it started in process
    // groups of their own, which a SIGKILL of its group would leave running.
    void terminate(std::chrono::milliseconds grace) const {
        ::kill(leads_group ? -pid : pid, SIGTERM);
        const auto until = std::chrono::steady_clock::now() + grace;
        while (std::chrono::steady_clock::now() < until) {
            siginfo_t info{};
            if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid != 0) {
                return;
            }
            const timespec nap{0, 10 * 1000000L};
            ::nanosleep(&nap, nullptr);
        }
    }
};

using Clock = std::chrono::steady_clock;

// Milliseconds from now to `deadline` for poll(), rounded up so the loop does not spin just before it; 0 once
// it has passed.
int poll_timeout(Clock::time_point deadline) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return static_cast<int>(std::clamp<long long>(left, 0, 1 << 30));
}

// posix_spawn's attribute and file-action objects, destroyed at scope exit.
struct SpawnSetup {
    posix_spawnattr_t attr;
    posix_spawn_file_actions_t actions;
    SpawnSetup() {
        posix_spawnattr_init(&attr);
        posix_spawn_file_actions_init(&actions);
    }
    ~SpawnSetup() {
        posix_spawn_file_actions_destroy(&actions);
        posix_spawnattr_destroy(&attr);
    }
    SpawnSetup(const SpawnSetup&) = delete;
    SpawnSetup& operator=(const SpawnSetup&) = delete;
};

}  // namespace

std::string seconds_str(std::chrono::milliseconds d) {
    const long long ms = d.count();
    std::string s = std::to_string(ms / 1000);
    if (ms < 0 && ms > -1000) s = "-" + s;
    if (long long frac = (ms < 0 ? -ms : ms) % 1000; frac != 0) {
        std::string digits = std::to_string(1000 + frac).substr(1);
        digits.erase(digits.find_last_not_of('0') + 1);
        s += "." + digits;
    }
    return s + " s";
}

std::string ProcessResult::how_it_ended() const {
    if (not_found) return "was not found";
    if (timed_out) return "timed out after " + seconds_str(time_limit) + " and was killed";
    if (signal != 0) {
        const char* name = ::strsignal(signal);
        return "was killed by signal " + std::to_string(signal) + (name ? std::string(" (") + name + ")" : "");
    }
    return "exited with status " + std::to_string(exit_status);
}

ProcessResult run_process(const std::vector<std::string>& argv, std::string_view input,
                          std::optional<std::chrono::milliseconds> time_limit, std::chrono::milliseconds term_grace) {
    if (argv.empty()) {
        throw value_error("run_process: the argument vector is empty; its first element must name the program");
    }
    const std::string& prog = argv[0];
    if (time_limit && time_limit->count() <= 0) {
        throw value_error("run_process: the time limit for '" + prog + "' is " + seconds_str(*time_limit) +
                          "; pass a positive limit, or none to wait until it ends");
    }
    const auto deadline = time_limit ? Clock::now() + *time_limit : Clock::time_point::max();
    Fd in_read, in_write, out_read, out_write, err_read, err_write;
    make_pipe(in_read, in_write, prog);
    make_pipe(out_read, out_write, prog);
    make_pipe(err_read, err_write, prog);

    SigpipeBlocked sigpipe;
    SpawnSetup setup;
    sigset_t default_sigpipe;
    sigemptyset(&default_sigpipe);
    sigaddset(&default_sigpipe, SIGPIPE);
    posix_spawnattr_setsigmask(&setup.attr, &sigpipe.caller_mask());
    posix_spawnattr_setsigdefault(&setup.attr, &default_sigpipe);
    short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    // A group of its own, so a time limit also ends what it started (a shell script's sleep, say), which would
    // otherwise hold the output pipes open after it is killed.
    if (time_limit) {
        posix_spawnattr_setpgroup(&setup.attr, 0);
        flags |= POSIX_SPAWN_SETPGROUP;
    }
    posix_spawnattr_setflags(&setup.attr, flags);
    posix_spawn_file_actions_adddup2(&setup.actions, in_read.fd, 0);
    posix_spawn_file_actions_adddup2(&setup.actions, out_write.fd, 1);
    posix_spawn_file_actions_adddup2(&setup.actions, err_write.fd, 2);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    // Descriptors of this process that are not close-on-exec (another library's, a caller's) stay here.
    posix_spawn_file_actions_addclosefrom_np(&setup.actions, 3);
#endif
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);

    ProcessResult result;
    Child child;
    child.leads_group = time_limit.has_value();
    const int spawned = ::posix_spawnp(&child.pid, prog.c_str(), &setup.actions, &setup.attr, args.data(), environ);
    if (spawned != 0) {
        child.pid = -1;
        if (spawned == ENOENT) {
            result.not_found = true;
            return result;
        }
        const bool resources = spawned == EAGAIN || spawned == ENOMEM;
        throw io_error("run_process: cannot start '" + prog + "': " + errno_message(spawned) + "; " +
                       (resources ? "too many processes or too little memory; try again or raise the limit (ulimit -u)"
                                  : "check that it is an executable program"));
    }
    in_read.close();
    out_write.close();
    err_write.close();
    set_nonblocking(in_write.fd);
    set_nonblocking(out_read.fd);
    set_nonblocking(err_read.fd);
    if (input.empty()) in_write.close();

    // One poll loop feeds stdin and drains stdout and stderr together: a program that writes a lot before
    // reading all its input never waits on a pipe this process is not emptying.
    std::size_t written = 0;
    char buf[65536];
    while (in_write.open() || out_read.open() || err_read.open()) {
        pollfd fds[3];
        nfds_t n = 0;
        if (in_write.open()) fds[n++] = {in_write.fd, POLLOUT, 0};
        if (out_read.open()) fds[n++] = {out_read.fd, POLLIN, 0};
        if (err_read.open()) fds[n++] = {err_read.fd, POLLIN, 0};
        const int ready = ::poll(fds, n, time_limit ? poll_timeout(deadline) : -1);
        if (ready < 0) {
            if (errno == EINTR) continue;
            lost(prog, "poll", errno);
        }
        if (time_limit && Clock::now() >= deadline) {
            result.timed_out = true;
            break;
        }
        for (nfds_t i = 0; i < n; ++i) {
            if (fds[i].revents == 0) continue;
            if (fds[i].fd == in_write.fd) {
                const std::size_t chunk = std::min<std::size_t>(input.size() - written, sizeof buf);
                const ssize_t w = ::write(in_write.fd, input.data() + written, chunk);
                if (w < 0) {
                    if (errno == EAGAIN || errno == EINTR) continue;
                    if (errno != EPIPE) lost(prog, "writing its input", errno);
                    // It stopped reading: what it did with the input so far is for its exit status to say.
                    sigpipe.raised();
                    in_write.close();
                    continue;
                }
                written += static_cast<std::size_t>(w);
                if (written == input.size()) in_write.close();
                continue;
            }
            Fd& from = fds[i].fd == out_read.fd ? out_read : err_read;
            const ssize_t r = ::read(from.fd, buf, sizeof buf);
            if (r < 0) {
                if (errno == EAGAIN || errno == EINTR) continue;
                lost(prog, "reading its output", errno);
            }
            if (r == 0) {
                from.close();
                continue;
            }
            const auto got = static_cast<std::size_t>(r);
            if (&from == &out_read) {
                result.out.append(buf, got);
                continue;
            }
            const std::size_t kept = std::min(got, ProcessResult::err_limit - result.err.size());
            result.err.append(buf, kept);
            result.err_dropped += got - kept;
        }
    }

    int status = 0;
    // It closed its output but may still run: with a limit, wait for it only until the deadline.
    while (time_limit && !result.timed_out) {
        const pid_t done = ::waitpid(child.pid, &status, WNOHANG);
        if (done == child.pid) {
            child.pid = -1;
            break;
        }
        if (done < 0 && errno != EINTR) {
            const int e = errno;
            child.pid = -1;
            lost(prog, "waiting for it", e);
        }
        const int left = poll_timeout(deadline);
        if (left == 0) {
            result.timed_out = true;
            break;
        }
        const timespec nap{0, std::min(left, 10) * 1000000L};
        ::nanosleep(&nap, nullptr);
    }
    if (result.timed_out) {
        if (term_grace.count() > 0) child.terminate(term_grace);
        child.kill();
        result.time_limit = *time_limit;
    }
    while (child.pid > 0 && ::waitpid(child.pid, &status, 0) < 0) {
        if (errno == EINTR) continue;
        const int e = errno;
        child.pid = -1;  // not ours to wait for (SIGCHLD ignored?); its number may soon belong to another process
        lost(prog, "waiting for it", e);
    }
    child.pid = -1;
    if (WIFEXITED(status)) result.exit_status = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
    return result;
}

}  // namespace adg::nn
