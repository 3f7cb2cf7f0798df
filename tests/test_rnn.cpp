// nn/rnn: RNNCell, GRUCell, RNN and GRU against loops over PyTorch's equations written here, their gradients
// against central differences in both modes, PyTorch's parameter names, long sequences and the errors.

#include <doctest/doctest.h>

#include <cmath>
#include <sstream>
#include <string>
#include <unordered_set>
#include <vector>

#include <adgraph/adgraph.hpp>
#include <adgraph/autodiff/node.hpp>
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

TEST_CASE("rnn: RNNCell and a 2-layer RNN with an initial state equal PyTorch's equations written as loops") {
    Generator gen(13);
    const std::size_t B = 3, T = 4, I = 2, H = 5, L = 2;
    for (bool bias : {true, false}) {
        CAPTURE(bias);
        RNNCell cell(I, H, gen, bias, f64);
        const Tensor x = Tensor::normal({B, I}, 0, 1, gen, f64), h = Tensor::normal({B, H}, 0, 1, gen, f64);
        const RefLayer p = ref_layer(cell, "", I, H, bias);
        std::vector<double> want;
        const auto xv = values(x), hv = values(h);
        for (std::size_t b = 0; b < B; ++b) {
            const auto row =
                rnn_ref(p, {xv.begin() + static_cast<long>(I * b), xv.begin() + static_cast<long>(I * (b + 1))},
                        {hv.begin() + static_cast<long>(H * b), hv.begin() + static_cast<long>(H * (b + 1))});
            want.insert(want.end(), row.begin(), row.end());
        }
        check_values(cell.forward(x, h), want);

        RNN rnn(RNNOptions(I, H).num_layers(L).bias(bias).dtype(f64), gen);
        const Tensor xs = Tensor::normal({B, T, I}, 0, 1, gen, f64), h0 = Tensor::normal({L, B, H}, 0, 1, gen, f64);
        const std::vector<RefLayer> layers{ref_layer(rnn, "_l0", I, H, bias), ref_layer(rnn, "_l1", H, H, bias)};
        const auto [output, h_n] = sequence_ref(layers, rnn_ref, values(xs), B, T, values(h0));
        const RNNOutput out = rnn.forward(xs, h0);
        check_values(out.output, output);
        check_values(out.h_n, h_n);
        const auto [output0, h_n0] = sequence_ref(layers, rnn_ref, values(xs), B, T, {});
        check_values(rnn.forward(xs), output0);
    }
}

namespace {

// Fills every parameter of m (state dict order), the k-th entry's element i with 0.5·sin(1.3·i + 0.7·k + 0.1): the same
// formula filled PyTorch's module for the reference values below.
void fill_like_reference(const Module& m) {
    std::size_t k = 0;
    for (const auto& [name, t] : m.named_parameters()) {
        auto& a = t.mutable_value().get_mut<double>();
        for (std::size_t i = 0; i < a.size(); ++i) a.data()[i] = 0.5 * std::sin(1.3 * i + 0.7 * k + 0.1);
        ++k;
    }
}

// x (2, 4, 2): sample 0 has x[t][j] = cos(0.9·(2t + j)), sample 1 is −0.5 times sample 0; h0 (2, 2, 3) has
// h0[l][b][j] = 0.1·(6l + 3b + j) − 0.3.
std::pair<Tensor, Tensor> reference_inputs() {
    std::vector<double> x;
    for (double scale : {1.0, -0.5}) {
        for (int t = 0; t < 4; ++t) {
            for (int j = 0; j < 2; ++j) x.push_back(scale * std::cos(0.9 * (t * 2 + j)));
        }
    }
    std::vector<double> h0;
    for (int i = 0; i < 12; ++i) h0.push_back(0.1 * i - 0.3);
    return {Tensor::from(x, {2, 4, 2}, f64), Tensor::from(h0, {2, 2, 3}, f64)};
}

using Names = std::vector<std::pair<std::string, Shape>>;

Names names_and_shapes(const Module& m) {
    Names out;
    for (const auto& [name, t] : m.state_dict()) out.emplace_back(name, t.shape());
    return out;
}

}  // namespace

