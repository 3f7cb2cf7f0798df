// nn/rnn: RNNCell, GRUCell, RNN and GRU against loops over PyTorch's equations written here, their gradients
// against central differences in both modes, PyTorch's parameter names, long sequences and the errors.

#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include <adgraph/adgraph.hpp>
#include <adgraph/nn/rnn.hpp>

using namespace adg;
using namespace adg::nn;

namespace {

std::vector<double> values(const Tensor& t) {
    std::vector<double> v(t.size());
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = t.value().flat(i);
    return v;
}

double sigmoid_ref(double v) { return 1.0 / (1.0 + std::exp(-v)); }

// One layer's parameters as plain numbers (row-major), read from the module by PyTorch's names.
struct RefLayer {
    std::size_t in, hidden;
    std::vector<double> w_ih, w_hh, b_ih, b_hh;  // biases empty without bias
};

// Σ_k W[row, k]·v[k] for a row-major W with v.size() columns.
double row_dot(const std::vector<double>& w, std::size_t row, const std::vector<double>& v) {
    double s = 0;
    for (std::size_t k = 0; k < v.size(); ++k) s += w[row * v.size() + k] * v[k];
    return s;
}

double bias_at(const std::vector<double>& b, std::size_t i) { return b.empty() ? 0.0 : b[i]; }

// PyTorch's GRU equations for one sample, written out gate by gate:
//   r = σ(W_ir x + b_ir + W_hr h + b_hr), z = σ(W_iz x + b_iz + W_hz h + b_hz),
//   n = tanh(W_in x + b_in + r·(W_hn h + b_hn)), h' = (1 − z)·n + z·h.
std::vector<double> gru_ref(const RefLayer& p, const std::vector<double>& x, const std::vector<double>& h) {
    const std::size_t H = p.hidden;
    std::vector<double> out(H);
    for (std::size_t j = 0; j < H; ++j) {
        const double r =
            sigmoid_ref(row_dot(p.w_ih, j, x) + bias_at(p.b_ih, j) + row_dot(p.w_hh, j, h) + bias_at(p.b_hh, j));
        const double z = sigmoid_ref(row_dot(p.w_ih, H + j, x) + bias_at(p.b_ih, H + j) + row_dot(p.w_hh, H + j, h) +
                                     bias_at(p.b_hh, H + j));
        const double n = std::tanh(row_dot(p.w_ih, 2 * H + j, x) + bias_at(p.b_ih, 2 * H + j) +
                                   r * (row_dot(p.w_hh, 2 * H + j, h) + bias_at(p.b_hh, 2 * H + j)));
        out[j] = (1 - z) * n + z * h[j];
    }
    return out;
}

// PyTorch's Elman RNN (tanh) for one sample: h' = tanh(W_ih x + b_ih + W_hh h + b_hh).
std::vector<double> rnn_ref(const RefLayer& p, const std::vector<double>& x, const std::vector<double>& h) {
    std::vector<double> out(p.hidden);
    for (std::size_t j = 0; j < p.hidden; ++j) {
        out[j] = std::tanh(row_dot(p.w_ih, j, x) + bias_at(p.b_ih, j) + row_dot(p.w_hh, j, h) + bias_at(p.b_hh, j));
    }
    return out;
}

// The parameter named `name` of m (throws if absent: the names are part of what is tested).
Tensor param(const Module& m, const std::string& name) {
    for (const auto& [n, t] : m.named_parameters()) {
        if (n == name) return t;
    }
    FAIL("no parameter named " << name);
    return {};
}

RefLayer ref_layer(const Module& m, const std::string& suffix, std::size_t in, std::size_t hidden, bool bias) {
    RefLayer p{in, hidden, values(param(m, "weight_ih" + suffix)), values(param(m, "weight_hh" + suffix)), {}, {}};
    if (bias) {
        p.b_ih = values(param(m, "bias_ih" + suffix));
        p.b_hh = values(param(m, "bias_hh" + suffix));
    }
    return p;
}

using StepRef = std::vector<double> (*)(const RefLayer&, const std::vector<double>&, const std::vector<double>&);

// The whole sequence by loops: output (B, T, H) and h_n (L, B, H) as flat row-major vectors.
std::pair<std::vector<double>, std::vector<double>> sequence_ref(const std::vector<RefLayer>& layers, StepRef step,
                                                                 const std::vector<double>& x, std::size_t B,
                                                                 std::size_t T, const std::vector<double>& h0) {
    const std::size_t L = layers.size(), H = layers[0].hidden, I = layers[0].in;
    std::vector<double> output(B * T * H), h_n(L * B * H);
    for (std::size_t b = 0; b < B; ++b) {
        std::vector<std::vector<double>> h(L, std::vector<double>(H, 0.0));
        for (std::size_t l = 0; l < L; ++l) {
            for (std::size_t j = 0; j < H && !h0.empty(); ++j) h[l][j] = h0[(l * B + b) * H + j];
        }
        for (std::size_t t = 0; t < T; ++t) {
            std::vector<double> in(x.begin() + static_cast<long>((b * T + t) * I),
                                   x.begin() + static_cast<long>((b * T + t + 1) * I));
            for (std::size_t l = 0; l < L; ++l) {
                h[l] = step(layers[l], in, h[l]);
                in = h[l];
            }
            for (std::size_t j = 0; j < H; ++j) output[(b * T + t) * H + j] = in[j];
        }
        for (std::size_t l = 0; l < L; ++l) {
            for (std::size_t j = 0; j < H; ++j) h_n[(l * B + b) * H + j] = h[l][j];
        }
    }
    return {output, h_n};
}

void check_values(const Tensor& got, const std::vector<double>& want, double tol = 1e-12) {
    REQUIRE(got.size() == want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
        CAPTURE(i);
        CHECK(std::abs(got.value().flat(i) - want[i]) <= tol);
    }
}

}  // namespace

