// nn/atomic_file: whole-file replacement through a temporary file, and nothing left behind on failure.

#include <doctest/doctest.h>

#include "file_size_limit.hpp"
#include "temp_dir.hpp"

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <adgraph/nn/atomic_file.hpp>
#include <adgraph/tensor/error.hpp>

using namespace adg;
using namespace adg::nn;
namespace fs = std::filesystem;

using adg::testing::read_file;
using adg::testing::TempDir;

namespace {

doctest::Contains has(const std::string& s) { return doctest::Contains(s.c_str()); }

}  // namespace

TEST_CASE_FIXTURE(TempDir, "atomic_file: writes the content, in parts, empty, and with binary bytes") {
    const std::string path = file("out.txt");
    write_file_atomically(path, "hello\n");
    CHECK(read_file(path) == "hello\n");

    const std::string binary("a\0b\xff", 4);
    write_file_atomically(path, [&](const AtomicFileWriter& w) {
        w.write("first ");
        w.write(binary.data(), binary.size());
        w.write(nullptr, 0);
        w.write(std::string(100000, 'x'));
    });
    CHECK(read_file(path) == "first " + binary + std::string(100000, 'x'));

    write_file_atomically(path, "");
    CHECK(fs::exists(path));
    CHECK(fs::file_size(path) == 0);
    CHECK(list() == std::vector<std::string>{"out.txt"});
}

TEST_CASE_FIXTURE(TempDir, "atomic_file: replaces the target whole, with a new file of mode 0666 less the umask") {
    const std::string path = file("m.jsonl");
    write_file_atomically(path, std::string(5000, 'o'));
    // Another name for the old file keeps its content: the new content is a new file, not written into it.
    fs::create_hard_link(path, file("old"));
    const mode_t old_mask = ::umask(027);
    write_file_atomically(path, "short\n");
    ::umask(old_mask);
    CHECK(read_file(path) == "short\n");
    CHECK(read_file(file("old")) == std::string(5000, 'o'));
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0640);
    CHECK(list() == std::vector<std::string>{"m.jsonl", "old"});
}

TEST_CASE_FIXTURE(TempDir, "atomic_file: a failure leaves nothing behind and the old content in place") {
    SUBCASE("the directory is missing") {
        const std::string path = file("missing/out.txt");
        CHECK_THROWS_WITH_AS(write_file_atomically(path, "x"),
                             has("'" + path + "': cannot create the temporary file '" + path + ".tmp."), io_error);
        CHECK_THROWS_WITH_AS(write_file_atomically(path, "x"), has(": No such file or directory"), io_error);
        CHECK(list().empty());
    }
    SUBCASE("a directory has the target's name") {
        const std::string path = file("metrics.jsonl");
        fs::create_directory(path);
        CHECK_THROWS_WITH_AS(write_file_atomically(path, "x"),
                             has("'" + path + "': cannot rename the temporary file '" + path + ".tmp."), io_error);
        CHECK_THROWS_WITH_AS(write_file_atomically(path, "x"), has("over it: Is a directory"), io_error);
        CHECK(fs::is_directory(path));
        CHECK(fs::is_empty(path));
        CHECK(list() == std::vector<std::string>{"metrics.jsonl"});
    }
    SUBCASE("the producer throws: its exception propagates unchanged") {
        const std::string path = file("out.txt");
        write_file_atomically(path, "old");
        CHECK_THROWS_WITH_AS(write_file_atomically(path,
                                                   [](const AtomicFileWriter& w) {
                                                       w.write("partial new content");
                                                       throw std::runtime_error("producer gave up");
                                                   }),
                             "producer gave up", std::runtime_error);
        CHECK(read_file(path) == "old");
        CHECK(list() == std::vector<std::string>{"out.txt"});
    }
    SUBCASE("a write fails half-way (file size limit)") {
        const std::string path = file("out.txt");
        write_file_atomically(path, "old");
        {
            testing::FileSizeLimit guard;
            // The first write() is short (it stops at the limit), the retry of the rest fails with EFBIG.
            CHECK_THROWS_WITH_AS(write_file_atomically(path, std::string(100000, 'x')),
                                 has("'" + path + "': cannot write the temporary file '" + path + ".tmp."), io_error);
        }
        CHECK(read_file(path) == "old");
        CHECK(list() == std::vector<std::string>{"out.txt"});
    }
}

