#include "adgraph/plot.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <system_error>

#include <adgraph/nn/atomic_file.hpp>
#include <adgraph/tensor/error.hpp>

namespace adg::cli {

std::string plot_curves(const std::vector<EpochRow>& rows, const std::string& png) {
    if (std::system("command -v gnuplot >/dev/null 2>&1") != 0) {
        return "gnuplot is not installed (apt-get install gnuplot-nox); no " + png + " written";
    }
    const std::filesystem::path dir = std::filesystem::path(png).parent_path();
    const std::string data = (dir / "curves.dat").string(), script = (dir / "curves.gp").string();
    std::ostringstream d, s;
    d << "# epoch train_loss test_loss train_acc test_acc\n";
    for (const auto& r : rows) {
        d << r.epoch << " " << r.train_loss << " " << r.test_loss << " " << 100 * r.train_acc << " " << 100 * r.test_acc
          << "\n";
    }
    // gnuplot writes the PNG to a temporary name; it is renamed only when complete.
    s << "set terminal pngcairo size 1100,450 font 'sans,10'\n"
      << "set output '" << png << ".tmp'\n"
      << "set multiplot layout 1,2 title 'adgraph train'\n"
      << "set xlabel 'epoch'\nset grid\nset key top right\n"
      << "set ylabel 'cross-entropy loss'\n"
      << "plot '" << data << "' using 1:2 with linespoints title 'train', '' using 1:3 with linespoints title 'test'\n"
      << "set key bottom right\nset ylabel 'accuracy (%)'\n"
      << "plot '" << data << "' using 1:4 with linespoints title 'train', '' using 1:5 with linespoints title 'test'\n"
      << "unset multiplot\nset output\n";
    // Checked writes: a full disk or a directory in the way is reported in the warning, not fed to gnuplot.
    bool data_written = false;
    try {
        nn::write_file_atomically(data, d.str());
        data_written = true;
        nn::write_file_atomically(script, s.str());
    } catch (const io_error& e) {
        // Only a file this call wrote is removed (std::remove would also delete an empty directory in the way).
        if (data_written) std::remove(data.c_str());
        return std::string("cannot write gnuplot's input: ") + e.what() + "; no " + png + " written";
    }
    const std::string cmd = "gnuplot '" + script + "' 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    std::string output;
    char buf[256];
    while (p && std::fgets(buf, sizeof buf, p)) output += buf;
    const int status = p ? pclose(p) : -1;
    std::remove(script.c_str());
    std::remove(data.c_str());
    if (status != 0) {
        std::remove((png + ".tmp").c_str());
        return p ? "gnuplot failed: " + output : "cannot run gnuplot; no " + png + " written";
    }
    std::error_code ec;
    std::filesystem::rename(png + ".tmp", png, ec);
    if (ec) {
        std::remove((png + ".tmp").c_str());
        return "cannot rename " + png + ".tmp to " + png + ": " + ec.message();
    }
    return "";
}

}  // namespace adg::cli
