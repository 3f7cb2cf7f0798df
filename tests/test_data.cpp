// IDX reading (raw and gzip, strict about every malformed input) and the Dataset / DataLoader built on it.

#include <doctest/doctest.h>

#include "child_case.hpp"
#include "fifo.hpp"
#include "temp_dir.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include <sys/resource.h>
#include <sys/stat.h>

#include <adgraph/nn/data.hpp>
#include <adgraph/nn/idx.hpp>
#include <adgraph/tensor/error.hpp>

using namespace adg;
using namespace adg::nn;
namespace fs = std::filesystem;

using adg::testing::TempDir;

namespace {

using Bytes = std::vector<std::uint8_t>;

// doctest::Contains takes a doctest::String, which does not convert from std::string implicitly.
doctest::Contains has(const std::string& s) { return doctest::Contains(s.c_str()); }

Bytes read_bytes(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(f), {});
}
void write_bytes(const std::string& path, const Bytes& b) {
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}
Bytes cat(Bytes a, const Bytes& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

// An IDX header by hand, so that headers write_idx refuses to produce can be tested.
Bytes idx_header(std::uint8_t type, const std::vector<std::uint32_t>& dims) {
    Bytes h = {0, 0, type, static_cast<std::uint8_t>(dims.size())};
    for (std::uint32_t d : dims)
        for (int shift = 24; shift >= 0; shift -= 8) h.push_back(static_cast<std::uint8_t>(d >> shift));
    return h;
}

// Deterministic bytes in 0..15: compressible, so deflate codes them with Huffman tables (not stored blocks).
Bytes pattern(std::size_t n, std::uint32_t seed = 1) {
    Bytes b(n);
    for (auto& v : b) v = static_cast<std::uint8_t>((seed = seed * 1664525u + 1013904223u) >> 28);
    return b;
}

IdxArray make_array(std::vector<std::size_t> dims, std::uint32_t seed = 1) {
    const std::size_t n = std::accumulate(dims.begin(), dims.end(), std::size_t{1}, std::multiplies<>());
    return IdxArray{std::move(dims), pattern(n, seed)};
}

// A gzip file made of stored deflate blocks, written without zlib: lets tests put arbitrary bytes (bad headers,
// trailing data) inside a valid gzip stream.
Bytes gzip_stored(const Bytes& raw) {
    Bytes out = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff};
    const auto le32 = [&](std::uint64_t v) {
        for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    };
    std::size_t pos = 0;
    do {  // blocks of at most 65535 bytes: final flag, then LEN and its complement NLEN
        const std::size_t n = std::min<std::size_t>(65535, raw.size() - pos);
        out.push_back(pos + n == raw.size() ? 1 : 0);
        le32(n | (~n & 0xFFFF) << 16);
        out.insert(out.end(), raw.begin() + std::ptrdiff_t(pos), raw.begin() + std::ptrdiff_t(pos + n));
        pos += n;
    } while (pos < raw.size());
    std::uint32_t crc = 0xFFFFFFFFu;  // CRC-32, bit by bit
    for (std::uint8_t b : raw)
        for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - ((crc ^ (b >> k)) & 1u)));
    le32(~crc);
    le32(raw.size());
    return out;
}

// Peak resident memory of this process so far, in KiB (Linux).
long peak_rss_kib() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

// A temp dir with one file name in it, `path`.
struct Scratch : TempDir {
    std::string path = file("f");
};

// Three 2x2 images with pixels 0, 51, 102, ... and labels 4, 0, 9.
struct SmallPair : TempDir {
    std::string images = file("images"), labels = file("labels.gz");
    SmallPair() {
        Bytes pixels(12);
        for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<std::uint8_t>((i * 51) % 256);
        write_idx(images, IdxArray{{3, 2, 2}, pixels}, false);
        write_idx(labels, IdxArray{{3}, {4, 0, 9}}, true);
    }
};

std::vector<std::size_t> iota(std::size_t n) {
    std::vector<std::size_t> v(n);
    std::iota(v.begin(), v.end(), std::size_t{0});
    return v;
}

// n samples of 3 features; every feature of row i is i and its label is i % 10, so a batch shows which rows it holds.
Dataset indexed_dataset(std::size_t n) {
    auto x = xt::xarray<float>::from_shape({n, 3});
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(i / 3);
    Dataset d;
    d.images = Tensor(std::move(x));
    for (std::size_t i = 0; i < n; ++i) d.labels.push_back(i % 10);
    return d;
}

// The dataset rows of every batch of one epoch, in order, checked against the labels on the way.
std::vector<std::size_t> rows_of(const DataLoader& loader, std::size_t epoch) {
    std::vector<std::size_t> rows;
    for (const Batch& b : loader.epoch(epoch)) {
        REQUIRE(b.x.shape() == Shape{b.labels.size(), 3});
        for (std::size_t r = 0; r < b.labels.size(); ++r) {
            const auto row = static_cast<std::size_t>(b.x.value().flat(r * 3));
            CHECK(b.x.value().flat(r * 3 + 2) == double(row));
            CHECK(b.labels[r] == row % 10);
            rows.push_back(row);
        }
    }
    return rows;
}

}  // namespace

