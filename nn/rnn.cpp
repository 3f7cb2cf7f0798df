#include <adgraph/nn/rnn.hpp>

#include <cmath>

#include <adgraph/autodiff/grad_mode.hpp>

namespace adg::nn {

namespace {

using rnn_detail::RecurrentWeights;

// PyTorch's RNNBase and RNNCellBase draw every weight and bias from U(−1/√hidden, 1/√hidden), in the order
// weight_ih, weight_hh, bias_ih, bias_hh.
RecurrentWeights draw_weights(std::size_t gates, std::size_t input, std::size_t hidden, bool bias, Generator& gen,
                              Dtype dtype) {
    const double c = 1.0 / std::sqrt(static_cast<double>(hidden));
    RecurrentWeights w;
    w.weight_ih = Tensor::uniform({gates * hidden, input}, -c, c, gen, dtype);
    w.weight_hh = Tensor::uniform({gates * hidden, hidden}, -c, c, gen, dtype);
    if (bias) {
        w.bias_ih = Tensor::uniform({gates * hidden}, -c, c, gen, dtype);
        w.bias_hh = Tensor::uniform({gates * hidden}, -c, c, gen, dtype);
    }
    return w;
}

Tensor affine(const Tensor& x, const Tensor& w, const Tensor& b) {
    return b.defined() ? linear(x, w, b) : linear(x, w);
}

// h' = tanh(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh).
Tensor rnn_step(const Tensor& x, const Tensor& h, const RecurrentWeights& w) {
    return tanh(affine(x, w.weight_ih, w.bias_ih) + affine(h, w.weight_hh, w.bias_hh));
}

// PyTorch's GRU: the gates r, z, n from the two affine maps in one fused op (autodiff/ops_rnn.def), which makes a
// training step about a fifth faster than six slices and eight elementwise ops (bench_gru).
Tensor gru_step(const Tensor& x, const Tensor& h, const RecurrentWeights& w) {
    return gru_gates(affine(x, w.weight_ih, w.bias_ih), affine(h, w.weight_hh, w.bias_hh), h);
}

std::string cell_name(const char* kind, std::size_t input, std::size_t hidden, const char* extra, bool bias) {
    return std::string(kind) + "(" + std::to_string(input) + " -> " + std::to_string(hidden) + extra +
           (bias ? ", bias)" : ")");
}

std::string pytorch_repr(std::size_t input, std::size_t hidden, bool bias) {
    return std::to_string(input) + ", " + std::to_string(hidden) + (bias ? "" : ", bias=False");
}

void check_dtype(const std::string& who, const char* what, const Tensor& t, Dtype want, const char* remedy) {
    if (t.dtype() != want) {
        throw dtype_error(who + ": " + what + " is " + dtype_name(t.dtype()) + " but the parameters are " +
                          dtype_name(want) + "; convert it with cast(" + remedy +
                          ", adg::" + (want == f32 ? "f32" : "f64") + ") or build the layer with dtype " +
                          (t.dtype() == f32 ? "f32" : "f64"));
    }
}

// A cell's operands: x (batch, input) and h (batch, hidden) of the parameters' dtype.
void check_cell_operands(const std::string& who, std::size_t input, std::size_t hidden, Dtype dtype, const Tensor& x,
                         const Tensor& h) {
    if (x.dim() != 2 || x.shape()[1] != input) {
        throw shape_error(who + ": input shape " + shape_str(x.shape()) + " is not (batch, " + std::to_string(input) +
                          "); pass one step of a batch as (batch, " + std::to_string(input) + ")");
    }
    if (h.shape() != Shape{x.shape()[0], hidden}) {
        throw shape_error(who + ": state shape " + shape_str(h.shape()) + " does not fit input " +
                          shape_str(x.shape()) + "; pass a state of shape " + shape_str(Shape{x.shape()[0], hidden}));
    }
    check_dtype(who, "the input", x, dtype, "x");
    check_dtype(who, "the state", h, dtype, "h");
}

// The steps of x (batch, steps, input) as (batch, input) tensors. Each step's select is a copy of its rows; when x
// is recorded (it needs grad), the reverse sweep of T selects would pad T full-size cotangents back to x, quadratic
// in T. There x is halved recursively instead: every level of the tree copies (and pads back) x once, so the cost
// is N·log₂T for the N elements of x.
void split_steps(const Tensor& x, std::vector<Tensor>& out) {
    const std::size_t steps = x.shape()[1];
    if (steps == 1) {
        out.push_back(reshape(x, {x.shape()[0], x.shape()[2]}));
        return;
    }
    split_steps(slice(x, 1, 0, steps / 2), out);
    split_steps(slice(x, 1, steps / 2, steps), out);
}

std::vector<Tensor> steps_of(const Tensor& x) {
    const std::size_t steps = x.shape()[1];
    std::vector<Tensor> out;
    out.reserve(steps);
    if (grad_enabled() && x.needs_grad()) {
        split_steps(x, out);
    } else {
        for (std::size_t t = 0; t < steps; ++t) out.push_back(select(x, 1, static_cast<long>(t)));
    }
    return out;
}

// The layers of RNN or GRU over x from h0: layer k at step t takes layer k−1's state at step t, so the graph is
// built step by step (no layer's whole output sequence is sliced again), and the outputs are stacked once.
template <class Step>
RNNOutput run_layers(const std::string& who, const RNNOptions& o, const std::vector<RecurrentWeights>& layers,
                     const Tensor& x, const Tensor& h0, Step step) {
    const std::size_t I = o.input_size(), H = o.hidden_size(), L = o.num_layers();
    if (x.dim() != 3 || x.shape()[2] != I) {
        throw shape_error(who + ": input shape " + shape_str(x.shape()) + " is not (batch, steps, " +
                          std::to_string(I) + "); pass a batch-first sequence (batch, steps, " + std::to_string(I) +
                          ")");
    }
    const std::size_t B = x.shape()[0], T = x.shape()[1];
    if (T == 0) {
        throw shape_error(who + ": input shape " + shape_str(x.shape()) +
                          " has no steps; pass a sequence of at least one step");
    }
    check_dtype(who, "the input", x, o.dtype(), "x");
    if (h0.defined()) {
        if (h0.shape() != Shape{L, B, H}) {
            throw shape_error(
                who + ": initial state shape " + shape_str(h0.shape()) + " does not fit input " + shape_str(x.shape()) +
                "; pass h0 of shape (layers, batch, hidden) = " + shape_str(Shape{L, B, H}) + " or none for zeros");
        }
        check_dtype(who, "the initial state", h0, o.dtype(), "h0");
    }
    std::vector<Tensor> h(L);
    for (std::size_t l = 0; l < L; ++l) {
        h[l] = h0.defined() ? select(h0, 0, static_cast<long>(l)) : Tensor::zeros({B, H}, o.dtype());
    }
    std::vector<Tensor> xs = steps_of(x);
    std::vector<Tensor> outputs;
    outputs.reserve(T);
    for (std::size_t t = 0; t < T; ++t) {
        Tensor in = std::move(xs[t]);
        for (std::size_t l = 0; l < L; ++l) {
            h[l] = step(in, h[l], layers[l]);
            in = h[l];
        }
        outputs.push_back(std::move(in));
    }
    return {stack(outputs, 1), stack(h, 0)};
}

// `w` registered through `reg` as weight_ih<suffix>, weight_hh<suffix> and, with biases, bias_ih<suffix> and
// bias_hh<suffix> (PyTorch's names: no suffix in a cell, _l<k> in a layer stack).
template <class Register>
RecurrentWeights registered(RecurrentWeights w, const std::string& suffix, Register reg) {
    w.weight_ih = reg("weight_ih" + suffix, w.weight_ih);
    w.weight_hh = reg("weight_hh" + suffix, w.weight_hh);
    if (w.bias_ih.defined()) {
        w.bias_ih = reg("bias_ih" + suffix, w.bias_ih);
        w.bias_hh = reg("bias_hh" + suffix, w.bias_hh);
    }
    return w;
}

// Registers layer l's parameters under PyTorch's names weight_ih_l<l>, ... directly on the module, so the state dict
// reads as nn.GRU's.
template <class Register>
std::vector<RecurrentWeights> make_layers(const std::string& who, const RNNOptions& o, std::size_t gates,
                                          Generator& gen, Register reg) {
    if (o.input_size() == 0 || o.hidden_size() == 0 || o.num_layers() == 0) {
        throw value_error(who + ": input size, hidden size and number of layers must be positive");
    }
    std::vector<RecurrentWeights> layers;
    for (std::size_t l = 0; l < o.num_layers(); ++l) {
        const std::size_t in = l == 0 ? o.input_size() : o.hidden_size();
        layers.push_back(registered(draw_weights(gates, in, o.hidden_size(), o.bias(), gen, o.dtype()),
                                    "_l" + std::to_string(l), reg));
    }
    return layers;
}

std::string layers_name(const char* kind, const RNNOptions& o) {
    return std::string(kind) + "(" + std::to_string(o.input_size()) + " -> " + std::to_string(o.hidden_size()) +
           ", layers " + std::to_string(o.num_layers()) + (o.bias() ? ", bias)" : ")");
}

std::string layers_repr(const RNNOptions& o) {
    std::string s = std::to_string(o.input_size()) + ", " + std::to_string(o.hidden_size());
    if (o.num_layers() != 1) s += ", num_layers=" + std::to_string(o.num_layers());
    if (!o.bias()) s += ", bias=False";
    return s + ", batch_first=True";
}

}  // namespace

// ---- cells ----

RNNCell::RNNCell(std::size_t input, std::size_t hidden, Generator& gen, bool bias, Dtype dtype)
    : input_(input), hidden_(hidden) {
    if (input == 0 || hidden == 0) {
        throw value_error(cell_name("RNNCell", input, hidden, ", tanh", bias) +
                          ": input and hidden sizes must be positive");
    }
    w_ = registered(draw_weights(1, input, hidden, bias, gen, dtype), "",
                    [this](const std::string& name, Tensor t) { return register_parameter(name, std::move(t)); });
}

Tensor RNNCell::forward(const Tensor& x, const Tensor& h) {
    check_cell_operands(to_string(), input_, hidden_, w_.weight_ih.dtype(), x, h);
    return rnn_step(x, h, w_);
}

Tensor RNNCell::forward(const Tensor& x) {
    const Shape zero{x.dim() == 2 ? x.shape()[0] : 1, hidden_};
    return forward(x, Tensor::zeros(zero, w_.weight_ih.dtype()));
}

std::string RNNCell::to_string() const { return cell_name("RNNCell", input_, hidden_, ", tanh", w_.bias_ih.defined()); }

std::string RNNCell::extra_repr() const { return pytorch_repr(input_, hidden_, w_.bias_ih.defined()); }

GRUCell::GRUCell(std::size_t input, std::size_t hidden, Generator& gen, bool bias, Dtype dtype)
    : input_(input), hidden_(hidden) {
    if (input == 0 || hidden == 0) {
        throw value_error(cell_name("GRUCell", input, hidden, "", bias) + ": input and hidden sizes must be positive");
    }
    w_ = registered(draw_weights(3, input, hidden, bias, gen, dtype), "",
                    [this](const std::string& name, Tensor t) { return register_parameter(name, std::move(t)); });
}

Tensor GRUCell::forward(const Tensor& x, const Tensor& h) {
    check_cell_operands(to_string(), input_, hidden_, w_.weight_ih.dtype(), x, h);
    return gru_step(x, h, w_);
}

Tensor GRUCell::forward(const Tensor& x) {
    const Shape zero{x.dim() == 2 ? x.shape()[0] : 1, hidden_};
    return forward(x, Tensor::zeros(zero, w_.weight_ih.dtype()));
}

std::string GRUCell::to_string() const { return cell_name("GRUCell", input_, hidden_, "", w_.bias_ih.defined()); }

std::string GRUCell::extra_repr() const { return pytorch_repr(input_, hidden_, w_.bias_ih.defined()); }

// ---- sequences ----

RNN::RNN(const RNNOptions& options, Generator& gen) : options_(options) {
    layers_ = make_layers(layers_name("RNN", options), options, 1, gen,
                          [this](const std::string& name, Tensor t) { return register_parameter(name, std::move(t)); });
}

RNNOutput RNN::forward(const Tensor& x, const Tensor& h0) {
    return run_layers(to_string(), options_, layers_, x, h0,
                      [](const Tensor& in, const Tensor& h, const RecurrentWeights& w) { return rnn_step(in, h, w); });
}

Tensor RNN::forward(const Tensor& x) { return forward(x, Tensor()).output; }

std::string RNN::to_string() const { return layers_name("RNN", options_); }

std::string RNN::extra_repr() const { return layers_repr(options_); }

GRU::GRU(const RNNOptions& options, Generator& gen) : options_(options) {
    layers_ = make_layers(layers_name("GRU", options), options, 3, gen,
                          [this](const std::string& name, Tensor t) { return register_parameter(name, std::move(t)); });
}

RNNOutput GRU::forward(const Tensor& x, const Tensor& h0) {
    return run_layers(to_string(), options_, layers_, x, h0,
                      [](const Tensor& in, const Tensor& h, const RecurrentWeights& w) { return gru_step(in, h, w); });
}

Tensor GRU::forward(const Tensor& x) { return forward(x, Tensor()).output; }

std::string GRU::to_string() const { return layers_name("GRU", options_); }

std::string GRU::extra_repr() const { return layers_repr(options_); }

}  // namespace adg::nn
