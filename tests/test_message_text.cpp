// nn::message_text: text from a file or a user, quoted in a message: readable UTF-8, escaped controls, clipping.

#include <doctest/doctest.h>

#include "io_message.hpp"
#include "temp_dir.hpp"

#include <string>

#include <adgraph/adgraph.hpp>
#include <adgraph/nn/checkpoint.hpp>
#include <adgraph/nn/message_text.hpp>
#include <adgraph/nn/safetensors.hpp>

using namespace adg;
using namespace adg::nn;
using adg::testing::io_message;
using adg::testing::TempDir;

TEST_CASE("message_text: well-formed UTF-8 (German path, ü, €, emoji) is shown as it is") {
    // Written byte-wise so the test does not depend on the source file's encoding.
    const std::string path = "L\xC3\xA4ufe/fehlt \xC3\xBC.st";                // Läufe/fehlt ü.st
    const std::string name = "Gewicht_\xC3\xBC\xE2\x82\xAC\xF0\x9F\x98\x80";  // Gewicht_ü€😀
    CHECK(message_text(path) == path);
    CHECK(message_text(name) == name);
    CHECK(message_text("\xF4\x8F\xBF\xBF") == "\xF4\x8F\xBF\xBF");  // U+10FFFF, the last code point
    CHECK(message_text("\xC2\xA0") == "\xC2\xA0");                  // U+00A0, the first after the C1 controls
}

TEST_CASE("message_text: C1 controls, line separators, ASCII controls and DEL stay escaped byte-wise") {
    CHECK(message_text("a\xC2\x9B"
                       "2Jb") == "a\\xC2\\x9B2Jb");  // CSI, the 8-bit ESC [
    CHECK(message_text("\xC2\x80\xC2\x85") == "\\xC2\\x80\\xC2\\x85");
    CHECK(message_text("x\xE2\x80\xA8y\xE2\x80\xA9") == "x\\xE2\\x80\\xA8y\\xE2\\x80\\xA9");
    CHECK(message_text(std::string("\x1B[2J\n\t\x7F\0", 8)) == "\\x1B[2J\\x0A\\x09\\x7F\\x00");
}

TEST_CASE("message_text: every byte of invalid UTF-8 is escaped") {
    CHECK(message_text("a\xC3") == "a\\xC3");  // lead byte alone, at the end
    CHECK(message_text("\xC3"
                       "b") == "\\xC3b");             // lead byte before ASCII
    CHECK(message_text("\xE2\x82") == "\\xE2\\x82");  // truncated 3-byte sequence
    CHECK(message_text("\xE2\x82"
                       "c") == "\\xE2\\x82c");
    CHECK(message_text("\xC0\xAF") == "\\xC0\\xAF");                    // overlong '/'
    CHECK(message_text("\xE0\x80\xAF") == "\\xE0\\x80\\xAF");           // overlong '/', 3 bytes
    CHECK(message_text("\xF0\x82\x82\xAC") == "\\xF0\\x82\\x82\\xAC");  // overlong '€', 4 bytes
    CHECK(message_text("\xED\xA0\x80") == "\\xED\\xA0\\x80");           // surrogate U+D800
    CHECK(message_text("\xF4\x90\x80\x80") == "\\xF4\\x90\\x80\\x80");  // U+110000, above Unicode
    CHECK(message_text("\x80\xBF\xFF\xFE") == "\\x80\\xBF\\xFF\\xFE");  // stray continuation, FF, FE
    CHECK(message_text("\xC3\xC3\xA4") == "\\xC3\xC3\xA4");             // a broken lead, then a good ä
}

TEST_CASE("message_text: clipping never cuts inside a UTF-8 character, and the length marker stays") {
    const std::string euro = "\xE2\x82\xAC";
    const std::string s = "abcd" + euro + "ef";  // 9 bytes; € occupies bytes 4..6
    CHECK(message_text(s, 4) == "abcd... (9 bytes)");
    CHECK(message_text(s, 5) == "abcd... (9 bytes)");
    CHECK(message_text(s, 6) == "abcd... (9 bytes)");
    CHECK(message_text(s, 7) == "abcd" + euro + "... (9 bytes)");
    CHECK(message_text(s, 9) == s);
    const std::string emojis = std::string(38, 'x') + "\xF0\x9F\x98\x80";  // the emoji straddles byte 40
    CHECK(message_text(emojis) == std::string(38, 'x') + "... (42 bytes)");
}

TEST_CASE("message_text: a missing German path and a UTF-8 tensor name read as they are in the message") {
    const TempDir dir;
    const std::string missing = dir.file("L\xC3\xA4ufe/fehlt \xC3\xBC.st");
    CHECK(io_message([&] { load_safetensors(missing); }) ==
          "load_safetensors: '" + missing + "': cannot open the file: No such file or directory; check the path");

    const std::string path = dir.file("named.safetensors");
    const std::string name = "Gewicht_\xC3\xBC\xE2\x82\xAC\xF0\x9F\x98\x80";
    save_safetensors(path, {{name, Array::zeros({2, 4}, f32)}, {"0.bias", Array::zeros({2}, f32)}}, {{"model", "4-2"}});
    Generator gen(0);
    const auto model = Sequential::mlp("4-2", gen);
    CHECK(io_message([&] { load_checkpoint(path, *model, nullptr); }) ==
          "checkpoint " + path + ": tensor '" + name +
              "' is not a parameter of this model (the file was saved for model 4-2)");
}
