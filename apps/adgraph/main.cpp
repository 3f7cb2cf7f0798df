// The adgraph command line: `adgraph train`, `adgraph eval`, `adgraph predict`.
#include "adgraph/cli.hpp"

#include <iostream>

int main(int argc, char** argv) { return adg::cli::run(argc, argv, std::cout, std::cerr); }
