// The error contract as one catalog: every message family is raised and compared by its whole text, the CLI's
// failures by exit code and stderr, and docs/errors.md is checked against the catalog in both directions, so the
// page cannot drift from the code.

#include <doctest/doctest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <new>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include <adgraph/adgraph.hpp>
#include <adgraph/nn/atomic_file.hpp>
#include <adgraph/nn/batch_norm.hpp>
#include <adgraph/nn/conv.hpp>
#include <adgraph/nn/flatten.hpp>
#include <adgraph/nn/idx.hpp>
#include <adgraph/nn/model_spec.hpp>
#include <adgraph/nn/png.hpp>
#include <adgraph/nn/pool.hpp>
#include <adgraph/nn/process.hpp>
#include <adgraph/nn/residual.hpp>
#include <adgraph/nn/safetensors.hpp>
#include <adgraph/nn/sequence.hpp>
#include <adgraph/tensor/conv.hpp>
#include <adgraph/tensor/matmul.hpp>

#include "../mpi/internal/errors.hpp"  // adgraph_mpi's messages, built without MPI (tests/mpi/ raises them for real)
#include "adgraph/ranks.hpp"
#include "adgraph/resume.hpp"
#include "cli_run.hpp"
#include "playground/config_json.hpp"
#include "playground/encode.hpp"
#include "playground/headless.hpp"
#include "playground/routes.hpp"
#include "playground/server.hpp"
#include "playground/session.hpp"
#include "playground/sessions.hpp"
#include "temp_dir.hpp"

using namespace adg;
using namespace adg::nn;
namespace fs = std::filesystem;

namespace {

// Examples in docs/errors.md show the scratch directory as /tmp/run and temporary-file suffixes (pid, counter)
// as .tmp.4242.0; everything else is the message exactly as raised.
struct Normaliser {
    std::string scratch;
    std::string operator()(std::string s) const {
        for (std::size_t at; (at = s.find(scratch)) != std::string::npos;) s.replace(at, scratch.size(), "/tmp/run");
        return std::regex_replace(s, std::regex(R"(\.tmp\.[0-9]+\.[0-9]+)"), ".tmp.4242.0");
    }
};

// The most derived adg type of `e`, by the name docs/errors.md uses.
std::string type_of(const error& e) {
    if (dynamic_cast<const shape_error*>(&e)) return "shape_error";
    if (dynamic_cast<const dtype_error*>(&e)) return "dtype_error";
    if (dynamic_cast<const graph_error*>(&e)) return "graph_error";
    if (dynamic_cast<const value_error*>(&e)) return "value_error";
    if (dynamic_cast<const io_error*>(&e)) return "io_error";
    return "error";
}

// One message family: the type it raises, its message (normalised) and how to raise it.
struct Family {
    std::string type;
    std::string example;
    std::function<void()> raise;
    // Raised through a failing operator new, which ASan's allocator turns into a fatal report instead of
    // std::bad_alloc: such a family is raised only outside ASan builds (its text is still checked against the page).
    bool needs_failing_new = false;
};

void write_bytes(const std::string& path, const std::vector<unsigned char>& bytes) {
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// A PNG chunk: length, type, data and the CRC over type and data (read_png's families).
std::string png_chunk(const std::string& type, const std::string& data) {
    std::string c;
    const auto put = [&c](std::uint32_t v) {
        for (int b = 3; b >= 0; --b) c.push_back(static_cast<char>((v >> (8 * b)) & 0xff));
    };
    put(static_cast<std::uint32_t>(data.size()));
    c += type + data;
    const std::string over = type + data;
    put(static_cast<std::uint32_t>(
        crc32(0, reinterpret_cast<const Bytef*>(over.data()), static_cast<uInt>(over.size()))));
    return c;
}

// A PNG file whose header claims `width` x `height` 8-bit RGB, with 8 bytes of image data (not valid deflate).
std::string png_claiming(std::uint32_t width, std::uint32_t height) {
    std::string ihdr;
    for (std::uint32_t v : {width, height}) {
        for (int b = 3; b >= 0; --b) ihdr.push_back(static_cast<char>((v >> (8 * b)) & 0xff));
    }
    ihdr += std::string{8, 2, 0, 0, 0};
    return std::string("\x89PNG\r\n\x1a\n", 8) + png_chunk("IHDR", ihdr) + png_chunk("IDAT", std::string(8, '\0')) +
           png_chunk("IEND", "");
}

// A safetensors file with header `json` (padded to 8 bytes) and `data` bytes of zeros.
void write_safetensors(const std::string& path, std::string json, std::size_t data) {
    json.append((8 - json.size() % 8) % 8, ' ');
    std::vector<unsigned char> bytes(8, 0);
    for (int b = 0; b < 8; ++b) bytes[b] = static_cast<unsigned char>(json.size() >> (8 * b));
    bytes.insert(bytes.end(), json.begin(), json.end());
    bytes.resize(bytes.size() + data, 0);
    write_bytes(path, bytes);
}

// An IDX pair of Fashion-MNIST's shape (n images of 28x28, labels 0..9) named as the Debian package names them.
void write_fake_split(const std::string& dir, const std::string& prefix, std::size_t n) {
    IdxArray images{{n, 28, 28}, std::vector<std::uint8_t>(n * 784)};
    for (std::size_t i = 0; i < images.data.size(); ++i) images.data[i] = static_cast<std::uint8_t>((i * 37) % 251);
    IdxArray labels{{n}, std::vector<std::uint8_t>(n)};
    for (std::size_t i = 0; i < n; ++i) labels.data[i] = static_cast<std::uint8_t>(i % 10);
    write_idx(dir + "/" + prefix + "-images-idx3-ubyte", images, false);
    write_idx(dir + "/" + prefix + "-labels-idx1-ubyte", labels, false);
}

// A custom function whose rules are set per family.
CustomFunction custom(const std::string& name) {
    CustomFunction f;
    f.name = name;
    f.forward = [](const std::vector<Tensor>& x) { return x[0] * 2.0; };
    f.jvp = [](const std::vector<Tensor>&, const Tensor&, const std::vector<Tensor>& t) { return t[0] * 2.0; };
    return f;
}

// Lowers the file size limit (ulimit -f) while it lives, with SIGXFSZ ignored: a write() past the limit then
// fails with EFBIG, which exercises the writers' error path as a full disk would.
struct FileSizeLimit {
    rlimit old_limit{};
    void (*old_handler)(int);
    explicit FileSizeLimit(rlim_t bytes) : old_handler(std::signal(SIGXFSZ, SIG_IGN)) {
        ::getrlimit(RLIMIT_FSIZE, &old_limit);
        rlimit small = old_limit;
        small.rlim_cur = bytes;
        ::setrlimit(RLIMIT_FSIZE, &small);
    }
    ~FileSizeLimit() {
        ::setrlimit(RLIMIT_FSIZE, &old_limit);
        std::signal(SIGXFSZ, old_handler);
    }
};

// Lowers the address-space limit (ulimit -v) to this process's size plus `headroom` bytes while it lives, so a
// larger allocation fails even where the kernel would overcommit it.
struct AddressSpaceLimit {
    rlimit old_limit{};
    explicit AddressSpaceLimit(std::size_t headroom) {
        ::getrlimit(RLIMIT_AS, &old_limit);
        std::ifstream statm("/proc/self/statm");
        std::size_t pages = 0;
        if (!(statm >> pages)) return;
        rlimit small = old_limit;
        small.rlim_cur =
            std::min<rlim_t>(old_limit.rlim_cur, pages * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)) + headroom);
        ::setrlimit(RLIMIT_AS, &small);
    }
    ~AddressSpaceLimit() { ::setrlimit(RLIMIT_AS, &old_limit); }
};

// Lowers the limit on open files (ulimit -n) while it lives, so that opening any further file fails (EMFILE).
struct OpenFileLimit {
    rlimit old_limit{};
    explicit OpenFileLimit(rlim_t files) {
        ::getrlimit(RLIMIT_NOFILE, &old_limit);
        rlimit small = old_limit;
        small.rlim_cur = files;
        ::setrlimit(RLIMIT_NOFILE, &small);
    }
    ~OpenFileLimit() { ::setrlimit(RLIMIT_NOFILE, &old_limit); }
};