// Writes `content` to `path`, then expects read_idx to throw io_error whose message contains "path: msg".
#define CHECK_IDX_ERROR(content, msg) \
    write_bytes(path, content);       \
    CHECK_THROWS_WITH_AS(read_idx(path), has(path + ": " + std::string(msg)), io_error)

// ---- IDX ---------------------------------------------------------------------------------------------------------

TEST_CASE_FIXTURE(Scratch, "idx: round trip raw and gzip, gzip recognised by content") {
    for (const auto& dims : std::vector<std::vector<std::size_t>>{{7}, {3, 5}, {4, 6, 5}, {2, 3, 4, 5}}) {
        for (const bool gz : {false, true}) {
            INFO(dims.size() << " dims, gzip " << gz);
            const IdxArray a = make_array(dims, static_cast<std::uint32_t>(dims.size()));
            write_idx(path, a, gz);
            CHECK((read_bytes(path).at(0) == 0x1f) == gz);
            const IdxArray b = read_idx(path);
            CHECK(b.dims == a.dims);
            CHECK(b.data == a.data);
        }
    }
    // The temporary files were renamed: none is left behind.
    CHECK(std::distance(fs::directory_iterator(TempDir::path), fs::directory_iterator()) == 1);
    // Names do not matter; a gzip stream from another encoder (stored blocks) reads the same.
    const IdxArray a = make_array({10, 3});
    write_idx(file("plain.gz"), a, false);
    CHECK(read_idx(file("plain.gz")).data == a.data);
    write_bytes(file("stored"), gzip_stored(cat(idx_header(8, {10, 3}), a.data)));
    CHECK(read_idx(file("stored")).data == a.data);
}

TEST_CASE_FIXTURE(Scratch, "idx: wrong magic bytes") {
    CHECK_IDX_ERROR(Bytes({0x12, 0x34, 8, 1, 0, 0, 0, 1, 5}),
                    "byte 0: magic bytes are 0x12 0x34; an IDX file starts with 0x00 0x00");
    CHECK_IDX_ERROR(gzip_stored({0x50, 0x4B, 3, 4, 0, 0, 0, 0}), "byte 0: magic bytes are 0x50 0x4B");
}

TEST_CASE_FIXTURE(Scratch, "idx: element types other than unsigned byte") {
    CHECK_IDX_ERROR(cat(idx_header(0x0D, {2}), Bytes(8, 0)),
                    "byte 2: unsupported element type 0x0D (float32); only 0x08 (unsigned byte) is supported");
    CHECK_IDX_ERROR(cat(idx_header(0x09, {2}), Bytes(2, 0)), "byte 2: unsupported element type 0x09 (signed byte)");
    CHECK_IDX_ERROR(cat(idx_header(0x07, {2}), Bytes(2, 0)), "byte 2: invalid type byte 0x07");
}

TEST_CASE_FIXTURE(Scratch, "idx: zero or more than four dimensions, a zero dimension, a short header") {
    CHECK_IDX_ERROR(idx_header(8, {}), "byte 3: the header declares 0 dimensions; 1 to 4 are supported");
    CHECK_IDX_ERROR(cat(idx_header(8, {1, 1, 1, 1, 1}), Bytes(1, 0)), "byte 3: the header declares 5 dimensions");
    CHECK_IDX_ERROR(idx_header(8, {3, 0}), "byte 8: dimension 1 is 0 (dimensions 3 x 0); every dimension must be > 0");
    CHECK_IDX_ERROR(Bytes({0, 0, 8, 2, 0, 0}),
                    "byte 6: the file ends inside the IDX header after 6 bytes (the header needs 12)");
    CHECK_IDX_ERROR(Bytes{}, "byte 0: the file ends inside the IDX header");
}

TEST_CASE_FIXTURE(Scratch, "idx: truncated raw payload and bytes after the payload") {
    CHECK_IDX_ERROR(cat(idx_header(8, {10, 10}), pattern(50)),
                    "byte 62: the file is truncated: the header declares 100 payload bytes (10 x 10) but only 50 "
                    "follow");
    const Bytes good = cat(idx_header(8, {10, 10}), pattern(100));
    CHECK_IDX_ERROR(cat(good, {1, 2, 3}),
                    "byte 112: 3 bytes follow the payload; the header declares 100 payload bytes (10 x 10)");
    CHECK_IDX_ERROR(gzip_stored(cat(good, {9})), "byte 112: 1 byte follows the payload");
}

