// The adgraph command line: `adgraph train`, `adgraph eval`, `adgraph predict`.
#include <malloc.h>

#include <iostream>

#include "adgraph/cli.hpp"

int main(int argc, char** argv) {
    // A training step allocates and frees a few MB of activations and gradients. With glibc's defaults the freed
    // top of the heap is returned to the OS and faulted in again on the next step (about a third of a step's
    // time); keeping up to 512 MB of it and serving large buffers from the heap avoids that.
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
    mallopt(M_MMAP_THRESHOLD, 256 << 20);
    return adg::cli::run(argc, argv, std::cout, std::cerr);
}
