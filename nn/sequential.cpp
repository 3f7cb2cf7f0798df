#include <adgraph/nn/sequential.hpp>

#include <adgraph/nn/activation.hpp>
#include <adgraph/nn/dropout.hpp>
#include <adgraph/nn/linear.hpp>
#include <adgraph/nn/memory.hpp>

namespace adg::nn {

Sequential& Sequential::add(std::shared_ptr<Module> m) {
    register_module(std::to_string(size()), std::move(m));
    return *this;
}

Tensor Sequential::forward(const Tensor& x) {
    Tensor h = x;
    for (const auto& [name, m] : children()) h = m->forward(h);
    return h;
}

std::string Sequential::to_string() const {
    std::string s = "Sequential(";
    for (std::size_t i = 0; i < size(); ++i) s += (i ? ", " : "") + children()[i].second->to_string();
    return s + ")";
}

std::vector<std::size_t> parse_mlp_spec(const std::string& spec) {
    const auto bad = [&](const std::string& why) {
        return value_error("model spec '" + message_text(spec) + "': " + why +
                           "; write layer sizes joined by '-', e.g. 784-256-128-10");
    };
    std::vector<std::size_t> sizes;
    std::size_t pos = 0;
    while (true) {
        const std::size_t dash = spec.find('-', pos);
        const std::string part = spec.substr(pos, dash == std::string::npos ? std::string::npos : dash - pos);
        if (part.empty()) throw bad("empty layer size at character " + std::to_string(pos));
        if (part.find_first_not_of("0123456789") != std::string::npos) {
            throw bad("'" + message_text(part) + "' is not a whole number");
        }
        if (part.size() > 7) throw bad("layer size " + message_text(part) + " is too large (max 9999999)");
        const std::size_t n = std::stoul(part);
        if (n == 0) throw bad("layer sizes must be positive");
        sizes.push_back(n);
        if (dash == std::string::npos) break;
        pos = dash + 1;
    }
    if (sizes.size() < 2) throw bad("needs at least an input and an output size");
    return sizes;
}

namespace {

std::shared_ptr<Module> make_activation(const std::string& name) {
    if (name == "relu") return std::make_shared<ReLU>();
    if (name == "leaky_relu") return std::make_shared<LeakyReLU>();
    if (name == "tanh") return std::make_shared<Tanh>();
    if (name == "sigmoid") return std::make_shared<Sigmoid>();
    throw value_error("activation '" + message_text(name) + "' is unknown; choose relu, leaky_relu, tanh or sigmoid");
}

}  // namespace

namespace {

// The chain of an MLP, one module at a time: Linear layers between consecutive sizes, each hidden one followed by
// the activation and, with dropout, a Dropout layer. Sequential::mlp and mlp_parameter_shapes both walk it, so the
// parameter names they give agree.
template <class OnLinear, class OnActivation, class OnDropout>
void walk_mlp(const std::vector<std::size_t>& sizes, const MlpOptions& options, OnLinear on_linear,
              OnActivation on_activation, OnDropout on_dropout) {
    std::size_t module = 0;
    for (std::size_t i = 0; i + 1 < sizes.size(); ++i) {
        on_linear(module++, sizes[i], sizes[i + 1]);
        if (i + 2 < sizes.size()) {
            on_activation(module++);
            if (options.dropout > 0) on_dropout(module++);
        }
    }
}

}  // namespace

std::shared_ptr<Sequential> Sequential::mlp(const std::string& spec, Generator& gen, const MlpOptions& options) {
    const std::vector<std::size_t> sizes = parse_mlp_spec(spec);
    make_activation(options.activation);  // reject a bad name before drawing any weights
    // Before allocating: a spec of huge layers (from a command line or a checkpoint's metadata) is refused with
    // its size instead of failing in the allocator halfway through the layers.
    check_fits_in_memory(
        "Sequential::mlp: model spec '" + message_text(spec) + "' with " + dtype_name(options.dtype) + " parameters",
        mlp_memory_bytes(sizes, 0, 0, options.dtype), "use smaller layer sizes");
    auto net = std::make_shared<Sequential>();
    walk_mlp(
        sizes, options,
        [&](std::size_t, std::size_t in, std::size_t out) {
            net->add(std::make_shared<Linear>(in, out, gen, true, options.init, options.dtype));
        },
        [&](std::size_t) { net->add(make_activation(options.activation)); },
        [&](std::size_t) { net->add(std::make_shared<Dropout>(options.dropout, gen.engine()())); });
    return net;
}

std::vector<ParameterShape> mlp_parameter_shapes(const std::string& spec, const MlpOptions& options) {
    const std::vector<std::size_t> sizes = parse_mlp_spec(spec);
    make_activation(options.activation);
    std::vector<ParameterShape> out;
    walk_mlp(
        sizes, options,
        [&](std::size_t module, std::size_t in, std::size_t n) {
            // Linear's weight is (out, in) and its bias (out).
            out.push_back({std::to_string(module) + ".weight", options.dtype, {n, in}});
            out.push_back({std::to_string(module) + ".bias", options.dtype, {n}});
        },
        [](std::size_t) {}, [](std::size_t) {});
    return out;
}

}  // namespace adg::nn
