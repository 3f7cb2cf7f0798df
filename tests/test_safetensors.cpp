// nn/safetensors: round trips, the byte layout of the spec, atomic saves, and strict loading of bad files.

#include <doctest/doctest.h>

#include "child_case.hpp"
#include "fifo.hpp"
#include "file_size_limit.hpp"
#include "io_message.hpp"
#include "temp_dir.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include <adgraph/adgraph.hpp>
#include <adgraph/nn/safetensors.hpp>

using namespace adg;
using namespace adg::nn;
using adg::testing::io_message;
using doctest::Contains;
namespace fs = std::filesystem;

using adg::testing::read_file;
using adg::testing::TempDir;

namespace {

void write_bytes(const std::string& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

std::string le64(std::uint64_t v) {
    std::string s(8, '\0');
    for (int b = 0; b < 8; ++b) s[b] = static_cast<char>(v >> (8 * b));
    return s;
}

// A safetensors file written by hand: `header` padded with spaces to a multiple of 8, then `data_bytes` zeros.
std::string raw_file(std::string header, std::size_t data_bytes) {
    header.append((8 - header.size() % 8) % 8, ' ');
    return le64(header.size()) + header + std::string(data_bytes, '\0');
}

// Where the data buffer of raw_file(header, ...) starts.
std::uint64_t data_start(const std::string& header) { return 8 + (header.size() + 7) / 8 * 8; }

// doctest::Contains of a computed message (it copies the text).
doctest::Contains has(const std::string& text) { return doctest::Contains(text.c_str()); }

bool bit_equal(const Array& a, const Array& b) {
    if (a.dtype() != b.dtype() || a.shape() != b.shape()) return false;
    return a.visit([&](const auto& x) {
        using T = typename std::decay_t<decltype(x)>::value_type;
        return x.size() == 0 || std::memcmp(x.data(), b.get<T>().data(), x.size() * sizeof(T)) == 0;
    });
}

Array filled(const Shape& shape, Dtype dtype, double start) {
    Array a = Array::empty(shape, dtype);
    a.visit_mut([&](auto& x) {
        using T = typename std::decay_t<decltype(x)>::value_type;
        for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = static_cast<T>(start + 0.37 * static_cast<double>(i));
    });
    return a;
}

}  // namespace

TEST_CASE("safetensors: round trip of f32 and f64 arrays and metadata is bit-exact") {
    TempDir dir;
    Generator gen(7);
    Array special = Array::empty({6}, f64);
    double* s = special.get_mut<double>().data();
    s[0] = -0.0;
    s[1] = std::numeric_limits<double>::infinity();
    s[2] = std::numeric_limits<double>::quiet_NaN();
    s[3] = std::numeric_limits<double>::denorm_min();
    s[4] = 1.0 / 3.0;
    s[5] = -1e300;
    const NamedArrays tensors = {
        {"w", normal({2, 3, 4}, 0.0, 1.0, f32, gen)},    {"b", special},
        {"scalar32", Array::scalar(-2.5, f32)},          {"empty64", Array::zeros({0}, f64)},
        {"scalar64", Array::scalar(1e-310, f64)},        {"empty32", Array::zeros({3, 0, 2}, f32)},
        {"0.weight", normal({5, 1}, 0.0, 1.0, f32, gen)}};
    const Metadata meta = {{"epoch", "3"}, {"note", "f\xc3\xa4hig \xe2\x9c\x93"}, {"empty", ""}};
    const std::string path = dir.file("ckpt.safetensors");
    save_safetensors(path, tensors, meta);
    CHECK(dir.list() == std::vector<std::string>{"ckpt.safetensors"});

    const SafetensorsFile loaded = load_safetensors(path);
    CHECK(loaded.metadata == meta);
    // Data order: float64 first, then float32, each group in save order.
    const std::vector<std::string> order = {"b", "empty64", "scalar64", "w", "scalar32", "empty32", "0.weight"};
    REQUIRE(loaded.tensors.size() == order.size());
    for (std::size_t i = 0; i < order.size(); ++i) {
        CAPTURE(order[i]);
        CHECK(loaded.tensors[i].first == order[i]);
        const auto it =
            std::find_if(tensors.begin(), tensors.end(), [&](const auto& t) { return t.first == order[i]; });
        REQUIRE(it != tensors.end());
        CHECK(bit_equal(loaded.tensors[i].second, it->second));
        CHECK(!loaded.tensors[i].second.same_buffer(it->second));
    }

    save_safetensors(path, {});  // no tensors and no metadata is a valid file ("{}" plus padding)
    CHECK(read_file(path) == le64(8) + "{}      ");
    CHECK(load_safetensors(path).tensors.empty());
    CHECK(load_safetensors(path).metadata.empty());
}

TEST_CASE("safetensors: the byte layout follows the spec") {
    TempDir dir;
    const std::string path = dir.file("layout.safetensors");
    save_safetensors(path, {{"a", Array(xt::xarray<float>{1.5f, -2.0f, 3.0f})}, {"d", Array::full({1, 1}, 0.25, f64)}},
                     {{"k", "v"}});
    const std::string bytes = read_file(path);
    REQUIRE(bytes.size() >= 8);
    std::uint64_t n = 0;
    for (int b = 7; b >= 0; --b) n = (n << 8) | static_cast<unsigned char>(bytes[b]);
    CHECK(n % 8 == 0);
    REQUIRE(bytes.size() == 8 + n + 8 + 12);
    const std::string header = bytes.substr(8, n);
    const std::size_t last = header.find_last_not_of(' ');
    CHECK(header.front() == '{');
    CHECK(header[last] == '}');
    CHECK(n - (last + 1) < 8);  // only the padding follows the JSON
    CHECK(header.find("\"a\":{\"data_offsets\":[8,20],\"dtype\":\"F32\",\"shape\":[3]}") != std::string::npos);
    CHECK(header.find("\"d\":{\"data_offsets\":[0,8],\"dtype\":\"F64\",\"shape\":[1,1]}") != std::string::npos);
    CHECK(header.find("\"__metadata__\":{\"k\":\"v\"}") != std::string::npos);
    double d = 0;
    float a[3] = {};
    std::memcpy(&d, bytes.data() + 8 + n, 8);
    std::memcpy(a, bytes.data() + 8 + n + 8, 12);
    CHECK(d == 0.25);
    CHECK(a[0] == 1.5f);
    CHECK(a[1] == -2.0f);
    CHECK(a[2] == 3.0f);
}

TEST_CASE("safetensors: files from other writers load (no padding or extra spaces and fields)") {
    TempDir dir;
    const std::string path = dir.file("other.safetensors");
    const std::string header =
        "{ \"x\" : { \"shape\" : [ 2 ], \"dtype\" : \"F32\", \"data_offsets\" : [ 0 , 8 ], \"extra\": null },\n"
        "  \"__metadata__\": {\"format\": \"np\"} }";
    float v[2] = {4.0f, -1.0f};
    write_bytes(path, le64(header.size()) + header + std::string(reinterpret_cast<const char*>(v), 8));
    const SafetensorsFile f = load_safetensors(path);
    REQUIRE(f.tensors.size() == 1);
    CHECK(f.tensors[0].first == "x");
    CHECK(f.tensors[0].second.shape() == Shape{2});
    CHECK(f.tensors[0].second.flat(1) == -1.0);
    CHECK(f.metadata.at("format") == "np");
}

TEST_CASE("safetensors: saving into a missing directory fails and leaves nothing behind") {
    TempDir dir;
    CHECK_THROWS_WITH_AS(save_safetensors(dir.file("missing/x.safetensors"), {{"a", Array::zeros({2}, f32)}}),
                         Contains("cannot create the temporary file"), io_error);
    CHECK(dir.list().empty());
}

TEST_CASE("safetensors: overwriting replaces the file completely") {
    TempDir dir;
    const std::string path = dir.file("ckpt.safetensors");
    save_safetensors(path, {{"big", Array::zeros({1000}, f64)}, {"other", Array::zeros({3}, f32)}}, {{"a", "1"}});
    save_safetensors(path, {{"small", filled({2}, f32, 1.0)}});
    const SafetensorsFile f = load_safetensors(path);
    REQUIRE(f.tensors.size() == 1);
    CHECK(f.tensors[0].first == "small");
    CHECK(f.metadata.empty());
    CHECK(dir.list() == std::vector<std::string>{"ckpt.safetensors"});
    // byte for byte what a save to a fresh path writes: nothing of the larger old file survives
    save_safetensors(dir.file("fresh.safetensors"), {{"small", filled({2}, f32, 1.0)}});
    CHECK(read_file(path) == read_file(dir.file("fresh.safetensors")));
}

TEST_CASE("safetensors: a failed save leaves the old file untouched") {
    TempDir dir;
    const std::string path = dir.file("ckpt.safetensors");
    save_safetensors(path, {{"w", filled({4, 4}, f32, 0.5)}}, {{"epoch", "1"}});
    const std::string old = read_file(path);
    const auto untouched = [&] {
        CHECK(read_file(path) == old);
        CHECK(dir.list() == std::vector<std::string>{"ckpt.safetensors"});
    };

    CHECK_THROWS_WITH_AS(save_safetensors(path, {{"w", Array::zeros({1}, f32)}, {"w", Array::zeros({1}, f32)}}),
                         Contains("the tensor name 'w' appears twice; names must be unique"), value_error);
    untouched();
    CHECK_THROWS_WITH_AS(save_safetensors(path, {{"__metadata__", Array::zeros({1}, f32)}}),
                         Contains("the tensor name \"__metadata__\" is reserved"), value_error);
    untouched();
    CHECK_THROWS_WITH_AS(save_safetensors(path, {{"bad\xff", Array::zeros({1}, f32)}}), Contains("not valid UTF-8"),
                         value_error);
    untouched();

    SUBCASE("a write fails half-way (file size limit)") {
        {
            testing::FileSizeLimit guard;
            CHECK_THROWS_WITH_AS(save_safetensors(path, {{"w", Array::zeros({100000}, f32)}}),
                                 Contains("cannot write the temporary file"), io_error);
        }
        untouched();
    }
    SUBCASE("the rename fails (a directory has the name)") {
        const std::string busy = dir.file("busy");
        fs::create_directory(busy);
        CHECK_THROWS_WITH_AS(save_safetensors(busy, {{"w", Array::zeros({2}, f32)}}),
                             Contains("cannot rename the temporary file"), io_error);
        CHECK(fs::is_empty(busy));
        fs::remove(busy);
        untouched();
    }
    SUBCASE("the directory is not writable") {
        if (::geteuid() == 0) {
            MESSAGE("skipped: root writes into read-only directories");
            return;
        }
        fs::permissions(dir.path, fs::perms::owner_write, fs::perm_options::remove);
        CHECK_THROWS_WITH_AS(save_safetensors(path, {{"w", Array::zeros({2}, f32)}}),
                             Contains("cannot create the temporary file"), io_error);
        fs::permissions(dir.path, fs::perms::owner_write, fs::perm_options::add);
        untouched();
    }
}

TEST_CASE("safetensors: truncated files are reported with the sizes found") {
    TempDir dir;
    const std::string path = dir.file("ckpt.safetensors"), cut = dir.file("cut.safetensors");
    save_safetensors(path, {{"w", filled({10}, f64, 0.0)}});
    const std::string bytes = read_file(path);
    std::uint64_t n = 0;
    for (int b = 7; b >= 0; --b) n = (n << 8) | static_cast<unsigned char>(bytes[b]);

    for (const std::size_t keep : {std::size_t{0}, std::size_t{3}, std::size_t{7}}) {
        write_bytes(cut, bytes.substr(0, keep));
        CHECK_THROWS_WITH_AS(load_safetensors(cut),
                             has("cut.safetensors': the file is " + std::to_string(keep) +
                                 " bytes, shorter than the 8-byte header length"),
                             io_error);
    }
    for (const std::size_t keep : {std::size_t{8}, std::size_t{8 + n / 2}, std::size_t{8 + n - 1}}) {
        write_bytes(cut, bytes.substr(0, keep));
        CHECK_THROWS_WITH_AS(load_safetensors(cut),
                             has("the file is truncated: the header length at file offset 0 says " + std::to_string(n) +
                                 " bytes of header, found " + std::to_string(keep - 8) + "; re-save the checkpoint"),
                             io_error);
    }
    for (const std::size_t data : {std::size_t{0}, std::size_t{41}, std::size_t{79}}) {
        write_bytes(cut, bytes.substr(0, 8 + n + data));
        CHECK_THROWS_WITH_AS(load_safetensors(cut),
                             has("the file is truncated: the header says 80 bytes of data (tensor 'w' ends "
                                 "there), found " +
                                 std::to_string(data) + "; re-save the checkpoint"),
                             io_error);
    }
}

TEST_CASE("safetensors: malformed headers are rejected with what is wrong") {
    TempDir dir;
    const std::string path = dir.file("bad.safetensors");
    const auto load_raw = [&](const std::string& header, std::size_t data_bytes) {
        write_bytes(path, raw_file(header, data_bytes));
        return load_safetensors(path);
    };
    const auto entry = [](const std::string& name, const std::string& dtype, const std::string& shape,
                          const std::string& offsets) {
        return "\"" + name + "\":{\"dtype\":" + dtype + ",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}";
    };

    CHECK_THROWS_WITH_AS(load_safetensors(dir.file("nope.safetensors")),
                         has("load_safetensors: '" + dir.file("nope.safetensors") +
                             "': cannot open the file: No such file or directory; check the path"),
                         io_error);
    CHECK_THROWS_WITH_AS(load_safetensors(dir.path.string()), Contains("is a directory, not a regular file"), io_error);

    write_bytes(path, le64(1000) + "{}");
    CHECK_THROWS_WITH_AS(load_safetensors(path),
                         Contains("header length at file offset 0 says 1000 bytes of header, found 2"), io_error);
    write_bytes(path, le64(std::uint64_t{1} << 40) + "{}");
    CHECK_THROWS_WITH_AS(load_safetensors(path),
                         Contains("the header length at file offset 0 is 1099511627776 bytes, more than the "
                                  "100000000-byte limit"),
                         io_error);

    CHECK_THROWS_WITH_AS(load_raw("{\"a\": {\"dtype\": \"F32\",", 0),
                         Contains("the header is not valid JSON (error at file offset"), io_error);
    CHECK_THROWS_WITH_AS(load_raw("{\"a\": {\"dtype\": \"F32\",", 0), Contains("parse error"), io_error);
    CHECK_THROWS_WITH_AS(load_raw("[1, 2]", 0), Contains("the header is a JSON array, expected an object"), io_error);
    CHECK_THROWS_WITH_AS(load_raw("{\"a\": 5}", 0), Contains("tensor 'a': the entry is a JSON number"), io_error);
    CHECK_THROWS_WITH_AS(load_raw("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4),
                         Contains("tensor 'a': the entry has no \"shape\""), io_error);
    CHECK_THROWS_WITH_AS(load_raw("{" + entry("a", "7", "[1]", "[0,4]") + "}", 4),
                         Contains("tensor 'a': \"dtype\" is 7, expected a string"), io_error);

    CHECK_THROWS_WITH_AS(load_raw("{" + entry("a", "\"BF16\"", "[2]", "[0,4]") + "}", 4),
                         Contains("tensor 'a': dtype BF16 is not supported (float32/float64 only)"), io_error);
    CHECK_THROWS_WITH_AS(load_raw("{" + entry("a", "\"F32\"", "[2,-3]", "[0,4]") + "}", 4),
                         Contains("tensor 'a': shape entry 1 is -3, expected a non-negative integer"), io_error);
    CHECK_THROWS_WITH_AS(load_raw("{" + entry("a", "\"F32\"", "[2.5]", "[0,4]") + "}", 4),
                         Contains("shape entry 0 is 2.5, expected a non-negative integer"), io_error);
    CHECK_THROWS_WITH_AS(load_raw("{" + entry("a", "\"F64\"", "[4294967296,4294967296,2]", "[0,8]") + "}", 8),
                         Contains("tensor 'a': shape [4294967296,4294967296,2] holds more bytes than 2^64"), io_error);

    CHECK_THROWS_WITH_AS(load_raw("{" + entry("a", "\"F32\"", "[1]", "[0]") + "}", 4),
                         Contains("tensor 'a': \"data_offsets\" is [0], expected [begin, end]"), io_error);
    CHECK_THROWS_WITH_AS(load_raw("{" + entry("a", "\"F32\"", "[1]", "[0,4,8]") + "}", 8),
                         Contains("\"data_offsets\" is [0,4,8], expected [begin, end]"), io_error);
    CHECK_THROWS_WITH_AS(load_raw("{" + entry("a", "\"F32\"", "[1]", "[8,4]") + "}", 8),
                         Contains("\"data_offsets\" [8,4] ends before it begins"), io_error);
    CHECK_THROWS_WITH_AS(
        load_raw("{" + entry("a", "\"F32\"", "[3]", "[0,8]") + "}", 8),
        Contains("tensor 'a': \"data_offsets\" [0,8] span 8 bytes but dtype F32 and shape (3) need 12"), io_error);

    const std::string overlap =
        "{" + entry("a", "\"F32\"", "[2]", "[0,8]") + "," + entry("b", "\"F32\"", "[2]", "[4,12]") + "}";
    CHECK_THROWS_WITH_AS(load_raw(overlap, 12),
                         has("tensors 'a' and 'b' overlap: 'b' starts at data offset 4 (file offset " +
                             std::to_string(data_start(overlap) + 4) + ") inside 'a' [0, 8)"),
                         io_error);
    const std::string hole =
        "{" + entry("a", "\"F32\"", "[1]", "[0,4]") + "," + entry("b", "\"F32\"", "[1]", "[8,12]") + "}";
    CHECK_THROWS_WITH_AS(load_raw(hole, 12),
                         has("data bytes [4, 8) (file offset " + std::to_string(data_start(hole) + 4) +
                             ") before tensor 'b' belong to no tensor"),
                         io_error);
    const std::string tail = "{" + entry("a", "\"F32\"", "[1]", "[0,4]") + "}";
    CHECK_THROWS_WITH_AS(load_raw(tail, 8),
                         has("data bytes [4, 8) (file offset " + std::to_string(data_start(tail) + 4) +
                             ") at the end of the file belong to no tensor"),
                         io_error);
    CHECK_THROWS_WITH_AS(
        load_raw("{" + entry("a", "\"F32\"", "[1]", "[0,4]") + "," + entry("a", "\"F32\"", "[1]", "[4,8]") + "}", 8),
        Contains("the header has the key 'a' twice; keys must be unique"), io_error);
    CHECK_THROWS_WITH_AS(
        load_raw("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[0,4]}}", 4),
        Contains("the entry of 'a' has the key 'dtype' twice"), io_error);

    CHECK_THROWS_WITH_AS(load_raw("{\"__metadata__\":{\"epoch\":3}}", 0),
                         Contains("\"__metadata__\" value of 'epoch' is 3, expected a string"), io_error);
    CHECK_THROWS_WITH_AS(load_raw("{\"__metadata__\":[\"x\"]}", 0),
                         Contains("\"__metadata__\" is [\"x\"], expected an object of strings"), io_error);
}

// Inputs found by tests/fuzz/fuzz_checkpoint (reproducers in tests/fuzz/regressions/checkpoint/): each must be a
// typed io_error naming the file and the offset, never another exception type or a crash.
TEST_CASE("safetensors: fuzzer findings are rejected with io_error") {
    TempDir dir;
    const std::string path = dir.file("fuzz.safetensors");

    // nlohmann throws out_of_range, not parse_error, for a number beyond double's range.
    const std::string huge = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2e474],\"data_offsets\":[0,4]}}";
    write_bytes(path, raw_file(huge, 4));
    CHECK_THROWS_WITH_AS(load_safetensors(path),
                         has("load_safetensors: '" + path + "': the header holds a number too large to represent " +
                             "at file offset " + std::to_string(8 + huge.find("2e474")) +
                             " ([json.exception.out_of_range.406] number overflow parsing '2e474'); the file is "
                             "corrupt or not a safetensors file"),
                         io_error);
    write_bytes(path, le64(6) + "-1e999");
    CHECK_THROWS_WITH_AS(load_safetensors(path), Contains("number too large to represent at file offset 8 ("),
                         io_error);

    // Found by review (too large for libFuzzer's 4 KB inputs): quoting a deeply nested value in a message used
    // json::dump(), which recursed once per level and overflowed the stack. Quotes are now bounded.
    const std::size_t depth = 200000;  // 100000 was enough to crash a release build
    write_bytes(path, raw_file("{\"a\":{\"dtype\":" + std::string(depth, '[') + std::string(depth, ']') +
                                   ",\"shape\":[1],\"data_offsets\":[0,4]}}",
                               4));
    CHECK_THROWS_WITH_AS(load_safetensors(path),
                         Contains("tensor 'a': \"dtype\" is [[[[[[[[[...]]]]]]]]], expected a string such as \"F32\""),
                         io_error);
    std::string many = "[0";
    for (int i = 1; i < 10000; ++i) many += "," + std::to_string(i);
    write_bytes(path, raw_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":" + many + "]}}", 4));
    try {
        load_safetensors(path);
        FAIL("a 10000-element data_offsets was accepted");
    } catch (const io_error& e) {
        const std::string what = e.what();
        CHECK(what.find("\"data_offsets\" is [0,1,2,3,") != std::string::npos);
        CHECK(what.find("...") != std::string::npos);
        CHECK(what.size() < path.size() + 1000);
    }
}