TEST_CASE("rnn: state dicts are PyTorch's, names and shapes, and the forward values match PyTorch's") {
    // Printed once with PyTorch 1.13 (/usr/bin/python3):
    //   [(k, tuple(v.shape)) for k, v in nn.GRU(3, 4, num_layers=2, batch_first=True).state_dict().items()]
    // and the same for nn.RNN and for nn.GRU(..., bias=False).
    const Names gru{{"weight_ih_l0", {12, 3}}, {"weight_hh_l0", {12, 4}}, {"bias_ih_l0", {12}}, {"bias_hh_l0", {12}},
                    {"weight_ih_l1", {12, 4}}, {"weight_hh_l1", {12, 4}}, {"bias_ih_l1", {12}}, {"bias_hh_l1", {12}}};
    const Names rnn{{"weight_ih_l0", {4, 3}}, {"weight_hh_l0", {4, 4}}, {"bias_ih_l0", {4}}, {"bias_hh_l0", {4}},
                    {"weight_ih_l1", {4, 4}}, {"weight_hh_l1", {4, 4}}, {"bias_ih_l1", {4}}, {"bias_hh_l1", {4}}};
    const Names gru_no_bias{
        {"weight_ih_l0", {12, 3}}, {"weight_hh_l0", {12, 4}}, {"weight_ih_l1", {12, 4}}, {"weight_hh_l1", {12, 4}}};
    Generator gen(3);
    CHECK(names_and_shapes(GRU(RNNOptions(3, 4).num_layers(2), gen)) == gru);
    CHECK(names_and_shapes(RNN(RNNOptions(3, 4).num_layers(2), gen)) == rnn);
    CHECK(names_and_shapes(GRU(RNNOptions(3, 4).num_layers(2).bias(false), gen)) == gru_no_bias);
    // The cells: nn.GRUCell(3, 4).state_dict() has weight_ih (12, 3), weight_hh (12, 4), bias_ih (12), bias_hh (12).
    CHECK(names_and_shapes(GRUCell(3, 4, gen)) ==
          Names{{"weight_ih", {12, 3}}, {"weight_hh", {12, 4}}, {"bias_ih", {12}}, {"bias_hh", {12}}});
    CHECK(names_and_shapes(RNNCell(3, 4, gen, false)) == Names{{"weight_ih", {4, 3}}, {"weight_hh", {4, 4}}});

    // nn.GRU(2, 3, num_layers=2, batch_first=True).double() and nn.RNN(...) filled by fill_like_reference's formula,
    // run by PyTorch 1.13 on reference_inputs(); the values printed with 17 digits.
    const auto [x, h0] = reference_inputs();
    GRU g(RNNOptions(2, 3).num_layers(2).dtype(f64), gen);
    fill_like_reference(g);
    const RNNOutput go = g.forward(x, h0);
    check_values(go.output, {-0.010771258456383603, 0.54026561603169432,  0.41753442930021856,  -0.10142201932642814,
                             0.50048623605455878,   0.4914895899410785,   -0.19237124133103925, 0.49819242565476474,
                             0.51945519574417243,   -0.31326515326373172, 0.56162305854516592,  0.48048220251692275,
                             0.25733975623608957,   0.6714832870890951,   0.35311198554569684,  0.010874920263482357,
                             0.65616007880370719,   0.32101992340175456,  -0.15348018289017135, 0.63567768061579888,
                             0.36495471939347579,   -0.21296274554672429, 0.5630555081489671,   0.45349878512832775});
    check_values(go.h_n, {-0.43206606313151197, -0.39514036024962779, -0.33344317913346488, 0.018610870437829372,
                          -0.43415982801846031, -0.25002884192596253, -0.31326515326373172, 0.56162305854516592,
                          0.48048220251692275, -0.21296274554672429, 0.5630555081489671, 0.45349878512832775});
    RNN r(RNNOptions(2, 3).num_layers(2).dtype(f64), gen);
    fill_like_reference(r);
    const RNNOutput ro = r.forward(x, h0);
    check_values(ro.output, {-0.7033758262189328,  0.030689704307814512,  0.21552939214152836,  -0.40629353027572684,
                             -0.63042151846537742, 0.71541953444420137,   -0.24461868976550694, -0.74842538784245483,
                             0.78050134974883478,  -0.025673165573342323, -0.72363092675943008, 0.63158341107804816,
                             -0.8200554515699322,  0.11132371127172253,   0.36641050939436615,  -0.31220179922975833,
                             -0.70190628513770059, 0.75185588693231198,   -0.13110697305665533, -0.72009221263359846,
                             0.68554689249576395,  -0.24305125081895027,  -0.6732797492706285,  0.67689575940896485});
    check_values(ro.h_n, {0.90084376397328558, -0.5077279778271363, -0.54850594992236235, 0.66135279108376499,
                          -0.37804200082182238, -0.25913283919474994, -0.025673165573342323, -0.72363092675943008,
                          0.63158341107804816, -0.24305125081895027, -0.6732797492706285, 0.67689575940896485});
}

