#include "adgraph/evaluate.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>

#include <adgraph/autodiff/grad_mode.hpp>
#include <adgraph/autodiff/graphviz.hpp>
#include <adgraph/autodiff/ops.hpp>
#include <adgraph/nn/atomic_file.hpp>
#include <adgraph/nn/loss.hpp>
#include <adgraph/nn/memory.hpp>
#include <adgraph/nn/model_spec.hpp>

namespace adg::cli {

Tensor model_batch(const Tensor& x, const Shape& input) {
    if (input.size() <= 1) return x;
    Shape shape{x.shape()[0]};
    shape.insert(shape.end(), input.begin(), input.end());
    return reshape(x, shape);
}

EvalResult evaluate(nn::Module& model, const nn::Dataset& data, std::size_t batch, const Shape& input,
                    std::size_t first_image) {
    NoGrad no_grad;
    const bool was_training = model.training();
    model.eval();
    EvalResult r;
    r.confusion = nn::ConfusionMatrix(data.classes);
    double loss_sum = 0.0;
    std::size_t first_row = first_image;
    for (const nn::Batch& b : nn::DataLoader(data, batch, false).epoch(0)) {
        const Tensor logits = model(model_batch(b.x, input));
        check_finite_outputs(logits, first_row);
        first_row += b.labels.size();
        loss_sum += nn::cross_entropy(logits, b.labels, nn::Reduction::sum).item();
        r.confusion.add(b.labels, nn::argmax_rows(logits));
    }
    model.train(was_training);
    r.loss = data.size() ? loss_sum / static_cast<double>(data.size()) : 0.0;
    r.accuracy = r.confusion.accuracy();
    return r;
}

void check_finite_outputs(const Tensor& logits, std::size_t first_row) {
    const Array& v = logits.value();
    const std::size_t classes = v.dim() == 2 ? v.shape()[1] : 1;
    for (std::size_t i = 0; i < v.size(); ++i) {
        const double x = v.flat(i);
        if (std::isfinite(x)) continue;
        // A NaN's sign depends on how it arose; the message says "nan" either way.
        throw value_error("evaluate: the model's output for image " + std::to_string(first_row + i / classes) +
                          ", class " + std::to_string(i % classes) + " is " + (std::isnan(x) ? "nan" : number_str(x)) +
                          ": its weights overflow " + dtype_name(v.dtype()) +
                          " in the forward pass; retrain (e.g. with a smaller --lr) or use another checkpoint");
    }
}

void check_images_fit(const nn::Dataset& data, std::size_t inputs, const std::string& model) {
    const bool square = data.image_shape == std::vector<std::size_t>{28, 28};
    if (data.features() == inputs && square) return;
    const std::string file = data.source.empty() ? std::string("dataset") : data.source;
    const std::string shape = data.image_shape.size() == 2
                                  ? std::to_string(data.image_shape[0]) + "x" + std::to_string(data.image_shape[1])
                                  : "of shape " + shape_str(data.images.shape());
    if (data.features() != inputs) {
        throw shape_error(file + ": the images are " + shape + " (" + std::to_string(data.features()) +
                          " values) but " + model + " takes " + std::to_string(inputs) +
                          " inputs; pass --data with 28x28 Fashion-MNIST images");
    }
    // As many pixels in another shape would train and predict on scrambled rows, and predict draws 28x28.
    throw shape_error(file + ": the images are " + shape + ", not 28x28 as Fashion-MNIST's (" + model +
                      " reads 28 rows of 28 pixels); pass --data with 28x28 Fashion-MNIST images");
}

std::vector<std::string> class_names() {
    const auto& names = nn::fashion_mnist_classes();
    return std::vector<std::string>(names.begin(), names.end());
}

std::string per_class_table(const nn::ConfusionMatrix& m) {
    const auto names = class_names();
    std::string out = "class          accuracy\n";
    char line[96];
    for (std::size_t c = 0; c < m.classes(); ++c) {
        std::snprintf(line, sizeof line, "%-13s  %6.2f %%\n", c < names.size() ? names[c].c_str() : "?",
                      100.0 * m.class_accuracy(c));
        out += line;
    }
    return out;
}

LoadedModel load_model(const std::string& path, const std::string& spec) {
    // The output width first: a model for another number of classes would fail later in the confusion matrix or
    // show only some of its classes.
    return nn::load_model(path, spec, [](const std::string& model, const nn::ModelPlan& plan) {
        const std::size_t outputs = plan.output.front(), classes = nn::fashion_mnist_classes().size();
        if (outputs != classes) {
            throw shape_error("the model " + nn::message_text(model) + " has " + std::to_string(outputs) +
                              " outputs but Fashion-MNIST has " + std::to_string(classes) +
                              " classes; use a checkpoint of a model ending in " + (plan.mlp ? "-" : "linear") +
                              std::to_string(classes) + ", as adgraph train writes");
        }
    });
}

namespace {

// The remedy of check_blas_buffers_fit for the commands without --threads (run() gives them ADGRAPH_NUM_THREADS's
// count, else 1).
const char* const fewer_threads = "set a lower ADGRAPH_NUM_THREADS";

// The values of one sample a loaded model takes (784 for the MLP 784-... and for a CNN of 1x28x28 images).
std::size_t model_inputs(const LoadedModel& m) {
    std::size_t n = 1;
    for (auto d : m.input) n *= d;
    return n;
}

std::string model_text(const LoadedModel& m, const std::string& path) {
    return "the model " + nn::message_text(m.spec) + " of checkpoint " + path;
}

}  // namespace

int eval_command(const std::string& path, const std::string& spec, const std::string& data, std::size_t limit,
                 std::ostream& out) {
    const LoadedModel m = load_model(path, spec);
    const nn::Dataset test = nn::load_fashion_mnist(data, nn::Split::test, limit);
    check_images_fit(test, model_inputs(m), model_text(m, path));
    // Right before the first GEMM, so that the model and the data are already counted as mapped.
    nn::check_blas_buffers_fit("eval", nn::blas_threads(), fewer_threads);
    EvalResult r;
    try {
        r = evaluate(*m.model, test, 1000, m.input);
    } catch (error& e) {
        e.add_context("checkpoint " + path);
        throw;
    }
    // The model's description can be long (a CNN's), so only the figures go through the fixed buffer.
    char line[160];
    std::snprintf(line, sizeof line, ": test accuracy %.2f %% (%zu images), test loss %.4f\n", 100.0 * r.accuracy,
                  test.size(), r.loss);
    out << "model " << m.model->to_string() << line << "\n"
        << per_class_table(r.confusion) << "\nconfusion matrix\n"
        << r.confusion.to_string(class_names());
    return 0;
}

int graph_command(const std::string& spec, std::size_t batch, const std::string& path, std::ostream& out) {
    if (batch == 0) throw value_error("graph: --batch must be at least 1");
    nn::check_blas_buffers_fit("graph", nn::blas_threads(), fewer_threads);
    Generator gen(0);
    const nn::ModelPlan plan = nn::plan_model(spec);
    const std::string what = "graph: the model " + nn::message_text(spec) + " with a batch of " + std::to_string(batch);
    if (plan.mlp) {
        nn::check_fits_in_memory(what, nn::mlp_memory_bytes(nn::parse_mlp_spec(spec), 1, batch),
                                 "pass a smaller --spec or --batch", nn::memory_limit(nn::blas_threads()));
    } else {
        nn::check_fits_in_memory(what, nn::model_memory_bytes(plan, 1, batch), "pass a smaller --spec or --batch",
                                 nn::memory_limit(nn::blas_threads()));
    }
    auto model = nn::build_model(spec, gen);
    Shape shape{batch};
    shape.insert(shape.end(), plan.input.begin(), plan.input.end());
    const Tensor x = Tensor::zeros(shape);
    const std::vector<std::size_t> labels(batch, 0);
    const Tensor loss = nn::cross_entropy((*model)(x), labels);
    const std::string dot = to_dot({loss}, {"loss"});
    if (path.empty()) {
        out << dot;
    } else {
        nn::write_file_atomically(path, dot);
        out << "wrote " << path << " (render: dot -Tpng " << path << " -o graph.png)\n";
    }
    return 0;
}

int predict_command(const std::string& path, const std::string& data, std::size_t index, std::ostream& out) {
    const LoadedModel m = load_model(path);
    const nn::Dataset test = nn::load_fashion_mnist(data, nn::Split::test, index + 1);
    if (index >= test.size()) {
        throw value_error("predict: --index " + std::to_string(index) + " is out of range (the test set has " +
                          std::to_string(test.size()) + " images)");
    }
    check_images_fit(test, model_inputs(m), model_text(m, path));
    nn::check_blas_buffers_fit("predict", nn::blas_threads(), fewer_threads);  // right before the first GEMM
    const std::size_t features = test.features();
    const Tensor x = slice(test.images, 0, index, index + 1);
    Tensor probs;
    {
        NoGrad no_grad;
        const Tensor logits = (*m.model)(model_batch(x, m.input));
        try {
            check_finite_outputs(logits, index);
        } catch (error& e) {
            e.add_context("checkpoint " + path);
            throw;
        }
        probs = softmax(logits, -1);
    }
    // Text art: undo the normalisation and map brightness to a ramp of characters.
    const nn::Normalization norm;
    const char* ramp = " .:-=+*#%@";
    const std::size_t side = static_cast<std::size_t>(std::lround(std::sqrt(static_cast<double>(features))));
    for (std::size_t r = 0; r < side && side * side == features; ++r) {
        std::string row;
        for (std::size_t c = 0; c < side; ++c) {
            const double p = std::clamp(x.value().flat(r * side + c) * norm.std + norm.mean, 0.0, 1.0);
            const char ch = ramp[std::min<std::size_t>(9, static_cast<std::size_t>(p * 10))];
            row += std::string(2, ch);
        }
        out << row << "\n";
    }
    const auto names = class_names();
    std::vector<std::size_t> order(names.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](std::size_t a, std::size_t b) { return probs.value().flat(a) > probs.value().flat(b); });
    const std::size_t truth = test.labels[index];
    char line[160];
    std::snprintf(line, sizeof line, "test image %zu: true class %s, predicted %s (%.1f %%)\n", index,
                  names[truth].c_str(), names[order[0]].c_str(), 100.0 * probs.value().flat(order[0]));
    out << line;
    for (auto c : order) {
        const double p = probs.value().flat(c);
        // Finite logits give probabilities in [0, 1]; the clamp only keeps rounding from stretching the bar.
        const auto bar = static_cast<std::size_t>(std::lround(std::clamp(p, 0.0, 1.0) * 40));
        std::snprintf(line, sizeof line, "  %-12s %6.2f %% %s\n", names[c].c_str(), 100.0 * p,
                      std::string(bar, '#').c_str());
        out << line;
    }
    return 0;
}

}  // namespace adg::cli