TEST_CASE("safetensors: a FIFO is refused at once, not read (it would block without a writer)") {
    const TempDir dir;
    const std::string path = dir.file("model.safetensors");
    testing::make_fifo(path);
    CHECK(testing::refusal_of_fifo(path, [&] { load_safetensors(path); }) ==
          "load_safetensors: '" + path + "': is a FIFO, not a regular file; pass the path of a regular file");
}

TEST_CASE("safetensors: a header of 100000 tensors is parsed in linear time") {
    // nlohmann's callback parser rescans the enclosing object after every entry: quadratic, minutes at this size
    // (a 7.8 MB header). Here the duplicate-key check costs a map lookup per key, so this takes well under a second.
    const TempDir dir;
    const std::string path = dir.file("many.safetensors");
    constexpr std::size_t n = 100000;
    std::string header = "{";
    std::string data;
    for (std::size_t i = 0; i < n; ++i) {
        const float v = static_cast<float>(i);
        header += (i ? ",\"t" : "\"t") + std::to_string(i) + "\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[" +
                  std::to_string(4 * i) + "," + std::to_string(4 * i + 4) + "]}";
        data.append(reinterpret_cast<const char*>(&v), 4);
    }
    header += "}";
    header.append((8 - header.size() % 8) % 8, ' ');
    write_bytes(path, le64(header.size()) + header + data);
    const SafetensorsFile f = load_safetensors(path);
    REQUIRE(f.tensors.size() == n);
    for (const std::size_t i : {std::size_t{0}, std::size_t{12345}, n - 1}) {
        CHECK(f.tensors[i].first == "t" + std::to_string(i));  // in data order
        CHECK(f.tensors[i].second.get<float>()(0) == static_cast<float>(i));
    }
    // The duplicate-key check still holds at the end of a large header.
    header = header.substr(0, header.find_last_of('}')) + ",\"t7\":{}}";
    header.append((8 - header.size() % 8) % 8, ' ');
    write_bytes(path, le64(header.size()) + header + data);
    CHECK_THROWS_WITH_AS(load_safetensors(path), Contains("the header has the key 't7' twice; keys must be unique"),
                         io_error);
}