TEST_CASE("rnn: modules print as PyTorch's repr and describe themselves") {
    // PyTorch 1.13 printed: GRU(28, 128, batch_first=True), GRU(28, 128, num_layers=2, bias=False,
    // batch_first=True), RNN(28, 128, batch_first=True), GRUCell(28, 128), GRUCell(28, 128, bias=False),
    // RNNCell(28, 128), RNNCell(28, 128, bias=False).
    Generator gen(1);
    const auto printed = [](const Module& m) {
        std::ostringstream s;
        s << m;
        return s.str();
    };
    CHECK(printed(GRU(RNNOptions(28, 128), gen)) == "GRU(28, 128, batch_first=True)");
    CHECK(printed(GRU(RNNOptions(28, 128).num_layers(2).bias(false), gen)) ==
          "GRU(28, 128, num_layers=2, bias=False, batch_first=True)");
    CHECK(printed(RNN(RNNOptions(28, 128), gen)) == "RNN(28, 128, batch_first=True)");
    CHECK(printed(GRUCell(28, 128, gen)) == "GRUCell(28, 128)");
    CHECK(printed(GRUCell(28, 128, gen, false)) == "GRUCell(28, 128, bias=False)");
    CHECK(printed(RNNCell(28, 128, gen)) == "RNNCell(28, 128)");
    CHECK(printed(RNNCell(28, 128, gen, false)) == "RNNCell(28, 128, bias=False)");
    CHECK(GRU(RNNOptions(28, 128), gen).to_string() == "GRU(28 -> 128, layers 1, bias)");
    CHECK(RNN(RNNOptions(28, 128).num_layers(3).bias(false), gen).to_string() == "RNN(28 -> 128, layers 3)");
    CHECK(GRUCell(28, 128, gen).to_string() == "GRUCell(28 -> 128, bias)");
    CHECK(RNNCell(28, 128, gen).to_string() == "RNNCell(28 -> 128, tanh, bias)");
    const RNNOptions o = GRU(RNNOptions(5, 6).num_layers(2).dtype(f64), gen).options();
    CHECK(o.input_size() == 5);
    CHECK(o.hidden_size() == 6);
    CHECK(o.num_layers() == 2);
    CHECK(o.dtype() == f64);
}

TEST_CASE("rnn: parameters are drawn from U(-1/sqrt(hidden), 1/sqrt(hidden)), seeded") {
    Generator a(5), b(5);
    GRU g1(RNNOptions(3, 16).num_layers(2), a), g2(RNNOptions(3, 16).num_layers(2), b);
    const double c = 1.0 / std::sqrt(16.0);
    double lo = 1, hi = -1;
    for (const auto& p : g1.parameters()) {
        for (double v : values(p)) {
            lo = std::min(lo, v);
            hi = std::max(hi, v);
        }
    }
    CHECK(lo >= -c);
    CHECK(hi <= c);
    // 2·(48·3 + 48·16 + 2·48) + ... draws: the extremes come close to the bounds.
    CHECK(lo < -0.9 * c);
    CHECK(hi > 0.9 * c);
    const auto p1 = g1.parameters(), p2 = g2.parameters();
    REQUIRE(p1.size() == p2.size());
    for (std::size_t i = 0; i < p1.size(); ++i) CHECK(values(p1[i]) == values(p2[i]));
    for (const auto& p : p1) CHECK(p.needs_grad());
}

