#include <adgraph/nn/checkpoint.hpp>

#include <cstring>
#include <sstream>

namespace adg::nn {

namespace {

const std::string optim_prefix = "optim.";

std::string describe(const Array& a) { return std::string(dtype_name(a.dtype())) + " " + shape_str(a.shape()); }

}  // namespace

void save_checkpoint(const std::string& path, const Module& model, const Optimizer* optimizer,
                     const Metadata& metadata) {
    NamedArrays tensors;
    for (const auto& [name, p] : model.named_parameters()) tensors.emplace_back(name, p.value());
    if (optimizer) {
        for (auto& [name, a] : optimizer->state()) tensors.emplace_back(optim_prefix + name, a);
    }
    Metadata meta = metadata;
    meta["format"] = "adgraph-checkpoint-1";
    if (optimizer) meta["optimizer"] = optimizer->name();
    save_safetensors(path, tensors, meta);
}

Metadata load_checkpoint(const std::string& path, Module& model, Optimizer* optimizer) {
    SafetensorsFile file = load_safetensors(path);
    const auto where = [&](const std::string& what) {
        const auto spec = file.metadata.find("model");
        return "checkpoint " + path + ": " + what +
               (spec != file.metadata.end() ? " (the file was saved for model " + spec->second + ")" : std::string());
    };
    NamedArrays params, state;
    for (auto& [name, a] : file.tensors) {
        (name.rfind(optim_prefix, 0) == 0 ? state : params).emplace_back(name, a);
    }
    const auto named = model.named_parameters();
    std::vector<const Array*> found(named.size(), nullptr);
    for (const auto& [name, a] : params) {
        std::size_t i = 0;
        while (i < named.size() && named[i].first != name) ++i;
        if (i == named.size()) throw io_error(where("tensor '" + name + "' is not a parameter of this model"));
        const Array& p = named[i].second.value();
        if (a.shape() != p.shape() || a.dtype() != p.dtype()) {
            throw io_error(
                where("tensor '" + name + "' is " + describe(a) + " but the model's parameter is " + describe(p)));
        }
        found[i] = &a;
    }
    for (std::size_t i = 0; i < named.size(); ++i) {
        if (!found[i]) throw io_error(where("the model's parameter '" + named[i].first + "' is missing"));
    }
    if (optimizer) {
        const auto saved = file.metadata.find("optimizer");
        if (saved != file.metadata.end() && saved->second != optimizer->name()) {
            throw io_error(where("its optimizer state is from " + saved->second + ", not " + optimizer->name()));
        }
        NamedArrays slots;
        for (auto& [name, a] : state) slots.emplace_back(name.substr(optim_prefix.size()), a);
        try {
            optimizer->load_state(slots);
        } catch (error& e) {
            e.add_context("checkpoint " + path);
            throw;
        }
    }
    // Everything matched: only now overwrite the parameters (in place, so the model's handles see them).
    for (std::size_t i = 0; i < named.size(); ++i) {
        Array& dst = named[i].second.mutable_value();
        found[i]->visit([&](const auto& src) {
            using T = typename std::decay_t<decltype(src)>::value_type;
            std::memcpy(dst.get_mut<T>().data(), src.data(), src.size() * sizeof(T));
        });
    }
    return file.metadata;
}

Metadata read_checkpoint_metadata(const std::string& path) { return load_safetensors(path).metadata; }

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
