#include <adgraph/nn/state_dict.hpp>

#include <adgraph/nn/message_text.hpp>
#include <adgraph/tensor/error.hpp>

namespace adg::nn {

StateDict::StateDict(const std::vector<NamedTensor>& items) {
    for (const auto& [name, t] : items) insert(name, t);
}

void StateDict::insert(const std::string& name, Tensor t) {
    if (!index_.emplace(name, items_.size()).second) {
        throw value_error("StateDict::insert: the name '" + message_text(name) +
                          "' is already present; give every tensor its own name");
    }
    items_.emplace_back(name, std::move(t));
}

const Tensor* StateDict::find(const std::string& name) const {
    const auto it = index_.find(name);
    return it == index_.end() ? nullptr : &items_[it->second].second;
}

const Tensor& StateDict::operator[](const std::string& name) const {
    const Tensor* t = find(name);
    if (!t) {
        throw value_error("StateDict: no entry named '" + message_text(name) + "' among its " + std::to_string(size()) +
                          " entries; list them with keys()");
    }
    return *t;
}

std::vector<std::string> StateDict::keys() const {
    std::vector<std::string> out;
    out.reserve(items_.size());
    for (const auto& [name, t] : items_) out.push_back(name);
    return out;
}

StateDict StateDict::clone() const {
    StateDict out;
    for (const auto& [name, t] : items_) out.insert(name, t.defined() ? Tensor(t.value().clone()) : Tensor());
    return out;
}

}  // namespace adg::nn
