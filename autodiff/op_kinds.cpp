// The kinds' rules that are not templates.

#include <adgraph/autodiff/op_kinds.hpp>

namespace adg {

Locality Binary::locality(const std::vector<Shape>& in, const Shape& out, const std::vector<char>& varies) {
    Locality l = Locality::elementwise;
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (!varies[i] || in[i] == out) continue;
        const bool keeps_rows = !out.empty() && in[i].size() == out.size() && in[i][0] == out[0];
        l = keeps_rows ? std::min(l, Locality::rows) : Locality::none;
    }
    return l;
}

}  // namespace adg
