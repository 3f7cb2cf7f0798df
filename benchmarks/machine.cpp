#include "machine.hpp"

#include <fstream>
#include <thread>

extern "C" int openblas_get_num_threads();

namespace adg::bench {

std::string machine_line() {
    std::ifstream cpu("/proc/cpuinfo");
    std::string line, model = "unknown CPU";
    while (std::getline(cpu, line)) {
        if (line.rfind("model name", 0) == 0) {
            model = line.substr(line.find(':') + 2);
            break;
        }
    }
    return model + ", " + std::to_string(std::thread::hardware_concurrency()) + " cores, OpenBLAS " +
           std::to_string(openblas_get_num_threads()) + " thread(s)";
}

}  // namespace adg::bench