TEST_CASE("safetensors: a metadata key with ESC, newline or NUL is quoted escaped, in one line") {
    const TempDir dir;
    const std::string path = dir.file("model.safetensors");
    write_bytes(path, raw_file(R"({"__metadata__":{"\u001b[31mk\nx\u0000y":5}})", 0));
    CHECK_THROWS_WITH_AS(load_safetensors(path),
                         has("load_safetensors: '" + path +
                             "': \"__metadata__\" value of '\\x1B[31mk\\x0Ax\\x00y' is 5, expected a string (metadata "
                             "values must be strings)"),
                         io_error);
}

// ---- allocation failure under a lowered ulimit -v, in a child process ----------------------------------------

namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool under_asan = true;  // ASan maps memory for every allocation its own way, so no limit fits it
#else
constexpr bool under_asan = false;
#endif

// A 64 MB checkpoint of one float32 tensor 'w', written in `dir`; its path.
std::string big_file(const TempDir& dir) {
    const std::string path = dir.file("big.safetensors");
    save_safetensors(path, {{"w", Array::zeros({16, std::size_t{1} << 20}, f32)}});
    // The array written waits in adgraph's buffer cache, where loading would reuse it: the address-space limits
    // below must count only what loading maps.
    release_cached_buffers();
    return path;
}

}  // namespace

