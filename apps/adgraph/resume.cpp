#include "adgraph/resume.hpp"

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include <adgraph/nn/checkpoint.hpp>
#include <adgraph/tensor/error.hpp>

#include "adgraph/option_table.hpp"
#include "adgraph/rank_reductions.hpp"

namespace adg::cli {

namespace {

using nlohmann::json;

[[noreturn]] void corrupt(const std::string& path, const std::string& what) {
    throw io_error("checkpoint " + path + ": metadata " + what +
                   "; the metadata is corrupt: resume from another checkpoint or train afresh");
}

// The checkpoint's recorded options, each checked to be of its option's type and within the values the command line
// accepts (the same table's range): a value set from the checkpoint must be as sound as one typed.
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
    for (const TrainOption& r : train_option_table()) {
        const auto v = j.find(r.name);
        const json expected = r.get(probe);
        const bool same_kind = v != j.end() && (v->is_number() && expected.is_number()
                                                    ? !(expected.is_number_integer() && !v->is_number_unsigned())
                                                    : v->type() == expected.type());
        if (!same_kind) corrupt(path, "'train_options' has no valid " + std::string(r.name));
        const std::string problem = option_value_problem(r, *v);
        if (!problem.empty()) {
            corrupt(path, "'train_options' has " + std::string(r.name) + " " + option_value_text(*v) + ", " + problem);
        }
    }
    return j;
}

}  // namespace

std::string options_json(const TrainOptions& o) {
    json j = json::object();
    for (const TrainOption& r : train_option_table()) j[r.name] = r.get(o);
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

void check_resume_steps(const std::string& path, const ResumePoint& at, std::size_t batches, std::size_t images,
                        std::size_t batch) {
    // Compared by division: a corrupt epoch count times the batches could wrap around.
    const bool agree =
        batches > 0 ? at.global_step % batches == 0 && at.global_step / batches == at.epoch : at.global_step == 0;
    if (!agree) {
        throw io_error("checkpoint " + path + ": metadata 'global_step' is " + std::to_string(at.global_step) +
                       ", not 'epoch' " + std::to_string(at.epoch) + " × " + std::to_string(batches) +
                       " batches an epoch (" + std::to_string(images) + " training images in batches of " +
                       std::to_string(batch) +
                       "); resume with the run's --data and --limit, or from another checkpoint if this one is "
                       "corrupt");
    }
}

namespace {

// FNV-1a over every part, each preceded by its length so that no two sequences of parts read alike. The length is
// hashed first rather than joined to the part: a part may be the whole optimizer state, megabytes not worth copying.
std::uint64_t fingerprint(const std::vector<std::string>& parts) {
    std::uint64_t h = 14695981039346656037ull;
    const auto mix = [&h](const std::string& bytes) {
        for (const char c : bytes) {
            h ^= static_cast<unsigned char>(c);
            h *= 1099511628211ull;
        }
    };
    for (const std::string& bytes : parts) {
        mix(std::to_string(bytes.size()) + ":");
        mix(bytes);
    }
    return h;
}

// "rank 2" or "ranks 1, 2 and 4": the ranks whose fingerprint differs from rank 0's; empty if none.
std::string ranks_apart(const std::vector<std::uint64_t>& fingerprints) {
    std::vector<std::size_t> apart;
    for (std::size_t r = 1; r < fingerprints.size(); ++r) {
        if (fingerprints[r] != fingerprints.front()) apart.push_back(r);
    }
    return apart.empty() ? "" : rank_list(apart, fingerprints.size());
}

}  // namespace

std::uint64_t resume_fingerprint(const std::string& options, const ResumePoint& at, const std::string& rng,
                                 const nn::NamedArrays& optimizer_state) {
    return fingerprint({options, std::to_string(at.epoch), std::to_string(at.global_step), rng,
                        nn::safetensors_bytes(optimizer_state, {})});
}

std::uint64_t start_fingerprint(const std::string& options, std::size_t train_images, std::size_t test_images,
                                bool resumed) {
    return fingerprint(
        {options, std::to_string(train_images), std::to_string(test_images), resumed ? "resume" : "fresh"});
}

std::string start_mismatch(const std::vector<std::uint64_t>& fingerprints) {
    const std::string ranks = ranks_apart(fingerprints);
    if (ranks.empty()) return "";
    return ranks +
           " started another run than rank 0 (the options, the number of training or test images, or --resume "
           "differ); start every rank with the same command line and the same data (--data) on every machine";
}

std::string resume_mismatch(const std::string& path, const std::vector<std::uint64_t>& fingerprints) {
    const std::string ranks = ranks_apart(fingerprints);
    if (ranks.empty()) return "";
    return "checkpoint " + path + ": " + ranks +
           " loaded another run than rank 0 (the options, epoch, global step or optimizer state differ: another "
           "file at this path on their machine); give every rank the same checkpoint file and resume again";
}

void apply_resume_options(TrainOptions& o, const std::function<bool(const std::string&)>& given) {
    const nn::Metadata meta = nn::read_checkpoint_metadata(o.resume);
    const json saved = read_recorded(o.resume, meta);
    const ResumePoint at = resume_point(o.resume, meta);
    for (const TrainOption& r : train_option_table()) {
        const json& value = saved.at(r.name);
        if (!given(r.name)) {
            r.set(o, value);
        } else if (r.kept && r.get(o) != value) {
            const std::string name = r.name, kept = option_value_text(value);
            throw UsageError{name + " " + option_value_text(r.get(o)) + ": the checkpoint " + o.resume +
                             " was trained with " + name + " " + kept + ", which a resumed run keeps; leave " + name +
                             " out or pass " + kept};
        }
    }
    // SGD without momentum saves no velocity, so none can be continued (load_state would call the slot missing).
    if (o.optimizer == "sgd" && o.momentum > 0 && saved.at("--momentum").get<double>() == 0) {
        throw UsageError{"--momentum " + option_value_text(nlohmann::json(o.momentum)) + ": the checkpoint " +
                         o.resume +
                         " was trained with SGD without momentum (--momentum 0), which keeps no velocity to continue; "
                         "leave --momentum out or pass 0"};
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
