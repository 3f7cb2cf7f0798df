#include <adgraph/nn/model_spec.hpp>

#include <cstdlib>
#include <limits>

#include <adgraph/nn/activation.hpp>
#include <adgraph/nn/batch_norm.hpp>
#include <adgraph/nn/conv.hpp>
#include <adgraph/nn/dropout.hpp>
#include <adgraph/nn/flatten.hpp>
#include <adgraph/nn/linear.hpp>
#include <adgraph/nn/memory.hpp>
#include <adgraph/nn/pool.hpp>
#include <adgraph/nn/residual.hpp>
#include <adgraph/nn/rnn.hpp>
#include <adgraph/nn/sequence.hpp>

namespace adg::nn {

const char* const layer_spec_grammar =
    "write layers joined by ',' from conv<out>k<kernel>[s<stride>][p<padding>], maxpool<k>[s<stride>][p<padding>], "
    "avgpool<k>[s<stride>][p<padding>], bn, relu, leaky_relu, tanh, sigmoid, flatten, linear<out>, dropout[<p>], "
    "res(<layers>), rows, rnn<hidden>[x<layers>], gru<hidden>[x<layers>], last, e.g. "
    "conv32k3p1,bn,relu,maxpool2,flatten,linear10 or rows,gru128,last,linear10; or name a preset, cnn or gru; or "
    "give MLP sizes joined by '-', e.g. 784-256-128-10";

namespace {

const char* const cnn_layers =
    "conv32k3p1,bn,relu,maxpool2,conv64k3p1,bn,relu,maxpool2,flatten,linear128,relu,dropout,linear10";
const char* const gru_layers = "rows,gru128,last,linear10";
constexpr std::size_t max_recurrent_layers = 1000;

enum class Kind {
    conv,
    maxpool,
    avgpool,
    bn,
    relu,
    leaky_relu,
    tanh,
    sigmoid,
    flatten,
    linear,
    dropout,
    res,
    rows,
    rnn,
    gru,
    last
};

// One layer of a list as written: "conv32k3p1" is Kind::conv with size 32, kernel 3, padding 1.
struct Layer {
    std::string token;
    Kind kind = Kind::relu;
    std::size_t size = 0, kernel = 0, stride = 0, padding = 0;  // stride 0: the default
    std::size_t layers = 1;                                     // rnn/gru: stacked layers
    double p = -1;                                              // dropout's p; -1: the options' dropout
    std::vector<Layer> inner;                                   // res(...)
};

struct Parser {
    const std::string& spec;

    value_error bad(const std::string& why) const {
        // A layer list is longer than an MLP's sizes, so more of it is shown (still clipped: it may come from a file).
        return value_error("model spec '" + message_text(spec, 160) + "': " + why + "; " + layer_spec_grammar);
    }

    // A whole number of at most 7 digits at `pos` of `token` (advancing `pos`); throws naming the token otherwise.
    std::size_t number(const std::string& token, std::size_t& pos, const char* what) const {
        const std::size_t start = pos;
        while (pos < token.size() && token[pos] >= '0' && token[pos] <= '9') ++pos;
        if (pos == start) throw bad("layer '" + message_text(token) + "' lacks its " + what);
        if (pos - start > 7) throw bad("layer '" + message_text(token) + "': " + what + " is too large (max 9999999)");
        const std::size_t n = std::strtoul(token.substr(start, pos - start).c_str(), nullptr, 10);
        if (n == 0) throw bad("layer '" + message_text(token) + "': " + what + " must be positive");
        return n;
    }