std::vector<Family> library_catalog(const adg::testing::TempDir& dir) {
    const std::string root = dir.path.string();
    const auto file = [root](const std::string& name) { return root + "/" + name; };
    const Tensor m23 = Tensor::zeros({2, 3});
    std::vector<Family> c;

    // ---- shape_error ----
    c.push_back({"shape_error",
                 "add: shapes (2,3) and (4,3) cannot be broadcast together (axis -2: 2 vs 4); sizes must be equal or 1 "
                 "— reshape or broadcast_to one operand first",
                 [=] {
                     m23 + Tensor::zeros({4, 3});
                 }});
    c.push_back({"shape_error",
                 "matmul: shapes (2,3) and (4,5) cannot be multiplied: inner dimensions 3 != 4; the first's last axis "
                 "must equal the second's next-to-last (transpose or reshape one)",
                 [] {
                     matmul(Tensor::zeros({2, 3}), Tensor::zeros({4, 5}));
                 }});
    c.push_back({"shape_error",
                 "matmul: shapes (2,2,3) and (3,3,4) have batch axes (2) and (3) that do not broadcast; each batch "
                 "size must be equal or 1",
                 [] {
                     matmul(Tensor::zeros({2, 2, 3}), Tensor::zeros({3, 3, 4}));
                 }});
    c.push_back({"shape_error", "matmul: shapes () and (3) include a scalar; use * to scale",
                 [] { matmul(Tensor::scalar(2.0), Tensor::zeros({3})); }});
    c.push_back({"shape_error",
                 "linear: input (2,3) and weight (4,5) do not fit: need input (in) or (batch, in) and weight (out, in) "
                 "with equal in",
                 [=] {
                     linear(m23, Tensor::zeros({4, 5}));
                 }});
    c.push_back({"shape_error", "linear: bias (3) does not fit weight (4,3); the bias must be (4)", [=] {
                     linear(m23, Tensor::zeros({4, 3}), Tensor::zeros({3}));
                 }});
    {
        const Tensor x = Tensor::zeros({2, 4, 5, 5}), w = Tensor::zeros({6, 2, 3, 3});
        c.push_back(
            {"shape_error",
             "conv2d: input (4,5,5) is not 4-D; pass images as (N, C, H, W) (reshape one image to (1, C, H, W))", [=] {
                 conv2d(Tensor::zeros({4, 5, 5}), w);
             }});
        c.push_back({"shape_error",
                     "conv2d: weight (6,2,3) is not 4-D; pass the weight as (out_channels, in_channels / groups, kh, "
                     "kw)",
                     [=] {
                         conv2d(x, Tensor::zeros({6, 2, 3}));
                     }});
        c.push_back({"shape_error",
                     "conv2d: input (2,4,5,5) has 4 channels but weight (6,3,3,3) with groups 1 expects 3 (weight axis "
                     "1 · groups); make the weight (O, C / groups, kh, kw)",
                     [=] {
                         conv2d(x, Tensor::zeros({6, 3, 3, 3}));
                     }});
        c.push_back({"shape_error",
                     "conv2d: groups 3 does not divide both the input channels 4 of input (2,4,5,5) and the output "
                     "channels 6 of weight (6,2,3,3); choose groups dividing both",
                     [=] { conv2d(x, w, Tensor(), 1, 0, 1, 3); }});
        c.push_back({"shape_error", "conv2d: bias (5) does not fit weight (6,2,3,3); the bias must be (6) or left out",
                     [=] { conv2d(x, w, Tensor::zeros({5}), 1, 0, 1, 2); }});
        c.push_back({"shape_error",
                     "conv2d: kernel 7x3 with dilation 1x1 spans 7x3 but input (2,4,5,5) with padding 0x0 is only 5x5; "
                     "use a smaller kernel or dilation, or more padding",
                     [=] {
                         conv2d(x, Tensor::zeros({6, 4, 7, 3}));
                     }});
        // The array kernels (tensor/conv.hpp) check their operands again, for callers that use them directly.
        c.push_back(
            {"shape_error",
             "conv2d: input (4,5,5) and weight (6,2,3,3) do not fit: need an input (N, C, H, W) and a weight (O, "
             "C/groups, kh, kw)",
             [=] {
                 kernels::conv2d(Tensor::zeros({4, 5, 5}).value(), w.value(), nullptr, {});
             }});
        c.push_back({"shape_error",
                     "conv2d_bias_grad: gradient (3,4) does not end with the output shape (2,3,4,4); pass the gradient "
                     "of a convolution's output (…, N, O, Ho, Wo)",
                     [] {
                         kernels::conv2d_bias_grad(Tensor::zeros({3, 4}).value(), {2, 3, 4, 4});
                     }});
    }
    // A 1×2^31 by 2^31×1 product, refused before any element is read (Debian's cblas takes 32-bit sizes), so the
    // operands need not exist.
    c.push_back({"shape_error",
                 "matmul: a matrix side or leading dimension of 2147483648 exceeds BLAS's integer range; split the "
                 "product into smaller blocks",
                 [] {
                     const std::size_t big = std::size_t{1} << 31;
                     kernels::gemm(nullptr, 1, big, nullptr, big, 1, nullptr, false, false, 1.0f);
                 }});
    c.push_back(
        {"value_error", "gemm: a bias starts C, so beta must be 0 (got 1); add beta·C separately or pass no bias", [] {
             const float one = 1.0f;
             float out = 0.0f;
             kernels::gemm(&one, 1, 1, &one, 1, 1, &out, false, false, 1.0f, &one);
         }});
    c.push_back({"shape_error",
                 "reshape: cannot reshape (2,3) (6 elements) to (4,2) (8 elements); the element counts must match",
                 [=] {
                     reshape(m23, {4, 2});
                 }});
    c.push_back(
        {"shape_error",
         "broadcast_to: shape (2,3) cannot be broadcast to (3,3); each axis must match or be 1, aligned from the right",
         [=] {
             broadcast_to(m23, {3, 3});
         }});
    c.push_back({"shape_error",
                 "sum_to: shape (2,3) cannot be summed down to (4) (the target must broadcast to the source)",
                 [=] { sum_to(m23, {4}); }});
    c.push_back({"shape_error",
                 "concat: shapes (2,3) and (2,2) differ outside axis 0; all tensors must have equal sizes except along "
                 "the joined axis",
                 [=] {
                     concat({m23, Tensor::zeros({2, 2})}, 0);
                 }});
    c.push_back({"shape_error", "stack: shapes (2) and (3) differ; stack needs tensors of one shape", [] {
                     stack({Tensor::zeros({2}), Tensor::zeros({3})});
                 }});
    c.push_back({"shape_error",
                 "transpose: shape (3) has fewer than 2 axes; transpose swaps the last two (use reshape for vectors)",
                 [] { transpose(Tensor::zeros({3})); }});
    c.push_back({"shape_error", "index_add: axis 0 of shape (2,2) has 2 entries but 3 indices were given", [] {
                     index_add(Tensor::zeros({2, 2}), 0, {0, 1, 2}, 3);
                 }});
    c.push_back({"shape_error", "softmax: needs at least one axis but the input is a scalar; reshape it to (1)",
                 [] { softmax(Tensor::scalar(1.0)); }});
    c.push_back({"shape_error", "Tensor::from: row 1 has 2 values but row 0 has 3; all rows need equal length", [] {
                     Tensor::from({{1.0, 2.0, 3.0}, {4.0, 5.0}});
                 }});
    c.push_back({"shape_error", "Tensor::from: 2 values do not fill shape (3) (3 elements)", [] {
                     Tensor::from(std::vector<double>{1, 2}, {3});
                 }});
    c.push_back({"shape_error",
                 "shape (4294967296,4294967296) has more elements than a size_t can count; was a negative size "
                 "converted to size_t?",
                 [] {
                     Tensor::zeros({std::size_t{1} << 32, std::size_t{1} << 32});
                 }});
    c.push_back({"shape_error",
                 "item: the array has shape (2,3) but item() needs exactly one element; reduce it first (e.g. sum)",
                 [=] { m23.item(); }});
    c.push_back({"shape_error",
                 "backward: seed 0 has shape (3) but its tensor has shape (2,3); pass a seed of the same shape", [] {
                     (Tensor::zeros({2, 3}).requires_grad() * 2.0).backward(Tensor::ones({3}));
                 }});
    c.push_back({"shape_error",
                 "reverse_sweep: seed 0 has shape (2,3) but its tensor has shape (2,3); a batch of k directions needs "
                 "shape (k,2,3)",
                 [] {
                     const Tensor x = Tensor::zeros({2, 3}).requires_grad();
                     reverse_sweep({x * 2.0}, {Tensor::ones({2, 3})}, {x});
                 }});
    c.push_back({"shape_error", "jvp: the tangent has shape (2) but must match the shape (3) it pairs with",
                 [] { jvp([](const Tensor& v) { return v * 2.0; }, Tensor::zeros({3}), Tensor::zeros({2})); }});
    c.push_back({"shape_error", "vjp pullback: a batch of cotangents needs shape (k,3) but got (3)", [] {
                     const auto pull = vjp([](const Tensor& v) { return v * 2.0; }, Tensor::zeros({3})).second;
                     pull.batched(Tensor::zeros({3}));
                 }});
    c.push_back({"shape_error",
                 "grad: the function returned shape (3) but grad needs a one-element output; reduce it (e.g. sum) or "
                 "use vjp/jacrev",
                 [] { grad([](const Tensor& v) { return v * 2.0; })(Tensor::zeros({3})); }});
    c.push_back({"shape_error", "linearize: the tangent must be float64 (2), got float64 (3)", [] {
                     linearize([](const Tensor& v) { return v * 2.0; }, Tensor::zeros({2}, f64))
                         .second(Tensor::zeros({3}, f64));
                 }});
    c.push_back({"shape_error",
                 "mse_loss: prediction (2,3) and target (2) differ; give targets of the prediction's shape (one_hot "
                 "for class labels)",
                 [=] { mse_loss(m23, Tensor::zeros({2})); }});
    c.push_back(
        {"shape_error",
         "cross_entropy: logits (2,3) and 1 labels do not fit; need logits (batch, classes) with one label per row",
         [=] { cross_entropy(m23, {0}); }});
    c.push_back(
        {"shape_error", "argmax_rows: needs (batch, classes), got (3)", [] { argmax_rows(Tensor::zeros({3})); }});
    c.push_back({"shape_error", "Linear(3 -> 2): input shape (4) does not end in 3 features; pass (batch, 3)", [] {
                     Generator gen(0);
                     Linear layer(3, 2, gen);
                     layer(Tensor::zeros({4}));
                 }});
    c.push_back({"shape_error",
                 "Conv2d(3 -> 4, 3x3, bias): input shape (2,1,5,5) is not (N, 3, H, W); pass a batch of 3-channel "
                 "images",
                 [] {
                     Generator gen(0);
                     Conv2d conv(3, 4, 3, gen);
                     conv(Tensor::zeros({2, 1, 5, 5}));
                 }});
    c.push_back({"shape_error",
                 "BatchNorm2d(3): input shape (4,2,2,2) is not (N, 3, H, W); use BatchNorm1d for features or a layer "
                 "of as many channels as the input has",
                 [] {
                     BatchNorm2d bn(3);
                     bn(Tensor::zeros({4, 2, 2, 2}));
                 }});
    c.push_back({"shape_error",
                 "BatchNorm1d(5): input shape (2,5,3) is not (N, 5); use BatchNorm2d for images or a layer of as many "
                 "channels as the input has",
                 [] {
                     BatchNorm1d bn(5);
                     bn(Tensor::zeros({2, 5, 3}));
                 }});
    c.push_back({"shape_error", "Flatten: input shape () has no batch axis; pass a batch (N, ...)", [] {
                     Flatten flatten;
                     flatten(Tensor::scalar(1.0));
                 }});
    c.push_back({"shape_error",
                 "Residual: the inner module maps (2,3,4,5) to (2,4,4,5), but x + inner(x) needs equal shapes; make "
                 "the block keep channels and size (e.g. 3x3 convolutions with padding 1)",
                 [] {
                     Generator gen(0);
                     Residual block(std::make_shared<Conv2d>(3, 4, 3, gen, 1, 1));
                     block(Tensor::zeros({2, 3, 4, 5}));
                 }});
    c.push_back({"shape_error",
                 "GRU(3 -> 4, layers 1, bias): input shape (2,3) is not (batch, steps, 3); pass a batch-first "
                 "sequence (batch, steps, 3)",
                 [] {
                     Generator gen(0);
                     GRU(RNNOptions(3, 4), gen).forward(Tensor::zeros({2, 3}), Tensor());
                 }});
    c.push_back({"shape_error",
                 "GRU(3 -> 4, layers 1, bias): input shape (2,0,3) has no steps; pass a sequence of at least one step",
                 [] {
                     Generator gen(0);
                     GRU(RNNOptions(3, 4), gen).forward(Tensor::zeros({2, 0, 3}), Tensor());
                 }});
    c.push_back(
        {"shape_error",
         "RNN(3 -> 4, layers 2, bias): initial state shape (1,2,4) does not fit input (2,5,3); pass h0 of "
         "shape (layers, batch, hidden) = (2,2,4) or none for zeros",
         [] {
             Generator gen(0);
             RNN(RNNOptions(3, 4).num_layers(2), gen).forward(Tensor::zeros({2, 5, 3}), Tensor::zeros({1, 2, 4}));
         }});
    c.push_back({"shape_error",
                 "GRUCell(3 -> 4, bias): input shape (3) is not (batch, 3); pass one step of a batch as (batch, 3)",
                 [] {
                     Generator gen(0);
                     GRUCell(3, 4, gen).forward(Tensor::zeros({3}));
                 }});
    c.push_back({"shape_error",
                 "GRUCell(3 -> 4, bias): state shape (3,4) does not fit input (2,3); pass a state of shape (2,4)", [] {
                     Generator gen(0);
                     GRUCell(3, 4, gen).forward(Tensor::zeros({2, 3}), Tensor::zeros({3, 4}));
                 }});
    c.push_back(
        {"shape_error",
         "gru_gates: gi (2,6), gh (2,6) and h (2,3) do not fit; pass gi and gh of shape (batch, 3·hidden) and h "
         "of shape (batch, hidden)",
         [] {
             gru_gates(Tensor::zeros({2, 6}), Tensor::zeros({2, 6}), Tensor::zeros({2, 3}));
         }});
    c.push_back({"shape_error",
                 "Rows: input shape (2,28,28) is not a batch of images (N, C, H, W); pass images, e.g. (N, 1, 28, 28)",
                 [] {
                     Rows rows;
                     rows(Tensor::zeros({2, 28, 28}));
                 }});
    c.push_back({"shape_error",
                 "LastStep: input shape (2,0,8) is not a batch of sequences (N, T, F) with T >= 1; pass a recurrent "
                 "layer's output",
                 [] {
                     LastStep last;
                     last(Tensor::zeros({2, 0, 8}));
                 }});
    c.push_back({"shape_error",
                 "TensorDataset: inputs (10,3) hold 10 samples but 9 labels were given; give one label per input row",
                 [] {
                     Dataset d;
                     d.images = Tensor::zeros({10, 3});
                     d.labels.assign(9, 0);
                     DataLoader(d, 4, false);
                 }});
    c.push_back({"shape_error",
                 "TensorDataset: inputs (4,3) and targets (5,1) hold different numbers of samples (4 vs 5 along the "
                 "first axis); give one target row per input row",
                 [] {
                     TensorDataset(Tensor::zeros({4, 3}), Tensor::zeros({5, 1}));
                 }});
    c.push_back({"shape_error",
                 "TensorDataset: the inputs are a scalar () with no sample axis; put the samples along the first "
                 "axis, e.g. (N, features)",
                 [] {
                     TensorDataset(Tensor::scalar(1.0), Tensor::zeros({4, 1}));
                 }});
    c.push_back({"shape_error",
                 "load_state_dict: 'weight' has shape (2,5) in the state dict but (2,4) in the Linear; load a state "
                 "dict saved from a model with the same layer sizes",
                 [] {
                     Generator gen(0);
                     Linear layer(4, 2, gen, false);
                     StateDict s;
                     s.insert("weight", Tensor::zeros({2, 5}));
                     layer.load_state_dict(s);
                 }});
    c.push_back(
        {"shape_error", "max_pool2d: input (4,4) is not a batch of images (N, C, H, W); reshape it to 4 axes", [] {
             max_pool2d(Tensor::zeros({4, 4}), 2);
         }});
    c.push_back(
        {"shape_error",
         "max_pool2d: kernel (5, 2) is larger than the padded input (4, 4) of x (1,2,4,4); use a smaller kernel "
         "or more padding",
         [] {
             max_pool2d(Tensor::zeros({1, 2, 4, 4}), Size2(5, 2));
         }});
    c.push_back(
        {"shape_error", "batch_norm: input (2,3,4) is neither (N, C) nor (N, C, H, W); channels must be on axis 1", [] {
             batch_norm(Tensor::zeros({2, 3, 4}), Tensor(), Tensor(), Tensor(), Tensor(), true);
         }});
    c.push_back({"shape_error",
                 "batch_norm: weight (3) does not fit x (2,4,5,5) with 4 channels; running_mean, running_var, weight "
                 "and bias must each be (4)",
                 [] {
                     const Tensor c4 = Tensor::ones({4});
                     batch_norm(Tensor::zeros({2, 4, 5, 5}), c4, c4, Tensor::ones({3}), c4, false);
                 }});
    c.push_back({"shape_error",
                 "to_gray: expected a 2-D tensor (height, width), got (1,28,28); pass one image and channel", [] {
                     to_gray(Tensor::zeros({1, 28, 28}), GrayScale::min_max);
                 }});

    // ---- dtype_error ----
    c.push_back({"dtype_error",
                 "mul: operands have different dtypes float32 (3) and float64 (3); convert one with cast(x, adg::f32) "
                 "or cast(x, adg::f64)",
                 [] { Tensor::zeros({3}, f32) * Tensor::zeros({3}, f64); }});
    c.push_back({"dtype_error",
                 "conv2d: operands have different dtypes float32 (2,4,5,5) and float64 (6,2,3,3); convert one with "
                 "cast(x, adg::f32) or cast(x, adg::f64)",
                 [] {
                     conv2d(Tensor::zeros({2, 4, 5, 5}), Tensor::zeros({6, 2, 3, 3}, f64), Tensor(), 1, 0, 1, 2);
                 }});
    c.push_back({"dtype_error",
                 "load_state_dict: 'weight' is float64 in the state dict but float32 in the Linear; convert the entry "
                 "with cast(t, adg::f32) or build the model with float64 parameters",
                 [] {
                     Generator gen(0);
                     Linear layer(4, 2, gen, false);
                     StateDict s;
                     s.insert("weight", Tensor::zeros({2, 4}, f64));
                     layer.load_state_dict(s);
                 }});
    c.push_back({"dtype_error",
                 "GRU(3 -> 4, layers 1, bias): the input is float64 but the parameters are float32; convert it with "
                 "cast(x, adg::f32) or build the layer with dtype f64",
                 [] {
                     Generator gen(0);
                     GRU(RNNOptions(3, 4), gen).forward(Tensor::zeros({2, 5, 3}, f64), Tensor());
                 }});
    c.push_back({"dtype_error",
                 "Array::get: array holds float32 but float64 was requested; convert with cast(x, adg::f64) (Array::to "
                 "for arrays)",
                 [] { Tensor::zeros({3}, f32).data<double>(); }});
    c.push_back({"dtype_error",
                 "backward: seed 0 is float64 but its tensor is float32; convert the seed with cast(seed, adg::f32)",
                 [] { (Tensor::zeros({2}).requires_grad() * 2.0).backward(Tensor::ones({2}, f64)); }});
    c.push_back(
        {"dtype_error", "jvp: the tangent is float32 but its partner is float64; convert it with cast(v, adg::f64)",
         [] { jvp([](const Tensor& v) { return v * 2.0; }, Tensor::zeros({3}, f64), Tensor::zeros({3}, f32)); }});
    c.push_back({"dtype_error",
                 "linearize: the tangent must be float64 (2), got float32 (2); convert it with cast(v, adg::f64)", [] {
                     linearize([](const Tensor& v) { return v * 2.0; }, Tensor::zeros({2}, f64))
                         .second(Tensor::zeros({2}, f32));
                 }});
    c.push_back(
        {"dtype_error",
         "gradcheck: input 0 is float32; central differences need float64 inputs (cast them with cast(x, adg::f64))",
         [] {
             const MultiFn f = [](const std::vector<Tensor>& v) { return sum(v[0]); };
             gradcheck(f, {Tensor::zeros({3}, f32)});
         }});

    // ---- indexing, creation and in place (ops_index.cpp, creation.cpp, Tensor) ----
    c.push_back({"shape_error", "item: 1 index given for a tensor of shape (2,3); give one index per axis (2)", [] {
                     Tensor::zeros({2, 3}).item(1);
                 }});
    c.push_back({"shape_error",
                 "operator/=: the operand's shape (3,2) does not broadcast to the tensor's shape (2), which an "
                 "in-place change keeps; compute out of place (x = x + y)",
                 [] {
                     Tensor x = Tensor::zeros({2});
                     x /= Tensor::ones({3, 2});
                 }});
    c.push_back({"value_error", "select: index 2 is out of range for axis 0 of shape (2,3,4); valid: -2..1", [] {
                     Tensor::zeros({2, 3, 4})[2];
                 }});
    c.push_back({"value_error", "item: index 3 is out of range for axis 1 of shape (2,3); valid: -3..2", [] {
                     Tensor::zeros({2, 3}).item(0, 3);
                 }});
    c.push_back({"value_error", "arange: start 0, end 1 and step 0 must be finite, with a non-zero step",
                 [] { arange(0.0, 1.0, 0.0); }});
    c.push_back({"value_error",
                 "arange: a step of 1 never reaches end -1 from start 0; give the step the sign of end - start",
                 [] { arange(0.0, -1.0); }});
    c.push_back({"value_error",
                 "argmin: axis 1 of shape (0,16777218) has 16777218 entries, more than float32 indices count exactly "
                 "(16777217); cast the input to float64 first (cast(x, adg::f64))",
                 [] {
                     argmin(Tensor::zeros({0, (std::size_t{1} << 24) + 2}), 1);
                 }});
    c.push_back({"value_error",
                 "min: cannot reduce over the empty axis 1 of shape (2,0); a minimum needs at least one element per "
                 "slice",
                 [] {
                     min(Tensor::zeros({2, 0}), {1});
                 }});
    c.push_back({"value_error",
                 "argmax: axis 1 of shape (2,0) is empty, so it has no maximum to index; give a non-empty axis", [] {
                     argmax(Tensor::zeros({2, 0}), 1);
                 }});
    c.push_back({"graph_error",
                 "operator+=: this leaf requires grad and an in-place change is not recorded; change it under NoGrad "
                 "(as an optimizer step does), or change a copy (x.detach()) or compute out of place",
                 [] {
                     Tensor w = Tensor::zeros({2}).requires_grad();
                     w += 1.0;
                 }});
    c.push_back({"graph_error",
                 "operator*=: this tensor was made by 'mul_scalar' and is part of a recorded graph, whose rules read "
                 "its value; compute out of place (x = x + y) or change a new leaf (x = x.detach())",
                 [] {
                     Tensor r = Tensor::zeros({2}).requires_grad() * 2.0;
                     r *= 2.0;
                 }});
    c.push_back({"graph_error",
                 "operator+=: a running jvp carries a tangent on this tensor or the operand and an in-place change "
                 "would lose it; compute out of place (x = x + y)",
                 [] {
                     jvp(
                         [](const Tensor& x) {
                             Tensor y = x;
                             y += 1.0;
                             return y;
                         },
                         Tensor::zeros({2}), Tensor::ones({2}));
                 }});
    c.push_back({"graph_error",
                 "clip_grad_norm: the gradient of parameter 0 was recorded (backward with create_graph), and scaling "
                 "it in place would change a recorded graph; clip a detached copy or scale it out of place",
                 [] {
                     const Tensor x = Tensor::from({1.0, 2.0}, f64).requires_grad();
                     sum(x * x * x).backward(BackwardOptions{false, true});
                     // The recorded gradient refers to x through its graph: a cycle until it is dropped.
                     struct Forget {
                         Tensor t;
                         ~Forget() { t.zero_grad(); }
                     } forget{x};
                     clip_grad_norm({x}, 1.0);
                 }});
    c.push_back({"graph_error",
                 "operator-=: the right operand requires grad and an in-place change is not recorded; compute out of "
                 "place (x = x + y), or pass y.detach(), or run under NoGrad",
                 [] {
                     Tensor x = Tensor::zeros({2});
                     x -= Tensor::zeros({2}).requires_grad();
                 }});

    // ---- graph_error ----
    c.push_back({"graph_error",
                 "backward: the graph through 'sum' (its internal 'reshape') was released by an earlier reverse sweep; "
                 "pass retain_graph = true to the first backward()/sweep to sweep it again, or recompute the forward "
                 "pass (to use the value as a constant, detach() it)",
                 [] {
                     const Tensor x = Tensor::from({1.0, 2.0}).requires_grad();
                     const Tensor y = sum(tanh(x));
                     y.backward();
                     y.backward();
                 }});
    c.push_back({"graph_error",
                 "forward_sweep: the graph through 'sum' (its internal 'reshape') was released by an earlier reverse "
                 "sweep; pass retain_graph = true to the first backward()/sweep to sweep it again, or recompute the "
                 "forward pass (to use the value as a constant, detach() it)",
                 [] {
                     const Tensor x = Tensor::from({1.0, 2.0}).requires_grad();
                     const Tensor y = sum(tanh(x));
                     y.backward();
                     forward_sweep({x}, {Tensor::ones({1, 2})}, {y});
                 }});
    c.push_back({"graph_error",
                 "backward: the output has shape (2,3); backward() without a seed needs a one-element output. Reduce "
                 "it (e.g. sum) or pass a seed of shape (2,3): y.backward(seed)",
                 [] {
                     (Tensor::zeros({2, 3}).requires_grad() * 2.0).backward();
                 }});
    c.push_back({"graph_error",
                 "backward: output 0 does not require grad: no input of it was marked requires_grad(), or it was "
                 "computed under NoGrad",
                 [] { Tensor::zeros({1}).backward(); }});
    c.push_back({"graph_error",
                 "requires_grad: only leaf tensors can be marked, but this one was made by 'mul_scalar'; use "
                 "detach().requires_grad() to start a new leaf from its value",
                 [] { (Tensor::zeros({1}).requires_grad() * 2.0).requires_grad(); }});
    c.push_back(
        {"graph_error",
         "grad: no gradient has been accumulated in this leaf yet; call backward() on an output that depends on it",
         [] { Tensor::zeros({1}).requires_grad().grad(); }});
    c.push_back({"graph_error",
                 "grad: no gradient has been accumulated in this leaf: it does not require grad; mark it with "
                 "requires_grad() before the forward pass",
                 [] { Tensor::zeros({1}).grad(); }});
    c.push_back({"graph_error",
                 "grad: no gradient has been accumulated in this 'mul_scalar' result (only leaves accumulate grad)",
                 [] {
                     const Tensor x = Tensor::zeros({1}).requires_grad();
                     const Tensor y = x * 2.0;
                     sum(y).backward();
                     y.grad();
                 }});
    c.push_back({"graph_error",
                 "value: the tensor is undefined (default-constructed or moved from); assign it a value first",
                 [] { Tensor().value(); }});
    c.push_back({"graph_error",
                 "mutable_value: only leaves can be updated in place, but this tensor was made by 'mul_scalar'; update "
                 "the leaves it was computed from and run the forward pass again",
                 [] { (Tensor::zeros({1}).requires_grad() * 2.0).mutable_value(); }});
    c.push_back({"graph_error",
                 "in the VJP rule of 'off_graph' (backward): the JVP of custom function 'off_graph' does not depend on "
                 "the tangent of input 0 as recorded (it was computed off the graph: from raw arrays or under NoGrad), "
                 "so reverse mode cannot transpose it and would give zero gradients; write the JVP with adgraph ops "
                 "on t, or give the function a vjp",
                 [] {
                     CustomFunction f;
                     f.name = "off_graph";
                     f.forward = [](const std::vector<Tensor>& x) { return x[0] * 2.0; };
                     f.jvp = [](const std::vector<Tensor>&, const Tensor&, const std::vector<Tensor>& t) {
                         return Tensor(t[0].value().clone());  // a raw array: not recorded
                     };
                     sum(call(f, {Tensor::from({1.0, 2.0}).requires_grad()})).backward();
                 }});
    c.push_back({"graph_error",
                 "reverse_sweep: input 0 does not require grad, so no op recorded its use; mark it with "
                 "requires_grad() before running the function",
                 [] {
                     const Tensor x = Tensor::zeros({2});
                     reverse_sweep({x * 2.0}, {Tensor::ones({1, 2})}, {x});
                 }});
    c.push_back({"graph_error", "in the VJP rule of 'my_op' (backward): the VJP is not written yet", [] {
                     CustomFunction f = custom("my_op");
                     f.vjp = [](const std::vector<Tensor>&, const Tensor&, const Tensor&, std::size_t) -> Tensor {
                         throw std::runtime_error("the VJP is not written yet");
                     };
                     sum(call(f, {Tensor::zeros({2}, f64).requires_grad()})).backward();
                 }});
    c.push_back({"graph_error",
                 "in the JVP rule of 'my_op' (forward_sweep): the rule returned float64 (1,1) where float64 (1,2) was "
                 "expected; fix the rule (its result carries a leading axis of k directions, here k = 1)",
                 [] {
                     CustomFunction f = custom("my_op");
                     f.jvp = [](const std::vector<Tensor>&, const Tensor&, const std::vector<Tensor>& t) {
                         return sum(t[0], {-1}, true);
                     };
                     const Tensor x = Tensor::zeros({2}, f64).requires_grad();
                     forward_sweep({x}, {Tensor::ones({1, 2}, f64)}, {call(f, {x})});
                 }});

    // ---- value_error ----
    c.push_back({"value_error", "conv2d: stride 1x0 has a zero; pass stride of at least 1 along both axes", [] {
                     conv2d(Tensor::zeros({2, 4, 5, 5}), Tensor::zeros({6, 2, 3, 3}), Tensor(), {1, 0}, 0, 1, 2);
                 }});
    c.push_back({"value_error", "conv2d: dilation 0x0 has a zero; pass dilation of at least 1 along both axes", [] {
                     conv2d(Tensor::zeros({2, 4, 5, 5}), Tensor::zeros({6, 2, 3, 3}), Tensor(), 1, 0, 0, 2);
                 }});
    c.push_back({"value_error", "conv2d: groups is 0; pass groups of at least 1 (1: an ordinary convolution)", [] {
                     conv2d(Tensor::zeros({2, 4, 5, 5}), Tensor::zeros({6, 2, 3, 3}), Tensor(), 1, 0, 1, 0);
                 }});
    c.push_back(
        {"value_error",
         "conv2d: stride 1x1, padding 4294967296x0 and dilation 1x1 must each be at most 2147483648; pass "
         "smaller values",
         [] {
             conv2d(Tensor::zeros({1, 1, 3, 3}), Tensor::zeros({1, 1, 3, 3}), Tensor(), 1, {std::size_t{1} << 32, 0});
         }});
    c.push_back({"value_error",
                 "conv2d: stride 0x1, dilation 1x1 and groups 1 must each be at least 1; pass positive values", [] {
                     kernels::conv2d(Array::zeros({2, 4, 5, 5}, f32), Array::zeros({6, 4, 3, 3}, f32), nullptr,
                                     {0, 1, 0, 0, 1, 1, 1});
                 }});
    c.push_back({"value_error", "max_pool2d: kernel (0, 2) has a side of 0; use a kernel of at least 1 by 1", [] {
                     max_pool2d(Tensor::zeros({1, 1, 4, 4}), Size2(0, 2));
                 }});
    c.push_back({"value_error",
                 "avg_pool2d: stride (1, 0) has a side of 0; use a stride of at least 1 (or none: it defaults to the "
                 "kernel)",
                 [] {
                     avg_pool2d(Tensor::zeros({1, 1, 4, 4}), 2, Size2(1, 0));
                 }});
    c.push_back({"value_error",
                 "max_pool2d: padding (1, 2) is more than half the kernel (3, 3); use padding of at most kernel / 2 on "
                 "each axis",
                 [] {
                     max_pool2d(Tensor::zeros({1, 1, 4, 4}), 3, std::nullopt, Size2(1, 2));
                 }});
    c.push_back({"value_error",
                 "batch_norm: training needs more than 1 value per channel, but x (1,3) has 1; use a batch of at least "
                 "2 samples (or evaluation mode)",
                 [] {
                     batch_norm(Tensor::zeros({1, 3}), Tensor(), Tensor(), Tensor(), Tensor(), true);
                 }});
    c.push_back({"value_error",
                 "batch_norm: evaluation mode normalises with running_mean and running_var, but running_var is "
                 "undefined; pass both (or use training mode)",
                 [] {
                     batch_norm(Tensor::zeros({2, 3}), Tensor::zeros({3}), Tensor(), Tensor(), Tensor(), false);
                 }});
    c.push_back(
        {"value_error", "sum: axis 2 is out of range for a tensor of rank 2 (valid: -2 .. 1)", [=] { sum(m23, {2}); }});
    c.push_back({"value_error", "sum: axes (1,-1) name axis 1 of a tensor of rank 2 twice; list each axis once", [=] {
                     sum(m23, {1, -1});
                 }});
    c.push_back({"value_error",
                 "sum: axis 0 does not exist: the tensor is a scalar (rank 0), which has no axes; reshape it to (1)",
                 [] { sum(Tensor::scalar(1.0), {0}); }});
    c.push_back({"value_error",
                 "slice: range [2, 5) does not fit axis 1 of size 3 in shape (2,3); need start <= stop <= size",
                 [=] { slice(m23, 1, 2, 5); }});
    c.push_back(
        {"value_error",
         "pad: 3 entries at offset 2 do not fit in length 4 (axis 0 of shape (3)); need offset + entries <= length",
         [] { pad(Tensor::zeros({3}), 0, 2, 4); }});
    c.push_back({"value_error", "index_select: index 2 is out of range for axis 0 of size 2 in shape (2,3)", [=] {
                     index_select(m23, 0, {0, 2});
                 }});
    c.push_back({"value_error", "index_add: index 7 is out of range for size 3", [] {
                     index_add(Tensor::zeros({2}), 0, {0, 7}, 3);
                 }});
    c.push_back({"value_error", "one_hot: label 3 at position 1 is out of range for 3 classes (valid: 0..2)", [] {
                     one_hot({1, 3}, 3);
                 }});
    c.push_back({"value_error",
                 "one_hot: classes is 0, so none of the 2 labels has a column; pass the number of classes (at least 1)",
                 [] {
                     one_hot({0, 1}, 0);
                 }});
    c.push_back(
        {"value_error", "permute: the permutation must list each of the 2 axes of shape (2,3) exactly once", [=] {
             permute(m23, {0, 0});
         }});
    c.push_back({"value_error", "concat: needs at least one tensor", [] { concat({}, 0); }});
    c.push_back({"value_error",
                 "log_softmax: cannot reduce over the empty axis 1 of shape (2,0); a maximum (and so softmax and "
                 "logsumexp) needs at least one element per slice",
                 [] {
                     log_softmax(Tensor::zeros({2, 0}), -1);
                 }});
    c.push_back(
        {"value_error", "clamp: lo = 1 is above hi = -1; pass lo <= hi", [] { clamp(Tensor::zeros({2}), 1.0, -1.0); }});
    c.push_back({"value_error", "uniform: the interval [1, 1) is empty; pass lo < hi", [] {
                     Generator gen(0);
                     Tensor::uniform({2}, 1.0, 1.0, gen);
                 }});
    c.push_back({"value_error", "normal: std must be > 0 (got -0.5)", [] {
                     Generator gen(0);
                     Tensor::normal({2}, 0.0, -0.5, gen);
                 }});
    c.push_back({"value_error",
                 "uniform: lo = -inf is not a finite float32; U(lo, hi) needs finite lo < hi within float32's range "
                 "(±3.4028235e+38)",
                 [] {
                     Generator gen(0);
                     Tensor::uniform({2}, -std::numeric_limits<double>::infinity(),
                                     std::numeric_limits<double>::infinity(), gen);
                 }});
    c.push_back({"value_error",
                 "uniform: the interval [-1e+308, 1e+308) is inf wide, beyond float64's range "
                 "(±1.7976931348623157e+308); pass a narrower interval (hi - lo at most 1.7976931348623157e+308)",
                 [] {
                     Generator gen(0);
                     Tensor::uniform({2}, -1e308, 1e308, gen, f64);
                 }});
    c.push_back({"value_error",
                 "uniform: the interval [1e+16, 10000000000000004) is empty in float32, where lo and hi both round "
                 "to 10000000272564224; pass ends further apart, or use float64",
                 [] {
                     Generator gen(0);
                     Tensor::uniform({2}, 1e16, 1e16 + 4, gen);
                 }});
    c.push_back({"value_error",
                 "normal: mean = 0 and std = 3e+38 would draw values beyond float32's range (±3.4028235e+38), which "
                 "become inf; keep |mean| + 40 std within it, or use float64",
                 [] {
                     Generator gen(0);
                     Tensor::normal({2}, 0.0, 3e38, gen);
                 }});
    c.push_back({"value_error",
                 "normal: mean = 1e+300 is not a finite float32; N(mean, std²) needs a finite mean and std > 0 "
                 "within float32's range (±3.4028235e+38)",
                 [] {
                     Generator gen(0);
                     Tensor::normal({2}, 1e300, 1.0, gen);
                 }});
    c.push_back({"value_error",
                 "Tensor::full: value = 1e+300 is beyond float32's range (±3.4028235e+38) and would become inf; pass "
                 "a value within it (or inf itself if that is meant), or use float64",
                 [] { Tensor::full({2}, 1e300); }});
    c.push_back({"value_error",
                 "Tensor::from: element 1 = -1e+39 is beyond float32's range (±3.4028235e+38) and would become -inf; "
                 "pass a value within it (or inf itself if that is meant), or use float64",
                 [] {
                     Tensor::from({0.0, -1e39});
                 }});
    c.push_back({"value_error",
                 "one_hot: shape (1,4611686018427387904) of float32 needs more than 18446744073709551615 bytes, more "
                 "than one array can hold (9223372036854775807); check the sizes (a negative size converted to size_t "
                 "becomes huge)",
                 [] { one_hot({0}, std::size_t{1} << 62); }});
    c.push_back({"value_error",
                 "Tensor::zeros: shape (2305843009213693952) of float32 needs 9223372036854775808 bytes, more than one "
                 "array can hold (9223372036854775807); check the sizes (a negative size converted to size_t becomes "
                 "huge)",
                 [] { Tensor::zeros({std::size_t{1} << 61}); }});
    c.push_back({"value_error",
                 "Tensor::zeros: out of memory for shape (1152921504606846976) of float32 (4611686018427387904 bytes); "
                 "use smaller sizes, free memory, or raise the memory limit (ulimit -v)",
                 [] { Tensor::zeros({std::size_t{1} << 60}); }});
    c.push_back({"value_error",
                 "confusion matrix: 4294967296 classes need 4294967296² counters, more than memory can address; pass "
                 "the real number of classes",
                 [] { ConfusionMatrix m(std::size_t{1} << 32); }});
    c.push_back({"value_error",
                 "init: the weight of a 1073741824 -> 1073741824 layer: uniform: out of memory for shape "
                 "(1073741824,1073741824) of float32 (4611686018427387904 bytes); use smaller sizes, free memory, or "
                 "raise the memory limit (ulimit -v)",
                 [] {
                     Generator gen(0);
                     Linear layer(std::size_t{1} << 30, std::size_t{1} << 30, gen);
                 }});
    c.push_back(
        {"value_error", "flat: index 5 is out of range for 3 elements", [] { Tensor::zeros({3}).value().flat(5); }});
    c.push_back(
        {"value_error",
         "anomaly: 'log' produced NaN in its output at element 0 of shape (2); the op was created at model.cpp:42", [] {
             DetectAnomaly on;
             log(Tensor::from({-1.0, 1.0}, f64), Site{"model.cpp", 42});
         }});
    c.push_back({"value_error",
                 "anomaly: 'mul' produced Inf in its output at element 0 of shape (1); the op was created at a call "
                 "without a recorded site (an operator such as * or +; the named function, e.g. mul, records one)",
                 [] {
                     DetectAnomaly on;
                     const Tensor big = Tensor::from({1e308}, f64);
                     big* big;
                 }});
    c.push_back({"value_error",
                 "in the VJP rule of 'sqrt' (backward): anomaly: 'rdiv_scalar' produced Inf in its output at element 0 "
                 "of shape (2); the op was created at model.cpp:42",
                 [] {
                     const Tensor x = Tensor::from({0.0, 1.0}, f64).requires_grad();
                     const Tensor y = sum(sqrt(x, Site{"model.cpp", 42}));
                     DetectAnomaly on;
                     y.backward();
                 }});
    c.push_back({"value_error",
                 "in the JVP rule of 'sqrt' (forward_sweep): anomaly: 'rdiv_scalar' produced Inf in its output at "
                 "element 0 of shape (2); the op was created at model.cpp:42",
                 [] {
                     const Tensor x = Tensor::from({0.0, 1.0}, f64).requires_grad();
                     const Tensor y = sum(sqrt(x, Site{"model.cpp", 42}));
                     DetectAnomaly on;
                     forward_sweep({x}, {Tensor::ones({1, 2}, f64)}, {y});
                 }});
    c.push_back({"shape_error",
                 "in the VJP rule of 'my_op' (backward): mul: shapes (1,2) and (3) cannot be broadcast together (axis "
                 "-1: 2 vs 3); sizes must be equal or 1 — reshape or broadcast_to one operand first",
                 [] {
                     CustomFunction f = custom("my_op");
                     f.vjp = [](const std::vector<Tensor>&, const Tensor&, const Tensor& ct, std::size_t) {
                         return ct * Tensor::ones({3}, f64);
                     };
                     sum(call(f, {Tensor::zeros({2}, f64).requires_grad()})).backward();
                 }});
    c.push_back({"value_error", "reverse_sweep: 1 output but 2 seeds; pass one seed per output", [] {
                     const Tensor x = Tensor::zeros({2}).requires_grad();
                     reverse_sweep({x * 2.0}, {Tensor::ones({1, 2}), Tensor::ones({1, 2})}, {x});
                 }});
    c.push_back({"value_error", "reverse_sweep: seed 0 is undefined", [] {
                     const Tensor x = Tensor::zeros({2}).requires_grad();
                     reverse_sweep({x * 2.0}, {Tensor()}, {x});
                 }});
    c.push_back({"value_error", "jvp: 1 input but 0 tangents; pass one tangent per input", [] {
                     const MultiFn f = [](const std::vector<Tensor>& v) { return v[0]; };
                     jvp(f, {Tensor::zeros({2})}, {});
                 }});
    c.push_back({"value_error",
                 "grad: an input is undefined (default-constructed or moved from); pass tensors with values",
                 [] { grad([](const Tensor& v) { return v; })(Tensor()); }});
    c.push_back({"value_error", "reverse_sweep: no outputs given; pass at least one output",
                 [] { reverse_sweep({}, {}, {}); }});
    // argnums: f of (x, W), with a non-tensor third argument.
    const auto two = [](const Tensor& x, const Tensor& W, double s) { return sum(matmul(W, x)) * s; };
    c.push_back({"value_error",
                 "grad: argnums position 3 is out of range for a function of 3 arguments; use positions 0 to 2", [two] {
                     grad(two, argnums(0, 3))(Tensor::zeros({2}), Tensor::zeros({2, 2}), 1.0);
                 }});
    c.push_back({"value_error", "hessian: argnums names position 1 twice; name each argument once", [two] {
                     hessian(two, argnums(1, 0, 1))(Tensor::zeros({2}), Tensor::zeros({2, 2}), 1.0);
                 }});
    c.push_back({"value_error", "jacfwd: argnums is empty; name at least one argument to differentiate", [two] {
                     jacfwd(two, argnums())(Tensor::zeros({2}), Tensor::zeros({2, 2}), 1.0);
                 }});
    c.push_back({"value_error",
                 "jacrev: argnums position 2 is not a Tensor argument; differentiate with respect to tensors only "
                 "(other arguments are passed through as constants)",
                 [two] {
                     jacrev(two, 2)(Tensor::zeros({2}), Tensor::zeros({2, 2}), 1.0);
                 }});
    c.push_back({"value_error", "grad: the function returned an undefined tensor",
                 [] { grad([](const Tensor&) { return Tensor(); })(Tensor::zeros({1})); }});
    c.push_back({"value_error", "custom function 'half': needs a forward and a jvp rule (the vjp is optional)", [] {
                     CustomFunction f;
                     f.name = "half";
                     call(f, {Tensor::zeros({1})});
                 }});
    c.push_back({"value_error", "custom function 'my_op': forward returned an undefined tensor", [] {
                     CustomFunction f = custom("my_op");
                     f.forward = [](const std::vector<Tensor>&) { return Tensor(); };
                     call(f, {Tensor::zeros({1})});
                 }});
    c.push_back({"value_error", "init: unknown initialisation 'glorot'; choose uniform, xavier or he",
                 [] { parse_init("glorot"); }});
    c.push_back({"value_error", "init: a weight needs fan_in and fan_out > 0 (got 0 and 3)", [] {
                     Generator gen(0);
                     init_weight(0, 3, Init::he, gen);
                 }});
    c.push_back({"value_error", "Dropout: p must be in [0, 1) (got 1)", [] { Dropout(1.0); }});
    c.push_back({"value_error", "SGD: lr must be a finite number > 0 (got -0.001); pass SGDOptions(lr) with lr > 0",
                 [] { SGD({Tensor::zeros({1}).requires_grad()}, SGDOptions(-0.001)); }});
    c.push_back(
        {"value_error", "SGD: set_lr: the learning rate must be a finite number >= 0 (got -1); pass a rate >= 0", [] {
             SGD sgd({Tensor::zeros({1}).requires_grad()}, SGDOptions(0.1));
             sgd.set_lr(-1);
         }});
    c.push_back({"value_error",
                 "SGD: momentum must be in [0, 1) (got 1); pass SGDOptions(lr).momentum(m) with 0 <= m < 1",
                 [] { SGD({Tensor::zeros({1}).requires_grad()}, SGDOptions(0.1).momentum(1.0)); }});
    c.push_back({"value_error",
                 "SGD: dampening must be in [0, 1] (got 2); pass SGDOptions(lr).dampening(d) with 0 <= d <= 1",
                 [] { SGD({Tensor::zeros({1}).requires_grad()}, SGDOptions(0.1).momentum(0.9).dampening(2)); }});
    c.push_back({"value_error",
                 "SGD: weight_decay must be a finite number >= 0 (got -1); pass SGDOptions(lr).weight_decay(w) with "
                 "w >= 0",
                 [] { SGD({Tensor::zeros({1}).requires_grad()}, SGDOptions(0.1).weight_decay(-1.0)); }});
    c.push_back({"value_error",
                 "SGD: nesterov needs momentum > 0 and dampening 0 (got momentum 0, dampening 0); pass "
                 "SGDOptions(lr).momentum(m).nesterov(true) with m > 0",
                 [] { SGD({Tensor::zeros({1}).requires_grad()}, SGDOptions(0.1).nesterov(true)); }});
    c.push_back({"value_error",
                 "Adam: betas must be in [0, 1) (got (0.9, 1)); pass AdamOptions(lr).betas({b1, b2}) with 0 <= b1, "
                 "b2 < 1",
                 [] {
                     Adam({Tensor::zeros({1}).requires_grad()}, AdamOptions().betas({0.9, 1.0}));
                 }});
    c.push_back({"value_error", "Adam: eps must be a finite number > 0 (got 0); pass AdamOptions(lr).eps(e) with e > 0",
                 [] { Adam({Tensor::zeros({1}).requires_grad()}, AdamOptions().eps(0)); }});
    c.push_back({"value_error",
                 "AdamW: weight_decay must be a finite number >= 0 (got -0.1); pass AdamWOptions(lr).weight_decay(w) "
                 "with w >= 0",
                 [] { AdamW({Tensor::zeros({1}).requires_grad()}, AdamWOptions().weight_decay(-0.1)); }});
    c.push_back({"value_error",
                 "SGD: no parameters to optimize; pass module.parameters() or a non-empty list of tensors",
                 [] { SGD(std::vector<Tensor>{}, SGDOptions(0.1)); }});
    c.push_back({"value_error",
                 "Adam: parameter '1' is undefined (default-constructed or moved from); pass tensors with values", [] {
                     Adam({Tensor::zeros({1}).requires_grad(), Tensor()});
                 }});
    c.push_back({"value_error",
                 "SGD: parameter '0' is not a leaf (it was made by mul); pass the leaf tensors it is computed from",
                 [] {
                     const Tensor w = Tensor::ones({2}).requires_grad();
                     SGD({w * w}, SGDOptions(0.1));
                 }});
    c.push_back({"value_error",
                 "SGD: parameter 'w' does not require grad, so it would never be updated; call requires_grad() on it "
                 "or leave it out",
                 [] {
                     SGD({{"w", Tensor::zeros({1})}}, SGDOptions(0.1));
                 }});
    c.push_back(
        {"value_error", "AdamW: parameter '2' is the same tensor as parameter '0'; pass each parameter once", [] {
             const Tensor w = Tensor::ones({2}).requires_grad(), b = Tensor::ones({1}).requires_grad();
             AdamW({w, b, w});
         }});
    c.push_back({"value_error", "StepLR: step_size must be > 0 (got 0); pass the number of steps between decays", [] {
                     SGD sgd({Tensor::zeros({1}).requires_grad()}, SGDOptions(0.1));
                     StepLR(sgd, 0);
                 }});
    c.push_back({"value_error",
                 "StepLR: gamma must be a finite number > 0 (got -0.5); pass the factor applied every step_size "
                 "steps, e.g. 0.1",
                 [] {
                     SGD sgd({Tensor::zeros({1}).requires_grad()}, SGDOptions(0.1));
                     StepLR(sgd, 10, -0.5);
                 }});
    c.push_back(
        {"value_error", "CosineAnnealingLR: t_max must be > 0 (got 0); pass the number of steps to anneal over", [] {
             SGD sgd({Tensor::zeros({1}).requires_grad()}, SGDOptions(0.1));
             CosineAnnealingLR(sgd, 0);
         }});
    c.push_back({"value_error", "CosineAnnealingLR: warmup 20 is longer than t_max 10; pass warmup <= t_max", [] {
                     SGD sgd({Tensor::zeros({1}).requires_grad()}, SGDOptions(0.1));
                     CosineAnnealingLR(sgd, 10, 0.0, 20);
                 }});
    c.push_back({"value_error",
                 "CosineAnnealingLR: eta_min must be a finite number >= 0 (got -0.1); pass the lowest rate, e.g. 0",
                 [] {
                     SGD sgd({Tensor::zeros({1}).requires_grad()}, SGDOptions(0.1));
                     CosineAnnealingLR(sgd, 10, -0.1);
                 }});
    c.push_back({"value_error",
                 "clip_grad_norm: max_norm must be a finite number > 0 (got 0); pass the largest total gradient norm "
                 "to allow, e.g. 5",
                 [] { clip_grad_norm({}, 0.0); }});
    c.push_back({"value_error",
                 "clip_grad_norm: norm_type must be a number > 0 or INFINITY (got -1); pass 2 for the Euclidean norm",
                 [] { clip_grad_norm({}, 1.0, -1.0); }});
    c.push_back({"value_error",
                 "clip_grad_norm: the gradient of parameter 1 (1) holds NaN or infinity, so the total norm is not "
                 "finite (nothing was scaled); find the op that made it with anomaly mode, or lower the learning rate",
                 [] {
                     const Tensor w = Tensor::from({1.0, 2.0}).requires_grad(), b = Tensor::from({1.0}).requires_grad();
                     (sum(w) + sum(b * std::numeric_limits<double>::infinity())).backward();
                     clip_grad_norm({w, b}, 1.0);
                 }});
    c.push_back({"value_error", "set_num_threads: -1 is not a thread count; pass 0 (one per core) to 4096",
                 [] { set_num_threads(-1); }});
    c.push_back({"value_error",
                 "ADGRAPH_NUM_THREADS='two' is not a thread count: set a whole number from 0 (one per core) to 4096, "
                 "or unset it",
                 [] { adg::detail::parse_thread_count("two"); }});
    c.push_back({"value_error", "schedule 'linear' is unknown; choose constant, step or cosine",
                 [] { check_schedule_name("linear"); }});
    c.push_back({"value_error", "activation 'swish' is unknown; choose relu, leaky_relu, tanh or sigmoid", [] {
                     Generator gen(0);
                     Sequential::mlp("4-2", gen, {"swish"});
                 }});
    c.push_back(
        {"value_error",
         "model spec '784--10': empty layer size at character 4; write layer sizes joined by '-', e.g. 784-256-128-10",
         [] { parse_mlp_spec("784--10"); }});
    c.push_back(
        {"value_error",
         "model spec '784-x-10': 'x' is not a whole number; write layer sizes joined by '-', e.g. 784-256-128-10",
         [] { parse_mlp_spec("784-x-10"); }});
    c.push_back({"value_error",
                 "model spec '784-12345678-10': layer size 12345678 is too large (max 9999999); write layer sizes "
                 "joined by '-', e.g. 784-256-128-10",
                 [] { parse_mlp_spec("784-12345678-10"); }});
    c.push_back(
        {"value_error",
         "model spec '784-0-10': layer sizes must be positive; write layer sizes joined by '-', e.g. 784-256-128-10",
         [] { parse_mlp_spec("784-0-10"); }});
    c.push_back({"value_error",
                 "model spec '784': needs at least an input and an output size; write layer sizes joined by '-', e.g. "
                 "784-256-128-10",
                 [] { parse_mlp_spec("784"); }});
    c.push_back({"value_error",
                 "Sequential::mlp: model spec '784-9999999-10' with float32 parameters needs about 31.8 GB "
                 "(31799996860 bytes) of memory but 8.0 GB (8000000000 bytes) are available (physical memory); use "
                 "smaller layer sizes",
                 [] {
                     // The limit is given so that the message does not depend on the machine; Sequential::mlp
                     // passes memory_limit().
                     check_fits_in_memory("Sequential::mlp: model spec '784-9999999-10' with float32 parameters",
                                          mlp_memory_bytes({784, 9999999, 10}, 0, 0), "use smaller layer sizes",
                                          MemoryLimit{8000000000, "physical memory"});
                 }});
    c.push_back({"value_error", "Conv2d(0 -> 4, 3x3): channels and kernel sizes must be positive", [] {
                     Generator gen(0);
                     Conv2d(0, 4, 3, gen);
                 }});
    c.push_back({"value_error", "Conv2d(3 -> 4, 3x3): stride and dilation must be positive", [] {
                     Generator gen(0);
                     Conv2d(3, 4, 3, gen, 0);
                 }});
    c.push_back({"value_error", "Conv2d(3 -> 4, 3x3): groups 2 must divide both channel counts; pass groups = 1", [] {
                     Generator gen(0);
                     Conv2d(3, 4, 3, gen, 1, 0, 1, 2);
                 }});
    c.push_back({"value_error", "MaxPool2d(0x0): kernel and stride must be positive (got kernel 0x0, stride 0x0)",
                 [] { MaxPool2d pool(0); }});
    c.push_back({"value_error", "AvgPool2d(2x2): padding 2x2 is more than half the kernel; pass padding at most 1x1",
                 [] { AvgPool2d pool(2, std::nullopt, 2); }});
    c.push_back({"value_error", "BatchNorm2d(0): the number of channels must be positive", [] { BatchNorm2d bn(0); }});
    c.push_back(
        {"value_error", "BatchNorm1d(4): momentum must be in [0, 1] (got 1.5)", [] { BatchNorm1d bn(4, 1.5); }});
    c.push_back(
        {"value_error", "BatchNorm2d(4): eps must be a positive number (got 0)", [] { BatchNorm2d bn(4, 0.1, 0.0); }});
    c.push_back({"value_error", "Residual: the inner module is null; pass a module", [] { Residual block(nullptr); }});
    c.push_back({"value_error",
                 "GRU(0 -> 4, layers 1, bias): input size, hidden size and number of layers must be positive", [] {
                     Generator gen(0);
                     GRU(RNNOptions(0, 4), gen);
                 }});
    c.push_back({"value_error", "GRUCell(3 -> 0, bias): input and hidden sizes must be positive", [] {
                     Generator gen(0);
                     GRUCell(3, 0, gen);
                 }});
    c.push_back({"value_error",
                 "model spec 'conv32k3,foo,linear10': unknown layer 'foo'; write layers joined by ',' from "
                 "conv<out>k<kernel>[s<stride>][p<padding>], maxpool<k>[s<stride>][p<padding>], "
                 "avgpool<k>[s<stride>][p<padding>], bn, relu, leaky_relu, tanh, sigmoid, flatten, linear<out>, "
                 "dropout[<p>], res(<layers>), rows, rnn<hidden>[x<layers>], gru<hidden>[x<layers>], last, e.g. "
                 "conv32k3p1,bn,relu,maxpool2,flatten,linear10 or rows,gru128,last,linear10; or name a preset, cnn or "
                 "gru; or give MLP sizes joined by '-', e.g. 784-256-128-10",
                 [] { plan_model("conv32k3,foo,linear10"); }});
    c.push_back(
        {"value_error",
         "model spec 'conv32,linear10': layer 'conv32' lacks its kernel size (k<kernel>, e.g. conv32k3p1); write "
         "layers joined by ',' from conv<out>k<kernel>[s<stride>][p<padding>], maxpool<k>[s<stride>][p<padding>], "
         "avgpool<k>[s<stride>][p<padding>], bn, relu, leaky_relu, tanh, sigmoid, flatten, linear<out>, dropout[<p>], "
         "res(<layers>), rows, rnn<hidden>[x<layers>], gru<hidden>[x<layers>], last, e.g. "
         "conv32k3p1,bn,relu,maxpool2,flatten,linear10 or rows,gru128,last,linear10; or name a preset, cnn or gru; or "
         "give MLP sizes joined by '-', e.g. 784-256-128-10",
         [] { plan_model("conv32,linear10"); }});
    c.push_back({"value_error",
                 "model spec 'convk3,linear10': layer 'convk3' lacks its number of output channels; write layers "
                 "joined by ',' from conv<out>k<kernel>[s<stride>][p<padding>], maxpool<k>[s<stride>][p<padding>], "
                 "avgpool<k>[s<stride>][p<padding>], bn, relu, leaky_relu, tanh, sigmoid, flatten, linear<out>, "
                 "dropout[<p>], res(<layers>), rows, rnn<hidden>[x<layers>], gru<hidden>[x<layers>], last, e.g. "
                 "conv32k3p1,bn,relu,maxpool2,flatten,linear10 or rows,gru128,last,linear10; or name a preset, cnn or "
                 "gru; or give MLP sizes joined by '-', e.g. 784-256-128-10",
                 [] { plan_model("convk3,linear10"); }});
    c.push_back(
        {"value_error",
         "model spec 'conv0k3,flatten,linear10': layer 'conv0k3': number of output channels must be positive; write "
         "layers joined by ',' from conv<out>k<kernel>[s<stride>][p<padding>], maxpool<k>[s<stride>][p<padding>], "
         "avgpool<k>[s<stride>][p<padding>], bn, relu, leaky_relu, tanh, sigmoid, flatten, linear<out>, dropout[<p>], "
         "res(<layers>), rows, rnn<hidden>[x<layers>], gru<hidden>[x<layers>], last, e.g. "
         "conv32k3p1,bn,relu,maxpool2,flatten,linear10 or rows,gru128,last,linear10; or name a preset, cnn or gru; or "
         "give MLP sizes joined by '-', e.g. 784-256-128-10",
         [] { plan_model("conv0k3,flatten,linear10"); }});
    c.push_back(
        {"value_error",
         "model spec 'linear12345678': layer 'linear12345678': number of outputs is too large (max 9999999); write "
         "layers joined by ',' from conv<out>k<kernel>[s<stride>][p<padding>], maxpool<k>[s<stride>][p<padding>], "
         "avgpool<k>[s<stride>][p<padding>], bn, relu, leaky_relu, tanh, sigmoid, flatten, linear<out>, dropout[<p>], "
         "res(<layers>), rows, rnn<hidden>[x<layers>], gru<hidden>[x<layers>], last, e.g. "
         "conv32k3p1,bn,relu,maxpool2,flatten,linear10 or rows,gru128,last,linear10; or name a preset, cnn or gru; or "
         "give MLP sizes joined by '-', e.g. 784-256-128-10",
         [] { plan_model("linear12345678"); }});
    c.push_back({"value_error",
                 "model spec 'conv8k3x,flatten,linear10': layer 'conv8k3x' has 'x' left over; write layers joined by "
                 "',' from conv<out>k<kernel>[s<stride>][p<padding>], maxpool<k>[s<stride>][p<padding>], "
                 "avgpool<k>[s<stride>][p<padding>], bn, relu, leaky_relu, tanh, sigmoid, flatten, linear<out>, "
                 "dropout[<p>], res(<layers>), rows, rnn<hidden>[x<layers>], gru<hidden>[x<layers>], last, e.g. "
                 "conv32k3p1,bn,relu,maxpool2,flatten,linear10 or rows,gru128,last,linear10; or name a preset, cnn or "
                 "gru; or give MLP sizes joined by '-', e.g. 784-256-128-10",
                 [] { plan_model("conv8k3x,flatten,linear10"); }});
    c.push_back(
        {"value_error",
         "model spec 'conv8k3p,flatten,linear10': layer 'conv8k3p': the padding after 'p' must be a whole number up to "
         "9999999; write layers joined by ',' from conv<out>k<kernel>[s<stride>][p<padding>], "
         "maxpool<k>[s<stride>][p<padding>], avgpool<k>[s<stride>][p<padding>], bn, relu, leaky_relu, tanh, sigmoid, "
         "flatten, linear<out>, dropout[<p>], res(<layers>), rows, rnn<hidden>[x<layers>], gru<hidden>[x<layers>], "
         "last, e.g. conv32k3p1,bn,relu,maxpool2,flatten,linear10 or rows,gru128,last,linear10; or name a preset, cnn "
         "or gru; or give MLP sizes joined by '-', e.g. 784-256-128-10",
         [] { plan_model("conv8k3p,flatten,linear10"); }});
    c.push_back({"value_error",
                 "model spec 'conv8k3,,linear10': empty layer at character 8; write layers joined by ',' from "
                 "conv<out>k<kernel>[s<stride>][p<padding>], maxpool<k>[s<stride>][p<padding>], "
                 "avgpool<k>[s<stride>][p<padding>], bn, relu, leaky_relu, tanh, sigmoid, flatten, linear<out>, "
                 "dropout[<p>], res(<layers>), rows, rnn<hidden>[x<layers>], gru<hidden>[x<layers>], last, e.g. "
                 "conv32k3p1,bn,relu,maxpool2,flatten,linear10 or rows,gru128,last,linear10; or name a preset, cnn or "
                 "gru; or give MLP sizes joined by '-', e.g. 784-256-128-10",
                 [] { plan_model("conv8k3,,linear10"); }});
    c.push_back(
        {"value_error",
         "model spec 'maxpool2p2,flatten,linear10': layer 'maxpool2p2': the padding is more than half the window; "
         "write layers joined by ',' from conv<out>k<kernel>[s<stride>][p<padding>], "
         "maxpool<k>[s<stride>][p<padding>], avgpool<k>[s<stride>][p<padding>], bn, relu, leaky_relu, tanh, sigmoid, "
         "flatten, linear<out>, dropout[<p>], res(<layers>), rows, rnn<hidden>[x<layers>], gru<hidden>[x<layers>], "
         "last, e.g. conv32k3p1,bn,relu,maxpool2,flatten,linear10 or rows,gru128,last,linear10; or name a preset, cnn "
         "or gru; or give MLP sizes joined by '-', e.g. 784-256-128-10",
         [] { plan_model("maxpool2p2,flatten,linear10"); }});
    c.push_back(
        {"value_error",
         "model spec 'flatten,dropout1.5,linear10': layer 'dropout1.5': the dropout probability must be a number in "
         "[0, 1), e.g. dropout0.3; write layers joined by ',' from conv<out>k<kernel>[s<stride>][p<padding>], "
         "maxpool<k>[s<stride>][p<padding>], avgpool<k>[s<stride>][p<padding>], bn, relu, leaky_relu, tanh, sigmoid, "
         "flatten, linear<out>, dropout[<p>], res(<layers>), rows, rnn<hidden>[x<layers>], gru<hidden>[x<layers>], "
         "last, e.g. conv32k3p1,bn,relu,maxpool2,flatten,linear10 or rows,gru128,last,linear10; or name a preset, cnn "
         "or gru; or give MLP sizes joined by '-', e.g. 784-256-128-10",
         [] { plan_model("flatten,dropout1.5,linear10"); }});
    c.push_back(
        {"value_error",
         "model spec 'conv8k3p1,res(conv8k3p1,flatten,linear10': unbalanced '(': a res( lacks its ')'; write layers "
         "joined by ',' from conv<out>k<kernel>[s<stride>][p<padding>], maxpool<k>[s<stride>][p<padding>], "
         "avgpool<k>[s<stride>][p<padding>], bn, relu, leaky_relu, tanh, sigmoid, flatten, linear<out>, dropout[<p>], "
         "res(<layers>), rows, rnn<hidden>[x<layers>], gru<hidden>[x<layers>], last, e.g. "
         "conv32k3p1,bn,relu,maxpool2,flatten,linear10 or rows,gru128,last,linear10; or name a preset, cnn or gru; or "
         "give MLP sizes joined by '-', e.g. 784-256-128-10",
         [] { plan_model("conv8k3p1,res(conv8k3p1,flatten,linear10"); }});
    c.push_back({"value_error",
                 "model spec 'conv8k3p1),flatten,linear10': unbalanced ')' at character 9; write layers joined by ',' "
                 "from conv<out>k<kernel>[s<stride>][p<padding>], maxpool<k>[s<stride>][p<padding>], "
                 "avgpool<k>[s<stride>][p<padding>], bn, relu, leaky_relu, tanh, sigmoid, flatten, linear<out>, "
                 "dropout[<p>], res(<layers>), rows, rnn<hidden>[x<layers>], gru<hidden>[x<layers>], last, e.g. "
                 "conv32k3p1,bn,relu,maxpool2,flatten,linear10 or rows,gru128,last,linear10; or name a preset, cnn or "
                 "gru; or give MLP sizes joined by '-', e.g. 784-256-128-10",
                 [] { plan_model("conv8k3p1),flatten,linear10"); }});
    c.push_back(
        {"value_error",
         "model spec 'res(relu)x,flatten,linear10': layer 'res(relu)x' must end at its closing ')'; write layers "
         "joined by ',' from conv<out>k<kernel>[s<stride>][p<padding>], maxpool<k>[s<stride>][p<padding>], "
         "avgpool<k>[s<stride>][p<padding>], bn, relu, leaky_relu, tanh, sigmoid, flatten, linear<out>, dropout[<p>], "
         "res(<layers>), rows, rnn<hidden>[x<layers>], gru<hidden>[x<layers>], last, e.g. "
         "conv32k3p1,bn,relu,maxpool2,flatten,linear10 or rows,gru128,last,linear10; or name a preset, cnn or gru; or "
         "give MLP sizes joined by '-', e.g. 784-256-128-10",
         [] { plan_model("res(relu)x,flatten,linear10"); }});
    c.push_back(
        {"value_error",
         "model spec 'rows,gru8x1001,last,linear10': layer 'gru8x1001': number of layers is too large (max 1000); "
         "write layers joined by ',' from conv<out>k<kernel>[s<stride>][p<padding>], "
         "maxpool<k>[s<stride>][p<padding>], avgpool<k>[s<stride>][p<padding>], bn, relu, leaky_relu, tanh, sigmoid, "
         "flatten, linear<out>, dropout[<p>], res(<layers>), rows, rnn<hidden>[x<layers>], gru<hidden>[x<layers>], "
         "last, e.g. conv32k3p1,bn,relu,maxpool2,flatten,linear10 or rows,gru128,last,linear10; or name a preset, cnn "
         "or gru; or give MLP sizes joined by '-', e.g. 784-256-128-10",
         [] { plan_model("rows,gru8x1001,last,linear10"); }});
    c.push_back(
        {"value_error",
         "model spec 'linear10': layer 'linear10' gets images (1,28,28): a linear layer takes features; put flatten "
         "before it; write layers joined by ',' from conv<out>k<kernel>[s<stride>][p<padding>], "
         "maxpool<k>[s<stride>][p<padding>], avgpool<k>[s<stride>][p<padding>], bn, relu, leaky_relu, tanh, sigmoid, "
         "flatten, linear<out>, dropout[<p>], res(<layers>), rows, rnn<hidden>[x<layers>], gru<hidden>[x<layers>], "
         "last, e.g. conv32k3p1,bn,relu,maxpool2,flatten,linear10 or rows,gru128,last,linear10; or name a preset, cnn "
         "or gru; or give MLP sizes joined by '-', e.g. 784-256-128-10",
         [] { plan_model("linear10"); }});
    c.push_back(
        {"value_error",
         "model spec 'flatten,conv8k3': layer 'conv8k3' gets features (784): a convolution takes images (C,H,W); put "
         "it before flatten; write layers joined by ',' from conv<out>k<kernel>[s<stride>][p<padding>], "
         "maxpool<k>[s<stride>][p<padding>], avgpool<k>[s<stride>][p<padding>], bn, relu, leaky_relu, tanh, sigmoid, "
         "flatten, linear<out>, dropout[<p>], res(<layers>), rows, rnn<hidden>[x<layers>], gru<hidden>[x<layers>], "
         "last, e.g. conv32k3p1,bn,relu,maxpool2,flatten,linear10 or rows,gru128,last,linear10; or name a preset, cnn "
         "or gru; or give MLP sizes joined by '-', e.g. 784-256-128-10",
         [] { plan_model("flatten,conv8k3"); }});
    c.push_back(
        {"value_error",
         "model spec 'flatten,maxpool2': layer 'maxpool2' gets features (784): pooling takes images (C,H,W); put it "
         "before flatten; write layers joined by ',' from conv<out>k<kernel>[s<stride>][p<padding>], "
         "maxpool<k>[s<stride>][p<padding>], avgpool<k>[s<stride>][p<padding>], bn, relu, leaky_relu, tanh, sigmoid, "
         "flatten, linear<out>, dropout[<p>], res(<layers>), rows, rnn<hidden>[x<layers>], gru<hidden>[x<layers>], "
         "last, e.g. conv32k3p1,bn,relu,maxpool2,flatten,linear10 or rows,gru128,last,linear10; or name a preset, cnn "
         "or gru; or give MLP sizes joined by '-', e.g. 784-256-128-10",
         [] { plan_model("flatten,maxpool2"); }});
    c.push_back({"value_error",
                 "model spec 'conv8k29,flatten,linear10': layer 'conv8k29' gets images (1,28,28): the kernel is larger "
                 "than the padded image; use a smaller kernel or more padding; write layers joined by ',' from "
                 "conv<out>k<kernel>[s<stride>][p<padding>], maxpool<k>[s<stride>][p<padding>], "
                 "avgpool<k>[s<stride>][p<padding>], bn, relu, leaky_relu, tanh, sigmoid, flatten, linear<out>, "
                 "dropout[<p>], res(<layers>), rows, rnn<hidden>[x<layers>], gru<hidden>[x<layers>], last, e.g. "
                 "conv32k3p1,bn,relu,maxpool2,flatten,linear10 or rows,gru128,last,linear10; or name a preset, cnn or "
                 "gru; or give MLP sizes joined by '-', e.g. 784-256-128-10",
                 [] { plan_model("conv8k29,flatten,linear10"); }});
    c.push_back({"value_error",
                 "model spec 'maxpool29,flatten,linear10': layer 'maxpool29' gets images (1,28,28): the window is "
                 "larger than the padded image; use a smaller window; write layers joined by ',' from "
                 "conv<out>k<kernel>[s<stride>][p<padding>], maxpool<k>[s<stride>][p<padding>], "
                 "avgpool<k>[s<stride>][p<padding>], bn, relu, leaky_relu, tanh, sigmoid, flatten, linear<out>, "
                 "dropout[<p>], res(<layers>), rows, rnn<hidden>[x<layers>], gru<hidden>[x<layers>], last, e.g. "
                 "conv32k3p1,bn,relu,maxpool2,flatten,linear10 or rows,gru128,last,linear10; or name a preset, cnn or "
                 "gru; or give MLP sizes joined by '-', e.g. 784-256-128-10",
                 [] { plan_model("maxpool29,flatten,linear10"); }});
    c.push_back({"value_error",
                 "model spec 'conv8k3p1,res(conv16k3p1),flatten,linear10': layer 'res(conv16k3p1)' gets images "
                 "(8,28,28): its layers map it to images (16,28,28), but x + f(x) needs the same shape; keep channels "
                 "and size (e.g. conv<C>k3p1 with C the input's channels); write layers joined by ',' from "
                 "conv<out>k<kernel>[s<stride>][p<padding>], maxpool<k>[s<stride>][p<padding>], "
                 "avgpool<k>[s<stride>][p<padding>], bn, relu, leaky_relu, tanh, sigmoid, flatten, linear<out>, "
                 "dropout[<p>], res(<layers>), rows, rnn<hidden>[x<layers>], gru<hidden>[x<layers>], last, e.g. "
                 "conv32k3p1,bn,relu,maxpool2,flatten,linear10 or rows,gru128,last,linear10; or name a preset, cnn or "
                 "gru; or give MLP sizes joined by '-', e.g. 784-256-128-10",
                 [] { plan_model("conv8k3p1,res(conv16k3p1),flatten,linear10"); }});
    c.push_back(
        {"value_error",
         "model spec 'conv8k3p1': the model ends in images (8,28,28), not features; end it with flatten and "
         "linear<classes>; write layers joined by ',' from conv<out>k<kernel>[s<stride>][p<padding>], "
         "maxpool<k>[s<stride>][p<padding>], avgpool<k>[s<stride>][p<padding>], bn, relu, leaky_relu, tanh, sigmoid, "
         "flatten, linear<out>, dropout[<p>], res(<layers>), rows, rnn<hidden>[x<layers>], gru<hidden>[x<layers>], "
         "last, e.g. conv32k3p1,bn,relu,maxpool2,flatten,linear10 or rows,gru128,last,linear10; or name a preset, cnn "
         "or gru; or give MLP sizes joined by '-', e.g. 784-256-128-10",
         [] { plan_model("conv8k3p1"); }});
    c.push_back({"value_error",
                 "model spec 'flatten,linear10': a layer list takes images (C,H,W), not (784); pass the image shape",
                 [] { plan_model("flatten,linear10", {}, {784}); }});
    c.push_back({"value_error",
                 "model spec 'gru16,last,linear10': layer 'gru16' gets images (1,28,28): a recurrent layer takes "
                 "sequences (T,F); put rows before it to read images as sequences of rows; write layers joined by ',' "
                 "from conv<out>k<kernel>[s<stride>][p<padding>], maxpool<k>[s<stride>][p<padding>], "
                 "avgpool<k>[s<stride>][p<padding>], bn, relu, leaky_relu, tanh, sigmoid, flatten, linear<out>, "
                 "dropout[<p>], res(<layers>), rows, rnn<hidden>[x<layers>], gru<hidden>[x<layers>], last, e.g. "
                 "conv32k3p1,bn,relu,maxpool2,flatten,linear10 or rows,gru128,last,linear10; or name a preset, cnn or "
                 "gru; or give MLP sizes joined by '-', e.g. 784-256-128-10",
                 [] { plan_model("gru16,last,linear10"); }});
    c.push_back({"value_error",
                 "model spec 'rows,last,rows,linear10': layer 'rows' gets features (28): rows reads images (C,H,W) as "
                 "sequences of their H rows; put it before flatten and the recurrent layers; write layers joined by "
                 "',' from conv<out>k<kernel>[s<stride>][p<padding>], maxpool<k>[s<stride>][p<padding>], "
                 "avgpool<k>[s<stride>][p<padding>], bn, relu, leaky_relu, tanh, sigmoid, flatten, linear<out>, "
                 "dropout[<p>], res(<layers>), rows, rnn<hidden>[x<layers>], gru<hidden>[x<layers>], last, e.g. "
                 "conv32k3p1,bn,relu,maxpool2,flatten,linear10 or rows,gru128,last,linear10; or name a preset, cnn or "
                 "gru; or give MLP sizes joined by '-', e.g. 784-256-128-10",
                 [] { plan_model("rows,last,rows,linear10"); }});
    c.push_back(
        {"value_error",
         "model spec 'flatten,last,linear10': layer 'last' gets features (784): last takes sequences (T,F); put it "
         "after a recurrent layer; write layers joined by ',' from conv<out>k<kernel>[s<stride>][p<padding>], "
         "maxpool<k>[s<stride>][p<padding>], avgpool<k>[s<stride>][p<padding>], bn, relu, leaky_relu, tanh, sigmoid, "
         "flatten, linear<out>, dropout[<p>], res(<layers>), rows, rnn<hidden>[x<layers>], gru<hidden>[x<layers>], "
         "last, e.g. conv32k3p1,bn,relu,maxpool2,flatten,linear10 or rows,gru128,last,linear10; or name a preset, cnn "
         "or gru; or give MLP sizes joined by '-', e.g. 784-256-128-10",
         [] { plan_model("flatten,last,linear10"); }});
    c.push_back(
        {"value_error",
         "model spec 'rows,gru8,linear10': layer 'linear10' gets sequences (28,8): a linear layer takes features; put "
         "last (or flatten) before it; write layers joined by ',' from conv<out>k<kernel>[s<stride>][p<padding>], "
         "maxpool<k>[s<stride>][p<padding>], avgpool<k>[s<stride>][p<padding>], bn, relu, leaky_relu, tanh, sigmoid, "
         "flatten, linear<out>, dropout[<p>], res(<layers>), rows, rnn<hidden>[x<layers>], gru<hidden>[x<layers>], "
         "last, e.g. conv32k3p1,bn,relu,maxpool2,flatten,linear10 or rows,gru128,last,linear10; or name a preset, cnn "
         "or gru; or give MLP sizes joined by '-', e.g. 784-256-128-10",
         [] { plan_model("rows,gru8,linear10"); }});
    c.push_back({"value_error",
                 "model spec 'rows,bn,gru8,last,linear10': layer 'bn' gets sequences (28,28): batch norm takes images "
                 "(C,H,W) or features; put it before rows or after last; write layers joined by ',' from "
                 "conv<out>k<kernel>[s<stride>][p<padding>], maxpool<k>[s<stride>][p<padding>], "
                 "avgpool<k>[s<stride>][p<padding>], bn, relu, leaky_relu, tanh, sigmoid, flatten, linear<out>, "
                 "dropout[<p>], res(<layers>), rows, rnn<hidden>[x<layers>], gru<hidden>[x<layers>], last, e.g. "
                 "conv32k3p1,bn,relu,maxpool2,flatten,linear10 or rows,gru128,last,linear10; or name a preset, cnn or "
                 "gru; or give MLP sizes joined by '-', e.g. 784-256-128-10",
                 [] { plan_model("rows,bn,gru8,last,linear10"); }});
    c.push_back(
        {"value_error",
         "model spec 'rows,conv8k3,last,linear10': layer 'conv8k3' gets sequences (28,28): a convolution takes images "
         "(C,H,W); put it before rows; write layers joined by ',' from conv<out>k<kernel>[s<stride>][p<padding>], "
         "maxpool<k>[s<stride>][p<padding>], avgpool<k>[s<stride>][p<padding>], bn, relu, leaky_relu, tanh, sigmoid, "
         "flatten, linear<out>, dropout[<p>], res(<layers>), rows, rnn<hidden>[x<layers>], gru<hidden>[x<layers>], "
         "last, e.g. conv32k3p1,bn,relu,maxpool2,flatten,linear10 or rows,gru128,last,linear10; or name a preset, cnn "
         "or gru; or give MLP sizes joined by '-', e.g. 784-256-128-10",
         [] { plan_model("rows,conv8k3,last,linear10"); }});
    c.push_back(
        {"value_error",
         "model spec 'rows,avgpool2,last,linear10': layer 'avgpool2' gets sequences (28,28): pooling takes images "
         "(C,H,W); put it before rows; write layers joined by ',' from conv<out>k<kernel>[s<stride>][p<padding>], "
         "maxpool<k>[s<stride>][p<padding>], avgpool<k>[s<stride>][p<padding>], bn, relu, leaky_relu, tanh, sigmoid, "
         "flatten, linear<out>, dropout[<p>], res(<layers>), rows, rnn<hidden>[x<layers>], gru<hidden>[x<layers>], "
         "last, e.g. conv32k3p1,bn,relu,maxpool2,flatten,linear10 or rows,gru128,last,linear10; or name a preset, cnn "
         "or gru; or give MLP sizes joined by '-', e.g. 784-256-128-10",
         [] { plan_model("rows,avgpool2,last,linear10"); }});
    c.push_back(
        {"value_error",
         "model spec 'rows,gru8': the model ends in sequences (28,8), not features; end it with last and "
         "linear<classes>; write layers joined by ',' from conv<out>k<kernel>[s<stride>][p<padding>], "
         "maxpool<k>[s<stride>][p<padding>], avgpool<k>[s<stride>][p<padding>], bn, relu, leaky_relu, tanh, sigmoid, "
         "flatten, linear<out>, dropout[<p>], res(<layers>), rows, rnn<hidden>[x<layers>], gru<hidden>[x<layers>], "
         "last, e.g. conv32k3p1,bn,relu,maxpool2,flatten,linear10 or rows,gru128,last,linear10; or name a preset, cnn "
         "or gru; or give MLP sizes joined by '-', e.g. 784-256-128-10",
         [] { plan_model("rows,gru8"); }});
    c.push_back({"value_error",
                 "build_model: model spec 'conv2000k3,flatten,linear2000' with float32 parameters needs about 10.8 GB "
                 "(10816088000 bytes) of memory but 8.0 GB (8000000000 bytes) are available (physical memory); use "
                 "fewer or smaller layers",
                 [] {
                     // The limit is given so that the message does not depend on the machine; build_model passes
                     // memory_limit().
                     check_fits_in_memory(
                         "build_model: model spec 'conv2000k3,flatten,linear2000' with float32 parameters",
                         model_memory_bytes(plan_model("conv2000k3,flatten,linear2000"), 0, 0),
                         "use fewer or smaller layers", MemoryLimit{8000000000, "physical memory"});
                 }});
    c.push_back({"value_error",
                 "train: OpenBLAS maps a work buffer of 134.2 MB (134217728 bytes) per thread that calls BLAS, 268.4 "
                 "MB (268435456 bytes) for 2 threads, but the address-space limit (ulimit -v 300000) leaves 230.4 MB "
                 "(230400000 bytes) beside what is mapped, and OpenBLAS would retry forever; raise ulimit -v above "
                 "402681 or pass fewer --threads",
                 [] {
                     // The address space is given so that the message does not depend on the process; the
                     // commands pass address_space().
                     check_blas_buffers_fit("train", 2, "pass fewer --threads",
                                            AddressSpace{300000 * 1024, 300000 * 1024 - 230400000});
                 }});
    c.push_back({"value_error", "confusion matrix: class 12 is out of range for 10 classes",
                 [] { ConfusionMatrix(10).add(3, 12); }});
    c.push_back({"value_error", "confusion matrix: 2 labels but 1 predictions", [] {
                     ConfusionMatrix(10).add({1, 2}, {1});
                 }});
    c.push_back({"value_error", "Epoch::batch: batch 3 is out of range; the epoch has 3 batches", [] {
                     Dataset d;
                     d.images = Tensor::zeros({10, 3});
                     d.labels.assign(10, 0);
                     DataLoader(d, 4, false).batch(0, 3);
                 }});
    c.push_back({"value_error", "DataLoader: batch_size must be at least 1 (got 0)", [] {
                     Dataset d;
                     d.images = Tensor::zeros({10, 3});
                     d.labels.assign(10, 0);
                     DataLoader(d, 0, false);
                 }});
    c.push_back({"value_error", "DataLoader: the dataset is empty (inputs (0,3)); give it at least one sample", [] {
                     DataLoader(TensorDataset(Tensor::zeros({0, 3}), Tensor::zeros({0})), DataLoaderOptions(4));
                 }});
    c.push_back({"value_error", "TensorDataset: the targets tensor is undefined; pass a tensor (N, ...)", [] {
                     TensorDataset(Tensor::zeros({4, 3}), Tensor());
                 }});
    c.push_back({"value_error", "TensorDataset::gather: row 4 is out of range; the dataset holds 4 samples", [] {
                     TensorDataset(Tensor::zeros({4, 3}), Tensor::zeros({4})).gather({1, 4});
                 }});
    c.push_back({"value_error",
                 "load_state_dict: the state dict does not match the Linear's parameters and buffers (missing "
                 "'weight'; unexpected '0.weight'); load a state dict of this model (the names of its "
                 "state_dict().keys()), or pass strict = false to load only the entries that match",
                 [] {
                     Generator gen(0);
                     Linear layer(4, 2, gen, false);
                     StateDict s;
                     s.insert("0.weight", Tensor::zeros({2, 4}));
                     layer.load_state_dict(s);
                 }});
    c.push_back({"value_error",
                 "load_state_dict: the entry 'weight' is an undefined tensor; give it a float32 (2,4) value", [] {
                     Generator gen(0);
                     Linear layer(4, 2, gen, false);
                     StateDict s;
                     s.insert("weight", Tensor());
                     layer.load_state_dict(s);
                 }});
    c.push_back(
        {"value_error", "StateDict::insert: the name 'w' is already present; give every tensor its own name", [] {
             StateDict s;
             s.insert("w", Tensor::zeros({1}));
             s.insert("w", Tensor::zeros({1}));
         }});
    c.push_back({"value_error", "StateDict: no entry named 'w' among its 0 entries; list them with keys()",
                 [] { StateDict()["w"]; }});
    c.push_back({"value_error",
                 "load_idx_pair: Normalization{mean 0, std 0} is invalid; mean must be finite and std finite and > 0",
                 [=] {
                     load_idx_pair(file("i"), file("l"), 0, {0.0f, 0.0f});
                 }});
    c.push_back({"value_error", "load_idx_pair: classes must be at least 1 (got 0)",
                 [=] { load_idx_pair(file("i"), file("l"), 0, {}, 0); }});
    c.push_back({"value_error", "write_idx: /tmp/run/out.idx: an IDX array needs 1 to 4 dimensions, got 0", [=] {
                     write_idx(file("out.idx"), IdxArray{{}, {}}, false);
                 }});
    c.push_back({"value_error", "write_idx: /tmp/run/out.idx: dimensions 2 x 0 must each be in 1..4294967295", [=] {
                     write_idx(file("out.idx"), IdxArray{{2, 0}, {}}, false);
                 }});
    c.push_back({"value_error", "write_idx: /tmp/run/out.idx: dimensions 2 x 3 need 6 bytes but the data holds 5", [=] {
                     write_idx(file("out.idx"), IdxArray{{2, 3}, {1, 2, 3, 4, 5}}, false);
                 }});
    c.push_back(
        {"value_error", "write_png: '/tmp/run/a.png': width and height must each be in 1..1000000, got 0 x 2", [=] {
             write_png(file("a.png"), Image{0, 2, 1, {}});
         }});
    c.push_back({"value_error", "tile: width and height must each be in 1..1000000, got 1200001 x 1200001", [] {
                     tile({Image{1, 1, 1, {0}}}, 1, 600000);
                 }});
    c.push_back({"value_error", "write_png: '/tmp/run/a.png': channels must be 1 (gray) or 3 (RGB), got 4", [=] {
                     write_png(file("a.png"), Image{2, 2, 4, std::vector<std::uint8_t>(16)});
                 }});
    c.push_back({"value_error",
                 "write_png: '/tmp/run/a.png': a 4 x 3 image with 1 channel needs 12 bytes but its pixels hold 11",
                 [=] {
                     write_png(file("a.png"), Image{4, 3, 1, std::vector<std::uint8_t>(11)});
                 }});
    c.push_back({"value_error", "to_gray: element 1 of the (1,3) tensor is nan; gray levels need finite values", [] {
                     to_gray(Tensor::from({{1, std::nan(""), 2}}), GrayScale::min_max);
                 }});
    c.push_back({"value_error", "upscale: the factor must be in 1..1000000, got 0", [] {
                     upscale(Image{1, 1, 1, {0}}, 0);
                 }});
    c.push_back({"value_error", "tile: no images to tile; pass at least one", [] { tile({}, 2, 1); }});
    c.push_back({"value_error", "tile: columns must be at least 1 (got 0)", [] { tile({Image{1, 1, 1, {0}}}, 0, 1); }});
    c.push_back({"value_error",
                 "tile: image 1 has 3 channels but image 0 has 1 channel; tile images of one kind (gray or RGB)", [] {
                     tile({Image{1, 1, 1, {0}}, Image{1, 1, 3, {1, 2, 3}}}, 2, 1);
                 }});
    c.push_back({"value_error",
                 "tile: out of memory for a 999999 x 999999 image with 1 channel (999998000001 bytes); free memory or "
                 "raise the memory limit (ulimit -v)",
                 [] {
                     const AddressSpaceLimit limit(std::size_t{1} << 30);
                     tile({Image{1, 1, 1, {0}}}, 1, 499999);
                 },
                 true});
    c.push_back(
        {"value_error",
         "save_safetensors: '/tmp/run/m.safetensors': the tensor name 'w' appears twice; names must be unique", [=] {
             save_safetensors(file("m.safetensors"), {{"w", Array::zeros({1}, f32)}, {"w", Array::zeros({1}, f32)}});
         }});
    c.push_back({"value_error",
                 "save_safetensors: '/tmp/run/m.safetensors': the tensor name \"__metadata__\" is reserved for the "
                 "metadata; rename the tensor",
                 [=] {
                     save_safetensors(file("m.safetensors"), {{"__metadata__", Array::zeros({1}, f32)}});
                 }});
    c.push_back({"value_error",
                 "save_safetensors: '/tmp/run/m.safetensors': a tensor name or metadata string is not valid UTF-8 "
                 "([json.exception.type_error.316] invalid UTF-8 byte at index 3: 0xFF)",
                 [=] {
                     save_safetensors(file("m.safetensors"), {{"bad\xff", Array::zeros({1}, f32)}});
                 }});
    c.push_back({"value_error",
                 "save_checkpoint: '/tmp/run/m.safetensors': tensor '0.bias' (float32 (2)) holds 1 non-finite value, "
                 "the first inf at element 1 (index (1)); the model diverged, so nothing was written (a previous "
                 "checkpoint there is kept): train again with a smaller learning rate",
                 [=] {
                     Generator gen(0);
                     auto model = Sequential::mlp("4-2", gen);
                     model->named_parameters()[1].second.mutable_value().get_mut<float>().data()[1] =
                         std::numeric_limits<float>::infinity();
                     save_checkpoint(file("m.safetensors"), *model, nullptr, {});
                 }});
    c.push_back({"value_error", "run_process: the argument vector is empty; its first element must name the program",
                 [] { run_process({}); }});
    c.push_back({"value_error",
                 "run_process: the time limit for 'true' is 0 s; pass a positive limit, or none to wait until it ends",
                 [] { run_process({"true"}, {}, std::chrono::milliseconds(0)); }});

    // ---- value_error: data-parallel training (adgraph_mpi; tests/mpi/ raises each under mpirun) ----
    {
        using mpi::detail::Layout;
        const Layout rank0{2, 0, 15, 0, 0xb5f895d4c7fc8802ULL}, rank1{2, 0, 10, 0, 0xf8aeec7f9e86a9e2ULL};
        const Layout grown{4, 0, 23, 0, 0x6c494113fa1c31c2ULL};
        c.push_back(
            {"value_error",
             "DataParallel: rank 1's model does not match rank 0's (rank 0: 2 parameters, 0 buffers, 15 float32 "
             "and 0 float64 elements, shapes b5f895d4c7fc8802; rank 1: 2 parameters, 0 buffers, 10 float32 and "
             "0 float64 elements, shapes f8aeec7f9e86a9e2); build the same model, with the same dtypes, on "
             "every rank",
             [=] { throw mpi::detail::layout_mismatch("DataParallel", rank0, 1, rank1); }});
        c.push_back({"value_error",
                     "DataParallel::allreduce_gradients: rank 0's model changed after its DataParallel was made (2 "
                     "parameters, 0 buffers, 15 float32 and 0 float64 elements, shapes b5f895d4c7fc8802 then, 4 "
                     "parameters, 0 buffers, 23 float32 and 0 float64 elements, shapes 6c494113fa1c31c2 now); make the "
                     "DataParallel once the model is complete",
                     [=] { throw mpi::detail::layout_changed("DataParallel::allreduce_gradients", 0, rank0, grown); }});
        c.push_back({"value_error",
                     "DataParallel::allreduce_gradients: rank 2's model changed after its DataParallel was made, so no "
                     "rank averaged its gradients; see rank 2's own error and make its DataParallel once the model is "
                     "complete",
                     [] { throw mpi::detail::peer_refused("DataParallel::allreduce_gradients", 2, false); }});
    }
    c.push_back({"value_error",
                 "mpi::rank: MPI is not initialised (or already finalised); create an adg::mpi::Environment at the "
                 "start of main and use adg::mpi while it lives",
                 [] { throw mpi::detail::not_initialised("mpi::rank"); }});
    c.push_back({"value_error", "mpi::shard: rank -1 is out of range for 2 ranks; pass a rank in [0, 2)",
                 [] { throw mpi::detail::bad_rank("mpi::shard", -1, 2); }});
    c.push_back({"value_error",
                 "mpi::sum: the ranks pass different numbers of values (from 2 to 3); pass the same number on every "
                 "rank",
                 [] { throw mpi::detail::sum_lengths(2, 3); }});
    c.push_back({"value_error",
                 "DataParallel::allreduce_gradients: share nan is not a finite number; pass this rank's rows over the "
                 "global batch's",
                 [] { throw mpi::detail::bad_share(std::nan("")); }});
    c.push_back({"value_error",
                 "DataParallel::allreduce_gradients: rank 1's share is not a finite number, so no rank averaged its "
                 "gradients; see rank 1's own error and pass it its rows over the global batch's",
                 [] { throw mpi::detail::peer_refused("DataParallel::allreduce_gradients", 1, true); }});
    c.push_back({"value_error",
                 "DataParallel::local_batch: batch 3 is out of range for an epoch of 3 batches; pass i < epoch.size()",
                 [] { throw mpi::detail::batch_out_of_range(3, 3); }});

    // ---- value_error: the playground ----
    const auto config = [](std::function<void(playground::Config&)> change) {
        return [change] {
            playground::Config c;
            change(c);
            c.validate();
        };
    };
    c.push_back({"value_error",
                 "playground: unknown dataset 'moons'; use one of circle, xor, gauss, spiral, plane, multigauss",
                 config([](playground::Config& c) { c.dataset = "moons"; })});
    c.push_back({"value_error", "playground: noise 60 is out of range; use 0..50 (percent)",
                 [] { playground::generate("circle", 10, 60, 1); }});
    c.push_back({"value_error", "playground: train_percent 5 is out of range; use 10..90",
                 config([](playground::Config& c) { c.train_percent = 5; })});
    c.push_back({"value_error", "playground: batch_size 0 is out of range; use 1..30",
                 config([](playground::Config& c) { c.batch_size = 0; })});
    c.push_back({"value_error",
                 "playground: no input features; switch on at least one of x1, x2, x1sq, x2sq, x1x2, sinx1, sinx2",
                 config([](playground::Config& c) { c.features.clear(); })});
    c.push_back({"value_error",
                 "playground: unknown feature 'cosx1'; use one of x1, x2, x1sq, x2sq, x1x2, sinx1, sinx2",
                 [] { playground::feature_value("cosx1", 0, 0); }});
    c.push_back({"value_error", "playground: feature 'x1' is listed twice; list each at most once",
                 config([](playground::Config& c) {
                     c.features = {"x1", "x2", "x1"};
                 })});
    c.push_back({"value_error", "playground: 7 hidden layers; use at most 6",
                 config([](playground::Config& c) { c.layers.assign(7, 2); })});
    c.push_back({"value_error", "playground: hidden layer 2 has 9 neurons; use 1..8", config([](playground::Config& c) {
                     c.layers = {4, 9};
                 })});
    c.push_back({"value_error", "playground: unknown activation 'softmax'; use one of relu, tanh, sigmoid, linear",
                 config([](playground::Config& c) { c.activation = "softmax"; })});
    c.push_back({"value_error", "playground: learning_rate 0 is out of range; use a rate in (0, 10]",
                 config([](playground::Config& c) { c.learning_rate = 0; })});
    c.push_back({"value_error", "playground: unknown regularization 'l3'; use one of none, l1, l2",
                 config([](playground::Config& c) { c.regularization = "l3"; })});
    c.push_back({"value_error", "playground: regularization_rate -1 is out of range; use 0..10",
                 config([](playground::Config& c) { c.regularization_rate = -1; })});
    c.push_back({"value_error", "playground: a node map of side 0 is out of range; use a side of 1..1000 cells",
                 [] { playground::Session(playground::Config{}).node_maps(0); }});
    c.push_back({"value_error",
                 "playground: a picture of side 5000 pixels is out of range; use a side of 1..4096 pixels",
                 [] { playground::render_surface(playground::Session(playground::Config{}), 5000, false); }});

    // ---- io_error: IDX files ----
    const auto idx = [=](const std::string& name, std::vector<unsigned char> bytes) {
        return [=] {
            write_bytes(file(name), bytes);
            read_idx(file(name));
        };
    };
    c.push_back({"io_error", "/tmp/run/missing-idx: cannot open the file: No such file or directory; check the path",
                 [=] { read_idx(file("missing-idx")); }});
    c.push_back({"io_error", "/tmp/run: is a directory, not a regular file; pass the path of a regular file",
                 [=] { read_idx(root); }});
    c.push_back({"io_error", "/tmp/run/magic.idx: byte 0: magic bytes are 0x1F 0x8C; an IDX file starts with 0x00 0x00",
                 idx("magic.idx", {0x1f, 0x8c, 8, 1})});
    c.push_back(
        {"io_error",
         "/tmp/run/float.idx: byte 2: unsupported element type 0x0D (float32); only 0x08 (unsigned byte) is supported",
         idx("float.idx", {0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0})});
    c.push_back({"io_error",
                 "/tmp/run/type.idx: byte 2: invalid type byte 0x07; IDX element types are 0x08, 0x09, 0x0B, 0x0C, "
                 "0x0D and 0x0E",
                 idx("type.idx", {0, 0, 0x07, 1, 0, 0, 0, 1, 0})});
    c.push_back({"io_error", "/tmp/run/rank.idx: byte 3: the header declares 5 dimensions; 1 to 4 are supported",
                 idx("rank.idx", {0, 0, 8, 5})});
    c.push_back({"io_error",
                 "/tmp/run/zero.idx: byte 8: dimension 1 is 0 (dimensions 3 x 0); every dimension must be > 0",
                 idx("zero.idx", {0, 0, 8, 2, 0, 0, 0, 3, 0, 0, 0, 0})});
    c.push_back({"io_error",
                 "/tmp/run/huge.idx: byte 8: the dimensions 2147483648 x 2 declare more than 2^31 (2147483648) payload "
                 "bytes, the most read_idx accepts",
                 idx("huge.idx", {0, 0, 8, 2, 0x80, 0, 0, 0, 0, 0, 0, 2})});
    c.push_back({"io_error",
                 "/tmp/run/header.idx: byte 8: the file ends inside the IDX header after 8 bytes (the header needs 12)",
                 idx("header.idx", {0, 0, 8, 2, 0, 0, 0, 3})});
    c.push_back({"io_error",
                 "/tmp/run/short.idx: byte 10: the file is truncated: the header declares 5 payload bytes (5) but only "
                 "2 follow",
                 idx("short.idx", {0, 0, 8, 1, 0, 0, 0, 5, 1, 2})});
    c.push_back({"io_error",
                 "/tmp/run/long.idx: byte 9: 1 byte follows the payload; the header declares 1 payload byte (1) and "
                 "the file must end there",
                 idx("long.idx", {0, 0, 8, 1, 0, 0, 0, 1, 7, 9})});
    c.push_back({"io_error",
                 "/tmp/run/cut.idx.gz: byte 5002: the file is truncated: the header declares 10000 payload bytes (100 "
                 "x 100) but only 4990 follow (the gzip stream ends before its end marker: the .gz file is truncated)",
                 [=] {
                     const std::string p = file("cut.idx.gz");
                     std::mt19937 noise(7);  // incompressible, so half the .gz ends inside the payload
                     IdxArray a{{100, 100}, std::vector<std::uint8_t>(10000)};
                     for (auto& b : a.data) b = static_cast<std::uint8_t>(noise());
                     write_idx(p, a, true);
                     fs::resize_file(p, fs::file_size(p) / 2);
                     read_idx(p);
                 }});
    c.push_back(
        {"io_error", "/tmp/run/crc.idx.gz: byte 12: the gzip data is corrupt (zlib: incorrect data check)", [=] {
             const std::string p = file("crc.idx.gz");
             write_idx(p, IdxArray{{4}, {1, 2, 3, 4}}, true);
             std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
             f.seekp(-8, std::ios::end);  // the gzip trailer's CRC-32
             f.put('\x55');
             f.close();
             read_idx(p);
         }});
    c.push_back({"io_error",
                 "/tmp/run/junk.idx.gz: byte 32 of the compressed file: 5 bytes after the end of the gzip data are not "
                 "another gzip member; the file must end with its gzip trailer (the copy is damaged or was appended "
                 "to: get a fresh copy)",
                 [=] {
                     const std::string p = file("junk.idx.gz");
                     write_idx(p, IdxArray{{4}, {1, 2, 3, 4}}, true);
                     std::ofstream(p, std::ios::binary | std::ios::app) << "junk!";
                     read_idx(p);
                 }});
    c.push_back({"io_error",
                 "/tmp/run/images-idx3-ubyte: images must be a 3-D IDX array (count, rows, cols) but this one is (3)",
                 [=] {
                     write_idx(file("images-idx3-ubyte"), IdxArray{{3}, {1, 2, 3}}, false);
                     write_idx(file("labels-idx1-ubyte"), IdxArray{{3}, {1, 2, 3}}, false);
                     load_idx_pair(file("images-idx3-ubyte"), file("labels-idx1-ubyte"));
                 }});
    c.push_back(
        {"io_error", "/tmp/run/images-idx3-ubyte: labels must be a 1-D IDX array (count) but this one is (3,2,2)", [=] {
             write_idx(file("images-idx3-ubyte"), IdxArray{{3, 2, 2}, std::vector<std::uint8_t>(12)}, false);
             load_idx_pair(file("images-idx3-ubyte"), file("images-idx3-ubyte"));
         }});
    c.push_back({"io_error",
                 "load_idx_pair: /tmp/run/images-idx3-ubyte holds 3 images but /tmp/run/labels-idx1-ubyte holds 4 "
                 "labels; the counts must be equal",
                 [=] {
                     write_idx(file("images-idx3-ubyte"), IdxArray{{3, 2, 2}, std::vector<std::uint8_t>(12)}, false);
                     write_idx(file("labels-idx1-ubyte"), IdxArray{{4}, {1, 2, 3, 4}}, false);
                     load_idx_pair(file("images-idx3-ubyte"), file("labels-idx1-ubyte"));
                 }});
    c.push_back({"io_error", "/tmp/run/labels-idx1-ubyte: label 2 (byte 10) is 12; labels must be in 0..9", [=] {
                     write_idx(file("images-idx3-ubyte"), IdxArray{{3, 2, 2}, std::vector<std::uint8_t>(12)}, false);
                     write_idx(file("labels-idx1-ubyte"), IdxArray{{3}, {1, 2, 12}}, false);
                     load_idx_pair(file("images-idx3-ubyte"), file("labels-idx1-ubyte"));
                 }});
    c.push_back({"io_error",
                 "load_fashion_mnist: the data directory /tmp/run/no-such-dir does not exist; install the Debian "
                 "package `dataset-fashion-mnist` (apt-get install dataset-fashion-mnist) or pass --data DIR",
                 [=] { load_fashion_mnist(file("no-such-dir"), Split::train); }});
    c.push_back({"io_error",
                 "load_fashion_mnist: neither /tmp/run/empty/t10k-images-idx3-ubyte nor "
                 "/tmp/run/empty/t10k-images-idx3-ubyte.gz exists; install the Debian package `dataset-fashion-mnist` "
                 "(apt-get install dataset-fashion-mnist) or pass --data DIR",
                 [=] {
                     fs::create_directories(file("empty"));
                     load_fashion_mnist(file("empty"), Split::test);
                 }});

    // ---- io_error: writing files ----
    c.push_back(
        {"io_error",
         "'/tmp/run/no/such/dir/out.txt': cannot create the temporary file '/tmp/run/no/such/dir/out.txt.tmp.4242.0': "
         "No such file or directory; check that the directory exists and is writable",
         [=] { write_file_atomically(file("no/such/dir/out.txt"), "x"); }});
    c.push_back(
        {"io_error",
         "'/tmp/run/metrics.jsonl': cannot rename the temporary file '/tmp/run/metrics.jsonl.tmp.4242.0' over it: Is a "
         "directory; if a directory has that name, remove it or write somewhere else",
         [=] {
             fs::create_directories(file("metrics.jsonl"));
             write_file_atomically(file("metrics.jsonl"), "x");
         }});
    c.push_back({"io_error",
                 "'/tmp/run/big.txt': cannot write the temporary file '/tmp/run/big.txt.tmp.4242.0': File too large; "
                 "check the free space, quota and file size limit (ulimit -f) there",
                 [=] {
                     FileSizeLimit limit(4096);
                     write_file_atomically(file("big.txt"), std::string(100000, 'x'));
                 }});
    c.push_back({"io_error",
                 "write_idx: '/tmp/run/no/such/dir/out.idx': cannot create the temporary file "
                 "'/tmp/run/no/such/dir/out.idx.tmp.4242.0': No such file or directory; check that the directory "
                 "exists and is writable",
                 [=] {
                     write_idx(file("no/such/dir/out.idx"), IdxArray{{1}, {1}}, false);
                 }});
    c.push_back({"io_error",
                 "save_safetensors: '/tmp/run/no/such/dir/m.safetensors': cannot create the temporary file "
                 "'/tmp/run/no/such/dir/m.safetensors.tmp.4242.0': No such file or directory; check that the directory "
                 "exists and is writable",
                 [=] { save_safetensors(file("no/such/dir/m.safetensors"), {}); }});
    c.push_back({"io_error",
                 "'/tmp/run/fifo': is a FIFO, not a regular file; files are written by replacing them whole, which "
                 "only regular files allow: pass the path of a regular file or of a new one",
                 [=] {
                     ::mkfifo(file("fifo").c_str(), 0600);
                     write_file_atomically(file("fifo"), "x");
                 }});
    c.push_back({"io_error",
                 "'/tmp/run/tty': is a character device (through the symbolic link to '/dev/null'), not a regular "
                 "file; files are written by replacing them whole, which only regular files allow: pass the path of a "
                 "regular file or of a new one",
                 [=] {
                     fs::create_symlink("/dev/null", file("tty"));
                     write_file_atomically(file("tty"), "x");
                 }});
    c.push_back({"io_error",
                 "'/tmp/run/dangling': is a symbolic link that does not resolve to a file (No such file or directory); "
                 "remove the link or create the file it points to",
                 [=] {
                     fs::create_symlink(file("nowhere"), file("dangling"));
                     write_file_atomically(file("dangling"), "x");
                 }});

    // ---- io_error: running programs ----
    c.push_back({"io_error",
                 "write_png: '/tmp/run/grid.png': cannot rename the temporary file '/tmp/run/grid.png.tmp.4242.0' over "
                 "it: Is a directory; if a directory has that name, remove it or write somewhere else",
                 [=] {
                     fs::create_directories(file("grid.png"));
                     write_png(file("grid.png"), Image{1, 1, 1, {0}});
                 }});
    c.push_back({"io_error",
                 "read_png: '/tmp/run/missing.png': cannot open the file: No such file or directory; check the path",
                 [=] { read_png(file("missing.png")); }});
    c.push_back(
        {"io_error",
         "read_png: '/tmp/run/notes.png': not a PNG file (it does not start with the PNG signature); pass a PNG file",
         [=] {
             std::ofstream(file("notes.png")) << "not an image\n";
             read_png(file("notes.png"));
         }});
    c.push_back({"io_error",
                 "read_png: '/tmp/run/cut.png': truncated or corrupt PNG: no image header (IHDR chunk) after the "
                 "signature; write the file again from its source",
                 [=] {
                     std::ofstream(file("cut.png"), std::ios::binary) << png_claiming(4, 4).substr(0, 20);
                     read_png(file("cut.png"));
                 }});
    c.push_back({"io_error",
                 "read_png: '/tmp/run/cut.png': truncated or corrupt PNG: the file does not end with the end chunk "
                 "(IEND); write the file again from its source",
                 [=] {
                     const std::string png = png_claiming(4, 4);
                     std::ofstream(file("cut.png"), std::ios::binary) << png.substr(0, png.size() - 12);
                     read_png(file("cut.png"));
                 }});
    c.push_back({"io_error",
                 "read_png: '/tmp/run/zero.png': the header claims a 0 x 5 image; width and height must each be in "
                 "1..1000000",
                 [=] {
                     std::ofstream(file("zero.png"), std::ios::binary) << png_claiming(0, 5);
                     read_png(file("zero.png"));
                 }});
    c.push_back({"io_error",
                 "read_png: '/tmp/run/bomb.png': the header claims a 100000 x 100000 image, 30000100000 bytes of "
                 "rows, but a file of 65 bytes inflates to at most 67080; the file is corrupt or truncated",
                 [=] {
                     std::ofstream(file("bomb.png"), std::ios::binary) << png_claiming(100000, 100000);
                     read_png(file("bomb.png"));
                 }});
    c.push_back({"io_error",
                 "read_png: '/tmp/run/bits.png': the header claims a 20000 x 20000 image, 1200000000 bytes of 8-bit "
                 "RGB pixels, more than 1032 per byte of the file (51677400); the file is corrupt, or it packs its "
                 "pixels tighter (a low bit depth or a palette): write it again as 8-bit gray or RGB",
                 [=] {
                     // 1-bit palette: its rows fit the file, its pixels as RGB are 24 times them.
                     std::string ihdr = png_claiming(20000, 20000).substr(16, 8);
                     ihdr += std::string{1, 3, 0, 0, 0};
                     std::ofstream(file("bits.png"), std::ios::binary)
                         << std::string("\x89PNG\r\n\x1a\n", 8) + png_chunk("IHDR", ihdr) +
                                png_chunk("PLTE", std::string(6, '\0')) + png_chunk("IDAT", std::string(50000, '\0')) +
                                png_chunk("IEND", "");
                     read_png(file("bits.png"));
                 }});
    c.push_back(
        {"io_error",
         "read_png: '/tmp/run/crc.png': truncated or corrupt PNG (libpng: IDAT: CRC error); write the file again "
         "from its source",
         [=] {
             write_png(file("crc.png"), Image{2, 2, 1, {0, 1, 2, 3}});
             std::fstream f(file("crc.png"), std::ios::in | std::ios::out | std::ios::binary);
             std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
             const std::size_t idat = bytes.find("IDAT") - 4;
             const std::size_t length = static_cast<unsigned char>(bytes[idat + 3]);  // a tiny chunk
             f.seekp(static_cast<std::streamoff>(idat + 8 + length));
             f.put(static_cast<char>(bytes[idat + 8 + length] ^ 1));  // its CRC, the data intact
             f.close();
             read_png(file("crc.png"));
         }});
    c.push_back({"io_error",
                 "run_process: cannot start '/tmp/run/plain.sh': Permission denied; check that it is an executable "
                 "program",
                 [=] {
                     std::ofstream(file("plain.sh")) << "#!/bin/sh\n";
                     fs::permissions(file("plain.sh"), fs::perms::owner_read | fs::perms::owner_write);
                     run_process({file("plain.sh")});
                 }});
    c.push_back({"io_error",
                 "run_process: cannot start 'cat': no pipe for its input and output: Too many open files; close files "
                 "or raise the limit on open files (ulimit -n)",
                 [] {
                     OpenFileLimit none(0);
                     run_process({"cat"});
                 }});

    // ---- io_error: MPI calls (adgraph_mpi; tests/mpi/ raises it from a real failed MPI_Bcast) ----
    c.push_back(
        {"io_error",
         "mpi::broadcast_state: MPI_Bcast failed (MPI error 8: MPI_ERR_ROOT: invalid root); MPI's text says "
         "which: fix the argument it names, the rank that failed, or the ranks' calls (every rank must make the "
         "same adg::mpi calls in the same order)",
         [] { throw mpi::detail::call_failed("mpi::broadcast_state", "MPI_Bcast", 8, "MPI_ERR_ROOT: invalid root"); }});

    // ---- io_error: safetensors ----
    const auto st = [=](const std::string& name, const std::string& json, std::size_t data) {
        return [=] {
            write_safetensors(file(name), json, data);
            load_safetensors(file(name));
        };
    };
    c.push_back({"io_error",
                 "load_safetensors: '/tmp/run/nope.safetensors': cannot open the file: No such file or directory; "
                 "check the path",
                 [=] { load_safetensors(file("nope.safetensors")); }});
    c.push_back({"io_error",
                 "load_safetensors: '/tmp/run': is a directory, not a regular file; pass the path of a regular file",
                 [=] { load_safetensors(root); }});
    c.push_back({"io_error",
                 "load_safetensors: '/tmp/run/tiny.safetensors': the file is 3 bytes, shorter than the 8-byte header "
                 "length that starts a safetensors file; the file is truncated or not a safetensors file",
                 [=] {
                     write_bytes(file("tiny.safetensors"), {1, 2, 3});
                     load_safetensors(file("tiny.safetensors"));
                 }});
    c.push_back({"io_error",
                 "load_safetensors: '/tmp/run/len.safetensors': the header length at file offset 0 is 1099511627776 "
                 "bytes, more than the 100000000-byte limit; the file is corrupt or not a safetensors file",
                 [=] {
                     write_bytes(file("len.safetensors"), {0, 0, 0, 0, 0, 1, 0, 0, 1, 2});
                     load_safetensors(file("len.safetensors"));
                 }});
    c.push_back({"io_error",
                 "load_safetensors: '/tmp/run/hdr.safetensors': the file is truncated: the header length at file "
                 "offset 0 says 1000 bytes of header, found 2; re-save the checkpoint",
                 [=] {
                     write_bytes(file("hdr.safetensors"), {0xe8, 3, 0, 0, 0, 0, 0, 0, '{', '}'});
                     load_safetensors(file("hdr.safetensors"));
                 }});
    c.push_back(
        {"io_error",
         "load_safetensors: '/tmp/run/json.safetensors': the header is not valid JSON (error at file offset 32): "
         "[json.exception.parse_error.101] parse error at line 1, column 25: syntax error while parsing object key - "
         "unexpected end of input; expected string literal; the file is corrupt or not a safetensors file",
         st("json.safetensors", R"({"a": {"dtype": "F32",)", 0)});
    c.push_back({"io_error",
                 "load_safetensors: '/tmp/run/array.safetensors': the header is a JSON array, expected an object "
                 "mapping tensor names to {dtype, shape, data_offsets}",
                 st("array.safetensors", "[1, 2]", 0)});
    c.push_back({"io_error",
                 "load_safetensors: '/tmp/run/entry.safetensors': tensor 'a': the entry is a JSON number, expected an "
                 "object with \"dtype\", \"shape\" and \"data_offsets\"",
                 st("entry.safetensors", R"({"a": 5})", 0)});
    c.push_back(
        {"io_error",
         "load_safetensors: '/tmp/run/field.safetensors': tensor 'a': the entry has no \"shape\"; the file is corrupt",
         st("field.safetensors", R"({"a": {"dtype": "F32", "data_offsets": [0, 4]}})", 4)});
    c.push_back({"io_error",
                 "load_safetensors: '/tmp/run/dtype7.safetensors': tensor 'a': \"dtype\" is 7, expected a string such "
                 "as \"F32\"",
                 st("dtype7.safetensors", R"({"a": {"dtype": 7, "shape": [1], "data_offsets": [0, 4]}})", 4)});
    c.push_back({"io_error",
                 "load_safetensors: '/tmp/run/bf16.safetensors': tensor 'a': dtype BF16 is not supported "
                 "(float32/float64 only); convert it to F32 or F64 first",
                 st("bf16.safetensors", R"({"a": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}})", 4)});
    c.push_back(
        {"io_error",
         "load_safetensors: '/tmp/run/shape.safetensors': tensor 'a': \"shape\" is 3, expected an array of sizes",
         st("shape.safetensors", R"({"a": {"dtype": "F32", "shape": 3, "data_offsets": [0, 12]}})", 12)});
    c.push_back({"io_error",
                 "load_safetensors: '/tmp/run/neg.safetensors': tensor 'a': shape entry 1 is -3, expected a "
                 "non-negative integer",
                 st("neg.safetensors", R"({"a": {"dtype": "F32", "shape": [2, -3], "data_offsets": [0, 4]}})", 4)});
    c.push_back({"io_error",
                 "load_safetensors: '/tmp/run/over.safetensors': tensor 'a': shape [4294967296,4294967296,2] holds "
                 "more bytes than 2^64; the file is corrupt",
                 st("over.safetensors",
                    R"({"a": {"dtype": "F32", "shape": [4294967296, 4294967296, 2], "data_offsets": [0, 4]}})", 4)});
    c.push_back({"io_error",
                 "load_safetensors: '/tmp/run/offs.safetensors': tensor 'a': \"data_offsets\" is [0], expected [begin, "
                 "end] (two non-negative byte offsets)",
                 st("offs.safetensors", R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0]}})", 4)});
    c.push_back({"io_error",
                 "load_safetensors: '/tmp/run/back.safetensors': tensor 'a': \"data_offsets\" [8,4] ends before it "
                 "begins; the file is corrupt",
                 st("back.safetensors", R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [8, 4]}})", 8)});
    c.push_back({"io_error",
                 "load_safetensors: '/tmp/run/span.safetensors': tensor 'a': \"data_offsets\" [0,8] span 8 bytes but "
                 "dtype F32 and shape (3) need 12; the file is corrupt",
                 st("span.safetensors", R"({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}})", 8)});
    c.push_back(
        {"io_error",
         "load_safetensors: '/tmp/run/dup.safetensors': the header has the key 'a' twice; keys must be unique",
         st("dup.safetensors",
            R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})",
            4)});
    c.push_back({"io_error",
                 "load_safetensors: '/tmp/run/meta.safetensors': \"__metadata__\" value of 'epoch' is 3, expected a "
                 "string (metadata values must be strings)",
                 st("meta.safetensors", R"({"__metadata__": {"epoch": 3}})", 0)});
    c.push_back(
        {"io_error",
         "load_safetensors: '/tmp/run/metaobj.safetensors': \"__metadata__\" is [\"x\"], expected an object of strings",
         st("metaobj.safetensors", R"({"__metadata__": ["x"]})", 0)});
    c.push_back({"io_error",
                 "load_safetensors: '/tmp/run/trunc.safetensors': the file is truncated: the header says 80 bytes of "
                 "data (tensor 'w' ends there), found 40; re-save the checkpoint",
                 st("trunc.safetensors", R"({"w": {"dtype": "F32", "shape": [20], "data_offsets": [0, 80]}})", 40)});
    c.push_back(
        {"io_error",
         "load_safetensors: '/tmp/run/overlap.safetensors': tensors 'a' and 'b' overlap: 'b' starts at data offset 4 "
         "(file offset 140) inside 'a' [0, 8); the file is corrupt",
         st("overlap.safetensors",
            R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})",
            12)});
    c.push_back(
        {"io_error",
         "load_safetensors: '/tmp/run/hole.safetensors': data bytes [4, 8) (file offset 140) before tensor 'b' belong "
         "to no tensor; the file is corrupt",
         st("hole.safetensors",
            R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}})",
            12)});
    c.push_back({"io_error",
                 "load_safetensors: '/tmp/run/tail.safetensors': data bytes [4, 8) (file offset 76) at the end of the "
                 "file belong to no tensor; the file is corrupt or has trailing bytes",
                 st("tail.safetensors", R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})", 8)});

    // ---- io_error: checkpoints and optimizer state ----
    const auto mlp = [](const std::string& spec) {
        Generator gen(0);
        return Sequential::mlp(spec, gen);
    };
    const auto saved = [=](const std::string& name, const std::string& spec, const std::string& optimizer) {
        auto model = mlp(spec);
        std::unique_ptr<Optimizer> opt;
        if (optimizer == "sgd") opt = std::make_unique<SGD>(model->named_parameters(), SGDOptions(0.1).momentum(0.9));
        if (optimizer == "adam") opt = std::make_unique<Adam>(model->named_parameters(), AdamOptions{});
        if (opt) {
            sum(square((*model)(Tensor::ones({1, 4})))).backward();
            opt->step();
        }
        save_checkpoint(file(name), *model, opt.get(), {{"model", spec}});
        return file(name);
    };
    c.push_back(
        {"io_error",
         "checkpoint /tmp/run/model.safetensors: tensor '0.weight' is float32 (3,4) but the model's parameter is "
         "float32 (5,4) (the file was saved for model 4-3-2)",
         [=] {
             const std::string p = saved("model.safetensors", "4-3-2", "");
             load_checkpoint(p, *mlp("4-5-2"), nullptr);
         }});
    c.push_back(
        {"io_error",
         "checkpoint /tmp/run/model.safetensors: tensor '2.weight' is not a parameter of this model (the file was "
         "saved for model 4-3-2)",
         [=] {
             const std::string p = saved("model.safetensors", "4-3-2", "");
             Generator gen(0);
             MlpOptions with_dropout;
             with_dropout.dropout = 0.1;  // a Dropout layer shifts the later layers' names
             load_checkpoint(p, *Sequential::mlp("4-3-2", gen, with_dropout), nullptr);
         }});
    // Text from the file is quoted escaped (here an ANSI "clear screen" in a tensor name) and clipped.
    c.push_back(
        {"io_error",
         "checkpoint /tmp/run/esc.safetensors: tensor '\\x1B[2J0.weight' is not a parameter of this model (the file "
         "was saved for model 4-2)",
         [=] {
             const std::string p = file("esc.safetensors");
             save_safetensors(p, {{"\x1b[2J0.weight", Array::zeros({2, 4}, f32)}, {"0.bias", Array::zeros({2}, f32)}},
                              {{"model", "4-2"}});
             load_checkpoint(p, *mlp("4-2"), nullptr);
         }});
    c.push_back({"io_error",
                 "load_safetensors: '/tmp/run/huge.safetensors': cannot allocate 2199023255552 bytes to read the file: "
                 "out of memory; free memory or raise the memory limit (ulimit -v)",
                 [=] {
                     // A sparse 2 TB file: no disk is used, and no memory holds it (the address-space limit makes
                     // sure of it even where the kernel overcommits always).
                     const std::string p = file("huge.safetensors");
                     std::ofstream(p).close();
                     fs::resize_file(p, std::uintmax_t{1} << 41);
                     const AddressSpaceLimit limit(std::size_t{1} << 30);
                     load_safetensors(p);
                 },
                 true});
    c.push_back(
        {"io_error",
         "checkpoint /tmp/run/model.safetensors: the model's parameter '0.bias' (float32 (2), 8 bytes) is missing (the "
         "file was saved for model 4-2)",
         [=] {
             auto model = mlp("4-2");
             save_safetensors(file("model.safetensors"), {{"0.weight", model->named_parameters()[0].second.value()}},
                              {{"model", "4-2"}});
             load_checkpoint(file("model.safetensors"), *model, nullptr);
         }});
    c.push_back({"io_error",
                 "checkpoint /tmp/run/cnn.safetensors: tensor '1.running_mean' is float32 (5) but the model's buffer "
                 "is float32 (4) (the file was saved for model conv4k3,bn,flatten,linear10)",
                 [=] {
                     Generator gen(0);
                     auto model = build_model("conv4k3,bn,flatten,linear10", gen);
                     NamedArrays tensors;
                     for (const auto& [name, p] : model->named_parameters()) tensors.emplace_back(name, p.value());
                     tensors.emplace_back("1.running_mean", Array::zeros({5}, f32));
                     tensors.emplace_back("1.running_var", Array::full({4}, 1.0, f32));
                     save_safetensors(file("cnn.safetensors"), tensors, {{"model", "conv4k3,bn,flatten,linear10"}});
                     load_checkpoint(file("cnn.safetensors"), *model, nullptr);
                 }});
    c.push_back({"io_error",
                 "checkpoint /tmp/run/cnn.safetensors: the model's buffer '1.running_var' (float32 (4), 16 bytes) is "
                 "missing (the file was saved for model conv4k3,bn,flatten,linear10)",
                 [=] {
                     Generator gen(0);
                     auto model = build_model("conv4k3,bn,flatten,linear10", gen);
                     NamedArrays tensors;
                     for (const auto& [name, p] : model->named_parameters()) tensors.emplace_back(name, p.value());
                     tensors.emplace_back("1.running_mean", Array::zeros({4}, f32));
                     save_safetensors(file("cnn.safetensors"), tensors, {{"model", "conv4k3,bn,flatten,linear10"}});
                     load_checkpoint(file("cnn.safetensors"), *model, nullptr);
                 }});
    c.push_back(
        {"io_error",
         "checkpoint /tmp/run/cnn.safetensors: tensor '1.weight' is not a parameter or buffer of this "
         "model (the file was saved for model conv4k3,bn,flatten,linear10)",
         [=] {
             Generator gen(0);
             auto with_bn = build_model("conv4k3,bn,flatten,linear10", gen);
             save_checkpoint(file("cnn.safetensors"), *with_bn, nullptr, {{"model", "conv4k3,bn,flatten,linear10"}});
             load_checkpoint(file("cnn.safetensors"), *build_model("conv4k3,relu,flatten,bn,linear10", gen), nullptr);
         }});
    c.push_back(
        {"io_error",
         "checkpoint /tmp/run/model.safetensors: its optimizer state is from sgd, not adam (the file was saved for "
         "model 4-2)",
         [=] {
             const std::string p = saved("model.safetensors", "4-2", "sgd");
             auto model = mlp("4-2");
             Adam adam(model->named_parameters(), AdamOptions{});
             load_checkpoint(p, *model, &adam);
         }});
    c.push_back(
        {"io_error",
         "checkpoint /tmp/run/model.safetensors: optimizer state: the step count 'step' is missing; the state was "
         "not saved by an optimizer (load the checkpoint without one to restore only the parameters)",
         [=] {
             const std::string p = saved("model.safetensors", "4-2", "");
             auto model = mlp("4-2");
             SGD sgd(model->named_parameters(), SGDOptions(0.1).momentum(0.9));
             load_checkpoint(p, *model, &sgd);
         }});
    c.push_back(
        {"io_error",
         "checkpoint /tmp/run/model.safetensors: optimizer state: slot '0.weight.m' is missing (was it saved by adam?)",
         [=] {
             auto model = mlp("4-2");
             NamedArrays tensors;
             for (const auto& [name, p] : model->named_parameters()) tensors.emplace_back(name, p.value());
             tensors.emplace_back("optim.step", Array::scalar(3.0, f64));
             save_safetensors(file("model.safetensors"), tensors, {{"model", "4-2"}, {"optimizer", "adam"}});
             Adam adam(model->named_parameters(), AdamOptions{});
             load_checkpoint(file("model.safetensors"), *model, &adam);
         }});
    c.push_back({"io_error", "optimizer state: slot 'w.m' is float64 (1) but the parameter is float32 (2)", [] {
                     const Tensor w = Tensor::zeros({2}).requires_grad();
                     Adam adam({{"w", w}}, AdamOptions{});
                     adam.load_state({{"w.m", Array::zeros({1}, f64)}, {"step", Array::scalar(1.0, f64)}});
                 }});
    c.push_back({"io_error",
                 "optimizer state: parameter 'w' has only some of its adam slots; the state is incomplete or from "
                 "another optimizer",
                 [] {
                     const Tensor w = Tensor::zeros({2}).requires_grad();
                     Adam adam({{"w", w}}, AdamOptions{});
                     adam.load_state({{"w.m", Array::zeros({2}, f32)}, {"step", Array::scalar(0.0, f64)}});
                 }});
    c.push_back({"io_error",
                 "optimizer state: the step count 'step' is 2.5, not a whole number of steps; the state is corrupt",
                 [] {
                     SGD sgd({{"w", Tensor::zeros({2}).requires_grad()}}, SGDOptions(0.1));
                     sgd.load_state({{"step", Array::scalar(2.5, f64)}});
                 }});
    c.push_back({"io_error",
                 "checkpoint /tmp/run/nan.safetensors: tensor '0.weight' (float32 (2,4)) holds 2 non-finite values, "
                 "the first nan at element 5 (index (1,1)); the checkpoint is corrupt or was saved after training "
                 "diverged: load an earlier one or retrain",
                 [=] {
                     Array w = Array::zeros({2, 4}, f32);
                     w.get_mut<float>().data()[5] = std::numeric_limits<float>::quiet_NaN();
                     w.get_mut<float>().data()[7] = -std::numeric_limits<float>::infinity();
                     save_safetensors(file("nan.safetensors"), {{"0.weight", w}}, {{"model", "4-2"}});
                     read_checkpoint(file("nan.safetensors"));
                 }});
    c.push_back({"io_error",
                 "checkpoint: the random generator state (metadata 'rng') is not a valid mt19937_64 state; the "
                 "checkpoint is corrupt or was not written by adgraph",
                 [] {
                     Generator gen(0);
                     set_generator_state(gen, "not a state");
                 }});
    // The playground's request bodies, requests and server (apps/playground/).
    c.push_back({"value_error", "playground: field 'noise' must be a number, not a string",
                 [] { playground::config_from_json(nlohmann::json::parse(R"({"noise": "high"})")); }});
    c.push_back({"value_error",
                 "playground: field 'train_percent' must be an integer, not 50.5 (a number with a fractional part)",
                 [] { playground::config_from_json(nlohmann::json::parse(R"({"train_percent": 50.5})")); }});
    c.push_back({"value_error", "playground: field 'seed' must be an integer from 0 to 9007199254740991, not -1",
                 [] { playground::config_from_json(nlohmann::json::parse(R"({"seed": -1})")); }});
    c.push_back({"value_error", "playground: field 'epochs' must be an integer from 1 to 100, not 101",
                 [] { playground::step_request_from_json(nlohmann::json::parse(R"({"epochs": 101})"), 100); }});
    c.push_back({"value_error",
                 "playground: unknown field 'nosie' in the configuration; use dataset, noise, train_percent, "
                 "batch_size, seed, features, layers, activation, learning_rate, regularization, regularization_rate",
                 [] { playground::config_from_json(nlohmann::json::parse(R"({"nosie": 5})")); }});
    c.push_back({"value_error",
                 "playground: the request body is not valid JSON: [json.exception.parse_error.101] parse error at "
                 "line 1, column 13: syntax error while parsing object key - unexpected '}'; expected string literal",
                 [] { playground::parse_body(R"({"noise": 0,})"); }});
    c.push_back({"value_error",
                 "playground: the request body must be a JSON object, not an array; send {} or an object with the "
                 "fields of docs/playground.md",
                 [] { playground::parse_body("[1, 2]"); }});
    c.push_back({"value_error",
                 "playground: unknown session '0123456789abcdef0123456789abcdef'; it may have been freed after 600 s "
                 "without requests: reload the page",
                 [] { playground::SessionStore(2, 600).find("0123456789abcdef0123456789abcdef"); }});
    c.push_back({"value_error",
                 "playground: 1 sessions are open, the most this server allows; close a tab or wait 600 s for idle "
                 "ones to be freed",
                 [] {
                     playground::SessionStore store(1, 600);
                     store.create(playground::Config{});
                     store.create(playground::Config{});
                 }});
    c.push_back({"value_error", "playground: PUT is not allowed on '/api/sessions'; use POST",
                 [] { playground::route_of("PUT", "/api/sessions"); }});
    c.push_back({"value_error",
                 "playground: nothing at '/nope'; the playground serves /, /app.js, /style.css and /api/sessions "
                 "(see docs/playground.md)",
                 [] { playground::route_of("GET", "/nope"); }});
    c.push_back({"value_error",
                 "playground: the request body is over 65536 bytes, more than any request of the API needs; send a "
                 "smaller one",
                 [] { throw playground::body_too_large(playground::max_body_bytes); }});
    c.push_back({"value_error",
                 "playground: the request is not well-formed HTTP/1.1; send a valid request line and headers",
                 [] { throw playground::malformed_request(); }});
    c.push_back({"value_error",
                 "playground: the request was refused with HTTP status 414; check its request line (path up to 8 "
                 "KiB) and headers",
                 [] { throw playground::refused_request(414); }});
    c.push_back({"value_error",
                 "playground: internal error: std::bad_alloc; the request was not completed (other sessions are "
                 "unaffected)",
                 [] { throw playground::internal_error(std::bad_alloc().what()); }});
    c.push_back({"value_error",
                 "playground: block_average: a map of 3 values cannot be read as 2 x 2 cells in blocks of 2; pass "
                 "side² values with side a multiple of factor",
                 [] {
                     playground::block_average({1, 2, 3}, 2, 2);
                 }});
    c.push_back({"value_error", "safetensors_bytes: the tensor name 'w' appears twice; names must be unique", [] {
                     safetensors_bytes({{"w", Array::zeros({1}, f32)}, {"w", Array::zeros({1}, f32)}});
                 }});
    c.push_back({"value_error",
                 "checkpoint_bytes: tensor '0.bias' (float32 (2)) holds 1 non-finite value, the first inf at element "
                 "1 (index (1)); the model diverged, so no checkpoint was made: train again with a smaller learning "
                 "rate",
                 [] {
                     Generator gen(0);
                     auto model = Sequential::mlp("4-2", gen);
                     model->named_parameters()[1].second.mutable_value().get_mut<float>().data()[1] =
                         std::numeric_limits<float>::infinity();
                     checkpoint_bytes(*model);
                 }});
    c.push_back({"value_error",
                 "playground: cannot export the model: checkpoint_bytes: tensor '0.bias' (float32 (2)) holds 1 "
                 "non-finite value, the first inf at element 1 (index (1)); the model diverged, so no checkpoint was "
                 "made: train again with a smaller learning rate",
                 [] {
                     Generator gen(0);
                     auto model = Sequential::mlp("4-2", gen);
                     model->named_parameters()[1].second.mutable_value().get_mut<float>().data()[1] =
                         std::numeric_limits<float>::infinity();
                     try {
                         checkpoint_bytes(*model);
                     } catch (const value_error& e) {
                         throw playground::export_refused(e.what());  // as the server answers a model export
                     }
                 }});
    c.push_back({"io_error",
                 "playground: cannot listen on 192.0.2.1 port 8000: Cannot assign requested address; pick another "
                 "--port (0: any free one) or a --host of this machine",
                 [] {
                     playground::ServerOptions o;
                     o.host = "192.0.2.1";  // TEST-NET-1 (RFC 5737): never an address of this machine
                     o.port = 8000;
                     playground::Server server(o);
                 }});
    return c;
}

