#include <adgraph/nn/load_model.hpp>

#include <string>

#include <adgraph/nn/message_text.hpp>
#include <adgraph/nn/model_spec.hpp>

namespace adg::nn {

namespace {

// A --spec of the other kind than the checkpoint's model (an MLP for a CNN or the reverse) would fail on its first
// tensor with a message about shapes; this says what is really wrong. The file's kind is its metadata spec's, or,
// without one, whether it holds 4-D (convolution) weights or running statistics.
void check_same_kind(const std::string& path, const SafetensorsFile& file, const std::string& spec) {
    const auto saved = file.metadata.find("model");
    bool file_mlp = true;
    if (saved != file.metadata.end()) {
        file_mlp = is_mlp_spec(saved->second);
    } else {
        for (const auto& [name, a] : file.tensors) {
            const bool stats = name.size() > 13 && name.compare(name.size() - 13, 13, ".running_mean") == 0;
            if (name.rfind("optim.", 0) != 0 && (a.dim() == 4 || stats)) file_mlp = false;
        }
    }
    if (file_mlp == is_mlp_spec(spec)) return;
    const std::string saved_for =
        saved != file.metadata.end() ? " (saved for model " + message_text(saved->second) + ")" : "";
    throw io_error("checkpoint " + path + ": --spec " + message_text(spec) + " names " +
                   (file_mlp ? "a layer-list model (CNN) but the checkpoint holds an MLP"
                             : "an MLP but the checkpoint holds a layer-list model (CNN)") +
                   saved_for + "; leave --spec out to use the checkpoint's model, or pass " +
                   (file_mlp ? "MLP sizes such as 784-256-128-10" : "a layer list or the preset it was trained as"));
}

}  // namespace

LoadedModel load_model(const std::string& path, const std::string& spec,
                       const std::function<void(const std::string& spec, const ModelPlan& plan)>& check_plan) {
    LoadedModel m;
    // Read and parsed once; its tensors are checked against the model's spec before the model is built.
    const SafetensorsFile file = read_checkpoint(path);
    const Metadata& meta = file.metadata;
    const auto get = [&](const char* key, const char* fallback) {
        const auto it = meta.find(key);
        return it == meta.end() ? std::string(fallback) : it->second;
    };
    if (spec.empty() && meta.find("model") == meta.end()) {
        throw io_error("checkpoint " + path + ": the metadata has no model spec; pass --spec");
    }
    Generator gen(0);
    MlpOptions options;
    options.activation = get("activation", "relu");
    // Dropout layers hold no parameters but take a place in the chain, so they shift the parameter names.
    const std::string dropout = get("dropout", "0");
    std::size_t used = 0;
    try {
        options.dropout = std::stod(dropout, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used == 0 || used != dropout.size()) {
        throw io_error("checkpoint " + path + ": metadata 'dropout' is '" + message_text(dropout) +
                       "', not a number; the metadata is corrupt (adgraph train writes e.g. '0.100000')");
    }
    // stod reads "nan" and "-0.5" too; such a value would reach Dropout only after the parameter names it shifts.
    if (!(options.dropout >= 0 && options.dropout < 1)) {
        throw io_error(
            "checkpoint " + path + ": metadata 'dropout' is '" + message_text(dropout) +
            "', not a probability in [0, 1); the metadata is corrupt (adgraph train writes e.g. '0.100000')");
    }
    const std::string model_spec = spec.empty() ? get("model", "") : spec;
    if (!spec.empty()) check_same_kind(path, file, spec);
    ModelPlan plan;
    try {
        plan = plan_model(model_spec, options);
        if (check_plan) check_plan(model_spec, plan);
    } catch (error& e) {
        e.add_context("checkpoint " + path);  // the spec, activation or dropout came from its metadata
        throw;
    }
    check_checkpoint_parameters(path, file, plan.tensors);  // so a lying header never sizes the model
    try {
        m.model = build_model(model_spec, gen, options);  // refuses a model too large for memory
    } catch (error& e) {
        e.add_context("checkpoint " + path);
        throw;
    }
    m.spec = model_spec;
    m.input = plan.input;
    m.metadata = load_checkpoint(path, file, *m.model, nullptr);
    m.model->eval();
    return m;
}

}  // namespace adg::nn