TEST_CASE("[child] load_safetensors of a file larger than ulimit -v says the bytes it wanted") {
    if (!adg::testing::in_child_case("[child] load_safetensors of a file larger than ulimit -v says the bytes it "
                                     "wanted")) {
        return;
    }
    const TempDir dir;
    const std::string path = big_file(dir);
    const std::string size = std::to_string(fs::file_size(path));
    REQUIRE(adg::testing::limit_address_space(std::size_t{32} << 20));
    CHECK(io_message([&] { load_safetensors(path); }) ==
          "load_safetensors: '" + path + "': cannot allocate " + size +
              " bytes to read the file: out of memory; free memory or raise the memory limit (ulimit -v)");
}

TEST_CASE("[child] load_safetensors names the file and the tensor when building its array runs out of memory") {
    if (!adg::testing::in_child_case("[child] load_safetensors names the file and the tensor when building its "
                                     "array runs out of memory")) {
        return;
    }
    const TempDir dir;
    const std::string path = big_file(dir);
    // Room for the file's 64 MB, not for a second copy as an array.
    REQUIRE(adg::testing::limit_address_space(std::size_t{96} << 20));
    std::string msg;
    try {
        load_safetensors(path);
    } catch (const value_error& e) {
        msg = e.what();
    }
    CHECK(msg == "load_safetensors: '" + path +
                     "': tensor 'w': Array::empty: out of memory for shape (16,1048576) of float32 (67108864 bytes); "
                     "use smaller sizes, free memory, or raise the memory limit (ulimit -v)");
}

TEST_CASE("safetensors: out of memory while loading is an error naming the file and the bytes, not bad_alloc") {
    if (under_asan) return;
    for (const char* name : {"[child] load_safetensors of a file larger than ulimit -v says the bytes it wanted",
                             "[child] load_safetensors names the file and the tensor when building its array runs "
                             "out of memory"}) {
        const auto r = adg::testing::run_child_case(name);
        INFO(name, "\n", r.output);
        CHECK(r.exited_ok());
        CHECK(r.output.find("1 passed") != std::string::npos);
    }
}
