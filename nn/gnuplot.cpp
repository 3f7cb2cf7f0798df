#include <adgraph/nn/gnuplot.hpp>

#include <adgraph/nn/atomic_file.hpp>
#include <adgraph/nn/process.hpp>
#include <adgraph/tensor/error.hpp>

namespace adg::nn {

namespace {

// What gnuplot printed on stderr for a warning: without surrounding blank lines, and clipped, since a script
// error inside a loop can repeat its message for every point. The size given is all it wrote, with what
// run_process dropped.
std::string said(const ProcessResult& r) {
    std::string text = r.err;
    constexpr std::size_t most = 2000;
    const std::size_t first = text.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) return "(nothing on stderr)";
    text = text.substr(first, text.find_last_not_of(" \t\r\n") + 1 - first);
    if (text.size() > most) {
        text = text.substr(0, most) + "... (" + std::to_string(text.size() + r.err_dropped) + " bytes)";
    }
    return text;
}

}  // namespace

std::string plot_png(const std::string& script, const std::string& png, std::chrono::milliseconds time_limit) {
    const std::string not_written = "no " + png + " written";
    try {
        const ProcessResult r = run_process({"gnuplot"}, script, time_limit);
        if (r.not_found) return "gnuplot is not installed (apt-get install gnuplot-nox); " + not_written;
        if (r.timed_out) {
            return "gnuplot " + r.how_it_ended() + ", " + not_written +
                   "; check that the gnuplot on PATH is a working gnuplot (it draws a plot in well under a second)";
        }
        if (!r.succeeded()) return "gnuplot " + r.how_it_ended() + ", " + not_written + ": " + said(r);
        static const std::string signature = "\x89PNG\r\n\x1a\n";
        if (r.out.compare(0, signature.size(), signature) != 0) {
            return "gnuplot printed no PNG on stdout (" + std::to_string(r.out.size()) +
                   " bytes; the script must choose a PNG terminal and set no output), " + not_written + ": " + said(r);
        }
        write_file_atomically(png, r.out);
    } catch (const io_error& e) {
        return not_written + ": " + e.what();
    }
    return "";
}

}  // namespace adg::nn