TEST_CASE_FIXTURE(Scratch, "idx: truncated gzip file") {
    write_idx(path, make_array({100, 100}), true);
    const Bytes full = read_bytes(path);
    REQUIRE(full.size() > 1000);
    CHECK_IDX_ERROR(Bytes(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(full.size() / 2)),
                    "byte ");  // where the stream ends depends on zlib's buffering
    CHECK_THROWS_WITH_AS(read_idx(path), has("truncated: the header declares 10000 payload bytes (100 x 100) but only"),
                         io_error);
    CHECK_THROWS_WITH_AS(read_idx(path), has("the .gz file is truncated"), io_error);
    // Every payload byte is there but the gzip trailer (CRC, length) is not: still an error.
    CHECK_IDX_ERROR(Bytes(full.begin(), full.end() - 8),
                    "byte 10012: the gzip stream ends before its end marker: the .gz file is truncated");
}

TEST_CASE_FIXTURE(Scratch, "idx: corrupt gzip file") {
    write_idx(path, make_array({100, 100}), true);
    Bytes bytes = read_bytes(path);
    for (std::size_t i = bytes.size() / 2; i < bytes.size() / 2 + 8; ++i) bytes[i] ^= 0xA5;
    CHECK_IDX_ERROR(bytes, "byte ");
    CHECK_THROWS_WITH_AS(read_idx(path), has("the gzip data is corrupt (zlib: "), io_error);
    // A flipped bit in stored data is caught by the CRC.
    Bytes stored = gzip_stored(cat(idx_header(8, {100}), pattern(100)));
    stored[60] ^= 0x01;
    // The CRC is checked at the trailer, after the 108 bytes of the stream.
    CHECK_IDX_ERROR(stored, "byte 108: the gzip data is corrupt (zlib: incorrect data check)");
}

TEST_CASE_FIXTURE(Scratch, "idx: huge declared dimensions in a tiny file fail fast") {
    CHECK_IDX_ERROR(cat(idx_header(8, {65536, 65536}), pattern(10)),
                    "byte 8: the dimensions 65536 x 65536 declare more than 2^31 (2147483648) payload bytes");
    CHECK_IDX_ERROR(cat(idx_header(8, {0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu}), pattern(10)),
                    "byte 4: the dimensions 4294967295 x");
    // Exactly at the limit: allowed by the header, but the bytes are not there. Neither the raw nor the gzip
    // reader may allocate the 2 GiB the header claims (the peak resident size must not jump).
    const long rss_before = peak_rss_kib();
    CHECK_IDX_ERROR(cat(idx_header(8, {32768, 65536}), pattern(10)),
                    "byte 22: the file is truncated: the header declares 2147483648 payload bytes (32768 x 65536) "
                    "but only 10 follow");
    CHECK_IDX_ERROR(gzip_stored(cat(idx_header(8, {32768, 65536}), pattern(3000000))),
                    "byte 3000012: the file is truncated: the header declares 2147483648 payload bytes");
    CHECK(peak_rss_kib() - rss_before < 256 * 1024);
}

TEST_CASE_FIXTURE(Scratch, "idx: missing file, a directory, write_idx of arrays that are not IDX") {
    CHECK_THROWS_WITH_AS(read_idx(path),
                         has(path + ": cannot open the file: No such file or directory; check the path"), io_error);
    CHECK_THROWS_WITH_AS(read_idx(file("")), has("is a directory, not a regular file; pass the path of a regular file"),
                         io_error);
    CHECK_THROWS_WITH_AS(write_idx(path, IdxArray{{}, {}}, false), has("needs 1 to 4 dimensions, got 0"), value_error);
    CHECK_THROWS_WITH_AS(write_idx(path, IdxArray{{2, 3}, Bytes(5)}, false),
                         has("dimensions 2 x 3 need 6 bytes but the data holds 5"), value_error);
    CHECK_THROWS_WITH_AS(write_idx(file("no/such/dir/out"), make_array({2}), true),
                         has("write_idx: '" + file("no/such/dir/out") + "': cannot create the temporary file"),
                         io_error);
    CHECK_THROWS_WITH_AS(write_idx(file("no/such/dir/out"), make_array({2}), false), has("No such file or directory"),
                         io_error);
    // A failed rename (a directory has the name) removes the temporary file.
    fs::create_directory(file("busy"));
    CHECK_THROWS_WITH_AS(write_idx(file("busy"), make_array({2}), true), has("cannot rename the temporary file"),
                         io_error);
    CHECK(fs::is_empty(file("busy")));
    CHECK(std::distance(fs::directory_iterator(TempDir::path), fs::directory_iterator()) == 1);
    CHECK_FALSE(fs::exists(path));
}

// ---- Dataset -------------------------------------------------------------------------------------------------------

