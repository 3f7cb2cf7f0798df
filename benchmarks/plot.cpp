#include "plot.hpp"

#include <cstdio>
#include <cstdlib>

namespace adg::bench {

std::string run_gnuplot(const std::string& script) {
    if (std::system("command -v gnuplot >/dev/null 2>&1") != 0) return "gnuplot is not installed (gnuplot-nox)";
    FILE* p = popen("gnuplot 2>&1", "w");
    if (!p) return "cannot start gnuplot";
    std::fputs(script.c_str(), p);
    return pclose(p) == 0 ? "" : "gnuplot failed on the plot script";
}

}  // namespace adg::bench