namespace {

// What a failed write must leave: the target of `path`'s type, and no temporary file beside it.
mode_t type_of(const std::string& path) {
    struct stat st {};
    REQUIRE(::lstat(path.c_str(), &st) == 0);
    return st.st_mode & S_IFMT;
}

std::string not_regular(const std::string& path, const std::string& kind) {
    return "'" + path + "': is " + kind +
           ", not a regular file; files are written by replacing them whole, which only regular files allow: pass "
           "the path of a regular file or of a new one";
}

}  // namespace

TEST_CASE_FIXTURE(TempDir, "atomic_file: a FIFO, a device or a socket is refused and left as it was") {
    SUBCASE("a FIFO") {
        const std::string path = file("fifo");
        REQUIRE(::mkfifo(path.c_str(), 0600) == 0);
        CHECK_THROWS_WITH_AS(write_file_atomically(path, "x"), not_regular(path, "a FIFO").c_str(), io_error);
        CHECK(type_of(path) == S_IFIFO);
        CHECK(list() == std::vector<std::string>{"fifo"});
    }
    SUBCASE("a character device (like /dev/null, made in the scratch directory)") {
        const std::string path = file("null");
        if (::mknod(path.c_str(), S_IFCHR | 0666, ::makedev(1, 3)) != 0) {
            MESSAGE("skipped: mknod of a character device needs CAP_MKNOD");
            return;
        }
        CHECK_THROWS_WITH_AS(write_file_atomically(path, "x"), not_regular(path, "a character device").c_str(),
                             io_error);
        struct stat st {};
        REQUIRE(::lstat(path.c_str(), &st) == 0);
        CHECK(S_ISCHR(st.st_mode));
        CHECK(st.st_rdev == ::makedev(1, 3));
        CHECK(list() == std::vector<std::string>{"null"});
    }
    SUBCASE("a symbolic link to /dev/null: followed, and the device refused") {
        const std::string path = file("out");
        fs::create_symlink("/dev/null", path);
        CHECK_THROWS_WITH_AS(write_file_atomically(path, "x"),
                             not_regular(path, "a character device (through the symbolic link to '/dev/null')").c_str(),
                             io_error);
        CHECK(type_of(path) == S_IFLNK);
        CHECK(type_of("/dev/null") == S_IFCHR);
        CHECK(list() == std::vector<std::string>{"out"});
    }
    SUBCASE("a pipe through /proc/self/fd (what /dev/stdout is when the output is piped)") {
        int fds[2];
        REQUIRE(::pipe(fds) == 0);
        const std::string path = "/proc/self/fd/" + std::to_string(fds[1]);
        CHECK_THROWS_WITH_AS(write_file_atomically(path, "x"),
                             not_regular(path, "a FIFO (through a symbolic link)").c_str(), io_error);
        ::close(fds[0]);
        ::close(fds[1]);
    }
}

TEST_CASE_FIXTURE(TempDir, "atomic_file: a symbolic link is followed and the file it points to is replaced") {
    fs::create_directory(file("real"));
    const std::string target = file("real/m.jsonl"), link = file("m.jsonl");
    write_file_atomically(target, "old");
    fs::create_symlink("real/m.jsonl", link);  // relative, as ln -s makes them
    write_file_atomically(link, "new content");
    CHECK(type_of(link) == S_IFLNK);
    CHECK(fs::read_symlink(link) == "real/m.jsonl");
    CHECK(read_file(target) == "new content");
    // The temporary file went beside the target (one file system, so the rename is atomic) and is gone.
    CHECK(list() == std::vector<std::string>{"m.jsonl", "real"});
    CHECK(std::distance(fs::directory_iterator(file("real")), fs::directory_iterator()) == 1);

    SUBCASE("a link that points nowhere is refused, not replaced") {
        const std::string dangling = file("dangling");
        fs::create_symlink(file("nowhere"), dangling);
        CHECK_THROWS_WITH_AS(write_file_atomically(dangling, "x"),
                             ("'" + dangling +
                              "': is a symbolic link that does not resolve to a file (No such file or directory); "
                              "remove the link or create the file it points to")
                                 .c_str(),
                             io_error);
        CHECK(type_of(dangling) == S_IFLNK);
        CHECK_FALSE(fs::exists(file("nowhere")));
    }
}
