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

// `data` decoded as gzip members back to back, as gzip -d reads a concatenation; false if anything else is in it
// (bytes after a trailer that do not start a member, a member cut short) or it is empty. zlib's inflate used
// directly, one member at a time, as an oracle independent of read_idx's decoder.
bool gunzip_members(const std::uint8_t* data, std::size_t size, std::vector<std::uint8_t>& out) {
    std::size_t pos = 0;
    while (pos < size) {
        z_stream z{};
        if (::inflateInit2(&z, 15 + 16) != Z_OK) std::abort();
        z.next_in = const_cast<std::uint8_t*>(data + pos);
        z.avail_in = static_cast<uInt>(size - pos);
        int rc = Z_OK;
        std::uint8_t buf[4096];
        while (rc == Z_OK) {
            z.next_out = buf;
            z.avail_out = sizeof buf;
            rc = ::inflate(&z, Z_NO_FLUSH);
            out.insert(out.end(), buf, buf + (sizeof buf - z.avail_out));
        }
        pos = size - z.avail_in;
        ::inflateEnd(&z);
        if (rc != Z_STREAM_END) return false;
    }
    return size > 0;
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
        // A gzip input as it is: accepted only if it is gzip members and nothing else (issue 21: bytes after the
        // trailer were ignored), and they decode to exactly the IDX file read.
        if (raw_gzip) {
            std::vector<std::uint8_t> idx = {0, 0, 8, static_cast<std::uint8_t>(a.dims.size())};
            for (const std::size_t d : a.dims) {
                for (int shift = 24; shift >= 0; shift -= 8) idx.push_back(static_cast<std::uint8_t>(d >> shift));
            }
            idx.insert(idx.end(), a.data.begin(), a.data.end());
            std::vector<std::uint8_t> decoded;
            adg::fuzz::expect(gunzip_members(data, size, decoded) && decoded == idx,
                              "a .gz input is gzip members only, decoding to header + payload");
        }
    } catch (const adg::error&) {
        // An expected rejection.
    }
    return 0;
}
