#include "adgraph/plot.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace adg::cli {

std::string plot_curves(const std::vector<EpochRow>& rows, const std::string& png) {
    if (std::system("command -v gnuplot >/dev/null 2>&1") != 0) {
        return "gnuplot is not installed (apt-get install gnuplot-nox); no " + png + " written";
    }
    const std::filesystem::path dir = std::filesystem::path(png).parent_path();
    const std::string data = (dir / "curves.dat").string(), script = (dir / "curves.gp").string();
    {
        std::ofstream d(data);
        d << "# epoch train_loss test_loss train_acc test_acc\n";
        for (const auto& r : rows) {
            d << r.epoch << " " << r.train_loss << " " << r.test_loss << " " << 100 * r.train_acc << " "
              << 100 * r.test_acc << "\n";
        }
        std::ofstream s(script);
        // gnuplot writes the PNG to a temporary name; it is renamed only when complete.
        s << "set terminal pngcairo size 1100,450 font 'sans,10'\n"
          << "set output '" << png << ".tmp'\n"
          << "set multiplot layout 1,2 title 'adgraph train'\n"
          << "set xlabel 'epoch'\nset grid\nset key top right\n"
          << "set ylabel 'cross-entropy loss'\n"
          << "plot '" << data
          << "' using 1:2 with linespoints title 'train', '' using 1:3 with linespoints title 'test'\n"
          << "set key bottom right\nset ylabel 'accuracy (%)'\n"
          << "plot '" << data
          << "' using 1:4 with linespoints title 'train', '' using 1:5 with linespoints title 'test'\n"
          << "unset multiplot\nset output\n";
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
        return "gnuplot failed: " + output;
    }
    std::filesystem::rename(png + ".tmp", png);
    return "";
}

}  // namespace adg::cli
