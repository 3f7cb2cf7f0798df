// libFuzzer target: the input is an IDX file's bytes, gzip-compressed here (zlib, gzip framing) and read by
// nn::read_idx, so the fuzzer explores the IDX parser behind the decompressor. An input that already starts with
// the gzip magic 1f 8b (which no IDX file does: its magic is 00 00) is written as it is, so corrupt, truncated
// and concatenated gzip streams reach zlib's error paths.
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include <adgraph/nn/idx.hpp>
#include <adgraph/tensor/error.hpp>

#include "fuzz_file.hpp"

namespace {

std::vector<std::uint8_t> gzip(const std::uint8_t* data, std::size_t size) {
    z_stream z{};
    if (::deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) std::abort();
    std::vector<std::uint8_t> out(::deflateBound(&z, static_cast<uLong>(size)) + 32);
    z.next_in = const_cast<std::uint8_t*>(data);
    z.avail_in = static_cast<uInt>(size);
    z.next_out = out.data();
    z.avail_out = static_cast<uInt>(out.size());
    if (::deflate(&z, Z_FINISH) != Z_STREAM_END) std::abort();  // deflateBound guarantees one call suffices
    out.resize(z.total_out);
    ::deflateEnd(&z);
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const bool raw_gzip = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
    const std::vector<std::uint8_t> bytes = raw_gzip ? std::vector<std::uint8_t>(data, data + size) : gzip(data, size);
    const std::string& path = adg::fuzz::scratch("fuzz_idx_gz").write(bytes.data(), bytes.size());
    try {
        const adg::nn::IdxArray a = adg::nn::read_idx(path);
        std::size_t n = 1;
        for (const std::size_t d : a.dims) n *= d;
        adg::fuzz::expect(!a.dims.empty() && a.dims.size() <= 4 && n == a.data.size(),
                          "1 to 4 dims, payload = product");
        // Compressed, the input is a valid IDX file exactly when read_idx accepts it.
        adg::fuzz::expect(raw_gzip || size == 4 + 4 * a.dims.size() + a.data.size(), "header + payload = file");
    } catch (const adg::error&) {
        // An expected rejection.
    }
    return 0;
}
