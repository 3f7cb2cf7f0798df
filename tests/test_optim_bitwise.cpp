// nn/optim: Adam and AdamW give bitwise the parameters and moments of PyTorch's update formulas written as a plain
// scalar loop here (in the optimizer's order of operations), for float32 and float64, with and without AMSGrad and
// weight decay: the optimizer's loops are specialised and vectorised, and must not change a bit.

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <adgraph/adgraph.hpp>
#include <adgraph/nn/optim.hpp>
#include <adgraph/tensor/parallel.hpp>

using namespace adg;
using namespace adg::nn;

namespace {

// One parameter's state in the reference.
template <class T>
struct RefParam {
    std::vector<T> w, m, v, v_max;
};

// The gradient of step `k` (1-based) for a parameter of n elements: normal values whose scale alternates between
// steps (so the second moment falls and AMSGrad's maximum matters), plus zeros of both signs, values whose square
// overflows or underflows T, and from the third step a NaN and an infinity.
std::vector<double> gradient(std::size_t n, int k, std::mt19937& rng, double big, double tiny) {
    std::normal_distribution<double> normal(0.0, k % 2 ? 1.0 : 0.01);
    std::vector<double> g(n);
    for (auto& x : g) x = normal(rng);
    g[0] = 0.0;
    g[1] = -0.0;
    g[2] = big;
    g[3] = tiny;
    if (k >= 3) {
        g[4] = std::numeric_limits<double>::quiet_NaN();
        g[5] = -std::numeric_limits<double>::infinity();
    }
    return g;
}

// Equal bits, or both NaN (a NaN's payload depends on which operand an instruction takes it from).
template <class T>
bool same_bits(T a, T b) {
    return (std::isnan(a) && std::isnan(b)) || std::memcmp(&a, &b, sizeof(T)) == 0;
}

template <class T>
bool same_bits(const std::vector<T>& ref, const Array& got) {
    const auto& a = got.get<T>();
    if (a.size() != ref.size()) return false;
    for (std::size_t j = 0; j < ref.size(); ++j) {
        if (!same_bits(ref[j], a.data()[j])) return false;
    }
    return true;
}

struct AdamCase {
    bool amsgrad = false, decoupled = false;
    double weight_decay = 0;
};

// PyTorch's Adam (decoupled: AdamW) step on one parameter, element by element in T: d = g + λ·w (Adam) or
// w ← (1 − lr·λ)·w (AdamW); m = β1·m + (1 − β1)·d; v = β2·v + (1 − β2)·d²; v_max = max(v_max, v) (AMSGrad);
// w ← w − lr·(m / (1 − β1^t)) / (√(v or v_max / (1 − β2^t)) + eps). The optimizer writes AdamW's gradient as
// d = g + 0·w and Adam's decay as 1·w, so the reference does too. `reordered` computes lr·m / (1 − β1^t) instead,
// a change of order only, to show that the comparison sees one.
template <class T>
void reference_step(RefParam<T>& p, const std::vector<T>& g, const AdamCase& c, double lr_d, double beta1, double beta2,
                    double eps_d, int t, bool reordered) {
    const T b1 = static_cast<T>(beta1), b2 = static_cast<T>(beta2), wd = static_cast<T>(c.weight_decay);
    const T c1 = static_cast<T>(1.0 - std::pow(beta1, static_cast<double>(t)));
    const T c2 = static_cast<T>(1.0 - std::pow(beta2, static_cast<double>(t)));
    const T lr = static_cast<T>(lr_d), eps = static_cast<T>(eps_d);
    const T shrink = c.decoupled ? T(1) - lr * wd : T(1), coupled = c.decoupled ? T(0) : wd;
    for (std::size_t j = 0; j < g.size(); ++j) {
        const T d = g[j] + coupled * p.w[j];
        p.m[j] = b1 * p.m[j] + (T(1) - b1) * d;
        p.v[j] = b2 * p.v[j] + (T(1) - b2) * d * d;
        T denom = p.v[j];
        if (c.amsgrad) {
            p.v_max[j] = std::max(p.v_max[j], p.v[j]);
            denom = p.v_max[j];
        }
        const T step = reordered ? lr * p.m[j] / c1 : lr * (p.m[j] / c1);
        p.w[j] = shrink * p.w[j] - step / (std::sqrt(denom / c2) + eps);
    }
}

// Four steps of Adam or AdamW on two parameters (an odd length, and one long enough to be split between threads),
// the rate changed before the third; checks the parameters and slots against the reference after each step.
template <class T>
void check_adam_bitwise(const AdamCase& c) {
    const Dtype dt = std::is_same_v<T, float> ? f32 : f64;
    const double big = std::sqrt(static_cast<double>(std::numeric_limits<T>::max())) * 64;
    const double tiny = std::sqrt(static_cast<double>(std::numeric_limits<T>::min())) / 4;
    const std::vector<Shape> shapes = {{1037}, {201, 200}};
    const double beta1 = 0.8, beta2 = 0.95, eps = 1e-6;
    Generator gen(11);
    std::vector<Tensor> params;
    std::vector<RefParam<T>> ref, perturbed;
    for (const auto& s : shapes) {
        Tensor w = Tensor::normal(s, 0, 1, gen, dt);
        w.mutable_value().get_mut<T>().data()[0] = T(-0.0);  // a negative zero weight with a zero gradient
        const auto& a = w.value().get<T>();
        RefParam<T> r{std::vector<T>(a.begin(), a.end()), {}, {}, {}};
        r.m = r.v = r.v_max = std::vector<T>(r.w.size(), T(0));
        ref.push_back(r);
        perturbed.push_back(r);
        params.push_back(w.requires_grad());
    }
    double lr = 0.01;
    std::unique_ptr<Optimizer> opt;
    const auto betas = std::make_tuple(beta1, beta2);
    if (c.decoupled) {
        opt = std::make_unique<AdamW>(
            params, AdamWOptions(lr).betas(betas).eps(eps).weight_decay(c.weight_decay).amsgrad(c.amsgrad));
    } else {
        opt = std::make_unique<Adam>(
            params, AdamOptions(lr).betas(betas).eps(eps).weight_decay(c.weight_decay).amsgrad(c.amsgrad));
    }
    std::mt19937 rng(5);
    bool perturbed_differs = false;
    for (int t = 1; t <= 4; ++t) {
        CAPTURE(t);
        if (t == 3) {
            lr = 0.03;
            opt->set_lr(lr);
        }
        opt->zero_grad();
        for (std::size_t i = 0; i < params.size(); ++i) {
            const Tensor seed = Tensor::from(gradient(params[i].size(), t, rng, big, tiny), params[i].shape(), dt);
            sum(params[i] * seed).backward();
        }
        // The reference reads the gradients the optimizer will read.
        std::vector<std::vector<T>> grads;
        for (const auto& p : params) {
            const auto& g = p.grad().value().get<T>();
            grads.emplace_back(g.begin(), g.end());
        }
        opt->step();
        const NamedArrays state = opt->state();
        const auto slot = [&](const std::string& key) -> const Array& {
            const auto it = std::find_if(state.begin(), state.end(), [&](const auto& e) { return e.first == key; });
            REQUIRE(it != state.end());
            return it->second;
        };
        for (std::size_t i = 0; i < params.size(); ++i) {
            CAPTURE(i);
            reference_step(ref[i], grads[i], c, lr, beta1, beta2, eps, t, false);
            reference_step(perturbed[i], grads[i], c, lr, beta1, beta2, eps, t, true);
            CHECK(same_bits(ref[i].w, params[i].value()));
            const std::string name = std::to_string(i);
            CHECK(same_bits(ref[i].m, slot(name + ".m")));
            CHECK(same_bits(ref[i].v, slot(name + ".v")));
            if (c.amsgrad) CHECK(same_bits(ref[i].v_max, slot(name + ".v_max")));
            perturbed_differs = perturbed_differs || !same_bits(perturbed[i].w, params[i].value());
        }
    }
    // The special gradients reached the weights: NaN where the gradient was NaN, and the comparison can fail.
    CHECK(std::isnan(params[0].value().flat(4)));
    CHECK(std::isfinite(params[0].value().flat(7)));
    CHECK(perturbed_differs);
}

}  // namespace

TEST_CASE("Adam and AdamW: bitwise the reference loop, float32 and float64, AMSGrad and weight decay on and off") {
    // One thread, and three: the {201, 200} parameter (40 200 elements, at least 2 · parallel_grain) is then updated
    // in two parts, the second starting at a multiple of 16 with its own vector prologue. The thread count is 1
    // unless set, so the split path is compared only when set here.
    const int before = num_threads();
    for (const int threads : {1, 3}) {
        set_num_threads(threads);
        for (const bool amsgrad : {false, true}) {
            for (const bool decoupled : {false, true}) {
                for (const double wd : {0.0, 0.1}) {
                    CAPTURE(threads);
                    CAPTURE(amsgrad);
                    CAPTURE(decoupled);
                    CAPTURE(wd);
                    const AdamCase c{amsgrad, decoupled, wd};
                    check_adam_bitwise<float>(c);
                    check_adam_bitwise<double>(c);
                }
            }
        }
    }
    set_num_threads(before);
}
