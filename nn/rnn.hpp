#pragma once
/// \file Recurrent layers, as the lecture draws them: the input at time t includes the output at time t−1.
/// RNNCell and GRUCell take one step (for hand-written loops); RNN and GRU run whole batch-first sequences through
/// one or more layers. Gate equations, parameter names, shapes and initialisation are PyTorch's, so a state dict
/// maps one to one.

#include <adgraph/autodiff/ops.hpp>
#include <adgraph/nn/module.hpp>

namespace adg::nn {

namespace rnn_detail {
/// One layer's parameters of RNN or GRU (the bias tensors are undefined without bias).
struct RecurrentWeights {
    /// (gates·hidden, input) and (gates·hidden, hidden).
    Tensor weight_ih, weight_hh;
    /// (gates·hidden) each.
    Tensor bias_ih, bias_hh;
};
}  // namespace rnn_detail

/// One step of an Elman RNN (PyTorch's RNNCell with tanh): h' = tanh(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh).
/// Parameters weight_ih (hidden, input), weight_hh (hidden, hidden), bias_ih (hidden), bias_hh (hidden), all drawn
/// from U(−1/√hidden, 1/√hidden).
class RNNCell : public Module {
public:
    /// A cell from `input` features to `hidden` state features; throws value_error for a zero size.
    RNNCell(std::size_t input, std::size_t hidden, Generator& gen, bool bias = true, Dtype dtype = f32);
    /// The next state for x (batch, input) and h (batch, hidden); throws shape_error naming the cell otherwise.
    Tensor forward(const Tensor& x, const Tensor& h);
    /// The next state from a zero state.
    Tensor forward(const Tensor& x) override;
    /// "RNNCell(28 -> 128, tanh, bias)".
    std::string to_string() const override;
    /// PyTorch-style settings for operator<<: "28, 128".
    std::string extra_repr() const override;
    /// Input features.
    std::size_t input_size() const { return input_; }
    /// State features.
    std::size_t hidden_size() const { return hidden_; }

private:
    std::size_t input_, hidden_;
    rnn_detail::RecurrentWeights w_;
};

/// One step of a gated recurrent unit (PyTorch's GRUCell): with gates in the order r, z, n along the 3·hidden rows,
///   r = σ(W_ir x + b_ir + W_hr h + b_hr),  z = σ(W_iz x + b_iz + W_hz h + b_hz),
///   n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)),  h' = (1 − z) ⊙ n + z ⊙ h.
/// Parameters weight_ih (3·hidden, input), weight_hh (3·hidden, hidden), bias_ih (3·hidden), bias_hh (3·hidden), all
/// drawn from U(−1/√hidden, 1/√hidden).
class GRUCell : public Module {
public:
    /// A cell from `input` features to `hidden` state features; throws value_error for a zero size.
    GRUCell(std::size_t input, std::size_t hidden, Generator& gen, bool bias = true, Dtype dtype = f32);
    /// The next state for x (batch, input) and h (batch, hidden); throws shape_error naming the cell otherwise.
    Tensor forward(const Tensor& x, const Tensor& h);
    /// The next state from a zero state.
    Tensor forward(const Tensor& x) override;
    /// "GRUCell(28 -> 128, bias)".
    std::string to_string() const override;
    /// PyTorch-style settings for operator<<: "28, 128".
    std::string extra_repr() const override;
    /// Input features.
    std::size_t input_size() const { return input_; }
    /// State features.
    std::size_t hidden_size() const { return hidden_; }

private:
    std::size_t input_, hidden_;
    rnn_detail::RecurrentWeights w_;
};

/// What a recurrent layer returns: every step's output of the last layer and every layer's last state.
struct RNNOutput {
    /// (batch, steps, hidden): the last layer's state after each step.
    Tensor output;
    /// (layers, batch, hidden): each layer's state after the last step.
    Tensor h_n;
};

/// Settings of RNN and GRU, chained as libtorch's: `RNNOptions(28, 128).num_layers(2).bias(false)`.
class RNNOptions {
public:
    /// `input` features to `hidden` state features, one layer, with biases, float32.
    RNNOptions(std::size_t input, std::size_t hidden) : input_(input), hidden_(hidden) {}
    /// Sets the number of stacked layers (layer k > 0 takes layer k−1's states as its input).
    RNNOptions& num_layers(std::size_t n) {
        num_layers_ = n;
        return *this;
    }
    /// Sets whether the layers have biases.
    RNNOptions& bias(bool b) {
        bias_ = b;
        return *this;
    }
    /// Sets the parameters' dtype.
    RNNOptions& dtype(Dtype d) {
        dtype_ = d;
        return *this;
    }
    /// Input features.
    std::size_t input_size() const { return input_; }
    /// State features.
    std::size_t hidden_size() const { return hidden_; }
    /// Stacked layers.
    std::size_t num_layers() const { return num_layers_; }
    /// Whether the layers have biases.
    bool bias() const { return bias_; }
    /// The parameters' dtype.
    Dtype dtype() const { return dtype_; }

private:
    std::size_t input_, hidden_, num_layers_ = 1;
    bool bias_ = true;
    Dtype dtype_ = f32;
};

/// A multi-layer Elman RNN (tanh) over batch-first sequences (PyTorch's RNN with batch_first=true). Parameters are
/// named as PyTorch's: weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, then _l1, ...
class RNN : public Module {
public:
    /// The layers `options` describe, drawn from `gen`; throws value_error for a zero size or zero layers.
    RNN(const RNNOptions& options, Generator& gen);
    /// All outputs and last states for x (batch, steps, input) from the initial states h0 (layers, batch, hidden);
    /// an undefined h0 means zeros. Throws shape_error naming the layer and the shapes otherwise.
    RNNOutput forward(const Tensor& x, const Tensor& h0);
    /// forward(x, zeros).output: the module's function in a Sequential.
    Tensor forward(const Tensor& x) override;
    /// "RNN(28 -> 128, layers 1, bias)".
    std::string to_string() const override;
    /// PyTorch-style settings for operator<<: "28, 128, batch_first=True".
    std::string extra_repr() const override;
    /// The settings it was built with.
    const RNNOptions& options() const { return options_; }

private:
    RNNOptions options_;
    std::vector<rnn_detail::RecurrentWeights> layers_;
};

/// A multi-layer GRU over batch-first sequences (PyTorch's GRU with batch_first=true); the gate equations are
/// GRUCell's. Parameters are named as PyTorch's: weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, then _l1, ...
class GRU : public Module {
public:
    /// The layers `options` describe, drawn from `gen`; throws value_error for a zero size or zero layers.
    GRU(const RNNOptions& options, Generator& gen);
    /// All outputs and last states for x (batch, steps, input) from the initial states h0 (layers, batch, hidden);
    /// an undefined h0 means zeros. Throws shape_error naming the layer and the shapes otherwise.
    RNNOutput forward(const Tensor& x, const Tensor& h0);
    /// forward(x, zeros).output: the module's function in a Sequential.
    Tensor forward(const Tensor& x) override;
    /// "GRU(28 -> 128, layers 1, bias)".
    std::string to_string() const override;
    /// PyTorch-style settings for operator<<: "28, 128, batch_first=True".
    std::string extra_repr() const override;
    /// The settings it was built with.
    const RNNOptions& options() const { return options_; }

private:
    RNNOptions options_;
    std::vector<rnn_detail::RecurrentWeights> layers_;
};

}  // namespace adg::nn