    // "<name><size>[k<kernel>][s<stride>][p<padding>]" with the keys `keys` allowed, in that order.
    void sized(Layer& l, std::size_t name_length, const std::string& keys, const char* size_name) const {
        std::size_t pos = name_length;
        l.size = number(l.token, pos, size_name);
        for (const char key : keys) {
            if (pos < l.token.size() && l.token[pos] == key) {
                ++pos;
                std::size_t& field = key == 'k' ? l.kernel : key == 's' ? l.stride : key == 'x' ? l.layers : l.padding;
                const char* what = key == 'k'   ? "kernel size"
                                   : key == 's' ? "stride"
                                   : key == 'x' ? "number of layers"
                                                : "padding";
                if (key == 'p') {
                    // Padding may be 0.
                    const std::size_t start = pos;
                    while (pos < l.token.size() && l.token[pos] >= '0' && l.token[pos] <= '9') ++pos;
                    if (pos == start || pos - start > 7) {
                        throw bad("layer '" + message_text(l.token) +
                                  "': the padding after 'p' must be a whole "
                                  "number up to 9999999");
                    }
                    field = std::strtoul(l.token.substr(start, pos - start).c_str(), nullptr, 10);
                } else {
                    field = number(l.token, pos, what);
                }
            } else if (key == 'k') {
                throw bad("layer '" + message_text(l.token) + "' lacks its kernel size (k<kernel>, e.g. conv32k3p1)");
            }
        }
        if (pos != l.token.size()) {
            throw bad("layer '" + message_text(l.token) + "' has '" + message_text(l.token.substr(pos)) +
                      "' left over");
        }
    }

    Layer layer(const std::string& token, std::size_t at) const {
        if (token.empty()) throw bad("empty layer at character " + std::to_string(at));
        Layer l;
        l.token = token;
        const auto starts = [&](const char* name) { return token.rfind(name, 0) == 0; };
        if (starts("res(")) {
            if (token.back() != ')') throw bad("layer '" + message_text(token) + "' must end at its closing ')'");
            l.kind = Kind::res;
            l.inner = list(token.substr(4, token.size() - 5), at + 4);
            return l;
        }
        struct Plain {
            const char* name;
            Kind kind;
        };
        for (const Plain& p :
             {Plain{"bn", Kind::bn}, Plain{"relu", Kind::relu}, Plain{"leaky_relu", Kind::leaky_relu},
              Plain{"tanh", Kind::tanh}, Plain{"sigmoid", Kind::sigmoid}, Plain{"flatten", Kind::flatten},
              Plain{"dropout", Kind::dropout}, Plain{"rows", Kind::rows}, Plain{"last", Kind::last}}) {
            if (token == p.name) {
                l.kind = p.kind;
                return l;
            }
        }
        if (starts("conv")) {
            l.kind = Kind::conv;
            sized(l, 4, "ksp", "number of output channels");
        } else if (starts("maxpool") || starts("avgpool")) {
            l.kind = starts("maxpool") ? Kind::maxpool : Kind::avgpool;
            sized(l, 7, "sp", "window size");
            l.kernel = l.size;
            if (2 * l.padding > l.kernel) {
                throw bad("layer '" + message_text(token) + "': the padding is more than half the window");
            }
        } else if (starts("rnn") || starts("gru")) {
            l.kind = starts("rnn") ? Kind::rnn : Kind::gru;
            sized(l, 3, "x", "hidden size");
            // The plan lists four tensors per layer: a count of millions would exhaust memory before any check.
            if (l.layers > max_recurrent_layers) {
                throw bad("layer '" + message_text(token) + "': number of layers is too large (max " +
                          std::to_string(max_recurrent_layers) + ")");
            }
        } else if (starts("linear")) {
            l.kind = Kind::linear;
            sized(l, 6, "", "number of outputs");
        } else if (starts("dropout")) {
            l.kind = Kind::dropout;
            const std::string text = token.substr(7);
            char* end = nullptr;
            l.p = std::strtod(text.c_str(), &end);
            const bool digits = text.find_first_not_of("0123456789.") == std::string::npos;
            if (!digits || end != text.c_str() + text.size() || !(l.p >= 0 && l.p < 1)) {
                throw bad("layer '" + message_text(token) +
                          "': the dropout probability must be a number in [0, 1), "
                          "e.g. dropout0.3");
            }
        } else {
            throw bad("unknown layer '" + message_text(token) + "'");
        }
        return l;
    }

