#pragma once
/// \file The grid the heat maps are computed on, shared by Session::node_maps and render_surface (not part of the
/// playground's interface).

#include <cstddef>
#include <string>
#include <vector>

#include <xtensor/xarray.hpp>

#include "playground/session.hpp"

namespace adg::playground {

/// The configured features of `c` in feature_names() order: the order of the network's input nodes.
std::vector<std::string> input_features(const Config& c);

/// The centre of cell `i` of `side` cells across [-domain, domain], counted from −domain: x1 of column i. Row r's
/// x2 is its negative (row 0 at the top, x2 near +domain).
inline double grid_coordinate(std::size_t i, std::size_t side) {
    return -domain + (static_cast<double>(i) + 0.5) * (2 * domain / static_cast<double>(side));
}

/// The values of `features` at the cell centres of rows [first_row, first_row + rows) of a `side` × `side` grid,
/// row by row: a (rows·side, features) array. `what` names the caller in an allocation error.
xt::xarray<double> grid_features(const std::vector<std::string>& features, std::size_t side, std::size_t first_row,
                                 std::size_t rows, const char* what);

}  // namespace adg::playground