using testing::CliResult;
using testing::run_cli;

// One CLI failure: arguments, exit code, the whole stderr (normalised) and what must hold of the files afterwards.
struct CliFamily {
    std::vector<std::string> args;
    int code;
    std::string err;
    std::function<void()> left = [] {};
};

// Names in `dir` that a failed atomic write would leave behind.
std::vector<std::string> temporaries(const std::string& dir) {
    std::vector<std::string> found;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
        if (e.path().filename().string().find(".tmp.") != std::string::npos) found.push_back(e.path().string());
    }
    return found;
}

// Scratch layout of the CLI cases: data/ a small dataset of Fashion-MNIST's shape, trained/model.safetensors a
// checkpoint of 784-16-10 trained on it, and the files each case needs (prepare_cli_scratch).
std::vector<CliFamily> cli_catalog(const adg::testing::TempDir& dir) {
    const std::string data = dir.file("data"), ckpt = dir.file("trained/model.safetensors");
    std::vector<CliFamily> c;
    // usage errors: exit 2
    c.push_back(
        {{},
         2,
         "adgraph: A subcommand is required\nRun 'adgraph --help' (or 'adgraph <command> --help') for the options.\n"});
    c.push_back({{"train", "--frobnicate"},
                 2,
                 "adgraph: The following argument was not expected: --frobnicate\nRun 'adgraph --help' (or 'adgraph "
                 "<command> --help') for the options.\n"});
    c.push_back({{"train", "--epochs", "ten"},
                 2,
                 "adgraph: --epochs: ten is not a whole number from 1 to 1000000\nRun 'adgraph --help' (or 'adgraph "
                 "<command> --help') for the options.\n"});
    c.push_back({{"train", "--epochs", "-1"},
                 2,
                 "adgraph: --epochs: -1 is not a whole number from 1 to 1000000\nRun 'adgraph --help' (or 'adgraph "
                 "<command> --help') for the options.\n"});
    c.push_back({{"train", "--optimizer", "rmsprop"},
                 2,
                 "adgraph: --optimizer: rmsprop not in {sgd,adam,adamw}\nRun 'adgraph --help' (or 'adgraph <command> "
                 "--help') for the options.\n"});
    c.push_back(
        {{"eval"},
         2,
         "adgraph: --model is required\nRun 'adgraph --help' (or 'adgraph <command> --help') for the options.\n"});
    c.push_back({{"train", "--lr", "-1"},
                 2,
                 "adgraph: --lr: -1 is not a finite number > 0\nRun 'adgraph --help' (or 'adgraph <command> --help') "
                 "for the options.\n"});
    c.push_back({{"train", "--batch", "0"},
                 2,
                 "adgraph: --batch: 0 is not a whole number from 1 to 1000000000\nRun 'adgraph --help' (or 'adgraph "
                 "<command> --help') for the options.\n"});
    c.push_back({{"train", "--threads", "-1"},
                 2,
                 "adgraph: --threads: -1 is not a whole number from 0 to 4096\nRun 'adgraph --help' (or 'adgraph "
                 "<command> --help') for the options.\n"});
    c.push_back(
        {{"train", "--dropout", "1"},
         2,
         "adgraph: --dropout: 1 is not a number in [0, 1)\nRun 'adgraph --help' (or 'adgraph <command> --help') "
         "for the options.\n"});
    c.push_back(
        {{"train", "--weight-decay", "inf"},
         2,
         "adgraph: --weight-decay: inf is not a finite number >= 0\nRun 'adgraph --help' (or 'adgraph <command> "
         "--help') for the options.\n"});
    c.push_back({{"predict", "--model", ckpt, "--index", "-1", "--data", data},
                 2,
                 "adgraph: --index: -1 is not a whole number from 0 to 1000000000\nRun 'adgraph --help' (or 'adgraph "
                 "<command> --help') for the options.\n"});
    c.push_back({{"train", "--model", "784-x-10"},
                 2,
                 "adgraph: --model: model spec '784-x-10': 'x' is not a whole number; write layer sizes joined by '-', "
                 "e.g. 784-256-128-10\nRun 'adgraph train --help' for the options.\n"});
    c.push_back({{"train", "--model", "100-10"},
                 2,
                 "adgraph: --model 100-10: Fashion-MNIST needs 784 inputs and 10 outputs, e.g. 784-256-128-10\nRun "
                 "'adgraph train --help' for the options.\n"});
    c.push_back(
        {{"train", "--model", "conv8k3,pool,linear10"},
         2,
         "adgraph: --model: model spec 'conv8k3,pool,linear10': unknown layer 'pool'; write layers joined by ',' from "
         "conv<out>k<kernel>[s<stride>][p<padding>], maxpool<k>[s<stride>][p<padding>], "
         "avgpool<k>[s<stride>][p<padding>], bn, relu, leaky_relu, tanh, sigmoid, flatten, linear<out>, dropout[<p>], "
         "res(<layers>), rows, rnn<hidden>[x<layers>], gru<hidden>[x<layers>], last, e.g. "
         "conv32k3p1,bn,relu,maxpool2,flatten,linear10 or rows,gru128,last,linear10; or name a preset, cnn or gru; or "
         "give MLP sizes joined by '-', e.g. 784-256-128-10\nRun 'adgraph train --help' for the options.\n"});
    c.push_back({{"train", "--model", "conv8k3,flatten,linear5"},
                 2,
                 "adgraph: --model conv8k3,flatten,linear5: Fashion-MNIST has 10 classes but the model ends in 5 "
                 "features; end it with linear10\nRun 'adgraph train --help' for the options.\n"});
    c.push_back({{"train", "--activation", "swish"},
                 2,
                 "adgraph: --activation: activation 'swish' is unknown; choose relu, leaky_relu, tanh or sigmoid\nRun "
                 "'adgraph train --help' for the options.\n"});
    c.push_back({{"train", "--init", "glorot"},
                 2,
                 "adgraph: --init: init: unknown initialisation 'glorot'; choose uniform, xavier or he\nRun 'adgraph "
                 "train --help' for the options.\n"});
    c.push_back({{"train", "--nesterov"},
                 2,
                 "adgraph: --nesterov applies to --optimizer sgd only\nRun 'adgraph train --help' for the options.\n"});
    c.push_back({{"train", "--optimizer", "sgd", "--nesterov", "--momentum", "0"},
                 2,
                 "adgraph: --nesterov needs --momentum > 0 (got 0)\nRun 'adgraph train --help' for the options.\n"});
    c.push_back(
        {{"train", "--epochs", "3", "--warmup-epochs", "3.5"},
         2,
         "adgraph: --warmup-epochs must be between 0 and --epochs (got 3.5 with --epochs 3)\nRun 'adgraph train "
         "--help' for the options.\n"});
    c.push_back({{"train", "--schedule", "linear"},
                 2,
                 "adgraph: --schedule: schedule 'linear' is unknown; choose constant, step or cosine\nRun 'adgraph "
                 "train --help' for the options.\n"});
    c.push_back({{"train", "--resume", ckpt, "--batch", "4"},
                 2,
                 "adgraph: --batch 4: the checkpoint /tmp/run/trained/model.safetensors was trained with --batch 8, "
                 "which a resumed run keeps; leave --batch out or pass 8\nRun 'adgraph train --help' for the "
                 "options.\n"});
    c.push_back({{"train", "--resume", dir.file("sgd.safetensors"), "--momentum", "0.9"},
                 2,
                 "adgraph: --momentum 0.9: the checkpoint /tmp/run/sgd.safetensors was trained with SGD without "
                 "momentum (--momentum 0), which keeps no velocity to continue; leave --momentum out or pass 0\nRun "
                 "'adgraph train --help' for the options.\n"});
    c.push_back({{"train", "--resume", ckpt},
                 2,
                 "adgraph: --resume: the checkpoint /tmp/run/trained/model.safetensors has trained 1 of 1 epochs; pass "
                 "--epochs above 1 to train more\nRun 'adgraph train --help' for the options.\n"});
    c.push_back({{"train", "--resume", ""},
                 2,
                 "adgraph: --resume: the path is empty; name a checkpoint written by adgraph train\nRun 'adgraph "
                 "train --help' for the options.\n"});
    c.push_back({{"graph", "--spec", "7-x"},
                 2,
                 "adgraph: --spec: model spec '7-x': 'x' is not a whole number; write layer sizes joined by '-', e.g. "
                 "784-256-128-10\nRun 'adgraph graph --help' for the options.\n"});
    c.push_back({{"graph", "--batch", "0"},
                 2,
                 "adgraph: --batch: 0 is not a whole number from 1 to 1000000000\nRun 'adgraph --help' (or 'adgraph "
                 "<command> --help') for the options.\n"});
    c.push_back({{"graph", "--out", ""},
                 2,
                 "adgraph: --out: the path is empty; name a file, or leave --out out to print to stdout\nRun 'adgraph "
                 "graph --help' for the options.\n"});
    c.push_back({{"eval", "--model", ckpt, "--spec", "784--10"},
                 2,
                 "adgraph: --spec: model spec '784--10': empty layer size at character 4; write layer sizes joined by "
                 "'-', e.g. 784-256-128-10\nRun 'adgraph eval --help' for the options.\n"});
    c.push_back({{"playground", "--layers", "4,9", "--steps", "1"},
                 2,
                 "adgraph: playground: hidden layer 2 has 9 neurons; use 1..8\nRun 'adgraph playground --help' for "
                 "the options.\n"});
    c.push_back({{"playground", "--layers", "4,x", "--steps", "1"},
                 2,
                 "adgraph: --layers: x is not a whole number from 0 to 1000; give the neurons of each hidden layer "
                 "joined by ',' (e.g. 8,8), or \"\" for none\nRun 'adgraph playground --help' for the options.\n"});
    c.push_back({{"playground", "--dataset", "spiral"},
                 2,
                 "adgraph: --dataset: sets up a headless run; add --steps N or --png FILE (the server takes its "
                 "settings from the page)\nRun 'adgraph playground --help' for the options.\n"});
    c.push_back({{"playground", "--port", "9000", "--steps", "1"},
                 2,
                 "adgraph: --port: a server option; leave it out of a headless run (--steps or --png)\nRun 'adgraph "
                 "playground --help' for the options.\n"});
    // runtime failures: exit 1
    c.push_back({{"playground", "--host", "192.0.2.1", "--port", "8000"},
                 1,
                 "adgraph: error: playground: cannot listen on 192.0.2.1 port 8000: Cannot assign requested address; "
                 "pick another --port (0: any free one) or a --host of this machine\n"});
    c.push_back(
        {{"train", "--data", dir.file("nowhere"), "--out", dir.file("out-nodata")},
         1,
         "adgraph: error: load_fashion_mnist: the data directory /tmp/run/nowhere does not exist; install the Debian "
         "package `dataset-fashion-mnist` (apt-get install dataset-fashion-mnist) or pass --data DIR\n",
         [&dir] { CHECK_FALSE(fs::exists(dir.file("out-nodata"))); }});
    c.push_back({{"train", "--data", data, "--out", dir.file("out-file"), "--threads", "1"},
                 1,
                 "adgraph: error: '/tmp/run/out-file': cannot create the output directory: Not a directory; pass --out "
                 "with a directory that can be created or written\n",
                 [&dir] { CHECK(adg::testing::read_file(dir.file("out-file")) == "a file, not a directory\n"); }});
    c.push_back({{"train", "--data", data, "--out", dir.file("out-busy"), "--threads", "1", "--no-plot"},
                 1,
                 "adgraph: error: '/tmp/run/out-busy/metrics.jsonl': cannot rename the temporary file "
                 "'/tmp/run/out-busy/metrics.jsonl.tmp.4242.0' over it: Is a directory; if a directory has that name, "
                 "remove it or write somewhere else\n",
                 [&dir] {
                     CHECK(fs::is_empty(dir.file("out-busy/metrics.jsonl")));
                     CHECK(temporaries(dir.file("out-busy")).empty());
                     CHECK_FALSE(fs::exists(dir.file("out-busy/model.safetensors")));
                 }});
    c.push_back({{"train", "--data", data, "--out", dir.file("out-nan"), "--optimizer", "sgd", "--lr", "1e30",
                  "--momentum", "0", "--schedule", "constant", "--batch", "8", "--threads", "1", "--no-plot"},
                 1,
                 "adgraph: error: the loss became nan at epoch 1, step 2 (global step 2); training stopped. No "
                 "checkpoint was written. Try a smaller --lr.\n",
                 [&dir] {
                     // The metrics file is whole (no epoch finished, so empty); no checkpoint, no temporaries.
                     CHECK(adg::testing::read_file(dir.file("out-nan/metrics.jsonl")).empty());
                     CHECK(fs::exists(dir.file("out-nan/metrics.jsonl")));
                     CHECK_FALSE(fs::exists(dir.file("out-nan/model.safetensors")));
                     CHECK(temporaries(dir.file("out-nan")).empty());
                 }});
    c.push_back({{"train", "--resume", dir.file("nospec.safetensors"), "--epochs", "2"},
                 1,
                 "adgraph: error: checkpoint /tmp/run/nospec.safetensors: the metadata has no 'train_options', so its "
                 "run cannot be continued (it was not written by adgraph train, or by one older than --resume); train "
                 "afresh\n"});
    c.push_back({{"train", "--resume", dir.file("options.safetensors"), "--epochs", "2"},
                 1,
                 "adgraph: error: checkpoint /tmp/run/options.safetensors: metadata 'train_options' has no valid "
                 "--model; the metadata is corrupt: resume from another checkpoint or train afresh\n"});
    c.push_back({{"train", "--resume", dir.file("notobject.safetensors"), "--epochs", "2"},
                 1,
                 "adgraph: error: checkpoint /tmp/run/notobject.safetensors: metadata 'train_options' is not a JSON "
                 "object; the metadata is corrupt: resume from another checkpoint or train afresh\n"});
    c.push_back({{"train", "--resume", dir.file("range.safetensors"), "--epochs", "2"},
                 1,
                 "adgraph: error: checkpoint /tmp/run/range.safetensors: metadata 'train_options' has --batch 0, not a "
                 "whole number from 1 to 1000000000; the metadata is corrupt: resume from another checkpoint or train "
                 "afresh\n"});
    c.push_back({{"train", "--resume", dir.file("noepoch.safetensors"), "--epochs", "2"},
                 1,
                 "adgraph: error: checkpoint /tmp/run/noepoch.safetensors: metadata 'epoch' is missing; the metadata "
                 "is corrupt: resume from another checkpoint or train afresh\n"});
    c.push_back({{"train", "--resume", dir.file("badstep.safetensors"), "--epochs", "2"},
                 1,
                 "adgraph: error: checkpoint /tmp/run/badstep.safetensors: metadata 'global_step' is 'two', not a "
                 "whole number; the metadata is corrupt: resume from another checkpoint or train afresh\n"});
    c.push_back({{"train", "--resume", dir.file("steps.safetensors"), "--epochs", "2", "--data", data, "--threads", "1",
                  "--no-plot", "--out", dir.file("out-steps")},
                 1,
                 "adgraph: error: checkpoint /tmp/run/steps.safetensors: metadata 'global_step' is 5, not 'epoch' 1 "
                 "× 2 batches an epoch (16 training images in batches of 8); resume with the run's --data and --limit, "
                 "or from another checkpoint if this one is corrupt\n",
                 [&] { CHECK_FALSE(fs::exists(dir.file("out-steps/model.safetensors"))); }});
    c.push_back({{"eval", "--model", dir.file("missing.safetensors"), "--data", data},
                 1,
                 "adgraph: error: load_safetensors: '/tmp/run/missing.safetensors': cannot open the file: No such file "
                 "or directory; check the path\n"});
    c.push_back({{"eval", "--model", dir.file("cut.safetensors"), "--data", data},
                 1,
                 "adgraph: error: load_safetensors: '/tmp/run/cut.safetensors': the file is truncated: the header says "
                 "152768 bytes of data (tensor 'optim.3.bias.v' ends there), found 72428; re-save the checkpoint\n"});
    c.push_back(
        {{"eval", "--model", ckpt, "--spec", "784-8-10", "--data", data},
         1,
         "adgraph: error: checkpoint /tmp/run/trained/model.safetensors: tensor '0.weight' is float32 (16,784) but "
         "the model's parameter is float32 (8,784) (the file was saved for model 784-16-10)\n"});
    c.push_back(
        {{"eval", "--model", dir.file("nospec.safetensors"), "--data", data},
         1,
         "adgraph: error: checkpoint /tmp/run/nospec.safetensors: the metadata has no model spec; pass --spec\n"});
    c.push_back({{"eval", "--model", dir.file("dropout.safetensors"), "--data", data},
                 1,
                 "adgraph: error: checkpoint /tmp/run/dropout.safetensors: metadata 'dropout' is 'ten percent', not a "
                 "number; the metadata is corrupt (adgraph train writes e.g. '0.100000')\n"});
    c.push_back({{"eval", "--model", dir.file("dropout-nan.safetensors"), "--data", data},
                 1,
                 "adgraph: error: checkpoint /tmp/run/dropout-nan.safetensors: metadata 'dropout' is 'nan', not a "
                 "probability in [0, 1); the metadata is corrupt (adgraph train writes e.g. '0.100000')\n"});
    c.push_back({{"eval", "--model", dir.file("huge.safetensors"), "--data", data},
                 1,
                 "adgraph: error: checkpoint /tmp/run/huge.safetensors: the model's parameter '0.weight' (float32 "
                 "(9999999,784), 31359996864 bytes) is missing (the file was saved for model 784-9999999-10)\n"});
    c.push_back({{"predict", "--model", dir.file("nan.safetensors"), "--index", "0", "--data", data},
                 1,
                 "adgraph: error: checkpoint /tmp/run/nan.safetensors: tensor '0.weight' (float32 (16,784)) holds 1 "
                 "non-finite value, the first nan at element 5 (index (0,5)); the checkpoint is corrupt or was saved "
                 "after training diverged: load an earlier one or retrain\n"});
    c.push_back({{"predict", "--model", ckpt, "--index", "10", "--data", data},
                 1,
                 "adgraph: error: predict: --index 10 is out of range (the test set has 10 images)\n"});
    c.push_back({{"train", "--data", dir.file("data20"), "--out", dir.file("out-20"), "--threads", "1"},
                 1,
                 "adgraph: error: /tmp/run/data20/train-images-idx3-ubyte: the images are 20x20 (400 values) but the "
                 "model 784-256-128-10 takes 784 inputs; pass --data with 28x28 Fashion-MNIST images\n",
                 [&dir] { CHECK_FALSE(fs::exists(dir.file("out-20"))); }});
    c.push_back({{"eval", "--model", ckpt, "--data", dir.file("data20")},
                 1,
                 "adgraph: error: /tmp/run/data20/t10k-images-idx3-ubyte: the images are 20x20 (400 values) but the "
                 "model 784-16-10 of checkpoint /tmp/run/trained/model.safetensors takes 784 inputs; pass --data with "
                 "28x28 Fashion-MNIST images\n"});
    c.push_back({{"eval", "--model", ckpt, "--data", dir.file("data14x56")},
                 1,
                 "adgraph: error: /tmp/run/data14x56/t10k-images-idx3-ubyte: the images are 14x56, not 28x28 as "
                 "Fashion-MNIST's (the model 784-16-10 of checkpoint /tmp/run/trained/model.safetensors reads 28 rows "
                 "of 28 pixels); pass --data with 28x28 Fashion-MNIST images\n"});
    c.push_back({{"eval", "--model", dir.file("outputs20.safetensors"), "--data", data},
                 1,
                 "adgraph: error: checkpoint /tmp/run/outputs20.safetensors: the model 784-16-20 has 20 outputs but "
                 "Fashion-MNIST has 10 classes; use a checkpoint of a model ending in -10, as adgraph train writes\n"});
    c.push_back({{"eval", "--model", ckpt, "--spec", "cnn", "--data", data},
                 1,
                 "adgraph: error: checkpoint /tmp/run/trained/model.safetensors: --spec cnn names a layer-list model "
                 "(CNN) but the checkpoint holds an MLP (saved for model 784-16-10); leave --spec out to use the "
                 "checkpoint's model, or pass MLP sizes such as 784-256-128-10\n"});
    c.push_back({{"eval", "--model", dir.file("cnn.safetensors"), "--spec", "784-16-10", "--data", data},
                 1,
                 "adgraph: error: checkpoint /tmp/run/cnn.safetensors: --spec 784-16-10 names an MLP but the "
                 "checkpoint holds a layer-list model (CNN) (saved for model conv2k3,flatten,linear10); leave --spec "
                 "out to use the checkpoint's model, or pass a layer list or the preset it was trained as\n"});
    c.push_back({{"eval", "--model", dir.file("cnn5.safetensors"), "--data", data},
                 1,
                 "adgraph: error: checkpoint /tmp/run/cnn5.safetensors: the model conv2k3,flatten,linear5 has 5 "
                 "outputs but Fashion-MNIST has 10 classes; use a checkpoint of a model ending in linear10, as "
                 "adgraph train writes\n"});
    c.push_back({{"predict", "--model", dir.file("overflow.safetensors"), "--index", "3", "--data", data},
                 1,
                 "adgraph: error: checkpoint /tmp/run/overflow.safetensors: evaluate: the model's output for image 3, "
                 "class 0 is inf: its weights overflow float32 in the forward pass; retrain (e.g. with a smaller --lr) "
                 "or use another checkpoint\n"});
    return c;
}

