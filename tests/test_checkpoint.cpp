// nn/checkpoint: a checkpoint is checked against the model's spec before the model exists, refuses non-finite
// values, and quotes text from the file (names, metadata, shapes) in messages only escaped and clipped.

#include <doctest/doctest.h>

#include "io_message.hpp"
#include "temp_dir.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include <adgraph/adgraph.hpp>
#include <adgraph/nn/batch_norm.hpp>
#include <adgraph/nn/checkpoint.hpp>
#include <adgraph/nn/safetensors.hpp>

using namespace adg;
using namespace adg::nn;
using adg::testing::io_message;
using adg::testing::TempDir;

namespace {

doctest::Contains has(const std::string& s) { return doctest::Contains(s.c_str()); }

std::shared_ptr<Sequential> mlp(const std::string& spec, const MlpOptions& options = {}) {
    Generator gen(0);
    return Sequential::mlp(spec, gen, options);
}

}  // namespace

TEST_CASE("checkpoint: mlp_parameter_shapes lists what Sequential::mlp creates, without creating it") {
    for (const std::string spec : {"4-2", "4-3-2", "784-16-10", "5-4-3-2"}) {
        for (const double dropout : {0.0, 0.25}) {
            for (const Dtype dtype : {f32, f64}) {
                INFO(spec, " dropout ", dropout, " ", dtype_name(dtype));
                MlpOptions options;
                options.dropout = dropout;
                options.dtype = dtype;
                const auto expected = mlp_parameter_shapes(spec, options);
                const auto named = mlp(spec, options)->named_parameters();
                REQUIRE(expected.size() == named.size());
                for (std::size_t i = 0; i < named.size(); ++i) {
                    CHECK(expected[i].name == named[i].first);
                    CHECK(expected[i].dtype == named[i].second.dtype());
                    CHECK(expected[i].shape == named[i].second.shape());
                }
            }
        }
    }
    // A spec whose first layer would take 31 GB: described, not allocated.
    const auto huge = mlp_parameter_shapes("784-9999999-10");
    CHECK(huge.front().shape == Shape{9999999, 784});
    CHECK_THROWS_AS(mlp_parameter_shapes("784-x-10"), value_error);
    MlpOptions bad;
    bad.activation = "swish";
    CHECK_THROWS_AS(mlp_parameter_shapes("4-3-2", bad), value_error);
}

TEST_CASE("checkpoint: a tiny file whose metadata names a huge layer is refused before any model is built") {
    const TempDir dir;
    const std::string path = dir.file("huge.safetensors");
    // No tensors, metadata naming a model whose first layer is 9999999 x 784 floats (31 GB).
    save_safetensors(path, {}, {{"model", "784-9999999-10"}});
    CHECK(std::filesystem::file_size(path) < 128);
    const SafetensorsFile file = read_checkpoint(path);
    const auto expected = mlp_parameter_shapes(file.metadata.at("model"));
    CHECK(io_message([&] { check_checkpoint_parameters(path, file, expected); }) ==
          "checkpoint " + path +
              ": the model's parameter '0.weight' (float32 (9999999,784), 31359996864 bytes) is missing (the file "
              "was saved for model 784-9999999-10)");
    // A file holding a small tensor under that name: the shapes are compared, still without the model.
    save_safetensors(path, {{"0.weight", Array::zeros({2, 784}, f32)}}, {{"model", "784-9999999-10"}});
    CHECK(io_message([&] { check_checkpoint_parameters(path, read_checkpoint(path), expected); }) ==
          "checkpoint " + path +
              ": tensor '0.weight' is float32 (2,784) but the model's parameter is float32 (9999999,784) (the file "
              "was saved for model 784-9999999-10)");
    // A file that does fit passes, and loads into the model built afterwards from the same file.
    auto model = mlp("4-3-2");
    save_checkpoint(path, *model, nullptr, {{"model", "4-3-2"}});
    const SafetensorsFile good = read_checkpoint(path);
    check_checkpoint_parameters(path, good, mlp_parameter_shapes("4-3-2"));
    Generator other(7);
    auto rebuilt = Sequential::mlp("4-3-2", other);
    load_checkpoint(path, good, *rebuilt, nullptr);
    CHECK(rebuilt->named_parameters()[0].second.value().flat(0) == model->named_parameters()[0].second.value().flat(0));
}

