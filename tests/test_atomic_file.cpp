// nn/atomic_file: whole-file replacement through a temporary file, and nothing left behind on failure.

#include <doctest/doctest.h>

#include "file_size_limit.hpp"
#include "temp_dir.hpp"

#include <sys/stat.h>
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