namespace {

// The gradient of a whole-sequence loss Σ output·c_out + Σ h_n·c_h (fixed random weights, so a permuted gradient
// cannot pass) w.r.t. the input, the initial state and every parameter, against central differences in float64.
// x and h0: the library's gradcheck, both modes (x then requires grad, so its steps are taken by halving; the
// differences run unrecorded, where the steps are plain selects). Parameters: each element changed in place by
// ±eps, against the reverse sweep (backward, with h0 requiring grad in the same graph) and against forward sweeps
// seeded with every basis tangent of the parameter.
template <class M>
void check_sequence_gradients(M& m, std::size_t B, std::size_t T, std::size_t L, Generator& gen) {
    const std::size_t I = m.options().input_size(), H = m.options().hidden_size();
    const Tensor x = Tensor::normal({B, T, I}, 0, 1, gen, f64), h0 = Tensor::normal({L, B, H}, 0, 1, gen, f64);
    const Tensor c_out = Tensor::normal({B, T, H}, 0, 1, gen, f64), c_h = Tensor::normal({L, B, H}, 0, 1, gen, f64);
    const auto loss_of = [&](const Tensor& xs, const Tensor& hs) {
        const RNNOutput o = m.forward(xs, hs);
        return sum(o.output * c_out) + sum(o.h_n * c_h);
    };
    const CheckResult inputs = gradcheck([&](const std::vector<Tensor>& a) { return loss_of(a[1], a[0]); }, {h0, x});
    CHECK_MESSAGE(inputs.ok, inputs.message);

    const Tensor h0_leaf = h0.detach().requires_grad();
    const Tensor loss = loss_of(x, h0_leaf);
    const auto params = m.named_parameters();
    std::vector<Tensor> forward_grads;
    for (const auto& [name, p] : params) {
        const Tensor basis(Array::basis(p.shape(), f64));
        forward_grads.push_back(forward_sweep({p}, {basis}, {loss}, SweepOptions{true, false})[0]);
    }
    m.zero_grad();
    loss.backward();
    CHECK(h0_leaf.has_grad());
    const double eps = 1e-6;
    for (std::size_t k = 0; k < params.size(); ++k) {
        const std::string& name = params[k].first;
        const Tensor p = params[k].second;
        CAPTURE(name);
        REQUIRE(forward_grads[k].size() == p.size());
        double* v = p.mutable_value().get_mut<double>().data();
        for (std::size_t e = 0; e < p.size(); ++e) {
            CAPTURE(e);
            const double saved = v[e];
            NoGrad off;
            v[e] = saved + eps;
            const double plus = loss_of(x, h0).item();
            v[e] = saved - eps;
            const double minus = loss_of(x, h0).item();
            v[e] = saved;
            const double numeric = (plus - minus) / (2 * eps);
            const double tol = 1e-7 + 1e-6 * std::abs(numeric);
            CHECK(std::abs(p.grad().value().flat(e) - numeric) <= tol);
            CHECK(std::abs(forward_grads[k].value().flat(e) - numeric) <= tol);
        }
    }
}

}  // namespace

TEST_CASE("rnn: gradients of a whole-sequence loss match central differences in both modes (float64)") {
    Generator gen(17);
    SUBCASE("GRU, 2 layers") {
        GRU gru(RNNOptions(3, 3).num_layers(2).dtype(f64), gen);
        check_sequence_gradients(gru, 2, 5, 2, gen);
    }
    SUBCASE("GRU without bias") {
        GRU gru(RNNOptions(2, 3).bias(false).dtype(f64), gen);
        check_sequence_gradients(gru, 2, 3, 1, gen);
    }
    SUBCASE("RNN, 2 layers") {
        RNN rnn(RNNOptions(3, 3).num_layers(2).dtype(f64), gen);
        check_sequence_gradients(rnn, 2, 5, 2, gen);
    }
}

TEST_CASE("rnn: the cells' gradients match central differences (gradcheck of a hand-written loop, both modes)") {
    Generator gen(19);
    GRUCell gru(2, 3, gen, true, f64);
    RNNCell rnn(2, 3, gen, true, f64);
    const Tensor x = Tensor::normal({2, 3, 2}, 0, 1, gen, f64), h0 = Tensor::normal({2, 3}, 0, 1, gen, f64);
    for (Module* cell : {static_cast<Module*>(&gru), static_cast<Module*>(&rnn)}) {
        const auto run = [cell](const std::vector<Tensor>& a) {
            Tensor h = a[1];
            Tensor total = Tensor::scalar(0.0, f64);
            for (long t = 0; t < 3; ++t) {
                const Tensor xt = select(a[0], 1, t);
                h = dynamic_cast<GRUCell*>(cell) ? dynamic_cast<GRUCell*>(cell)->forward(xt, h)
                                                 : dynamic_cast<RNNCell*>(cell)->forward(xt, h);
                total = total + sum(h * static_cast<double>(t + 1));
            }
            return total;
        };
        const CheckResult r = gradcheck(run, {x, h0});
        CHECK_MESSAGE(r.ok, r.message);
    }
}