    // The layers of `text` (which starts at character `at` of the spec), split at the commas outside parentheses.
    std::vector<Layer> list(const std::string& text, std::size_t at) const {
        std::vector<Layer> out;
        std::size_t start = 0;
        int depth = 0;
        for (std::size_t i = 0; i <= text.size(); ++i) {
            const char c = i < text.size() ? text[i] : ',';
            if (c == '(') ++depth;
            if (c == ')' && --depth < 0) throw bad("unbalanced ')' at character " + std::to_string(at + i));
            if (c == ',' && depth == 0) {
                out.push_back(layer(text.substr(start, i - start), at + start));
                start = i + 1;
            }
        }
        if (depth != 0) throw bad("unbalanced '(': a res( lacks its ')'");
        return out;
    }
};

// Saturating arithmetic for the memory estimate: a spec of absurd sizes must not wrap around to a small figure.
std::uint64_t add(std::uint64_t a, std::uint64_t b) {
    return a > std::numeric_limits<std::uint64_t>::max() - b ? std::numeric_limits<std::uint64_t>::max() : a + b;
}
std::uint64_t mul(std::uint64_t a, std::uint64_t b) {
    return b != 0 && a > std::numeric_limits<std::uint64_t>::max() / b ? std::numeric_limits<std::uint64_t>::max()
                                                                       : a * b;
}
std::uint64_t count(const Shape& s) {
    std::uint64_t n = 1;
    for (auto d : s) n = mul(n, d);
    return n;
}

// Walks a layer list from a sample of shape `shape`, recording parameters, buffers and activations in `plan` and,
// when `net` is given, building the modules into it: the one walk both plan_model and build_model take, so the
// names they give agree.
struct Walker {
    const Parser& parser;
    const MlpOptions& options;
    ModelPlan& plan;
    Generator* gen;

    void param(const std::string& prefix, const std::string& name, Shape shape, bool buffer = false) {
        plan.tensors.push_back({prefix + name, options.dtype, std::move(shape), buffer});
    }

    // A shape as the message shows it: "images (32,14,14)", "sequences (28,128)" (steps, features) or
    // "features (128)".
    static std::string describe(const Shape& s) {
        return (s.size() == 3 ? "images " : s.size() == 2 ? "sequences " : "features ") + shape_str(s);
    }

    value_error misfit(const Layer& l, const Shape& shape, const std::string& why) const {
        return parser.bad("layer '" + message_text(l.token) + "' gets " + describe(shape) + ": " + why);
    }

