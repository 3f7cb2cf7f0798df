// libFuzzer target: the input is an IDX file's bytes, read by nn::read_idx. An input that starts with 1f 8b is
// taken as gzip by read_idx too, so zlib's error paths are reachable here as well.
#include <cstddef>
#include <cstdint>

#include <adgraph/nn/idx.hpp>
#include <adgraph/tensor/error.hpp>

#include "fuzz_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string& path = adg::fuzz::scratch("fuzz_idx_raw").write(data, size);
    try {
        const adg::nn::IdxArray a = adg::nn::read_idx(path);
        // What read_idx returns must be what it promises.
        std::size_t n = 1;
        for (const std::size_t d : a.dims) n *= d;
        adg::fuzz::expect(!a.dims.empty() && a.dims.size() <= 4 && n == a.data.size(),
                          "1 to 4 dims, payload = product");
        const bool gzip = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
        adg::fuzz::expect(gzip || size == 4 + 4 * a.dims.size() + a.data.size(), "header + payload = file");
    } catch (const adg::error&) {
        // An expected rejection.
    }
    return 0;
}