void prepare_cli_scratch(const adg::testing::TempDir& dir) {
    const std::string data = dir.file("data");
    fs::create_directories(data);
    write_fake_split(data, "train", 16);
    write_fake_split(data, "t10k", 10);
    const auto r = run_cli({"train", "--data", data, "--out", dir.file("trained"), "--model", "784-16-10", "--epochs",
                            "1", "--batch", "8", "--threads", "1", "--no-plot"});
    REQUIRE_MESSAGE(r.code == 0, r.err);
    const std::string ckpt = dir.file("trained/model.safetensors");
    fs::copy_file(ckpt, dir.file("cut.safetensors"));
    fs::resize_file(dir.file("cut.safetensors"), fs::file_size(ckpt) / 2);
    save_safetensors(dir.file("nospec.safetensors"), {{"0.weight", Array::zeros({16, 784}, f32)}});
    save_safetensors(dir.file("dropout.safetensors"), {{"0.weight", Array::zeros({16, 784}, f32)}},
                     {{"model", "784-16-10"}, {"dropout", "ten percent"}});
    save_safetensors(dir.file("options.safetensors"), {{"0.weight", Array::zeros({16, 784}, f32)}},
                     {{"model", "784-16-10"}, {"epoch", "1"}, {"global_step", "2"}, {"train_options", "{}"}});
    // Resume metadata: not an object, a recorded value out of its option's range, no epoch, a step that is not a
    // number, and a step that is not the epochs done times the batches an epoch (16 images in batches of 8: 2).
    const std::string recorded = adg::nn::read_checkpoint_metadata(ckpt).at("train_options");
    nlohmann::json zero_batch = nlohmann::json::parse(recorded);
    zero_batch["--batch"] = 0;
    save_safetensors(dir.file("notobject.safetensors"), {},
                     {{"epoch", "1"}, {"global_step", "2"}, {"train_options", "[1]"}});
    save_safetensors(dir.file("range.safetensors"), {},
                     {{"epoch", "1"}, {"global_step", "2"}, {"train_options", zero_batch.dump()}});
    save_safetensors(dir.file("noepoch.safetensors"), {}, {{"global_step", "2"}, {"train_options", recorded}});
    nlohmann::json sgd = nlohmann::json::parse(recorded);
    sgd["--optimizer"] = "sgd";
    sgd["--momentum"] = 0.0;
    save_safetensors(dir.file("sgd.safetensors"), {},
                     {{"epoch", "1"}, {"global_step", "2"}, {"train_options", sgd.dump()}});
    save_safetensors(dir.file("badstep.safetensors"), {},
                     {{"epoch", "1"}, {"global_step", "two"}, {"train_options", recorded}});
    SafetensorsFile steps = load_safetensors(ckpt);
    steps.metadata["global_step"] = "5";
    save_safetensors(dir.file("steps.safetensors"), steps.tensors, steps.metadata);
    save_safetensors(dir.file("dropout-nan.safetensors"), {{"0.weight", Array::zeros({16, 784}, f32)}},
                     {{"model", "784-16-10"}, {"dropout", "nan"}});
    // A 56-byte file whose metadata names a 31 GB layer: refused before the model is built.
    save_safetensors(dir.file("huge.safetensors"), {}, {{"model", "784-9999999-10"}});
    SafetensorsFile nan = load_safetensors(ckpt);
    for (auto& [name, a] : nan.tensors) {
        if (name == "0.weight") a.get_mut<float>().data()[5] = std::numeric_limits<float>::quiet_NaN();
    }
    save_safetensors(dir.file("nan.safetensors"), nan.tensors, nan.metadata);
    std::ofstream(dir.file("out-file")) << "a file, not a directory\n";
    // Images of 20x20, and checkpoints saved by the library from models with 20 outputs and with weights so large
    // (finite, 1e38) that the forward pass overflows.
    fs::create_directories(dir.file("data20"));
    for (const char* split : {"train", "t10k"}) {
        IdxArray images{{4, 20, 20}, std::vector<std::uint8_t>(4 * 400, 7)};
        write_idx(dir.file("data20") + "/" + split + "-images-idx3-ubyte", images, false);
        write_idx(dir.file("data20") + "/" + split + "-labels-idx1-ubyte", IdxArray{{4}, {0, 1, 2, 3}}, false);
    }
    fs::create_directories(dir.file("data14x56"));  // 784 pixels, but not 28x28
    for (const char* split : {"train", "t10k"}) {
        IdxArray images{{4, 14, 56}, std::vector<std::uint8_t>(4 * 784, 7)};
        write_idx(dir.file("data14x56") + "/" + split + "-images-idx3-ubyte", images, false);
        write_idx(dir.file("data14x56") + "/" + split + "-labels-idx1-ubyte", IdxArray{{4}, {0, 1, 2, 3}}, false);
    }
    Generator gen(1);
    save_checkpoint(dir.file("outputs20.safetensors"), *Sequential::mlp("784-16-20", gen), nullptr,
                    {{"model", "784-16-20"}});
    const auto overflow = Sequential::mlp("784-16-10", gen);
    for (const auto& [name, p] : overflow->named_parameters()) p.mutable_value() = Array::full(p.shape(), 1e38, f32);
    save_checkpoint(dir.file("overflow.safetensors"), *overflow, nullptr, {{"model", "784-16-10"}});
    const auto cnn = build_model("conv2k3,flatten,linear10", gen);
    save_checkpoint(dir.file("cnn.safetensors"), *cnn, nullptr, {{"model", "conv2k3,flatten,linear10"}});
    const auto cnn5 = build_model("conv2k3,flatten,linear5", gen);
    save_checkpoint(dir.file("cnn5.safetensors"), *cnn5, nullptr, {{"model", "conv2k3,flatten,linear5"}});
    fs::create_directories(dir.file("out-busy/metrics.jsonl"));  // the atomic rename over a directory fails
}