    Shape walk(const std::vector<Layer>& layers, Shape shape, const std::string& prefix, Sequential* net) {
        std::size_t index = 0;
        for (const Layer& l : layers) {
            const std::string at = prefix + std::to_string(index++) + ".";
            std::shared_ptr<Module> m;
            Shape out = shape;
            const bool image = shape.size() == 3, sequence = shape.size() == 2;
            switch (l.kind) {
                case Kind::conv: {
                    if (!image) {
                        throw misfit(l, shape,
                                     std::string("a convolution takes images (C,H,W); put it before ") +
                                         (sequence ? "rows" : "flatten"));
                    }
                    const std::size_t stride = l.stride ? l.stride : 1, span = l.kernel;
                    if (span > shape[1] + 2 * l.padding || span > shape[2] + 2 * l.padding) {
                        throw misfit(l, shape,
                                     "the kernel is larger than the padded image; use a smaller kernel "
                                     "or more padding");
                    }
                    out = {l.size, (shape[1] + 2 * l.padding - span) / stride + 1,
                           (shape[2] + 2 * l.padding - span) / stride + 1};
                    param(at, "weight", {l.size, shape[0], l.kernel, l.kernel});
                    param(at, "bias", {l.size});
                    // The unfolded input (C·k·k values per output position) is kept beside the output.
                    plan.activation_values =
                        add(plan.activation_values, mul(count(out) / l.size, shape[0] * l.kernel * l.kernel));
                    if (net) {
                        m = std::make_shared<Conv2d>(shape[0], l.size, l.kernel, *gen, stride, l.padding, 1, 1, true,
                                                     options.init, options.dtype);
                    }
                    break;
                }
                case Kind::maxpool:
                case Kind::avgpool: {
                    if (!image) {
                        throw misfit(l, shape,
                                     std::string("pooling takes images (C,H,W); put it before ") +
                                         (sequence ? "rows" : "flatten"));
                    }
                    const std::size_t stride = l.stride ? l.stride : l.kernel;
                    if (l.kernel > shape[1] + 2 * l.padding || l.kernel > shape[2] + 2 * l.padding) {
                        throw misfit(l, shape, "the window is larger than the padded image; use a smaller window");
                    }
                    out = {shape[0], (shape[1] + 2 * l.padding - l.kernel) / stride + 1,
                           (shape[2] + 2 * l.padding - l.kernel) / stride + 1};
                    if (net && l.kind == Kind::maxpool)
                        m = std::make_shared<MaxPool2d>(l.kernel, Size2(stride), l.padding);
                    if (net && l.kind == Kind::avgpool)
                        m = std::make_shared<AvgPool2d>(l.kernel, Size2(stride), l.padding);
                    break;
                }
                case Kind::bn:
                    if (sequence) {
                        throw misfit(l, shape,
                                     "batch norm takes images (C,H,W) or features; put it before rows or after last");
                    }
                    param(at, "weight", {shape[0]});
                    param(at, "bias", {shape[0]});
                    param(at, "running_mean", {shape[0]}, true);
                    param(at, "running_var", {shape[0]}, true);
                    if (net && image) m = std::make_shared<BatchNorm2d>(shape[0], 0.1, 1e-5, options.dtype);
                    if (net && !image) m = std::make_shared<BatchNorm1d>(shape[0], 0.1, 1e-5, options.dtype);
                    break;
                case Kind::relu:
                    if (net) m = std::make_shared<ReLU>();
                    break;
                case Kind::leaky_relu:
                    if (net) m = std::make_shared<LeakyReLU>();
                    break;
                case Kind::tanh:
                    if (net) m = std::make_shared<Tanh>();
                    break;
                case Kind::sigmoid:
                    if (net) m = std::make_shared<Sigmoid>();
                    break;
                case Kind::flatten:
                    out = {count(shape) > 9999999 ? 9999999 : static_cast<std::size_t>(count(shape))};
                    if (net) m = std::make_shared<Flatten>();
                    break;
                case Kind::linear:
                    if (image) throw misfit(l, shape, "a linear layer takes features; put flatten before it");
                    if (sequence) {
                        throw misfit(l, shape, "a linear layer takes features; put last (or flatten) before it");
                    }
                    out = {l.size};
                    param(at, "weight", {l.size, shape[0]});
                    param(at, "bias", {l.size});
                    if (net) m = std::make_shared<Linear>(shape[0], l.size, *gen, true, options.init, options.dtype);
                    break;
                case Kind::dropout:
                    if (net) m = std::make_shared<Dropout>(l.p >= 0 ? l.p : options.dropout, gen->engine()());
                    break;
                case Kind::rows:
                    if (!image) {
                        throw misfit(l, shape,
                                     "rows reads images (C,H,W) as sequences of their H rows; put it before "
                                     "flatten and the recurrent layers");
                    }
                    out = {shape[1], shape[0] * shape[2]};
                    if (net) m = std::make_shared<Rows>();
                    break;
                case Kind::rnn:
                case Kind::gru: {
                    if (!sequence) {
                        throw misfit(l, shape,
                                     "a recurrent layer takes sequences (T,F); put rows before it to read images "
                                     "as sequences of rows");
                    }
                    // PyTorch's layout: per layer k, weight_ih_lk (gates·hidden, its input), weight_hh_lk,
                    // bias_ih_lk, bias_hh_lk, the gates stacked along the rows (r, z, n for a GRU).
                    const std::size_t gates = l.kind == Kind::gru ? 3 : 1;
                    for (std::size_t k = 0; k < l.layers; ++k) {
                        const std::string suffix = "_l" + std::to_string(k);
                        param(at, "weight_ih" + suffix, {gates * l.size, k == 0 ? shape[1] : l.size});
                        param(at, "weight_hh" + suffix, {gates * l.size, l.size});
                        param(at, "bias_ih" + suffix, {gates * l.size});
                        param(at, "bias_hh" + suffix, {gates * l.size});
                        // Per step each layer keeps its input's and its state's gate pre-activations and its state.
                        plan.activation_values = add(plan.activation_values, mul(shape[0], mul(2 * gates + 1, l.size)));
                    }
                    out = {shape[0], l.size};
                    if (net) {
                        const RNNOptions o = RNNOptions(shape[1], l.size).num_layers(l.layers).dtype(options.dtype);
                        if (l.kind == Kind::gru) m = std::make_shared<GRU>(o, *gen);
                        if (l.kind == Kind::rnn) m = std::make_shared<RNN>(o, *gen);
                    }
                    break;
                }
                case Kind::last:
                    if (!sequence) throw misfit(l, shape, "last takes sequences (T,F); put it after a recurrent layer");
                    out = {shape[1]};
                    if (net) m = std::make_shared<LastStep>();
                    break;
                case Kind::res: {
                    std::shared_ptr<Sequential> inner = net ? std::make_shared<Sequential>() : nullptr;
                    const Shape inner_out = walk(l.inner, shape, at + "inner.", inner.get());
                    if (inner_out != shape) {
                        throw misfit(l, shape,
                                     "its layers map it to " + describe(inner_out) +
                                         ", but x + f(x) needs the same shape; keep channels and size "
                                         "(e.g. conv<C>k3p1 with C the input's channels)");
                    }
                    if (net) m = std::make_shared<Residual>(inner);
                    break;
                }
            }
            plan.activation_values = add(plan.activation_values, count(out));
            if (net) net->add(m);
            shape = std::move(out);
        }
        return shape;
    }
};

}  // namespace

bool is_mlp_spec(const std::string& spec) {
    // Broad on purpose: a typo in MLP sizes ("784-x-10") is reported against the MLP grammar, not as a layer.
    if (!preset_layers(spec).empty() || spec.find_first_of(",()") != std::string::npos) return false;
    return spec.empty() || (spec[0] >= '0' && spec[0] <= '9') || spec.find('-') != std::string::npos;
}

std::string preset_layers(const std::string& spec) {
    if (spec == "cnn") return cnn_layers;
    if (spec == "gru") return gru_layers;
    return "";
}

namespace {

ModelPlan plan_into(const std::string& spec, const MlpOptions& options, const Shape& image, Sequential* net,
                    Generator* gen) {
    ModelPlan plan;
    if (is_mlp_spec(spec)) {
        const std::vector<std::size_t> sizes = parse_mlp_spec(spec);
        plan.tensors = mlp_parameter_shapes(spec, options);
        plan.input = {sizes.front()};
        plan.output = {sizes.back()};
        for (auto s : sizes) plan.activation_values = add(plan.activation_values, s);
        return plan;
    }
    plan.mlp = false;
    const std::string preset = preset_layers(spec);
    const Parser parser{spec};
    const std::vector<Layer> layers = parser.list(preset.empty() ? spec : preset, 0);
    if (image.size() != 3) {
        throw value_error("model spec '" + message_text(spec, 160) + "': a layer list takes images (C,H,W), not " +
                          shape_str(image) + "; pass the image shape");
    }
    plan.input = image;
    Walker walker{parser, options, plan, gen};
    plan.output = walker.walk(layers, image, "", net);
    if (plan.output.size() != 1) {
        throw parser.bad("the model ends in " + Walker::describe(plan.output) + ", not features; end it with " +
                         (plan.output.size() == 2 ? "last" : "flatten") + " and linear<classes>");
    }
    return plan;
}

}  // namespace

ModelPlan plan_model(const std::string& spec, const MlpOptions& options, const Shape& image) {
    return plan_into(spec, options, image, nullptr, nullptr);
}

std::uint64_t model_memory_bytes(const ModelPlan& plan, std::size_t state_copies, std::size_t rows) {
    std::uint64_t params = 0, buffers = 0;
    for (const ParameterShape& t : plan.tensors)
        (t.buffer ? buffers : params) = add(t.buffer ? buffers : params, count(t.shape));
    const std::uint64_t element = plan.tensors.empty() || plan.tensors.front().dtype == f32 ? 4 : 8;
    // Each activation is kept and gets a gradient of its own in the backward pass, and the ops hold a scratch
    // copy or two: about four values per activation (an estimate: it only has to catch what can never fit).
    const std::uint64_t activations = mul(mul(rows, plan.activation_values), 4);
    return mul(add(add(mul(params, add(1, state_copies)), buffers), activations), element);
}

std::shared_ptr<Sequential> build_model(const std::string& spec, Generator& gen, const MlpOptions& options,
                                        const Shape& image) {
    if (is_mlp_spec(spec)) return Sequential::mlp(spec, gen, options);
    const ModelPlan plan = plan_model(spec, options, image);
    check_fits_in_memory(
        "build_model: model spec '" + message_text(spec) + "' with " + dtype_name(options.dtype) + " parameters",
        model_memory_bytes(plan, 0, 0), "use fewer or smaller layers");
    auto net = std::make_shared<Sequential>();
    plan_into(spec, options, image, net.get(), &gen);
    return net;
}

}  // namespace adg::nn