namespace {

struct GraphSize {
    long nodes = 0;
    // Σ over recorded ops of their inputs' sizes: the elements of the cotangents the reverse sweep's rules produce.
    double cotangent_elements = 0;
};

GraphSize graph_size(const Tensor& y) {
    GraphSize s;
    std::vector<const Node*> stack{y.node().get()};
    std::unordered_set<const Node*> seen{y.node().get()};
    while (!stack.empty()) {
        const Node* n = stack.back();
        stack.pop_back();
        if (!n->has_op()) continue;
        ++s.nodes;
        for (const auto& in : n->inputs()) {
            s.cotangent_elements += static_cast<double>(in->value().size());
            if (seen.insert(in.get()).second) stack.push_back(in.get());
        }
    }
    return s;
}

GraphSize sequence_graph(GRU& gru, std::size_t T, bool x_needs_grad, Generator& gen) {
    Tensor x = Tensor::normal({2, T, 2}, 0, 1, gen);
    if (x_needs_grad) x.requires_grad();
    const RNNOutput o = gru.forward(x, Tensor());
    return graph_size(sum(o.output) + sum(o.h_n));
}

}  // namespace

TEST_CASE("rnn: a 1000-step sequence trains without stack overflow, and the graph grows linearly with its length") {
    Generator gen(23);
    GRU gru(RNNOptions(2, 3).num_layers(2), gen);
    const Tensor x = Tensor::normal({2, 1000, 2}, 0, 1, gen), target = Tensor::normal({2, 3}, 0, 0.5, gen);
    SGD opt(gru.parameters(), SGDOptions(0.1));
    std::vector<double> losses;
    for (int k = 0; k < 4; ++k) {
        opt.zero_grad();
        const RNNOutput o = gru.forward(x, Tensor());
        const Tensor loss = mean(square(select(o.h_n, 0, -1) - target));
        loss.backward();
        clip_grad_norm(gru.parameters(), 5.0);
        opt.step();
        losses.push_back(loss.item());
    }
    for (double l : losses) CHECK(std::isfinite(l));
    CHECK(losses.back() < losses.front());

    // Recorded nodes and reverse work per step are constant: exactly affine in T (equal increments).
    const GraphSize a = sequence_graph(gru, 200, false, gen), b = sequence_graph(gru, 400, false, gen),
                    c = sequence_graph(gru, 600, false, gen);
    CHECK(c.nodes - b.nodes == b.nodes - a.nodes);
    CHECK(c.cotangent_elements - b.cotangent_elements == b.cotangent_elements - a.cotangent_elements);
    // An input that needs grad: per-step selects would pad T full-size cotangents back to x (x's N = 2·T·2 elements
    // T times: doubling T would add about T·N elements beyond twice the work); the halving adds one level, 2·N.
    const GraphSize d = sequence_graph(gru, 512, true, gen), e = sequence_graph(gru, 1024, true, gen);
    const double n_1024 = 2.0 * 1024 * 2;
    CHECK(e.cotangent_elements - 2 * d.cotangent_elements <= 3 * n_1024);
    CHECK(e.nodes - 2 * d.nodes <= 4);
}

TEST_CASE("rnn: under NoGrad a forward pass records nothing, and float32 runs as float64 does") {
    Generator gen(29);
    GRU g64(RNNOptions(3, 4).num_layers(2).dtype(f64), gen);
    GRU g32(RNNOptions(3, 4).num_layers(2), gen);
    StateDict as_f32;
    for (const auto& [name, t] : g64.state_dict()) as_f32.insert(name, cast(t, f32));
    g32.load_state_dict(as_f32);
    const Tensor x = Tensor::normal({2, 6, 3}, 0, 1, gen, f64), h0 = Tensor::normal({2, 2, 4}, 0, 1, gen, f64);
    const Tensor h0_leaf = h0.detach().requires_grad();
    g64.eval();
    {
        const long before = live_node_count();
        NoGrad off;
        const RNNOutput o = g64.forward(x, h0_leaf);
        CHECK(o.output.is_leaf());
        CHECK(!o.output.needs_grad());
        CHECK(!o.h_n.needs_grad());
        CHECK(live_node_count() - before == 2);  // the two results, nothing behind them
    }
    const RNNOutput o64 = g64.forward(x, h0), o32 = g32.forward(cast(x, f32), cast(h0, f32));
    CHECK(o32.output.dtype() == f32);
    CHECK(o32.h_n.dtype() == f32);
    check_values(o32.output, values(o64.output), 1e-5);
    check_values(o32.h_n, values(o64.h_n), 1e-5);
    sum(o32.output).backward();
    for (const auto& p : g32.parameters()) CHECK(p.grad().dtype() == f32);
}