TEST_CASE("checkpoint: NaN or Inf in parameters or optimizer state is refused on load, naming the tensor") {
    const TempDir dir;
    const std::string path = dir.file("bad.safetensors");
    auto model = mlp("4-2");
    SGD sgd(model->named_parameters(), SGDOptions(0.1).momentum(0.9));
    sum(square((*model)(Tensor::ones({1, 4})))).backward();
    sgd.step();
    const std::string good = dir.file("good.safetensors");
    save_checkpoint(good, *model, &sgd, {{"model", "4-2"}});
    // `path` becomes the good checkpoint with one value changed.
    const auto poisoned = [&](const std::string& tensor, std::size_t element, double value) {
        SafetensorsFile f = load_safetensors(good);
        for (auto& [name, a] : f.tensors) {
            if (name == tensor) a.visit_mut([&](auto& x) { x.data()[element] = static_cast<float>(value); });
        }
        save_safetensors(path, f.tensors, f.metadata);
    };
    const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();

    poisoned("0.weight", 6, nan);
    const Array before = model->named_parameters()[0].second.value();
    CHECK(io_message([&] { load_checkpoint(path, *model, nullptr); }) ==
          "checkpoint " + path +
              ": tensor '0.weight' (float32 (2,4)) holds 1 non-finite value, the first nan at element 6 (index "
              "(1,2)); the checkpoint is corrupt or was saved after training diverged: load an earlier one or retrain");
    CHECK(model->named_parameters()[0].second.value().flat(6) == before.flat(6));  // the model is untouched
    CHECK_THROWS_WITH_AS(read_checkpoint_metadata(path), has("tensor '0.weight' (float32 (2,4)) holds 1"), io_error);

    poisoned("0.bias", 1, -inf);
    CHECK_THROWS_WITH_AS(load_checkpoint(path, *model, nullptr),
                         has("tensor '0.bias' (float32 (2)) holds 1 non-finite value, the first -inf at element 1 "
                             "(index (1))"),
                         io_error);
    // The optimizer's state too: a NaN momentum would poison every later step.
    poisoned("optim.0.weight.momentum", 0, inf);
    const std::string momentum = io_message([&] { load_checkpoint(path, *model, &sgd); });
    CHECK(momentum.find("tensor 'optim.0.weight") != std::string::npos);
    CHECK(momentum.find("the first inf at element 0 (index (0,0))") != std::string::npos);

    // Large but finite weights are values, not corruption: they load (what they do to predictions is the caller's).
    poisoned("0.weight", 0, 1e38);
    CHECK_NOTHROW(load_checkpoint(path, *model, &sgd));
    CHECK(model->named_parameters()[0].second.value().flat(0) == doctest::Approx(1e38));
}

static std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST_CASE("checkpoint: NaN or Inf in parameters or optimizer state is refused on save, and nothing is written") {
    const TempDir dir;
    const std::string path = dir.file("model.safetensors");
    auto model = mlp("4-2");
    SGD sgd(model->named_parameters(), SGDOptions(0.1).momentum(0.9));
    sum(square((*model)(Tensor::ones({1, 4})))).backward();
    sgd.step();
    save_checkpoint(path, *model, &sgd, {{"model", "4-2"}});
    const std::string before = read_text(path);
    const Tensor w = model->named_parameters()[0].second;
    const float kept = static_cast<float>(w.value().flat(6));
    w.mutable_value().get_mut<float>().data()[6] = std::numeric_limits<float>::quiet_NaN();
    const auto refusal = [&] {
        try {
            save_checkpoint(path, *model, &sgd, {{"model", "4-2"}});
        } catch (const value_error& e) {
            return std::string(e.what());
        }
        return std::string("no value_error");
    };
    CHECK(refusal() == "save_checkpoint: '" + path +
                           "': tensor '0.weight' (float32 (2,4)) holds 1 non-finite value, the first nan at element 6 "
                           "(index (1,2)); the model diverged, so nothing was written (a previous checkpoint there "
                           "is kept): train again with a smaller learning rate");
    CHECK(read_text(path) == before);  // the last good checkpoint stays
    w.mutable_value().get_mut<float>().data()[6] = kept;
    // The optimizer's state is checked too.
    NamedArrays state = sgd.state();
    for (auto& [name, a] : state) {
        if (name.find("momentum") != std::string::npos) {
            a.visit_mut([](auto& x) { x.data()[0] = -std::numeric_limits<float>::infinity(); });
        }
    }
    sgd.load_state(state);
    CHECK(refusal().find("the first -inf at element 0") != std::string::npos);
    CHECK(read_text(path) == before);
}

