#include <adgraph/nn/checkpoint.hpp>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <unordered_map>

#include <adgraph/nn/message_text.hpp>
#include <adgraph/tensor/size.hpp>

namespace adg::nn {

namespace {

const std::string optim_prefix = "optim.";

// A shape read from a file can have thousands of dimensions, so it is clipped like any text from a file.
std::string describe(const Array& a) {
    return std::string(dtype_name(a.dtype())) + " " + message_text(shape_str(a.shape()));
}
std::string describe(const ParameterShape& p) { return std::string(dtype_name(p.dtype)) + " " + shape_str(p.shape); }

// "checkpoint <path>: <what> (the file was saved for model <spec>)"; the spec comes from the file, so it is escaped and
// clipped.
std::string checkpoint_message(const std::string& path, const SafetensorsFile& file, const std::string& what) {
    const auto spec = file.metadata.find("model");
    return "checkpoint " + path + ": " + what +
           (spec != file.metadata.end() ? " (the file was saved for model " + message_text(spec->second) + ")"
                                        : std::string());
}

// The multi-index of flat element `i` of `shape`, as "(1,2)".
std::string index_str(const Shape& shape, std::size_t i) {
    Shape index(shape.size());
    for (std::size_t k = shape.size(); k-- > 0;) {
        index[k] = shape[k] ? i % shape[k] : 0;
        i = shape[k] ? i / shape[k] : 0;
    }
    return shape_str(index);
}

// "" if every value of `a` is finite, else "tensor 'name' (float32 (2,4)) holds 1 non-finite value, the first nan
// at element 6 (index (1,2))". NaN or ±Inf weights make every prediction NaN, and such optimizer state poisons
// every later step, so a checkpoint never holds them: refused when saved, and reported as broken when loaded.
std::string non_finite(const std::string& name, const Array& a) {
    std::string found;
    a.visit([&](const auto& x) {
        std::size_t bad = 0, first = 0;
        for (std::size_t i = 0; i < x.size(); ++i) {
            if (!std::isfinite(x.data()[i])) {
                if (bad++ == 0) first = i;
            }
        }
        if (bad == 0) return;
        const double v = x.data()[first];
        const std::string value = std::isnan(v) ? "nan" : v > 0 ? "inf" : "-inf";
        found = "tensor '" + message_text(name) + "' (" + describe(a) + ") holds " + std::to_string(bad) +
                " non-finite value" + (bad == 1 ? "" : "s") + ", the first " + value + " at element " +
                std::to_string(first) + " (index " + message_text(index_str(a.shape(), first)) + ")";
    });
    return found;
}

void check_finite(const std::string& path, const std::string& name, const Array& a) {
    const std::string found = non_finite(name, a);
    if (!found.empty()) {
        throw io_error("checkpoint " + path + ": " + found +
                       "; the checkpoint is corrupt or was saved after training diverged: load an earlier one or "
                       "retrain");
    }
}

const char* kind(const ParameterShape& p) { return p.buffer ? "buffer" : "parameter"; }

// Matches the file's parameter tensors (all but optimizer state) to `expected` by name, dtype and shape; returns,
// for each expected parameter, its tensor in the file.
std::vector<const Array*> match_parameters(const std::string& path, const SafetensorsFile& file,
                                           const std::vector<ParameterShape>& expected) {
    std::unordered_map<std::string, std::size_t> index;
    for (std::size_t i = 0; i < expected.size(); ++i) index.emplace(expected[i].name, i);
    std::vector<const Array*> found(expected.size(), nullptr);
    const bool has_buffers =
        std::any_of(expected.begin(), expected.end(), [](const ParameterShape& p) { return p.buffer; });
    for (const auto& [name, a] : file.tensors) {
        if (name.rfind(optim_prefix, 0) == 0) continue;
        const auto it = index.find(name);
        if (it == index.end()) {
            throw io_error(checkpoint_message(path, file,
                                              "tensor '" + message_text(name) + "' is not a parameter" +
                                                  (has_buffers ? " or buffer" : "") + " of this model"));
        }
        const ParameterShape& p = expected[it->second];
        if (a.shape() != p.shape || a.dtype() != p.dtype) {
            throw io_error(checkpoint_message(path, file,
                                              "tensor '" + message_text(name) + "' is " + describe(a) +
                                                  " but the model's " + kind(p) + " is " + describe(p)));
        }
        found[it->second] = &a;
    }
    for (std::size_t i = 0; i < expected.size(); ++i) {
        if (!found[i]) {
            throw io_error(checkpoint_message(
                path, file,
                std::string("the model's ") + kind(expected[i]) + " '" + expected[i].name + "' (" +
                    describe(expected[i]) + ", " +
                    std::to_string(checked_bytes(expected[i].shape, expected[i].dtype, "checkpoint")) +
                    " bytes) is missing"));
        }
    }
    return found;
}

}  // namespace

namespace {

// What a checkpoint of `model` (and `optimizer`) holds: its tensors and metadata, refused with value_error (the
// message starting with `where`, ending with `consequence`) when any tensor holds NaN or ±Inf, so that a diverged
// model is never saved.
std::pair<NamedArrays, Metadata> checkpoint_content(const std::string& where, const std::string& consequence,
                                                    const Module& model, const Optimizer* optimizer,
                                                    const Metadata& metadata) {
    NamedArrays tensors;
    for (const auto& [name, t] : model.state_dict()) tensors.emplace_back(name, t.value());
    if (optimizer) {
        for (auto& [name, a] : optimizer->state()) tensors.emplace_back(optim_prefix + name, a);
    }
    for (const auto& [name, a] : tensors) {
        const std::string found = non_finite(name, a);
        if (!found.empty()) throw value_error(where + found + "; the model diverged, so " + consequence);
    }
    Metadata meta = metadata;
    meta["format"] = "adgraph-checkpoint-1";
    if (optimizer) meta["optimizer"] = optimizer->name();
    return {std::move(tensors), std::move(meta)};
}

}  // namespace

void save_checkpoint(const std::string& path, const Module& model, const Optimizer* optimizer,
                     const Metadata& metadata) {
    // Checked before anything is written, so a diverged model never replaces the last good checkpoint.
    const auto [tensors, meta] = checkpoint_content(
        "save_checkpoint: '" + path + "': ",
        "nothing was written (a previous checkpoint there is kept): train again with a smaller learning rate", model,
        optimizer, metadata);
    save_safetensors(path, tensors, meta);
}

std::string checkpoint_bytes(const Module& model, const Optimizer* optimizer, const Metadata& metadata) {
    const auto [tensors, meta] =
        checkpoint_content("checkpoint_bytes: ", "no checkpoint was made: train again with a smaller learning rate",
                           model, optimizer, metadata);
    return safetensors_bytes(tensors, meta);
}

void save_checkpoint(const std::string& path, const Module& model, const Metadata& metadata) {
    save_checkpoint(path, model, nullptr, metadata);
}

StateDict checkpoint_state_dict(const SafetensorsFile& file) {
    StateDict state;
    for (const auto& [name, a] : file.tensors) {
        if (name.rfind(optim_prefix, 0) != 0) state.insert(name, Tensor(a));
    }
    return state;
}

SafetensorsFile read_checkpoint(const std::string& path) {
    SafetensorsFile file = load_safetensors(path);
    for (const auto& [name, a] : file.tensors) check_finite(path, name, a);
    return file;
}

void check_checkpoint_parameters(const std::string& path, const SafetensorsFile& file,
                                 const std::vector<ParameterShape>& expected) {
    match_parameters(path, file, expected);
}

Metadata load_checkpoint(const std::string& path, Module& model, Optimizer* optimizer) {
    return load_checkpoint(path, read_checkpoint(path), model, optimizer);
}

Metadata load_checkpoint(const std::string& path, const SafetensorsFile& file, Module& model, Optimizer* optimizer) {
    std::vector<ParameterShape> expected;
    for (const auto& [name, p] : model.named_parameters()) expected.push_back({name, p.dtype(), p.shape()});
    for (const auto& [name, b] : model.named_buffers()) expected.push_back({name, b.dtype(), b.shape(), true});
    // The file's own messages (its path, the model it was saved for) before load_state_dict's, which then finds
    // every entry in place.
    match_parameters(path, file, expected);
    if (optimizer) {
        const auto saved = file.metadata.find("optimizer");
        if (saved != file.metadata.end() && saved->second != optimizer->name()) {
            throw io_error(checkpoint_message(
                path, file,
                "its optimizer state is from " + message_text(saved->second) + ", not " + optimizer->name()));
        }
        NamedArrays slots;
        for (const auto& [name, a] : file.tensors) {
            if (name.rfind(optim_prefix, 0) == 0) slots.emplace_back(name.substr(optim_prefix.size()), a);
        }
        try {
            optimizer->load_state(slots);
        } catch (error& e) {
            e.add_context("checkpoint " + path);
            throw;
        }
    }
    // Everything matched: only now overwrite the parameters (in place, so the model's handles see them).
    model.load_state_dict(checkpoint_state_dict(file));
    return file.metadata;
}

Metadata read_checkpoint_metadata(const std::string& path) { return read_checkpoint(path).metadata; }

std::string generator_state(const Generator& gen) {
    std::ostringstream s;
    s << gen.engine();
    return s.str();
}

void set_generator_state(Generator& gen, const std::string& state) {
    std::istringstream s(state);
    std::mt19937_64 e;
    s >> e;
    if (s.fail()) {
        throw io_error(
            "checkpoint: the random generator state (metadata 'rng') is not a valid mt19937_64 state; "
            "the checkpoint is corrupt or was not written by adgraph");
    }
    gen.engine() = e;
}

}  // namespace adg::nn
