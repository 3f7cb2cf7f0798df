#include <adgraph/nn/module.hpp>

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

}  // namespace adg::nn
