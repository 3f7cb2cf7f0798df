#pragma once
/// \file The recorded graph as Graphviz DOT text, coloured like torchviz.

#include <string>
#include <vector>

#include <adgraph/autodiff/tensor.hpp>

namespace adg {

/// DOT text of the graph behind `outputs`: one box per node with its op name, dtype and shape; leaves that
/// require grad light blue, constants grey, outputs green, nodes released by a sweep dashed. Edges point from
/// inputs to the ops that consume them. Render with `dot -Tpng`.
std::string to_dot(const std::vector<Tensor>& outputs, const std::vector<std::string>& output_names = {});

}  // namespace adg