TEST_CASE_FIXTURE(SmallPair, "data: load_idx_pair scales and normalises pixels") {
    const Dataset raw = load_idx_pair(images, labels, 0, {0.0f, 1.0f}), norm = load_idx_pair(images, labels);
    REQUIRE(raw.images.shape() == Shape{3, 4});
    CHECK(raw.features() == 4);
    CHECK(raw.images.dtype() == f32);
    CHECK(raw.labels == std::vector<std::size_t>{4, 0, 9});
    for (std::size_t i = 0; i < 12; ++i) {
        CHECK(raw.images.value().flat(i) == doctest::Approx(((i * 51) % 256) / 255.0));
        CHECK(norm.images.value().flat(i) == doctest::Approx((((i * 51) % 256) / 255.0 - 0.2860) / 0.3530));
    }
    const Dataset two = load_idx_pair(images, labels, 2);
    CHECK(two.images.shape() == Shape{2, 4});
    CHECK(two.labels == std::vector<std::size_t>{4, 0});
    CHECK(load_idx_pair(images, labels, 100).size() == 3);
    CHECK_THROWS_WITH_AS(load_idx_pair(images, labels, 0, {0.0f, 0.0f}), has("std finite and > 0"), value_error);
}

TEST_CASE_FIXTURE(SmallPair, "data: label out of range, count mismatch, wrong ranks") {
    CHECK_THROWS_WITH_AS(load_idx_pair(labels, labels),
                         has(labels + ": images must be a 3-D IDX array (count, rows, cols) but this one is (3)"),
                         io_error);
    CHECK_THROWS_WITH_AS(load_idx_pair(images, images),
                         has(images + ": labels must be a 1-D IDX array (count) but this one is (3,2,2)"), io_error);
    write_idx(labels, IdxArray{{4}, {1, 2, 3, 4}}, true);
    CHECK_THROWS_WITH_AS(load_idx_pair(images, labels),
                         has(images + " holds 3 images but " + labels + " holds 4 labels; the counts must be equal"),
                         io_error);
    write_idx(labels, IdxArray{{3}, {4, 0, 12}}, false);
    CHECK_THROWS_WITH_AS(load_idx_pair(images, labels),
                         has(labels + ": label 2 (byte 10) is 12; labels must be in 0..9"), io_error);
}

TEST_CASE_FIXTURE(TempDir, "data: load_fashion_mnist explains where to get the data") {
    const std::string missing = file("fashion-mnist"), hint = "; install the Debian package `dataset-fashion-mnist`";
    CHECK_THROWS_WITH_AS(load_fashion_mnist(missing, Split::train),
                         has("the data directory " + missing + " does not exist" + hint), io_error);
    CHECK_THROWS_WITH_AS(load_fashion_mnist(missing, Split::train), has("or pass --data DIR"), io_error);
    const std::string raw = file("t10k-images-idx3-ubyte");
    CHECK_THROWS_WITH_AS(load_fashion_mnist(TempDir::path.string(), Split::test),
                         has("neither " + raw + " nor " + raw + ".gz exists" + hint), io_error);
}

TEST_CASE_FIXTURE(TempDir, "data: load_fashion_mnist prefers the uncompressed file") {
    write_idx(file("t10k-images-idx3-ubyte"), make_array({2, 28, 28}), false);
    write_idx(file("t10k-images-idx3-ubyte.gz"), make_array({3, 28, 28}), true);
    write_idx(file("t10k-labels-idx1-ubyte.gz"), IdxArray{{2}, {1, 8}}, true);
    const Dataset d = load_fashion_mnist(TempDir::path.string(), Split::test);
    CHECK(d.images.shape() == Shape{2, 784});
    CHECK(d.classes == 10);
    const auto& names = fashion_mnist_classes();
    CHECK(std::string(names[0]) + "|" + names[d.labels[1]] + "|" + names[9] == "T-shirt/top|Bag|Ankle boot");
}

TEST_CASE("data: Fashion-MNIST from the Debian package") {
    if (!fs::is_directory(default_fashion_mnist_dir)) {
        MESSAGE("skipped: " << default_fashion_mnist_dir << " is missing (apt-get install dataset-fashion-mnist)");
        return;
    }
    const auto t0 = std::chrono::steady_clock::now();
    const Dataset train = load_fashion_mnist(default_fashion_mnist_dir, Split::train);
    MESSAGE("load_fashion_mnist(train) took "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() << " s");
    CHECK(train.images.shape() == Shape{60000, 784});
    CHECK(std::all_of(train.labels.begin(), train.labels.end(), [](std::size_t l) { return l < 10; }));
    const float *x = train.images.data<float>().data(), *end = x + train.images.size();
    const double n = double(train.images.size()), mean = std::accumulate(x, end, 0.0) / n;
    CHECK(std::abs(mean) < 0.01);
    CHECK(std::abs(std::sqrt(std::inner_product(x, end, x, 0.0) / n - mean * mean) - 1.0) < 0.01);
    const Dataset test = load_fashion_mnist(default_fashion_mnist_dir, Split::test);
    CHECK(test.images.shape() == Shape{10000, 784});
    CHECK(std::all_of(test.labels.begin(), test.labels.end(), [](std::size_t l) { return l < 10; }));
    CHECK(std::set<std::size_t>(test.labels.begin(), test.labels.end()).size() == 10);
    CHECK(load_fashion_mnist(default_fashion_mnist_dir, Split::test, 100).size() == 100);
}