std::string repo_file(const std::string& relative) {
    return adg::testing::read_file(std::string(ADGRAPH_SOURCE_DIR) + "/" + relative);
}

// Lines of the ```text blocks of a Markdown page.
std::vector<std::string> text_block_lines(const std::string& page) {
    std::vector<std::string> lines;
    std::istringstream in(page);
    bool inside = false;
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("```", 0) == 0) {
            inside = !inside && line == "```text";
            continue;
        }
        if (inside) lines.push_back(line);
    }
    return lines;
}

// The section of `page` under the heading `heading` (up to the next heading of level 2).
std::string section(const std::string& page, const std::string& heading) {
    const std::size_t at = page.find("\n" + heading + "\n");
    if (at == std::string::npos) return "";
    const std::size_t end = page.find("\n## ", at + 1);
    return page.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

}  // namespace

TEST_CASE("error catalog: each library message family raises its type with its documented text") {
    const adg::testing::TempDir dir("adgraph-errors");
    const Normaliser normalise{dir.path.string()};
    for (const Family& f : library_catalog(dir)) {
        INFO("expected: ", f.type, ": ", f.example);
#if defined(__SANITIZE_ADDRESS__)
        if (f.needs_failing_new) {
            MESSAGE("not raised under ASan (operator new cannot fail there): ", f.example);
            continue;
        }
#endif
        try {
            f.raise();
            FAIL_CHECK("nothing was thrown");
        } catch (const error& e) {
            CHECK(type_of(e) == f.type);
            CHECK(normalise(e.what()) == f.example);
        } catch (const std::exception& e) {
            FAIL_CHECK("not an adg::error: ", e.what());
        }
    }
}

