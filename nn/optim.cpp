#include <adgraph/nn/optim.hpp>

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include <adgraph/autodiff/grad_mode.hpp>
#include <adgraph/nn/message_text.hpp>
#include <adgraph/tensor/parallel.hpp>

namespace adg::nn {

namespace {

// Options are checked where the optimizer is made; each message names the optimizer, the option, the value and
// the call that sets it right.
void check_option(bool ok, const std::string& label, const std::string& what, double got, const std::string& fix) {
    if (!ok) throw value_error(label + ": " + what + " (got " + number_str(got) + "); pass " + fix);
}

void check_weight_decay(double wd, const std::string& label) {
    check_option(wd >= 0 && std::isfinite(wd), label, "weight_decay must be a finite number >= 0", wd,
                 label + "Options(lr).weight_decay(w) with w >= 0");
}

// A parameter the optimizer could never update (no value, not a leaf, no grad) or one it would update twice per
// step is a mistake in the list the caller built, caught here rather than as a silently frozen weight.
void check_parameters(const std::vector<NamedTensor>& params, const std::string& label) {
    if (params.empty()) {
        throw value_error(label +
                          ": no parameters to optimize; pass module.parameters() or a non-empty list of tensors");
    }
    std::unordered_map<const Node*, std::size_t> seen;
    for (std::size_t i = 0; i < params.size(); ++i) {
        const auto& [name, p] = params[i];
        const std::string which = label + ": parameter '" + message_text(name) + "'";
        if (!p.node()) {
            throw value_error(which + " is undefined (default-constructed or moved from); pass tensors with values");
        }
        if (!p.is_leaf()) {
            throw value_error(which + " is not a leaf (it was made by " + p.op_name() +
                              "); pass the leaf tensors it is computed from");
        }
        if (!p.needs_grad()) {
            throw value_error(which +
                              " does not require grad, so it would never be updated; call requires_grad() on it or "
                              "leave it out");
        }
        const auto [at, fresh] = seen.emplace(p.node().get(), i);
        if (!fresh) {
            throw value_error(which + " is the same tensor as parameter '" + message_text(params[at->second].first) +
                              "'; pass each parameter once");
        }
    }
}

}  // namespace

std::vector<NamedTensor> named_by_position(std::vector<Tensor> params) {
    std::vector<NamedTensor> out;
    out.reserve(params.size());
    for (std::size_t i = 0; i < params.size(); ++i) out.emplace_back(std::to_string(i), std::move(params[i]));
    return out;
}

Optimizer::Optimizer(std::vector<NamedTensor> params, double lr, std::string label)
    : label_(std::move(label)), params_(std::move(params)), lr_(lr) {
    check_option(lr > 0 && std::isfinite(lr), label_, "lr must be a finite number > 0", lr,
                 label_ + "Options(lr) with lr > 0");
    check_parameters(params_, label_);
    slots_.resize(params_.size());
}

void Optimizer::set_lr(double lr) {
    if (!(lr >= 0) || !std::isfinite(lr)) {
        throw value_error(label_ + ": set_lr: the learning rate must be a finite number >= 0 (got " + number_str(lr) +
                          "); pass a rate >= 0");
    }
    lr_ = lr;
}

void Optimizer::step() {
    ++steps_;
    for (std::size_t i = 0; i < params_.size(); ++i) {
        const Tensor& p = params_[i].second;
        if (!p.has_grad()) continue;
        const Tensor g = p.grad();
        check_same_dtype(p.value(), g.value(), "optimizer step");
        update(i, p.mutable_value(), g.value(), steps_);
    }
}

void Optimizer::zero_grad() {
    for (auto& [name, p] : params_) p.zero_grad();
}

std::vector<Array>& Optimizer::slots(std::size_t i) {
    if (slots_[i].empty()) {
        const Array& p = params_[i].second.value();
        for (std::size_t s = 0; s < slot_names().size(); ++s) slots_[i].push_back(Array::zeros(p.shape(), p.dtype()));
    }
    return slots_[i];
}

NamedArrays Optimizer::state() const {
    NamedArrays out;
    const auto names = slot_names();
    for (std::size_t i = 0; i < params_.size(); ++i) {
        for (std::size_t s = 0; s < slots_[i].size(); ++s) {
            out.emplace_back(params_[i].first + "." + names[s], slots_[i][s]);
        }
    }
    out.emplace_back("step", Array::scalar(static_cast<double>(steps_), Dtype::f64));
    return out;
}

void Optimizer::load_state(const NamedArrays& state) {
    const auto find = [&](const std::string& key) -> const Array* {
        for (const auto& [k, a] : state) {
            if (k == key) return &a;
        }
        return nullptr;
    };
    const Array* step = find("step");
    if (!step || step->size() != 1) {
        throw io_error(
            "optimizer state: the step count 'step' is missing; the state was not saved by an optimizer "
            "(load the checkpoint without one to restore only the parameters)");
    }
    const double saved_steps = step->item();
    if (!(saved_steps >= 0 && saved_steps < 9007199254740992.0) || saved_steps != std::floor(saved_steps)) {
        throw io_error("optimizer state: the step count 'step' is " + number_str(saved_steps) +
                       ", not a whole number of steps; the state is corrupt");
    }
    const auto names = slot_names();
    std::vector<std::vector<Array>> loaded(params_.size());
    for (std::size_t i = 0; i < params_.size(); ++i) {
        const Array& p = params_[i].second.value();
        for (const auto& slot : names) {
            const std::string key = params_[i].first + "." + slot;
            const Array* a = find(key);
            if (!a && step->item() == 0) continue;
            if (!a) throw io_error("optimizer state: slot '" + key + "' is missing (was it saved by " + name() + "?)");
            if (a->shape() != p.shape() || a->dtype() != p.dtype()) {
                // The slot's shape comes from the file and may have thousands of dimensions: clipped.
                throw io_error("optimizer state: slot '" + key + "' is " + dtype_name(a->dtype()) + " " +
                               message_text(shape_str(a->shape())) + " but the parameter is " + dtype_name(p.dtype()) +
                               " " + shape_str(p.shape()));
            }
            loaded[i].push_back(a->clone());
        }
        if (!loaded[i].empty() && loaded[i].size() != names.size()) {
            throw io_error("optimizer state: parameter '" + params_[i].first + "' has only some of its " + name() +
                           " slots; the state is incomplete or from another optimizer");
        }
    }
    slots_ = std::move(loaded);
    steps_ = static_cast<std::size_t>(saved_steps);
}

SGD::SGD(std::vector<Tensor> params, const SGDOptions& options) : SGD(named_by_position(std::move(params)), options) {}

SGD::SGD(std::vector<NamedTensor> params, const SGDOptions& o) : Optimizer(std::move(params), o.lr(), "SGD"), o_(o) {
    check_option(o.momentum() >= 0 && o.momentum() < 1, label_, "momentum must be in [0, 1)", o.momentum(),
                 "SGDOptions(lr).momentum(m) with 0 <= m < 1");
    check_option(o.dampening() >= 0 && o.dampening() <= 1, label_, "dampening must be in [0, 1]", o.dampening(),
                 "SGDOptions(lr).dampening(d) with 0 <= d <= 1");
    check_weight_decay(o.weight_decay(), label_);
    if (o.nesterov() && (o.momentum() == 0 || o.dampening() != 0)) {
        throw value_error("SGD: nesterov needs momentum > 0 and dampening 0 (got momentum " + number_str(o.momentum()) +
                          ", dampening " + number_str(o.dampening()) +
                          "); pass SGDOptions(lr).momentum(m).nesterov(true) with m > 0");
    }
}

std::vector<std::string> SGD::slot_names() const {
    return o_.momentum() > 0 ? std::vector<std::string>{"momentum"} : std::vector<std::string>{};
}

namespace {

// Parameters long enough are updated by adgraph's threads in parts (each element's update is independent).
template <class G>
void for_parts(std::size_t n, G&& g) {
    parallel_for(n, parallel_grain, 16, g);
}

}  // namespace

// The updates are single fused loops over raw buffers: one pass over p, g and the slots instead of one xtensor
// assignment per line (each its own pass; the computed assignments were a sixth of a training step in perf).
void SGD::update(std::size_t i, Array& p, const Array& g, std::size_t) {
    p.visit_mut([&](auto& pa) {
        using T = typename std::decay_t<decltype(pa)>::value_type;
        T* w = pa.data();
        const T* gr = g.get<T>().data();
        const std::size_t n = pa.size();
        const T lr = static_cast<T>(this->lr()), wd = static_cast<T>(o_.weight_decay());
        const T mu = static_cast<T>(o_.momentum());
        if (o_.momentum() == 0) {
            for_parts(n, [&](std::size_t j0, std::size_t j1) {
                for (std::size_t j = j0; j < j1; ++j) w[j] -= lr * (gr[j] + wd * w[j]);
            });
            return;
        }
        // A parameter's first update starts its buffer at d, undamped (PyTorch's convention); restored state
        // (load_state) continues it.
        const bool first = !has_slots(i);
        T* v = slots(i)[0].get_mut<T>().data();
        const T keep = first ? T(0) : mu, take = first ? T(1) : static_cast<T>(1.0 - o_.dampening());
        const bool nesterov = o_.nesterov();
        // The loop reads its constants from locals: through the captures, every store to v or w might change them
        // (all floats), which keeps the loop scalar and reloading (13 % of a training step instead of 3 %, perf).
        for_parts(n, [=](std::size_t j0, std::size_t j1) {
            const T k = keep, a = take, m = mu, l = lr, dw = wd;
            const bool nest = nesterov;
            for (std::size_t j = j0; j < j1; ++j) {
                const T d = gr[j] + dw * w[j];
                v[j] = k * v[j] + a * d;
                w[j] -= l * (nest ? d + m * v[j] : v[j]);
            }
        });
    });
}

AdamFamily::AdamFamily(std::vector<NamedTensor> params, double lr, const std::tuple<double, double>& betas, double eps,
                       double weight_decay, bool amsgrad, bool decoupled, std::string label)
    : Optimizer(std::move(params), lr, std::move(label)),
      beta1_(std::get<0>(betas)),
      beta2_(std::get<1>(betas)),
      eps_(eps),
      weight_decay_(weight_decay),
      amsgrad_(amsgrad),
      decoupled_(decoupled) {
    if (!(beta1_ >= 0 && beta1_ < 1 && beta2_ >= 0 && beta2_ < 1)) {
        throw value_error(label_ + ": betas must be in [0, 1) (got (" + number_str(beta1_) + ", " + number_str(beta2_) +
                          ")); pass " + label_ + "Options(lr).betas({b1, b2}) with 0 <= b1, b2 < 1");
    }
    check_option(eps > 0 && std::isfinite(eps), label_, "eps must be a finite number > 0", eps,
                 label_ + "Options(lr).eps(e) with e > 0");
    check_weight_decay(weight_decay, label_);
}

std::vector<std::string> AdamFamily::slot_names() const {
    return amsgrad_ ? std::vector<std::string>{"m", "v", "v_max"} : std::vector<std::string>{"m", "v"};
}

namespace {

// The step's constants in T, computed once per parameter.
template <class T>
struct AdamConstants {
    T b1, b2, keep1, keep2, c1, c2, lr, eps, shrink, coupled;
};

// One Adam(W) update of elements [j0, j1), with or without AMSGrad: one loop per case, the constants in locals (read
// through a reference, a store to w, m or v might change them, which kept the loop scalar: 1 ms per step for the
// 235k parameters of the MLP 784-256-128-10). Per element, the same operations in the same order as PyTorch's
// formulas: AdamW's d = g + 0·w and Adam's 1·w stay, so NaN, infinite and signed-zero weights give the bits they
// always gave (-ffp-contract=off: the vector code rounds as the scalar code).
template <bool amsgrad, class T>
void adam_range(const AdamConstants<T>& k, T* w, const T* g, T* m, T* v, T* v_max, std::size_t j0, std::size_t j1) {
    const T b1 = k.b1, b2 = k.b2, keep1 = k.keep1, keep2 = k.keep2, c1 = k.c1, c2 = k.c2, lr = k.lr, eps = k.eps;
    const T shrink = k.shrink, coupled = k.coupled;
    for (std::size_t j = j0; j < j1; ++j) {
        const T d = g[j] + coupled * w[j];
        const T mj = b1 * m[j] + keep1 * d;
        const T vj = b2 * v[j] + keep2 * d * d;
        m[j] = mj;
        v[j] = vj;
        T denom = vj;
        if constexpr (amsgrad) denom = v_max[j] = std::max(v_max[j], vj);
        w[j] = shrink * w[j] - lr * (mj / c1) / (std::sqrt(denom / c2) + eps);
    }
}

}  // namespace

void AdamFamily::update(std::size_t i, Array& p, const Array& g, std::size_t t) {
    p.visit_mut([&](auto& pa) {
        using T = typename std::decay_t<decltype(pa)>::value_type;
        auto& s = slots(i);
        T* w = pa.data();
        const T* gr = g.get<T>().data();
        T* m = s[0].get_mut<T>().data();
        T* v = s[1].get_mut<T>().data();
        T* v_max = amsgrad_ ? s[2].get_mut<T>().data() : nullptr;
        const std::size_t n = pa.size();
        AdamConstants<T> k{};
        k.b1 = static_cast<T>(beta1_);
        k.b2 = static_cast<T>(beta2_);
        k.keep1 = T(1) - k.b1;
        k.keep2 = T(1) - k.b2;
        const T wd = static_cast<T>(weight_decay_);
        const double td = static_cast<double>(t);
        k.c1 = static_cast<T>(1.0 - std::pow(beta1_, td));
        k.c2 = static_cast<T>(1.0 - std::pow(beta2_, td));
        k.lr = static_cast<T>(this->lr());
        k.eps = static_cast<T>(eps_);
        k.shrink = decoupled_ ? T(1) - k.lr * wd : T(1);
        k.coupled = decoupled_ ? T(0) : wd;
        if (amsgrad_) {
            for_parts(n, [=](std::size_t j0, std::size_t j1) { adam_range<true>(k, w, gr, m, v, v_max, j0, j1); });
        } else {
            for_parts(n, [=](std::size_t j0, std::size_t j1) { adam_range<false>(k, w, gr, m, v, v_max, j0, j1); });
        }
    });
}

Adam::Adam(std::vector<Tensor> params, const AdamOptions& options)
    : Adam(named_by_position(std::move(params)), options) {}

Adam::Adam(std::vector<NamedTensor> params, const AdamOptions& o)
    : AdamFamily(std::move(params), o.lr(), o.betas(), o.eps(), o.weight_decay(), o.amsgrad(), false, "Adam"), o_(o) {}

AdamW::AdamW(std::vector<Tensor> params, const AdamWOptions& options)
    : AdamW(named_by_position(std::move(params)), options) {}

AdamW::AdamW(std::vector<NamedTensor> params, const AdamWOptions& o)
    : AdamFamily(std::move(params), o.lr(), o.betas(), o.eps(), o.weight_decay(), o.amsgrad(), true, "AdamW"), o_(o) {}

}  // namespace adg::nn