// ---- DataLoader over a Dataset (Fashion-MNIST's use of TensorDataset) --------------------------------------------
TEST_CASE("data: DataLoader batch shapes, the last partial batch, fresh buffers, bad arguments") {
    const Dataset d = indexed_dataset(10);
    const DataLoader loader(d, 4, true, 7);
    CHECK(loader.batches() == 3);
    std::vector<Batch> kept;
    for (const Batch& b : loader.epoch(0)) kept.push_back(b);
    REQUIRE(kept.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) {
        CHECK(kept[i].x.dtype() == f32);
        CHECK(kept[i].x.shape() == Shape{i < 2 ? 4u : 2u, 3});
        CHECK_FALSE(kept[i].x.value().same_buffer(d.images.value()));
        CHECK_FALSE(kept[i].x.value().same_buffer(loader.batch(0, i).x.value()));
    }
    CHECK_FALSE(kept[0].x.value().same_buffer(kept[1].x.value()));
    CHECK(DataLoader(d, 5, false, 0).batches() == 2);
    CHECK(DataLoader(d, 64, false, 0).batches() == 1);
    CHECK_THROWS_WITH_AS(loader.batch(0, 3), has("batch 3 is out of range; the epoch has 3 batches"), value_error);
    CHECK_THROWS_WITH_AS(DataLoader(d, 0, true, 0), has("DataLoader: batch_size must be at least 1 (got 0)"),
                         value_error);
    Dataset bad = d;
    bad.labels.pop_back();
    CHECK_THROWS_WITH_AS(DataLoader(bad, 2, false, 0),
                         has("TensorDataset: inputs (10,3) hold 10 samples but 9 labels were given; give one label "
                             "per input row"),
                         shape_error);
}

TEST_CASE("data: DataLoader visits every index once per epoch, in order without shuffling") {
    const Dataset d = indexed_dataset(103);
    const DataLoader loader(d, 16, true, 42);
    for (std::size_t e = 0; e < 3; ++e) {
        std::vector<std::size_t> rows = rows_of(loader, e);
        CHECK(rows == loader.order(e));
        std::sort(rows.begin(), rows.end());
        CHECK(rows == iota(103));
    }
    const DataLoader in_order(d, 5, false, 99);
    CHECK(rows_of(in_order, 0) == iota(103));
    CHECK(rows_of(in_order, 3) == iota(103));
}

TEST_CASE("data: DataLoader shuffling is deterministic for seed and epoch") {
    const Dataset d = indexed_dataset(200);
    const DataLoader a(d, 32, true, 1234), b(d, 32, true, 1234), other_seed(d, 32, true, 1235);
    CHECK(rows_of(a, 0) == rows_of(b, 0));
    CHECK(rows_of(a, 5) == rows_of(b, 5));
    CHECK(a.order(0) != a.order(1));
    CHECK(a.order(0) != other_seed.order(0));
    CHECK(a.order(0) != iota(200));
}

// Issue 21: (n + batch - 1) / batch wrapped for a batch size near SIZE_MAX, giving 0 batches (and a division by
// zero in the training loop's mean loss). A batch larger than the dataset is one batch of all of it.
TEST_CASE("data: DataLoader with a batch size larger than the dataset, up to SIZE_MAX, has one batch of all rows") {
    const Dataset d = indexed_dataset(10);
    for (const std::size_t size : {std::size_t{11}, std::size_t{1} << 40, SIZE_MAX - 1, SIZE_MAX}) {
        INFO(size);
        const DataLoader loader(d, size, true, 3);
        CHECK(loader.batches() == 1);
        const Epoch epoch = loader.epoch(0);
        REQUIRE(epoch.size() == 1);
        const Batch b = epoch.batch(0);
        CHECK(b.x.shape() == Shape{10, 3});
        std::vector<std::size_t> labels = b.labels;
        std::sort(labels.begin(), labels.end());
        CHECK(labels == iota(10));
        CHECK_THROWS_AS(epoch.batch(1), value_error);
    }
    const Dataset empty = indexed_dataset(0);
    CHECK_THROWS_WITH_AS(DataLoader(empty, SIZE_MAX, false),
                         has("DataLoader: the dataset is empty (inputs (0,3)); give it at least one sample"),
                         value_error);
}

