#pragma once
/// \file StateDict: a module's parameters and buffers by name, in order, as PyTorch's state_dict().

#include <cstddef>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <adgraph/autodiff/tensor.hpp>

namespace adg::nn {

/// A named tensor ("0.weight").
using NamedTensor = std::pair<std::string, Tensor>;

/// An ordered map name → Tensor: iteration visits the entries in insertion order (`for (const auto& [name, t] :
/// state)`), lookup by name is constant time.
class StateDict {
public:
    /// An empty state dict.
    StateDict() = default;
    /// The entries of `items`, in order; throws value_error on a duplicate name.
    explicit StateDict(const std::vector<NamedTensor>& items);
    /// Appends `t` under `name`; throws value_error if `name` is already present.
    void insert(const std::string& name, Tensor t);
    /// True if an entry is named `name`.
    bool contains(const std::string& name) const { return index_.count(name) != 0; }
    /// The tensor named `name`, or nullptr.
    const Tensor* find(const std::string& name) const;
    /// The tensor named `name`; throws value_error naming it if absent.
    const Tensor& operator[](const std::string& name) const;
    /// Number of entries.
    std::size_t size() const { return items_.size(); }
    /// True if there are no entries.
    bool empty() const { return items_.empty(); }
    /// The names, in order.
    std::vector<std::string> keys() const;
    /// The entries, in order.
    const std::vector<NamedTensor>& items() const { return items_; }
    /// The first entry.
    std::vector<NamedTensor>::const_iterator begin() const { return items_.begin(); }
    /// Past the last entry.
    std::vector<NamedTensor>::const_iterator end() const { return items_.end(); }
    /// A deep copy: the same names with new arrays holding the same values (a snapshot that later training does not
    /// change).
    StateDict clone() const;

private:
    std::vector<NamedTensor> items_;
    std::unordered_map<std::string, std::size_t> index_;
};

/// What Module::load_state_dict(state, strict = false) skipped, as PyTorch's return value.
struct LoadStateResult {
    /// The module's parameters and buffers the state dict did not hold (left unchanged).
    std::vector<std::string> missing_keys;
    /// The state dict's entries the module has no parameter or buffer for (ignored).
    std::vector<std::string> unexpected_keys;
};

}  // namespace adg::nn
