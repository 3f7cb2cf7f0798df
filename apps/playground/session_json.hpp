#pragma once
/// \file A Session as the API's JSON objects: "data" and "state" (docs/playground.md).

#include <cstddef>

#include <nlohmann/json.hpp>

#include "playground/session.hpp"

namespace adg::playground {

/// Side of the output's heat map sent to the page, in cells.
inline constexpr std::size_t output_map_side = 100;
/// Side of each node's thumbnail map: the output map's side reduced by 5 × 5 block averages.
inline constexpr std::size_t node_map_side = 20;

/// {"problem", "train": [[x1, x2, label], ...], "test": [...]}.
nlohmann::json data_json(const Session& session);

/// {"epoch", "loss", "layers", "weights", "biases", "gradients"} and, when `maps`, "maps": the output's map at
/// output_map_side² cells and every node's at node_map_side², quantised and in base64 (encode.hpp), from one
/// node_maps pass. Non-finite numbers (a diverged network) are null.
nlohmann::json state_json(const Session& session, bool maps);

}  // namespace adg::playground