TEST_CASE_FIXTURE(Scratch, "idx: a FIFO is refused at once, not read (it would block without a writer)") {
    testing::make_fifo(path);
    const std::string msg = testing::refusal_of_fifo(path, [&] { read_idx(path); });
    CHECK(msg == path + ": is a FIFO, not a regular file; pass the path of a regular file");
    struct stat st {};
    REQUIRE(::lstat(path.c_str(), &st) == 0);
    CHECK(S_ISFIFO(st.st_mode));
    // load_fashion_mnist reaches the same reader: a FIFO among the data files is refused too.
    const std::string dir = file("data");
    fs::create_directories(dir);
    testing::make_fifo(dir + "/t10k-images-idx3-ubyte");
    write_idx(dir + "/t10k-labels-idx1-ubyte", IdxArray{{1}, {0}}, false);
    CHECK(testing::refusal_of_fifo(dir + "/t10k-images-idx3-ubyte", [&] {
              load_fashion_mnist(dir, Split::test);
          }).find("is a FIFO, not a regular file") != std::string::npos);
}

TEST_CASE_FIXTURE(Scratch, "idx: bytes after the gzip trailer are refused, further gzip members are read on") {
    const IdxArray a = make_array({10, 10});
    write_idx(path, a, true);
    const Bytes gz = read_bytes(path);
    const std::string at = "byte " + std::to_string(gz.size()) + " of the compressed file: ";
    CHECK_IDX_ERROR(cat(gz, {'j', 'u', 'n', 'k'}),
                    at + "4 bytes after the end of the gzip data are not another gzip member; the file must end with "
                         "its gzip trailer");
    CHECK_IDX_ERROR(cat(gz, Bytes(1, 0)), at + "1 byte after the end of the gzip data is not another gzip member");
    CHECK_IDX_ERROR(cat(gz, Bytes(512, 0)), at + "512 bytes after the end");
    CHECK_IDX_ERROR(cat(gz, {0x1f}), at + "1 byte after the end");  // half a gzip magic
    // A stream split into two members (as `cat a.gz b.gz` makes) is one stream, as gzip -d reads it.
    const Bytes raw = cat(idx_header(8, {10, 10}), a.data);
    write_bytes(
        path, cat(gzip_stored(Bytes(raw.begin(), raw.begin() + 30)), gzip_stored(Bytes(raw.begin() + 30, raw.end()))));
    CHECK(read_idx(path).data == a.data);
    // A second member that is itself damaged is corrupt gzip data.
    Bytes second = gzip_stored(Bytes(raw.begin() + 30, raw.end()));
    second[second.size() - 8] ^= 0x01;  // its CRC
    CHECK_IDX_ERROR(cat(gzip_stored(Bytes(raw.begin(), raw.begin() + 30)), second),
                    "byte 112: the gzip data is corrupt (zlib: incorrect data check)");
}

// ---- allocation failure under a lowered ulimit -v, in a child process ----------------------------------------

TEST_CASE("[child] read_idx of a gzip whose payload exceeds ulimit -v says the bytes it wanted") {
    if (!adg::testing::in_child_case("[child] read_idx of a gzip whose payload exceeds ulimit -v says the bytes it "
                                     "wanted")) {
        return;
    }
    const TempDir dir;
    const std::string path = dir.file("images.gz");
    // 64 MB of zeros, a few hundred KB compressed: a small file that unpacks to more than the process may hold.
    write_idx(path, IdxArray{{81632, 28, 28}, Bytes(std::size_t{81632} * 28 * 28, 0)}, true);
    REQUIRE(adg::testing::limit_address_space(std::size_t{32} << 20));
    std::string msg;
    try {
        read_idx(path);
    } catch (const io_error& e) {
        msg = e.what();
    }
    CHECK(msg == path +
                     ": cannot allocate 63999488 bytes for the payload (81632 x 28 x 28): out of memory; free "
                     "memory or raise the memory limit (ulimit -v)");
}

TEST_CASE("[child] load_idx_pair says the bytes it wanted when the float32 images exceed ulimit -v") {
    if (!adg::testing::in_child_case("[child] load_idx_pair says the bytes it wanted when the float32 images exceed "
                                     "ulimit -v")) {
        return;
    }
    const TempDir dir;
    const std::string images = dir.file("images.gz"), labels = dir.file("labels.gz");
    write_idx(images, IdxArray{{81632, 28, 28}, Bytes(std::size_t{81632} * 28 * 28, 0)}, true);
    write_idx(labels, IdxArray{{81632}, Bytes(81632, 0)}, true);
    // Room for the 64 MB payload, not for the 256 MB of float32 images made from it.
    REQUIRE(adg::testing::limit_address_space(std::size_t{160} << 20));
    std::string msg;
    try {
        load_idx_pair(images, labels);
    } catch (const io_error& e) {
        msg = e.what();
    }
    CHECK(msg == "load_idx_pair: " + images +
                     ": cannot allocate 255997952 bytes for 81632 images as float32: out of memory; free memory or "
                     "raise the memory limit (ulimit -v), or load fewer images");
}