TEST_CASE("rnn: GRUCell's step equals PyTorch's equations written as loops (float64)") {
    Generator gen(7);
    for (bool bias : {true, false}) {
        CAPTURE(bias);
        GRUCell cell(3, 4, gen, bias, f64);
        const Tensor x = Tensor::normal({2, 3}, 0, 1, gen, f64), h = Tensor::normal({2, 4}, 0, 1, gen, f64);
        const Tensor y = cell.forward(x, h);
        REQUIRE(y.shape() == Shape{2, 4});
        const RefLayer p = ref_layer(cell, "", 3, 4, bias);
        std::vector<double> want;
        for (std::size_t b = 0; b < 2; ++b) {
            const auto xv = values(x), hv = values(h);
            const auto row = gru_ref(p, {xv.begin() + 3 * b, xv.begin() + 3 * (b + 1)},
                                     {hv.begin() + 4 * b, hv.begin() + 4 * (b + 1)});
            want.insert(want.end(), row.begin(), row.end());
        }
        check_values(y, want);
        // The one-argument form starts from zeros.
        const auto zero_state = values(cell.forward(x, Tensor::zeros({2, 4}, f64)));
        check_values(cell.forward(x), zero_state, 0.0);
    }
}

TEST_CASE("rnn: a 2-layer GRU with an initial state equals PyTorch's equations written as loops (float64)") {
    Generator gen(11);
    const std::size_t B = 2, T = 5, I = 3, H = 4, L = 2;
    for (bool bias : {true, false}) {
        CAPTURE(bias);
        GRU gru(RNNOptions(I, H).num_layers(L).bias(bias).dtype(f64), gen);
        const Tensor x = Tensor::normal({B, T, I}, 0, 1, gen, f64), h0 = Tensor::normal({L, B, H}, 0, 1, gen, f64);
        const RNNOutput out = gru.forward(x, h0);
        REQUIRE(out.output.shape() == Shape{B, T, H});
        REQUIRE(out.h_n.shape() == Shape{L, B, H});
        const std::vector<RefLayer> layers{ref_layer(gru, "_l0", I, H, bias), ref_layer(gru, "_l1", H, H, bias)};
        const auto [output, h_n] = sequence_ref(layers, gru_ref, values(x), B, T, values(h0));
        check_values(out.output, output);
        check_values(out.h_n, h_n);
        // No initial state means zeros; forward(x) is the output sequence.
        const auto [output0, h_n0] = sequence_ref(layers, gru_ref, values(x), B, T, {});
        const RNNOutput zero = gru.forward(x, Tensor());
        check_values(zero.output, output0);
        check_values(zero.h_n, h_n0);
        check_values(gru.forward(x), output0);
    }
}
