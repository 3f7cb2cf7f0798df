#include "adgraph/plot.hpp"

#include <sstream>

#include <adgraph/nn/gnuplot.hpp>

namespace adg::cli {

std::string plot_curves(const std::vector<EpochRow>& rows, const std::string& png) {
    // The data is inline and the PNG comes back on gnuplot's stdout: no path is spliced into the script.
    std::ostringstream s;
    s << "set terminal pngcairo size 1100,450 font 'sans,10'\n"
      << "$curves << EOD\n"
      << "# epoch train_loss test_loss train_acc test_acc\n";
    for (const auto& r : rows) {
        s << r.epoch << " " << r.train_loss << " " << r.test_loss << " " << 100 * r.train_acc << " " << 100 * r.test_acc
          << "\n";
    }
    s << "EOD\n"
      << "set multiplot layout 1,2 title 'adgraph train'\n"
      << "set xlabel 'epoch'\nset grid\nset key top right\n"
      << "set ylabel 'cross-entropy loss'\n"
      << "plot $curves using 1:2 with linespoints title 'train', '' using 1:3 with linespoints title 'test'\n"
      << "set key bottom right\nset ylabel 'accuracy (%)'\n"
      << "plot $curves using 1:4 with linespoints title 'train', '' using 1:5 with linespoints title 'test'\n"
      << "unset multiplot\n";
    return nn::plot_png(s.str(), png);
}

}  // namespace adg::cli
