#pragma once
/// \file The playground API's request bodies and Config as JSON, with strict types: a wrong type, a fraction
/// where an integer belongs or an unknown field is refused with value_error naming the field (docs/playground.md).

#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

#include "playground/session.hpp"

namespace adg::playground {

/// Largest seed the API accepts: 2^53 − 1, the largest integer a JavaScript number holds exactly.
inline constexpr std::uint64_t max_json_seed = (std::uint64_t{1} << 53) - 1;

/// A request body as a JSON object: an empty body is {}. value_error "playground: the request body is not valid
/// JSON: ..." (the parser's message, one line) or "... must be a JSON object, not ...".
nlohmann::json parse_body(const std::string& body);

/// The Config a JSON object describes: missing fields keep Config's defaults. value_error for an unknown field, a
/// wrong type or an integer out of its type's range (naming the field), then Config::validate's errors.
Config config_from_json(const nlohmann::json& object);

/// Every field of `config`, as config_from_json reads them.
nlohmann::json config_to_json(const Config& config);

/// What a step request asks for.
struct StepRequest {
    std::size_t epochs = 1;  ///< epochs to train, 1..max_epochs
    bool maps = true;        ///< send the heat maps with the state
};

/// A step request's body {"epochs": n, "maps": bool} (both optional); value_error for an unknown field, a wrong
/// type or epochs outside 1..max_epochs.
StepRequest step_request_from_json(const nlohmann::json& object, std::size_t max_epochs);

}  // namespace adg::playground