TEST_CASE("read_idx: out of memory is an error naming the file and the bytes, not bad_alloc") {
#if defined(__SANITIZE_ADDRESS__)
    return;  // ASan maps memory for every allocation its own way, so no limit fits it
#endif
    for (const char* name :
         {"[child] read_idx of a gzip whose payload exceeds ulimit -v says the bytes it wanted",
          "[child] load_idx_pair says the bytes it wanted when the float32 images exceed ulimit -v"}) {
        const auto r = adg::testing::run_child_case(name);
        INFO(name, "\n", r.output);
        CHECK(r.exited_ok());
        CHECK(r.output.find("1 passed") != std::string::npos);
    }
}

// ---- TensorDataset: regression targets and class labels ---------------------------------------------------------

namespace {

// Sample i of a regression set: input (2,3) holding 100·i + k at flat position k (float64), target (2) holding
// -i and i / 4 (float32), so every batch row says which sample it is.
TensorDataset regression_set(std::size_t n) {
    auto x = xt::xarray<double>::from_shape({n, 2, 3});
    auto y = xt::xarray<float>::from_shape({n, 2});
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t k = 0; k < 6; ++k) x.data()[i * 6 + k] = 100.0 * double(i) + double(k);
        y.data()[i * 2] = -float(i);
        y.data()[i * 2 + 1] = float(i) / 4;
    }
    return TensorDataset(Tensor(std::move(x)), Tensor(std::move(y)));
}

// The samples of each batch of `loader`'s epoch `e`, checking that targets travel with their inputs.
std::vector<std::vector<std::size_t>> regression_batches(const DataLoader& loader, std::size_t e) {
    std::vector<std::vector<std::size_t>> out;
    for (const Batch& b : loader.epoch(e)) {
        REQUIRE(b.x.dtype() == f64);
        REQUIRE(b.y.dtype() == f32);
        const std::size_t rows = b.x.shape()[0];
        REQUIRE(b.x.shape() == Shape{rows, 2, 3});
        REQUIRE(b.y.shape() == Shape{rows, 2});
        CHECK(b.labels.empty());
        std::vector<std::size_t> samples;
        for (std::size_t r = 0; r < rows; ++r) {
            const auto i = static_cast<std::size_t>(b.x.value().flat(r * 6) / 100.0);
            for (std::size_t k = 0; k < 6; ++k) CHECK(b.x.value().flat(r * 6 + k) == 100.0 * double(i) + double(k));
            CHECK(b.y.value().flat(r * 2) == -double(i));
            CHECK(b.y.value().flat(r * 2 + 1) == double(i) / 4);
            samples.push_back(i);
        }
        out.push_back(samples);
    }
    return out;
}

std::vector<std::size_t> flatten(const std::vector<std::vector<std::size_t>>& batches) {
    std::vector<std::size_t> all;
    for (const auto& b : batches) all.insert(all.end(), b.begin(), b.end());
    return all;
}

}  // namespace

TEST_CASE("data: TensorDataset of float targets batches inputs and targets of any shape and dtype together") {
    const TensorDataset data = regression_set(7);
    CHECK(data.size() == 7);
    CHECK_FALSE(data.has_labels());
    // In order: 3, 3 and the uneven last batch of 1, kept by default.
    const DataLoader in_order(data, DataLoaderOptions(3));
    CHECK(in_order.batches() == 3);
    CHECK(regression_batches(in_order, 0) == std::vector<std::vector<std::size_t>>{{0, 1, 2}, {3, 4, 5}, {6}});
    // Shuffled: every sample once per epoch, each with its own target.
    const DataLoader shuffled(data, DataLoaderOptions(3).shuffle(true).seed(5));
    for (std::size_t e = 0; e < 3; ++e) {
        const auto batches = regression_batches(shuffled, e);
        REQUIRE(batches.size() == 3);
        CHECK(batches[2].size() == 1);
        std::vector<std::size_t> all = flatten(batches);
        CHECK(all == shuffled.order(e));
        std::sort(all.begin(), all.end());
        CHECK(all == iota(7));
    }
    // drop_last: the partial batch goes, the full ones stay as they were.
    const DataLoader dropped(data, DataLoaderOptions(3).shuffle(true).seed(5).drop_last(true));
    CHECK(dropped.batches() == 2);
    const auto kept = regression_batches(shuffled, 1), cut = regression_batches(dropped, 1);
    REQUIRE(cut.size() == 2);
    CHECK(cut[0] == kept[0]);
    CHECK(cut[1] == kept[1]);
    CHECK(DataLoader(data, DataLoaderOptions(8).drop_last(true)).batches() == 0);
    CHECK(DataLoader(data, DataLoaderOptions(7).drop_last(true)).batches() == 1);
    // Batches are new arrays, not views of the dataset.
    const Batch b = in_order.batch(0, 0);
    CHECK_FALSE(b.x.value().same_buffer(data.inputs().value()));
    CHECK_FALSE(b.y.value().same_buffer(data.targets().value()));
}