TEST_CASE("checkpoint: a long model spec in the metadata is clipped in messages") {
    const TempDir dir;
    const std::string path = dir.file("long.safetensors");
    std::string spec;
    for (int i = 0; i < 100000; ++i) spec += "10-";  // 300 KB: a valid spec of 100001 layers
    spec += "10";
    save_checkpoint(path, *mlp("4-3-2"), nullptr, {{"model", spec}});
    const std::string msg = io_message([&] { load_checkpoint(path, *mlp("4-2"), nullptr); });
    CHECK(msg.find("tensor '0.weight' is float32 (3,4) but the model's parameter is float32 (2,4) (the file was saved "
                   "for model 10-10-10-") != std::string::npos);
    CHECK(msg.size() < 1000);
    CHECK(msg.find("... (" + std::to_string(spec.size()) + " bytes))") != std::string::npos);
    // The check before building the model says the same, without building the 100001 layers.
    const std::string early =
        io_message([&] { check_checkpoint_parameters(path, read_checkpoint(path), mlp_parameter_shapes(spec)); });
    CHECK(early.find("tensor '0.weight' is float32 (3,4) but the model's parameter is float32 (10,10)") !=
          std::string::npos);
    CHECK(early.size() < 1000);
}

// ---- text from the file in messages: escaped (one line, nothing for the terminal to act on) and clipped ----

namespace {

// True if `s` holds no byte a terminal acts on or a log splits at: no control byte (NUL, newline, ESC), no DEL.
bool printable(const std::string& s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7F; });
}

// The hostile tester's injections: an ANSI escape that clears the screen, a forged second line, and a NUL that cut
// the message short; each with the text its message must show instead.
struct Injection {
    std::string raw, shown;
};
const Injection injections[] = {
    {"\x1b[2J\x1b[31mPWNED", "\\x1B[2J\\x1B[31mPWNED"},
    {"0.bias\nadgraph: ok, all good", "0.bias\\x0Aadgraph: ok, all good"},
    {std::string("0.b\0ias", 7), "0.b\\x00ias"},
};

}  // namespace

TEST_CASE("checkpoint: a tensor name with ESC, newline or NUL is quoted escaped, in one line") {
    const TempDir dir;
    const std::string path = dir.file("hostile.safetensors");
    for (const Injection& in : injections) {
        INFO(in.shown);
        save_safetensors(path, {{in.raw, Array::zeros({2, 4}, f32)}, {"0.bias", Array::zeros({2}, f32)}},
                         {{"model", "4-2"}});
        const std::string msg = io_message([&] { load_checkpoint(path, *mlp("4-2"), nullptr); });
        CHECK(msg == "checkpoint " + path + ": tensor '" + in.shown +
                         "' is not a parameter of this model (the file was saved for model 4-2)");
        CHECK(printable(msg));
    }
}

TEST_CASE("checkpoint: an activation from the metadata with ESC, newline or NUL is quoted escaped, in one line") {
    for (const Injection& in : injections) {
        INFO(in.shown);
        MlpOptions options;
        options.activation = in.raw;
        std::string msg;
        try {
            mlp_parameter_shapes("4-3-2", options);
        } catch (const value_error& e) {
            msg = e.what();
        }
        CHECK(msg == "activation '" + in.shown + "' is unknown; choose relu, leaky_relu, tanh or sigmoid");
        CHECK(printable(msg));
    }
}

