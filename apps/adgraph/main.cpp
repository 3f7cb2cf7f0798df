// The adgraph command line: `adgraph train`, `adgraph eval`, `adgraph predict`.
#include <cstdlib>
#include <iostream>

#include <adgraph/nn/memory.hpp>

#include "adgraph/cli.hpp"

int main(int argc, char** argv) {
    const int code = adg::cli::run(argc, argv, std::cout, std::cerr);
    // Under ulimit -v an OpenBLAS worker may be stuck retrying its work buffer's mmap since it started (before
    // main; `run` then refused the command), and OpenBLAS's exit handler would join it forever: end without it.
    if (adg::nn::address_space().limit != 0) {
        std::cout.flush();
        std::cerr.flush();
        std::_Exit(code);
    }
    return code;
}