TEST_CASE("rnn: an empty batch gives empty outputs, as in PyTorch") {
    Generator gen(31);
    GRU gru(RNNOptions(3, 4), gen);
    const RNNOutput o = gru.forward(Tensor::zeros({0, 5, 3}), Tensor());
    CHECK(o.output.shape() == Shape{0, 5, 4});
    CHECK(o.h_n.shape() == Shape{1, 0, 4});
}

TEST_CASE("rnn: wrong inputs, states, dtypes and sizes raise typed one-line errors naming the module") {
    Generator gen(37);
    GRU gru(RNNOptions(3, 4), gen);
    RNN rnn(RNNOptions(3, 4).num_layers(2), gen);
    const std::string g = "GRU(3 -> 4, layers 1, bias): ";
    CHECK_THROWS_WITH_AS(gru.forward(Tensor::zeros({2, 3}), Tensor()),
                         (g + "input shape (2,3) is not (batch, steps, 3); pass a batch-first sequence (batch, steps, "
                              "3)")
                             .c_str(),
                         shape_error);
    CHECK_THROWS_WITH_AS(gru.forward(Tensor::zeros({2, 5, 2})), doctest::Contains("input shape (2,5,2) is not"),
                         shape_error);
    CHECK_THROWS_WITH_AS(gru.forward(Tensor::zeros({2, 0, 3}), Tensor()),
                         (g + "input shape (2,0,3) has no steps; pass a sequence of at least one step").c_str(),
                         shape_error);
    CHECK_THROWS_WITH_AS(rnn.forward(Tensor::zeros({2, 5, 3}), Tensor::zeros({1, 2, 4})),
                         "RNN(3 -> 4, layers 2, bias): initial state shape (1,2,4) does not fit input (2,5,3); pass h0 "
                         "of shape (layers, batch, hidden) = (2,2,4) or none for zeros",
                         shape_error);
    CHECK_THROWS_WITH_AS(gru.forward(Tensor::zeros({2, 5, 3}, f64), Tensor()),
                         (g + "the input is float64 but the parameters are float32; convert it with cast(x, adg::f32) "
                              "or build the layer with dtype f64")
                             .c_str(),
                         dtype_error);
    CHECK_THROWS_WITH_AS(gru.forward(Tensor::zeros({2, 5, 3}), Tensor::zeros({1, 2, 4}, f64)),
                         doctest::Contains("the initial state is float64 but the parameters are float32"), dtype_error);
    GRUCell cell(3, 4, gen);
    CHECK_THROWS_WITH_AS(cell.forward(Tensor::zeros({3})),
                         "GRUCell(3 -> 4, bias): input shape (3) is not (batch, 3); pass one step of a batch as "
                         "(batch, 3)",
                         shape_error);
    CHECK_THROWS_WITH_AS(cell.forward(Tensor::zeros({2, 3}), Tensor::zeros({3, 4})),
                         "GRUCell(3 -> 4, bias): state shape (3,4) does not fit input (2,3); pass a state of shape "
                         "(2,4)",
                         shape_error);
    RNNCell rcell(3, 4, gen, true, f64);
    CHECK_THROWS_WITH_AS(rcell.forward(Tensor::zeros({2, 3}, f64), Tensor::zeros({2, 4})),
                         "RNNCell(3 -> 4, tanh, bias): the state is float32 but the parameters are float64; convert "
                         "it with cast(h, adg::f64) or build the layer with dtype f32",
                         dtype_error);
    CHECK_THROWS_WITH_AS(GRU(RNNOptions(0, 4), gen),
                         "GRU(0 -> 4, layers 1, bias): input size, hidden size and number of layers must be positive",
                         value_error);
    CHECK_THROWS_WITH_AS(RNN(RNNOptions(3, 4).num_layers(0), gen), doctest::Contains("RNN(3 -> 4, layers 0, bias)"),
                         value_error);
    CHECK_THROWS_WITH_AS(GRUCell(3, 0, gen), "GRUCell(3 -> 0, bias): input and hidden sizes must be positive",
                         value_error);
    CHECK_THROWS_AS(RNNCell(0, 2, gen), value_error);
}