TEST_CASE("checkpoint: a megabyte activation and a shape of 10001 dimensions are clipped in messages") {
    MlpOptions options;
    options.activation = std::string(1000000, 'x');
    std::string msg;
    try {
        mlp_parameter_shapes("4-3-2", options);
    } catch (const value_error& e) {
        msg = e.what();
    }
    CHECK(msg == "activation '" + std::string(message_text_bytes, 'x') +
                     "... (1000000 bytes)' is unknown; choose relu, leaky_relu, tanh or sigmoid");

    // The tester's bias of shape [1]*10000+[16] made a 20 KB line; here [1]*10000+[2], which holds 2 floats.
    const TempDir dir;
    const std::string path = dir.file("deep.safetensors");
    Shape deep(10000, 1);
    deep.push_back(2);
    save_safetensors(path, {{"0.weight", Array::zeros({2, 4}, f32)}, {"0.bias", Array::zeros(deep, f32)}});
    const std::string shape_text = shape_str(deep);  // "(1,1,...,1,2)"
    msg = io_message([&] { load_checkpoint(path, *mlp("4-2"), nullptr); });
    CHECK(msg == "checkpoint " + path + ": tensor '0.bias' is float32 " + shape_text.substr(0, message_text_bytes) +
                     "... (" + std::to_string(shape_text.size()) + " bytes) but the model's parameter is float32 (2)");
}

TEST_CASE("checkpoint: an optimizer slot of 10001 dimensions is clipped in the message") {
    const TempDir dir;
    const std::string path = dir.file("slot.safetensors");
    auto model = mlp("4-2");
    SGD sgd(model->named_parameters(), SGDOptions(0.1).momentum(0.9));
    sum(square((*model)(Tensor::ones({1, 4})))).backward();
    sgd.step();
    save_checkpoint(path, *model, &sgd, {{"model", "4-2"}});
    // The slot of 0.weight (2,4) becomes (1,...,1,8): the same 8 values, in 10001 dimensions.
    SafetensorsFile f = load_safetensors(path);
    Shape deep(10000, 1);
    deep.push_back(8);
    std::string slot;
    for (auto& [name, a] : f.tensors) {
        if (name.rfind("optim.0.weight.", 0) == 0) {
            slot = name.substr(6);
            a = Array::zeros(deep, f32);
        }
    }
    REQUIRE(!slot.empty());
    save_safetensors(path, f.tensors, f.metadata);
    const std::string shape_text = shape_str(deep);
    SGD fresh(model->named_parameters(), SGDOptions(0.1).momentum(0.9));
    CHECK(io_message([&] { load_checkpoint(path, *model, &fresh); }) ==
          "checkpoint " + path + ": optimizer state: slot '" + slot + "' is float32 " +
              shape_text.substr(0, message_text_bytes) + "... (" + std::to_string(shape_text.size()) +
              " bytes) but the parameter is float32 (2,4)");
}

// ---- state_dict / load_state_dict: the in-memory checkpoint ----------------------------------------------------

namespace {

// Linear(3 -> 4), BatchNorm1d(4), ReLU, Linear(4 -> 2, no bias): parameters and buffers, weights from `seed`.
std::shared_ptr<Sequential> small_model(std::uint64_t seed, Dtype dtype = f32) {
    Generator gen(seed);
    auto net = std::make_shared<Sequential>();
    net->add(std::make_shared<Linear>(3, 4, gen, true, Init::uniform, dtype));
    net->add(std::make_shared<BatchNorm1d>(4, 0.1, 1e-5, dtype));
    net->add(std::make_shared<ReLU>());
    net->add(std::make_shared<Linear>(4, 2, gen, false, Init::uniform, dtype));
    return net;
}

// True if both arrays have one dtype, one shape and the same bytes.
bool bitwise_equal(const Array& a, const Array& b) {
    if (a.dtype() != b.dtype() || a.shape() != b.shape()) return false;
    bool same = false;
    a.visit([&](const auto& x) {
        using T = typename std::decay_t<decltype(x)>::value_type;
        same = std::memcmp(x.data(), b.get<T>().data(), x.size() * sizeof(T)) == 0;
    });
    return same;
}

// One training forward pass, so that batch norm's running statistics move away from their initial 0 and 1.
void move_running_stats(Sequential& net, std::uint64_t seed) {
    Generator gen(seed);
    net.train();
    net(Tensor::uniform({5, 3}, -1, 1, gen, net.parameters().front().dtype()));
}

const std::vector<std::string> small_model_keys = {"0.weight",       "0.bias",        "1.weight", "1.bias",
                                                   "1.running_mean", "1.running_var", "3.weight"};

}  // namespace