namespace adg::nn {

namespace {

// Σ|g|^p over one gradient in double, or max|g| for p = ∞ (then plus Σ(g − g), which is NaN exactly when g holds a
// NaN or an infinity, since max would skip a NaN). Eight partial sums (or maxima) make independent chains the compiler
// can vectorise without reassociating anything (no -ffast-math); p = 2 and p = 1 avoid pow.
template <class T>
double power_sum(const T* g, std::size_t n, double p) {
    constexpr std::size_t lanes = 8;
    double acc[lanes] = {}, probe[lanes] = {};
    const auto run = [&](auto term) {
        std::size_t i = 0;
        for (; i + lanes <= n; i += lanes) {
            for (std::size_t j = 0; j < lanes; ++j) acc[j] += term(static_cast<double>(g[i + j]));
        }
        for (; i < n; ++i) acc[0] += term(static_cast<double>(g[i]));
    };
    if (std::isinf(p)) {
        std::size_t i = 0;
        for (; i + lanes <= n; i += lanes) {
            for (std::size_t j = 0; j < lanes; ++j) {
                const double v = static_cast<double>(g[i + j]);
                acc[j] = std::max(acc[j], std::abs(v));
                probe[j] += v - v;
            }
        }
        for (; i < n; ++i) {
            const double v = static_cast<double>(g[i]);
            acc[0] = std::max(acc[0], std::abs(v));
            probe[0] += v - v;
        }
        double m = 0, s = 0;
        for (std::size_t j = 0; j < lanes; ++j) {
            m = std::max(m, acc[j]);
            s += probe[j];
        }
        return m + s;
    }
    if (p == 2) {
        run([](double v) { return v * v; });
    } else if (p == 1) {
        run([](double v) { return std::abs(v); });
    } else {
        run([p](double v) { return std::pow(std::abs(v), p); });
    }
    double s = 0;
    for (std::size_t j = 0; j < lanes; ++j) s += acc[j];
    return s;
}

double power_sum(const Array& g, double p) {
    return g.visit([&](const auto& a) { return power_sum(a.data(), a.size(), p); });
}

bool all_finite(const Array& g) {
    return g.visit(
        [](const auto& a) { return std::all_of(a.begin(), a.end(), [](auto v) { return std::isfinite(v); }); });
}

double max_abs(const Array& g) {
    return g.visit([](const auto& a) {
        double m = 0;
        for (const auto v : a) m = std::max(m, std::abs(static_cast<double>(v)));
        return m;
    });
}

// The norm of finite gradients whose Σ|g|^p overflowed a double (float64 gradients beyond ~1e154 for p = 2): every
// element divided by the largest |g| first.
double scaled_norm(const std::vector<Tensor>& grads, double p) {
    double m = 0;
    for (const auto& g : grads) m = std::max(m, max_abs(g.value()));
    if (m == 0) return 0;
    double s = 0;
    for (const auto& g : grads) {
        g.value().visit([&](const auto& a) {
            for (const auto v : a) s += std::pow(std::abs(static_cast<double>(v)) / m, p);
        });
    }
    return m * std::pow(s, 1.0 / p);
}

}  // namespace

double clip_grad_norm(const std::vector<Tensor>& params, double max_norm, double norm_type) {
    if (!(max_norm > 0) || !std::isfinite(max_norm)) {
        throw value_error("clip_grad_norm: max_norm must be a finite number > 0 (got " + number_str(max_norm) +
                          "); pass the largest total gradient norm to allow, e.g. 5");
    }
    if (!(norm_type > 0)) {
        throw value_error("clip_grad_norm: norm_type must be a number > 0 or INFINITY (got " + number_str(norm_type) +
                          "); pass 2 for the Euclidean norm");
    }
    const bool inf = std::isinf(norm_type);
    NoGrad off;
    // Every check comes before the first gradient is scaled, so a failure changes nothing.
    std::vector<Tensor> grads;
    double acc = 0;
    for (std::size_t i = 0; i < params.size(); ++i) {
        if (!params[i].has_grad()) continue;
        Tensor g = params[i].grad();
        if (!g.is_leaf()) {
            throw graph_error("clip_grad_norm: the gradient of parameter " + std::to_string(i) +
                              " was recorded (backward with create_graph), and scaling it in place would change a "
                              "recorded graph; clip a detached copy or scale it out of place");
        }
        const double s = power_sum(g.value(), norm_type);
        if (!std::isfinite(s) && !all_finite(g.value())) {
            throw value_error("clip_grad_norm: the gradient of parameter " + std::to_string(i) + " " +
                              shape_str(g.shape()) +
                              " holds NaN or infinity, so the total norm is not finite (nothing was scaled); find "
                              "the op that made it with anomaly mode, or lower the learning rate");
        }
        acc = inf ? std::max(acc, s) : acc + s;
        grads.push_back(std::move(g));
    }
    double total = inf ? acc : norm_type == 2 ? std::sqrt(acc) : norm_type == 1 ? acc : std::pow(acc, 1 / norm_type);
    if (!std::isfinite(total)) total = scaled_norm(grads, norm_type);
    const double coef = max_norm / (total + 1e-6);
    if (coef < 1) {
        for (auto& g : grads) g *= coef;
    }
    return total;
}

}  // namespace adg::nn
