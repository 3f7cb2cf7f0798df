#include <adgraph/nn/module.hpp>

#include <cxxabi.h>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <typeinfo>

#include <adgraph/nn/message_text.hpp>
#include <adgraph/tensor/error.hpp>

namespace adg::nn {

std::vector<Tensor> Module::parameters() const {
    std::vector<Tensor> out;
    for (auto& [name, t] : named_parameters()) out.push_back(t);
    return out;
}

std::vector<NamedTensor> Module::named_parameters() const {
    std::vector<NamedTensor> out;
    collect("", false, out);
    return out;
}

std::vector<Tensor> Module::buffers() const {
    std::vector<Tensor> out;
    for (auto& [name, t] : named_buffers()) out.push_back(t);
    return out;
}

std::vector<NamedTensor> Module::named_buffers() const {
    std::vector<NamedTensor> out;
    collect("", true, out);
    return out;
}

void Module::collect(const std::string& prefix, bool buffers, std::vector<NamedTensor>& out) const {
    for (const auto& [name, t] : buffers ? buffers_ : params_) out.emplace_back(prefix + name, t);
    for (const auto& [name, child] : children_) child->collect(prefix + name + ".", buffers, out);
}

void Module::train(bool on) {
    training_ = on;
    for (auto& [name, child] : children_) child->train(on);
}

void Module::zero_grad() {
    for (auto& t : parameters()) t.zero_grad();
}

void Module::requires_grad(bool on) {
    for (auto& t : parameters()) t.requires_grad(on);
}

std::size_t Module::parameter_count() const {
    std::size_t n = 0;
    for (auto& t : parameters()) n += t.size();
    return n;
}

Tensor Module::register_parameter(const std::string& name, Tensor t) {
    t.requires_grad();
    params_.emplace_back(name, t);
    return t;
}

Tensor Module::register_buffer(const std::string& name, Tensor t) {
    t.requires_grad(false);
    buffers_.emplace_back(name, t);
    return t;
}

std::string Module::type_name() const {
    const char* mangled = typeid(*this).name();
    int status = 0;
    const std::unique_ptr<char, void (*)(void*)> demangled(abi::__cxa_demangle(mangled, nullptr, nullptr, &status),
                                                           std::free);
    std::string name = status == 0 && demangled ? demangled.get() : mangled;
    // "adg::nn::Linear" -> "Linear"; only the namespaces before a template's arguments are dropped.
    const std::size_t args = name.find('<');
    const std::size_t colons = name.rfind("::", args == std::string::npos ? std::string::npos : args);
    return colons == std::string::npos ? name : name.substr(colons + 2);
}

// ---- state dict ----------------------------------------------------------------------------------------------

void Module::collect_state(const std::string& prefix, StateDict& out) const {
    for (const auto& [name, t] : params_) out.insert(prefix + name, t);
    for (const auto& [name, t] : buffers_) out.insert(prefix + name, t);
    for (const auto& [name, child] : children_) child->collect_state(prefix + name + ".", out);
}

StateDict Module::state_dict() const {
    StateDict own;
    collect_state("", own);
    StateDict out;
    for (const auto& [name, t] : own) out.insert(name, t.detach());
    return out;
}

namespace {

// "'a', 'b' and 3 more": names come from the caller (or a file), so each is quoted safely and the list is cut.
std::string key_list(const std::vector<std::string>& keys) {
    constexpr std::size_t shown = 4;
    std::string s;
    for (std::size_t i = 0; i < keys.size() && i < shown; ++i) s += (i ? ", '" : "'") + message_text(keys[i]) + "'";
    if (keys.size() > shown) s += " and " + std::to_string(keys.size() - shown) + " more";
    return s;
}

}  // namespace

LoadStateResult Module::load_state_dict(const StateDict& state, bool strict) {
    StateDict own;  // the module's own tensors, not detached: their arrays are the ones overwritten
    collect_state("", own);
    const std::string module = type_name();
    LoadStateResult result;
    struct Copy {
        const std::string* name;
        Tensor dst;
        const Tensor* src;
    };
    std::vector<Copy> copies;
    for (const auto& [name, dst] : own) {
        const Tensor* src = state.find(name);
        if (!src) {
            result.missing_keys.push_back(name);
            continue;
        }
        copies.push_back({&name, dst, src});
    }
    for (const auto& [name, t] : state) {
        if (!own.contains(name)) result.unexpected_keys.push_back(name);
    }
    if (strict && (!result.missing_keys.empty() || !result.unexpected_keys.empty())) {
        std::string what;
        if (!result.missing_keys.empty()) what += "missing " + key_list(result.missing_keys);
        if (!result.unexpected_keys.empty()) {
            what += (what.empty() ? "unexpected " : "; unexpected ") + key_list(result.unexpected_keys);
        }
        throw value_error("load_state_dict: the state dict does not match the " + module +
                          "'s parameters and buffers (" + what +
                          "); load a state dict of this model (the names of its state_dict().keys()), or pass "
                          "strict = false to load only the entries that match");
    }
    // Every entry is checked before any is copied, so a failed load leaves the module as it was.
    for (const Copy& c : copies) {
        const std::string name = "'" + message_text(*c.name) + "'";
        if (!c.src->defined()) {
            throw value_error("load_state_dict: the entry " + name + " is an undefined tensor; give it a " +
                              dtype_name(c.dst.dtype()) + " " + shape_str(c.dst.shape()) + " value");
        }
        if (c.src->dtype() != c.dst.dtype()) {
            throw dtype_error("load_state_dict: " + name + " is " + dtype_name(c.src->dtype()) +
                              " in the state dict but " + dtype_name(c.dst.dtype()) + " in the " + module +
                              "; convert the entry with cast(t, adg::" + (c.dst.dtype() == f32 ? "f32" : "f64") +
                              ") or build the model with " + dtype_name(c.src->dtype()) + " parameters");
        }
        if (c.src->shape() != c.dst.shape()) {
            throw shape_error("load_state_dict: " + name + " has shape " + shape_str(c.src->shape()) +
                              " in the state dict but " + shape_str(c.dst.shape()) + " in the " + module +
                              "; load a state dict saved from a model with the same layer sizes");
        }
    }
    // In place, so that every handle to the module's tensors (an optimizer's, a caller's) sees the new values; the
    // state dict's arrays stay its own.
    for (const Copy& c : copies) {
        Array& dst = c.dst.mutable_value();
        const Array& src = c.src->value();
        if (dst.same_buffer(src)) continue;
        src.visit([&](const auto& from) {
            using T = typename std::decay_t<decltype(from)>::value_type;
            std::memcpy(dst.get_mut<T>().data(), from.data(), from.size() * sizeof(T));
        });
    }
    return result;
}

// ---- printing --------------------------------------------------------------------------------------------------

namespace {

// PyTorch's layout: a module without sub-modules on one line; otherwise its settings and each sub-module on lines
// of their own, indented two spaces per level.
void print_module(std::ostream& os, const Module& m, const std::string& indent) {
    os << m.type_name() << "(";
    const std::string extra = m.extra_repr();
    if (m.children().empty()) {
        os << extra << ")";
        return;
    }
    const std::string inner = indent + "  ";
    os << "\n";
    if (!extra.empty()) os << inner << extra << "\n";
    for (const auto& [name, child] : m.children()) {
        os << inner << "(" << name << "): ";
        print_module(os, *child, inner);
        os << "\n";
    }
    os << indent << ")";
}

}  // namespace

std::ostream& operator<<(std::ostream& os, const Module& m) {
    print_module(os, m, "");
    return os;
}

}  // namespace adg::nn