TEST_CASE("state_dict: parameters then buffers of each module, depth first, detached and sharing the arrays") {
    const auto net = small_model(1);
    const StateDict state = net->state_dict();
    CHECK(state.keys() == small_model_keys);
    for (const auto& [name, p] : net->named_parameters()) {
        REQUIRE(state.contains(name));
        CHECK(state[name].value().same_buffer(p.value()));
        CHECK_FALSE(state[name].needs_grad());
    }
    for (const auto& [name, b] : net->named_buffers()) CHECK(state[name].value().same_buffer(b.value()));
    // As in PyTorch, the state dict follows later training; clone() is a snapshot.
    const StateDict snapshot = state.clone();
    const double before = state["0.bias"].value().flat(0);
    net->parameters()[1].mutable_value().get_mut<float>()(0) += 1.0f;
    CHECK(state["0.bias"].value().flat(0) == before + 1.0);
    CHECK(snapshot["0.bias"].value().flat(0) == before);
    CHECK_FALSE(snapshot["0.bias"].value().same_buffer(state["0.bias"].value()));
}

TEST_CASE("load_state_dict: a fresh model equals the saved one bit for bit, and owns its values") {
    for (const Dtype dtype : {f32, f64}) {
        INFO(dtype_name(dtype));
        const auto trained = small_model(1, dtype), fresh = small_model(2, dtype);
        move_running_stats(*trained, 3);
        const StateDict state = trained->state_dict();
        const auto fresh_params = fresh->parameters();  // handles taken before the load see the new values
        const LoadStateResult result = fresh->load_state_dict(state);
        CHECK(result.missing_keys.empty());
        CHECK(result.unexpected_keys.empty());
        const StateDict loaded = fresh->state_dict();
        REQUIRE(loaded.keys() == small_model_keys);
        for (const auto& [name, t] : loaded) {
            INFO(name);
            CHECK(bitwise_equal(t.value(), state[name].value()));
            CHECK_FALSE(t.value().same_buffer(state[name].value()));
        }
        CHECK(loaded["1.running_mean"].value().flat(0) != 0.0);  // the buffers came across too
        for (std::size_t i = 0; i < fresh_params.size(); ++i) {
            CHECK(fresh_params[i].value().same_buffer(fresh->parameters()[i].value()));
        }
        // The same function: equal outputs on one input, in evaluation mode.
        trained->eval();
        fresh->eval();
        Generator gen(4);
        const Tensor x = Tensor::uniform({2, 3}, -1, 1, gen, dtype);
        CHECK(bitwise_equal((*trained)(x).value(), (*fresh)(x).value()));
        // Copied, not aliased: changing the source afterwards leaves the loaded model alone.
        const double loaded_w = fresh->state_dict()["0.weight"].value().flat(0);
        trained->parameters()[0].mutable_value().visit_mut([](auto& w) { w(0, 0) += 1; });
        CHECK(fresh->state_dict()["0.weight"].value().flat(0) == loaded_w);
        // Loading a model's own state dict into itself changes nothing.
        fresh->load_state_dict(fresh->state_dict());
        CHECK(fresh->state_dict()["0.weight"].value().flat(0) == loaded_w);
    }
}

TEST_CASE("load_state_dict: strict refuses missing and unexpected names, non-strict loads the rest and lists them") {
    const auto source = small_model(1), target = small_model(2);
    StateDict partial;
    for (const auto& [name, t] : source->state_dict()) {
        if (name != "0.bias" && name != "1.running_var") partial.insert(name, t);
    }
    partial.insert("4.weight", Tensor::zeros({2, 2}));
    const StateDict before = target->state_dict().clone();
    CHECK_THROWS_WITH_AS(target->load_state_dict(partial),
                         "load_state_dict: the state dict does not match the Sequential's parameters and buffers "
                         "(missing '0.bias', '1.running_var'; unexpected '4.weight'); load a state dict of this model "
                         "(the names of its state_dict().keys()), or pass strict = false to load only the entries "
                         "that match",
                         value_error);
    for (const auto& [name, t] : target->state_dict()) CHECK(bitwise_equal(t.value(), before[name].value()));

    const LoadStateResult result = target->load_state_dict(partial, /*strict=*/false);
    CHECK(result.missing_keys == std::vector<std::string>{"0.bias", "1.running_var"});
    CHECK(result.unexpected_keys == std::vector<std::string>{"4.weight"});
    for (const auto& [name, t] : target->state_dict()) {
        INFO(name);
        const bool loaded = partial.contains(name);
        CHECK(bitwise_equal(t.value(), (loaded ? partial[name] : before[name]).value()));
    }
    // More than four names: the first four, then how many more.
    StateDict empty;
    CHECK_THROWS_WITH_AS(target->load_state_dict(empty),
                         "load_state_dict: the state dict does not match the Sequential's parameters and buffers "
                         "(missing '0.weight', '0.bias', '1.weight', '1.bias' and 3 more); load a state dict of this "
                         "model (the names of its state_dict().keys()), or pass strict = false to load only the "
                         "entries that match",
                         value_error);
}

