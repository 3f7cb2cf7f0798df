// Replays saved inputs through a fuzz target without libFuzzer, for CTest in ordinary (g++) builds:
//   fuzz_replay_<target> DIR_OR_FILE...
// runs the target's LLVMFuzzerTestOneInput once on each file (each regular file directly inside a directory, in
// name order). A directory that does not exist is skipped with a note (a target with no findings has no
// regressions directory); no input at all is a failure, so a wrong path cannot pass silently. A crash, a
// sanitizer report or an exception other than adg::error (which the targets catch) fails the run, after the
// file at fault has been named on stderr.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace fs = std::filesystem;

namespace {

std::vector<fs::path> inputs(const std::vector<std::string>& args) {
    std::vector<fs::path> files;
    for (const std::string& arg : args) {
        const fs::path p(arg);
        if (fs::is_regular_file(p)) {
            files.push_back(p);
        } else if (fs::is_directory(p)) {
            std::vector<fs::path> in_dir;
            for (const auto& e : fs::directory_iterator(p)) {
                if (e.is_regular_file()) in_dir.push_back(e.path());
            }
            std::sort(in_dir.begin(), in_dir.end());
            files.insert(files.end(), in_dir.begin(), in_dir.end());
        } else {
            std::fprintf(stderr, "replay: %s does not exist; skipped\n", arg.c_str());
        }
    }
    return files;
}

std::vector<std::uint8_t> read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open " + p.string());
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s DIR_OR_FILE...\n", argv[0]);
        return 2;
    }
    const std::vector<fs::path> files = inputs(std::vector<std::string>(argv + 1, argv + argc));
    if (files.empty()) {
        std::fprintf(stderr, "replay: no input files found; nothing was tested\n");
        return 1;
    }
    for (const fs::path& f : files) {
        // Named before running, so a crash or sanitizer report that ends the process still says which input.
        std::fprintf(stderr, "replay: %s\n", f.c_str());
        try {
            const std::vector<std::uint8_t> bytes = read_file(f);
            // An empty vector's data() may be null; libFuzzer passes a valid pointer even for size 0.
            const std::uint8_t none = 0;
            LLVMFuzzerTestOneInput(bytes.empty() ? &none : bytes.data(), bytes.size());
        } catch (const std::exception& e) {
            std::fprintf(stderr, "replay: FAILED on %s: uncaught exception: %s\n", f.c_str(), e.what());
            return 1;
        } catch (...) {
            std::fprintf(stderr, "replay: FAILED on %s: uncaught exception of a non-std type\n", f.c_str());
            return 1;
        }
    }
    std::printf("replay: %zu inputs, no failure\n", files.size());
    return 0;
}
