// The playground's heat-map encoding: base64, quantisation to bytes and block averages, against hand-computed cases.

#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include <adgraph/tensor/error.hpp>

#include "playground/encode.hpp"

using namespace adg;
using namespace adg::playground;

TEST_CASE("playground encode: base64 against RFC 4648's test vectors, quantisation and block averages by hand") {
    CHECK(base64("") == "");
    CHECK(base64("f") == "Zg==");
    CHECK(base64("fo") == "Zm8=");
    CHECK(base64("foo") == "Zm9v");
    CHECK(base64("foob") == "Zm9vYg==");
    CHECK(base64("fooba") == "Zm9vYmE=");
    CHECK(base64("foobar") == "Zm9vYmFy");
    CHECK(base64(std::string("\xff\xfe\x00", 3)) == "//4A");

    const std::string q = quantise_map({-1.0f, 1.0f, 0.0f, 0.5f, -0.5f, 7.0f, -3.0f, NAN});
    // round((v + 1) * 127.5): 0, 255, round(127.5) = 128, round(191.25) = 191, round(63.75) = 64; clamped ends.
    CHECK(std::vector<unsigned char>(q.begin(), q.end()) ==
          std::vector<unsigned char>{0, 255, 128, 191, 64, 255, 0, 128});

    // A 4×4 map in 2×2 blocks: the means of {1, 2, 5, 6}, {3, 4, 7, 8}, {9, 10, 13, 14}, {11, 12, 15, 16}.
    std::vector<float> m(16);
    for (int i = 0; i < 16; ++i) m[i] = static_cast<float>(i + 1);
    CHECK(block_average(m, 4, 2) == std::vector<float>{3.5f, 5.5f, 11.5f, 13.5f});
    CHECK_THROWS_AS(block_average(m, 4, 3), value_error);
    CHECK_THROWS_AS(block_average(m, 5, 5), value_error);
}