TEST_CASE("load_state_dict: a wrong shape, dtype or an undefined entry is a typed error, and nothing is loaded") {
    const auto target = small_model(2);
    const StateDict before = target->state_dict().clone();
    const auto with = [&](const std::string& replaced, const Tensor& t) {
        StateDict s;
        for (const auto& [name, v] : small_model(1)->state_dict()) s.insert(name, name == replaced ? t : v);
        return s;
    };
    // "3.weight" comes last, so every other entry was already checked fine when it fails.
    CHECK_THROWS_WITH_AS(target->load_state_dict(with("3.weight", Tensor::zeros({2, 5}))),
                         "load_state_dict: '3.weight' has shape (2,5) in the state dict but (2,4) in the Sequential; "
                         "load a state dict saved from a model with the same layer sizes",
                         shape_error);
    CHECK_THROWS_WITH_AS(target->load_state_dict(with("3.weight", Tensor::zeros({2, 4}, f64)), false),
                         "load_state_dict: '3.weight' is float64 in the state dict but float32 in the Sequential; "
                         "convert the entry with cast(t, adg::f32) or build the model with float64 parameters",
                         dtype_error);
    CHECK_THROWS_WITH_AS(target->load_state_dict(with("3.weight", Tensor())),
                         "load_state_dict: the entry '3.weight' is an undefined tensor; give it a float32 (2,4) value",
                         value_error);
    for (const auto& [name, t] : target->state_dict()) CHECK(bitwise_equal(t.value(), before[name].value()));
}

TEST_CASE("StateDict: insertion order, lookup, duplicate and missing names") {
    StateDict s;
    s.insert("b", Tensor::zeros({1}));
    s.insert("a", Tensor::ones({2}));
    CHECK(s.keys() == std::vector<std::string>{"b", "a"});
    CHECK(s.size() == 2);
    CHECK(s["a"].shape() == Shape{2});
    CHECK(s.find("c") == nullptr);
    CHECK_THROWS_WITH_AS(s.insert("a", Tensor::zeros({1})),
                         "StateDict::insert: the name 'a' is already present; give every tensor its own name",
                         value_error);
    CHECK_THROWS_WITH_AS(s["c"], "StateDict: no entry named 'c' among its 2 entries; list them with keys()",
                         value_error);
}

TEST_CASE("checkpoint: the file holds the state dict, and saving needs no metadata and no optimizer") {
    const TempDir dir;
    const auto trained = small_model(1);
    move_running_stats(*trained, 3);
    const std::string path = dir.file("model.safetensors");
    save_checkpoint(path, *trained);  // no optimizer, no metadata
    const SafetensorsFile file = read_checkpoint(path);
    CHECK(file.metadata == Metadata{{"format", "adgraph-checkpoint-1"}});
    const StateDict in_file = checkpoint_state_dict(file);
    const StateDict state = trained->state_dict();
    std::vector<std::string> file_keys = in_file.keys(), keys = state.keys();
    std::sort(file_keys.begin(), file_keys.end());
    std::sort(keys.begin(), keys.end());
    CHECK(file_keys == keys);
    for (const auto& [name, t] : state) CHECK(bitwise_equal(in_file[name].value(), t.value()));

    // load_checkpoint gives what load_state_dict gives.
    const auto from_file = small_model(2), from_memory = small_model(2);
    CHECK(load_checkpoint(path, *from_file) == file.metadata);
    from_memory->load_state_dict(state);
    for (const auto& [name, t] : from_file->state_dict()) {
        CHECK(bitwise_equal(t.value(), from_memory->state_dict()[name].value()));
    }
    // Metadata without an optimizer.
    save_checkpoint(path, *trained, Metadata{{"epoch", "3"}});
    CHECK(read_checkpoint_metadata(path) == Metadata{{"epoch", "3"}, {"format", "adgraph-checkpoint-1"}});
}