TEST_CASE("data: TensorDataset of class labels gives each batch its labels") {
    auto x = xt::xarray<float>::from_shape({10, 4});
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(i / 4);  // row i holds i
    std::vector<std::size_t> labels;
    for (std::size_t i = 0; i < 10; ++i) labels.push_back((i * 3) % 5);
    const TensorDataset data(Tensor(std::move(x)), labels);
    CHECK(data.has_labels());
    CHECK(data.labels() == labels);
    const DataLoader loader(data, DataLoaderOptions(4).shuffle(true).seed(11));
    std::vector<std::size_t> seen;
    for (const Batch& b : loader.epoch(2)) {
        CHECK_FALSE(b.y.defined());
        REQUIRE(b.x.shape() == Shape{b.labels.size(), 4});
        for (std::size_t r = 0; r < b.labels.size(); ++r) {
            const auto i = static_cast<std::size_t>(b.x.value().flat(r * 4));
            CHECK(b.labels[r] == (i * 3) % 5);
            seen.push_back(i);
        }
    }
    CHECK(seen == loader.order(2));
    // The Fashion-MNIST Dataset batches as the TensorDataset of its images and labels.
    const Dataset d = indexed_dataset(10);
    const DataLoader from_dataset(d, 4, true, 7), from_tensors(TensorDataset(d.images, d.labels), 4, true, 7);
    CHECK(rows_of(from_dataset, 1) == rows_of(from_tensors, 1));
}

TEST_CASE("data: DataLoaderOptions shuffle with a seed repeats, and matches the positional form") {
    const TensorDataset data = regression_set(50);
    const DataLoader a(data, DataLoaderOptions(8).shuffle(true).seed(42));
    const DataLoader b(data, DataLoaderOptions(8).shuffle(true).seed(42));
    const DataLoader positional(data, 8, true, 42);  // what `adgraph train --seed 42` builds
    const DataLoader other(data, DataLoaderOptions(8).shuffle(true).seed(43));
    for (std::size_t e = 0; e < 3; ++e) {
        CHECK(regression_batches(a, e) == regression_batches(b, e));
        CHECK(a.order(e) == positional.order(e));
        CHECK(a.order(e) != other.order(e));
    }
    CHECK(a.order(0) != a.order(1));
    CHECK(DataLoader(data, DataLoaderOptions(8)).order(3) == iota(50));
}

TEST_CASE("data: a loader keeps its dataset alive: the tensors it was built from may go") {
    std::unique_ptr<DataLoader> loader;
    {
        const TensorDataset data = regression_set(5);
        loader = std::make_unique<DataLoader>(data, DataLoaderOptions(2));
    }
    CHECK(flatten(regression_batches(*loader, 0)) == iota(5));
}

TEST_CASE("data: TensorDataset and DataLoader refuse mismatched samples, an empty dataset and batch size 0") {
    const Tensor x = Tensor::zeros({4, 3}), y = Tensor::zeros({5, 1});
    CHECK_THROWS_WITH_AS(TensorDataset(x, y),
                         "TensorDataset: inputs (4,3) and targets (5,1) hold different numbers of samples (4 vs 5 "
                         "along the first axis); give one target row per input row",
                         shape_error);
    CHECK_THROWS_WITH_AS(TensorDataset(x, std::vector<std::size_t>{0, 1, 2}),
                         "TensorDataset: inputs (4,3) hold 4 samples but 3 labels were given; give one label per "
                         "input row",
                         shape_error);
    CHECK_THROWS_WITH_AS(TensorDataset(Tensor::scalar(1.0), x),
                         "TensorDataset: the inputs are a scalar () with no sample axis; put the samples along the "
                         "first axis, e.g. (N, features)",
                         shape_error);
    CHECK_THROWS_WITH_AS(TensorDataset(x, Tensor()),
                         "TensorDataset: the targets tensor is undefined; pass a tensor (N, ...)", value_error);
    const TensorDataset empty(Tensor::zeros({0, 3}), Tensor::zeros({0}));
    CHECK(empty.size() == 0);
    CHECK_THROWS_WITH_AS(DataLoader(empty, DataLoaderOptions(4)),
                         "DataLoader: the dataset is empty (inputs (0,3)); give it at least one sample", value_error);
    const TensorDataset data(x, Tensor::zeros({4}));
    CHECK_THROWS_WITH_AS(DataLoader(data, DataLoaderOptions(0)), "DataLoader: batch_size must be at least 1 (got 0)",
                         value_error);
    CHECK_THROWS_WITH_AS(data.gather({1, 4}),
                         "TensorDataset::gather: row 4 is out of range; the dataset holds 4 samples", value_error);
}
