#include "adgraph/option_table.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include <adgraph/tensor/error.hpp>

namespace adg::cli {

namespace {

using nlohmann::json;

template <class T>
TrainOption entry(const char* name, bool kept, bool preset, T TrainOptions::*member,
                  std::optional<NumberRange> range = std::nullopt, std::vector<std::string> choices = {}) {
    return {name,
            kept,
            preset,
            std::move(range),
            std::move(choices),
            [member](const TrainOptions& o) { return json(o.*member); },
            [member](TrainOptions& o, const json& v) { o.*member = v.get<T>(); }};
}

std::vector<TrainOption> make_table() {
    constexpr double infinity = std::numeric_limits<double>::infinity();
    return {
        entry("--model", true, false, &TrainOptions::model),
        entry("--activation", true, false, &TrainOptions::activation),
        entry("--dropout", true, true, &TrainOptions::dropout, real_range(0, 1, false, true)),
        entry("--init", true, true, &TrainOptions::init),
        entry("--optimizer", true, true, &TrainOptions::optimizer, std::nullopt, {"sgd", "adam", "adamw"}),
        entry("--batch", true, true, &TrainOptions::batch, whole_range(1, max_count)),
        entry("--seed", true, false, &TrainOptions::seed, whole_range(0, std::numeric_limits<std::uint64_t>::max())),
        entry("--limit", true, false, &TrainOptions::limit, whole_range(0, max_count)),
        entry("--lr", false, true, &TrainOptions::lr, real_range(0, infinity, true)),
        entry("--momentum", false, false, &TrainOptions::momentum, real_range(0, 1, false, true)),
        entry("--nesterov", false, false, &TrainOptions::nesterov),
        entry("--weight-decay", false, true, &TrainOptions::weight_decay, real_range(0, infinity)),
        entry("--schedule", false, true, &TrainOptions::schedule),
        entry("--warmup-epochs", false, true, &TrainOptions::warmup_epochs,
              real_range(0, static_cast<double>(max_epochs))),
        entry("--epochs", false, true, &TrainOptions::epochs, whole_range(1, max_epochs)),
        entry("--clip-grad-norm", false, true, &TrainOptions::clip_grad_norm, real_range(0, infinity)),
    };
}

}  // namespace

const std::vector<TrainOption>& train_option_table() {
    static const std::vector<TrainOption> table = make_table();
    return table;
}

const TrainOption& train_option(const std::string& name) {
    for (const TrainOption& o : train_option_table()) {
        if (name == o.name) return o;
    }
    throw std::out_of_range("train_option: no option " + name);
}

std::string option_value_text(const json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_boolean()) return v.get<bool>() ? "on" : "off";
    if (v.is_number_float()) return number_str(v.get<double>());
    return v.dump();
}

std::string option_value_problem(const TrainOption& option, const json& v) {
    if (option.range) {
        // The command line's own check, on the value's shortest exact text (JSON's).
        std::string text = v.dump();
        if (!v.is_number() || !check_number(text, *option.range).empty()) return "not " + option.range->text();
    }
    if (!option.choices.empty() && (!v.is_string() || std::find(option.choices.begin(), option.choices.end(),
                                                                v.get<std::string>()) == option.choices.end())) {
        std::string list;
        for (const std::string& c : option.choices) list += (list.empty() ? "" : ", ") + c;
        return "not one of " + list;
    }
    return "";
}

}  // namespace adg::cli
