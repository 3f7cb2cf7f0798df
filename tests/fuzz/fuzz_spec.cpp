// libFuzzer target: the input is a model spec string ("784-256-10"), parsed by nn::parse_mlp_spec as the CLI's
// --model option is.
#include <cstddef>
#include <cstdint>
#include <string>

#include <adgraph/nn/message_text.hpp>
#include <adgraph/nn/sequential.hpp>
#include <adgraph/tensor/error.hpp>

#include "fuzz_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string spec(reinterpret_cast<const char*>(data), size);
    try {
        const std::vector<std::size_t> sizes = adg::nn::parse_mlp_spec(spec);
        adg::fuzz::expect(sizes.size() >= 2, "at least 2 sizes");
        for (const std::size_t n : sizes) {
            adg::fuzz::expect(n > 0 && n <= 9999999, "sizes in 1..9999999");
        }
    } catch (const adg::error& e) {
        // An expected rejection, whose message quotes the spec escaped and clipped (it reaches the terminal).
        const std::string what = e.what();
        adg::fuzz::expect(what.size() < 600, "a rejection message under 600 bytes");
        // Printable ASCII, or UTF-8 that message_text lets through (well-formed, no C1 control, no line separator).
        for (std::size_t i = 0; i < what.size();) {
            const auto c = static_cast<unsigned char>(what[i]);
            const std::size_t n = c < 0x80 ? 1 : adg::nn::message_text_utf8_length(what, i);
            adg::fuzz::expect(n > 0 && (c >= 0x80 || (c >= 0x20 && c < 0x7F)),
                              "a rejection message in printable ASCII or shown UTF-8");
            i += n > 0 ? n : 1;
        }
    }
    return 0;
}
