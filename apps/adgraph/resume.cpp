#include "adgraph/resume.hpp"

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include <adgraph/nn/checkpoint.hpp>
#include <adgraph/tensor/error.hpp>

namespace adg::cli {

namespace {

using nlohmann::json;

// One option a checkpoint records: its name on the command line, whether a resumed run must keep it (it shapes
// the model, the data order or the optimizer state), and how to read and set it.
struct Recorded {
    const char* option;
    bool kept;
    std::function<json(const TrainOptions&)> get;
    std::function<void(TrainOptions&, const json&)> set;
};

template <class T>
Recorded recorded(const char* option, bool kept, T TrainOptions::*member) {
    return {option, kept, [member](const TrainOptions& o) { return json(o.*member); },
            [member](TrainOptions& o, const json& v) { o.*member = v.get<T>(); }};
}

std::vector<Recorded> recorded_options() {
    return {recorded("--model", true, &TrainOptions::model),
            recorded("--activation", true, &TrainOptions::activation),
            recorded("--dropout", true, &TrainOptions::dropout),
            recorded("--init", true, &TrainOptions::init),
            recorded("--optimizer", true, &TrainOptions::optimizer),
            recorded("--batch", true, &TrainOptions::batch),
            recorded("--seed", true, &TrainOptions::seed),
            recorded("--limit", true, &TrainOptions::limit),
            recorded("--lr", false, &TrainOptions::lr),
            recorded("--momentum", false, &TrainOptions::momentum),
            recorded("--nesterov", false, &TrainOptions::nesterov),
            recorded("--weight-decay", false, &TrainOptions::weight_decay),
            recorded("--schedule", false, &TrainOptions::schedule),
            recorded("--warmup-epochs", false, &TrainOptions::warmup_epochs),
            recorded("--epochs", false, &TrainOptions::epochs),
            recorded("--clip-grad-norm", false, &TrainOptions::clip_grad_norm)};
}

// A recorded value as the command line writes it.
std::string value_text(const json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_boolean()) return v.get<bool>() ? "on" : "off";
    if (v.is_number_float()) return number_str(v.get<double>());
    return v.dump();
}

[[noreturn]] void corrupt(const std::string& path, const std::string& what) {
    throw io_error("checkpoint " + path + ": metadata " + what +
                   "; the metadata is corrupt: resume from another checkpoint or train afresh");
}

// The checkpoint's recorded options, each checked to be of its option's type.
json read_recorded(const std::string& path, const nn::Metadata& meta) {
    const auto it = meta.find("train_options");
    if (it == meta.end()) {
        throw io_error("checkpoint " + path +
                       ": the metadata has no 'train_options', so its run cannot be continued (it was not written by "
                       "adgraph train, or by one older than --resume); train afresh");
    }
    json j = json::parse(it->second, nullptr, false);
    if (!j.is_object()) corrupt(path, "'train_options' is not a JSON object");
    TrainOptions probe;
    for (const Recorded& r : recorded_options()) {
        const auto v = j.find(r.option);
        const json expected = r.get(probe);
        const bool same_kind = v != j.end() && (v->is_number() && expected.is_number()
                                                    ? !(expected.is_number_integer() && !v->is_number_unsigned())
                                                    : v->type() == expected.type());
        if (!same_kind) corrupt(path, "'train_options' has no valid " + std::string(r.option));
    }
    return j;
}

}  // namespace

std::string options_json(const TrainOptions& o) {
    json j = json::object();
    for (const Recorded& r : recorded_options()) j[r.option] = r.get(o);
    return j.dump();
}

ResumePoint resume_point(const std::string& path, const nn::Metadata& meta) {
    const auto whole = [&](const char* key) {
        const auto it = meta.find(key);
        const std::string text = it == meta.end() ? "" : it->second;
        if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos || text.size() > 18) {
            corrupt(path, "'" + std::string(key) + "' is " +
                              (it == meta.end() ? "missing" : "'" + text + "', not a whole number"));
        }
        return std::stoull(text);
    };
    return {static_cast<std::size_t>(whole("epoch")), whole("global_step")};
}

void apply_resume_options(TrainOptions& o, const std::function<bool(const std::string&)>& given) {
    const nn::Metadata meta = nn::read_checkpoint_metadata(o.resume);
    const json saved = read_recorded(o.resume, meta);
    const ResumePoint at = resume_point(o.resume, meta);
    for (const Recorded& r : recorded_options()) {
        const json& value = saved.at(r.option);
        if (!given(r.option)) {
            r.set(o, value);
        } else if (r.kept && r.get(o) != value) {
            throw UsageError{std::string(r.option) + " " + value_text(r.get(o)) + ": the checkpoint " + o.resume +
                             " was trained with " + r.option + " " + value_text(value) +
                             ", which a resumed run keeps; leave " + r.option + " out or pass " + value_text(value)};
        }
    }
    if (o.epochs <= at.epoch) {
        throw UsageError{(given("--epochs") ? "--epochs " + std::to_string(o.epochs) : std::string("--resume")) +
                         ": the checkpoint " + o.resume + " has trained " + std::to_string(at.epoch) + " of " +
                         std::to_string(saved.at("--epochs").get<std::size_t>()) + " epochs; pass --epochs above " +
                         std::to_string(at.epoch) + " to train more"};
    }
    if (!given("--out")) {
        const std::filesystem::path dir = std::filesystem::path(o.resume).parent_path();
        o.out = dir.empty() ? "." : dir.string();
    }
}

MetricsHistory read_metrics_history(const std::string& path, std::size_t epochs) {
    MetricsHistory h;
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) {
        const json j = json::parse(line, nullptr, false);
        if (!j.is_object()) continue;
        const auto number = [&](const char* key) {
            const auto it = j.find(key);
            return it != j.end() && it->is_number() ? it->get<double>() : 0.0;
        };
        const auto epoch = j.find("epoch");
        if (epoch == j.end() || !epoch->is_number_unsigned()) continue;
        const auto e = epoch->get<std::size_t>();
        // Rows in order, one per epoch up to the checkpoint's: a later one was written after the checkpoint.
        if (e != h.rows.size() + 1 || e > epochs) continue;
        h.rows.push_back({e, number("train_loss"), number("train_acc"), number("test_loss"), number("test_acc"),
                          number("lr"), number("seconds")});
        h.text += line + "\n";
    }
    return h;
}

}  // namespace adg::cli
