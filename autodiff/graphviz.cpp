#include <adgraph/autodiff/graphviz.hpp>

#include <sstream>
#include <unordered_map>

#include <adgraph/autodiff/node.hpp>

namespace adg {

std::string to_dot(const std::vector<Tensor>& outputs, const std::vector<std::string>& output_names) {
    std::unordered_map<const Node*, std::size_t> id;
    std::vector<const Node*> order;
    std::vector<const Node*> stack;
    for (const auto& y : outputs) {
        if (y.defined() && id.emplace(y.node().get(), id.size()).second) stack.push_back(y.node().get());
    }
    // Iterative walk: graphs can be deep.
    while (!stack.empty()) {
        const Node* n = stack.back();
        stack.pop_back();
        order.push_back(n);
        for (const auto& in : n->inputs()) {
            if (id.emplace(in.get(), id.size()).second) stack.push_back(in.get());
        }
    }
    std::unordered_map<const Node*, std::string> out_label;
    for (std::size_t i = 0; i < outputs.size(); ++i) {
        if (outputs[i].defined()) {
            out_label[outputs[i].node().get()] =
                i < output_names.size() ? output_names[i] : "output " + std::to_string(i);
        }
    }
    std::ostringstream s;
    s << "digraph adgraph {\n  rankdir=BT;\n  node [shape=box, style=\"filled\", fontname=\"Helvetica\", "
         "fontsize=10];\n";
    for (const Node* n : order) {
        const Array& v = n->value();
        std::string fill = n->has_op() ? "white" : (n->needs_grad() ? "lightblue" : "lightgrey");
        std::string label = std::string(n->name()) + "\\n" + dtype_name(v.dtype()) + " " + shape_str(v.shape());
        const auto o = out_label.find(n);
        if (o != out_label.end()) {
            fill = "darkolivegreen1";
            label = o->second + ": " + label;
        }
        s << "  n" << id[n] << " [label=\"" << label << "\", fillcolor=" << fill
          << (n->released() ? ", style=\"filled,dashed\"" : "") << "];\n";
    }
    for (const Node* n : order) {
        for (const auto& in : n->inputs()) s << "  n" << id[in.get()] << " -> n" << id[n] << ";\n";
    }
    s << "}\n";
    return s.str();
}

}  // namespace adg
