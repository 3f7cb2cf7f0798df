#pragma once
/// \file The options of `adgraph train` that a checkpoint records and a preset may set: one table of their names,
/// valid values and members, shared by the command line, --resume (apps/adgraph/resume.hpp) and the presets.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "adgraph/options.hpp"
#include "adgraph/train.hpp"

namespace adg::cli {

/// One recorded option of `adgraph train`.
struct TrainOption {
    /// Its name on the command line, e.g. "--batch".
    const char* name;
    /// True if a resumed run must keep it (it shapes the model, the data order or the optimizer state).
    bool kept;
    /// True if the presets (--model cnn, --model gru) set it.
    bool preset;
    /// Its valid values if it is a number: the range the command line checks.
    std::optional<NumberRange> range;
    /// Its valid values if it is one of a few words (empty: any text, checked by validate()).
    std::vector<std::string> choices;
    /// Its value in `o`, as JSON.
    std::function<nlohmann::json(const TrainOptions& o)> get;
    /// Sets its value in `o` from JSON of its type.
    std::function<void(TrainOptions& o, const nlohmann::json& v)> set;
};

/// The recorded options (in the order a checkpoint's are checked and --help lists a preset's defaults).
const std::vector<TrainOption>& train_option_table();

/// The entry of `name` (e.g. "--batch"); throws std::out_of_range for a name the table does not hold.
const TrainOption& train_option(const std::string& name);

/// A value as the command line writes it: "0.002", "on", "adamw", "64".
std::string option_value_text(const nlohmann::json& v);

/// "" if `v` is a valid value of `option` (within its range or among its choices), else why not, e.g. "not a whole
/// number from 1 to 1000000000".
std::string option_value_problem(const TrainOption& option, const nlohmann::json& v);

}  // namespace adg::cli