TEST_CASE("error catalog: CLI usage errors exit 2 and runtime failures exit 1 with the message on stderr") {
    const adg::testing::TempDir dir("adgraph-cli-errors");
    const Normaliser normalise{dir.path.string()};
    prepare_cli_scratch(dir);
    for (const CliFamily& f : cli_catalog(dir)) {
        std::string cmd = "adgraph";
        for (const auto& a : f.args) cmd += " " + normalise(a);
        INFO(cmd);
        const CliResult r = run_cli(f.args);
        CHECK(r.code == f.code);
        CHECK(normalise(r.err) == f.err);
        CHECK(r.out.find("wrote ") == std::string::npos);
        f.left();
    }
}

TEST_CASE("error catalog: docs/errors.md has a section per exception type and quotes every catalog message") {
    const std::string page = repo_file("docs/errors.md");
    REQUIRE_MESSAGE(!page.empty(), "cannot read docs/errors.md");

    // Every class in tensor/error.hpp: the base and each type derived from it.
    const std::string header = repo_file("tensor/error.hpp");
    std::set<std::string> types;
    const std::regex declared(R"(class (\w+) : public (std::exception|error) \{)");
    for (auto it = std::sregex_iterator(header.begin(), header.end(), declared); it != std::sregex_iterator(); ++it) {
        types.insert((*it)[1]);
    }
    CHECK(types ==
          std::set<std::string>{"error", "shape_error", "dtype_error", "graph_error", "value_error", "io_error"});
    for (const auto& t : types) CHECK_MESSAGE(!section(page, "## `adg::" + t + "`").empty(), ("no section for " + t));

    // Each library message is quoted in the section of its type; each CLI stderr is quoted whole.
    const adg::testing::TempDir dir("adgraph-errors-doc");
    std::set<std::string> known;
    for (const Family& f : library_catalog(dir)) {
        INFO(f.type, ": ", f.example);
        CHECK(section(page, "## `adg::" + f.type + "`").find("\n" + f.example + "\n") != std::string::npos);
        known.insert(f.example);
    }
    for (const CliFamily& f : cli_catalog(dir)) {
        INFO(f.err);
        CHECK(page.find("\n" + f.err + "```") != std::string::npos);
        std::istringstream lines(f.err);
        for (std::string line; std::getline(lines, line);) known.insert(line);
    }
    // The message of a build without MPI under mpirun (raised in such a build by tests/test_cli_resume.cpp).
    adg::cli::Launch two;
    two.launched = true;
    two.size = 2;
    const std::string no_mpi = adg::cli::no_mpi_message(two);
    CHECK(page.find("\n" + no_mpi + "```") != std::string::npos);
    known.insert(no_mpi.substr(0, no_mpi.size() - 1));
    // The message of ranks that resumed from different files (raised under mpirun; the comparison is tested in
    // tests/test_cli_resume.cpp and tests/mpi/train_test.py).
    const std::string apart =
        "adgraph: error: " + adg::cli::resume_mismatch("/tmp/run/model.safetensors", {1, 1, 2}) + "\n";
    CHECK(page.find("\n" + apart + "```") != std::string::npos);
    known.insert(apart.substr(0, apart.size() - 1));
    // The message of ranks started unlike (raised under mpirun by tests/mpi/train_test.py --case faults).
    const std::string unlike = "adgraph: error: " + adg::cli::start_mismatch({5, 5, 6}) + "\n";
    // A rank other than 0 that could not load its data while rank 0 could (raised under mpirun by
    // tests/mpi/train_test.py --case faults): the error of the data's CLI case above, naming the rank.
    adg::cli::Launch second = two;
    second.rank = 1;
    const std::string alone = "adgraph: error: " + adg::cli::rank_prefix(second) +
                              "load_fashion_mnist: the data directory /tmp/run/nowhere does not exist; install the "
                              "Debian package `dataset-fashion-mnist` (apt-get install dataset-fashion-mnist) or pass "
                              "--data DIR\n";
    CHECK(page.find("\n" + alone + "```") != std::string::npos);
    known.insert(alone.substr(0, alone.size() - 1));
    CHECK(page.find("\n" + unlike + "```") != std::string::npos);
    known.insert(unlike.substr(0, unlike.size() - 1));
    // And the page quotes nothing else: a message changed in the code cannot linger in the page.
    for (const auto& line : text_block_lines(page)) {
        CHECK_MESSAGE(known.count(line), ("docs/errors.md quotes a message no catalog entry raises: " + line));
    }
}
