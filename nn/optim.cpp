#include <adgraph/nn/optim.hpp>

#include <cmath>

#include <adgraph/nn/message_text.hpp>
#include <adgraph/tensor/parallel.hpp>

namespace adg::nn {

namespace {

void check_positive(double v, const char* what, const char* who) {
    if (!(v > 0.0) || !std::isfinite(v)) {
        throw value_error(std::string(who) + ": " + what + " must be a finite number > 0 (got " + number_str(v) + ")");
    }
}

void check_unit(double v, const char* what, const char* who) {
    if (!(v >= 0.0 && v < 1.0)) {
        throw value_error(std::string(who) + ": " + what + " must be in [0, 1) (got " + number_str(v) + ")");
    }
}

}  // namespace

Optimizer::Optimizer(std::vector<NamedTensor> params, double lr) : params_(std::move(params)), lr_(lr) {
    slots_.resize(params_.size());
    set_lr(lr);
}

void Optimizer::set_lr(double lr) {
    check_positive(lr, "the learning rate", "optimizer");
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

SGD::SGD(std::vector<NamedTensor> params, const SgdOptions& o) : Optimizer(std::move(params), o.lr), o_(o) {
    check_unit(o.momentum, "momentum", "sgd");
    if (!(o.weight_decay >= 0)) {
        throw value_error("sgd: weight_decay must be >= 0 (got " + number_str(o.weight_decay) + ")");
    }
    if (o.nesterov && o.momentum == 0) throw value_error("sgd: Nesterov momentum needs momentum > 0");
}

std::vector<std::string> SGD::slot_names() const {
    return o_.momentum > 0 ? std::vector<std::string>{"momentum"} : std::vector<std::string>{};
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
void SGD::update(std::size_t i, Array& p, const Array& g, std::size_t t) {
    p.visit_mut([&](auto& pa) {
        using T = typename std::decay_t<decltype(pa)>::value_type;
        T* w = pa.data();
        const T* gr = g.get<T>().data();
        const std::size_t n = pa.size();
        const T lr = static_cast<T>(this->lr()), wd = static_cast<T>(o_.weight_decay), mu = static_cast<T>(o_.momentum);
        if (o_.momentum == 0) {
            for_parts(n, [&](std::size_t j0, std::size_t j1) {
                for (std::size_t j = j0; j < j1; ++j) w[j] -= lr * (gr[j] + wd * w[j]);
            });
            return;
        }
        T* v = slots(i)[0].get_mut<T>().data();
        const T keep = t == 1 ? T(0) : mu;  // the first step starts the buffer at g (PyTorch's convention)
        const bool nesterov = o_.nesterov;
        for_parts(n, [&](std::size_t j0, std::size_t j1) {
            for (std::size_t j = j0; j < j1; ++j) {
                const T d = gr[j] + wd * w[j];
                v[j] = keep * v[j] + d;
                w[j] -= lr * (nesterov ? d + mu * v[j] : v[j]);
            }
        });
    });
}

Adam::Adam(std::vector<NamedTensor> params, const AdamOptions& o) : Optimizer(std::move(params), o.lr), o_(o) {
    check_unit(o.beta1, "beta1", name().c_str());
    check_unit(o.beta2, "beta2", name().c_str());
    check_positive(o.eps, "eps", name().c_str());
    if (!(o.weight_decay >= 0)) {
        throw value_error(name() + ": weight_decay must be >= 0 (got " + number_str(o.weight_decay) + ")");
    }
}

void Adam::update(std::size_t i, Array& p, const Array& g, std::size_t t) {
    p.visit_mut([&](auto& pa) {
        using T = typename std::decay_t<decltype(pa)>::value_type;
        auto& s = slots(i);
        T* w = pa.data();
        const T* gr = g.get<T>().data();
        T* m = s[0].get_mut<T>().data();
        T* v = s[1].get_mut<T>().data();
        const std::size_t n = pa.size();
        const T b1 = static_cast<T>(o_.beta1), b2 = static_cast<T>(o_.beta2), wd = static_cast<T>(o_.weight_decay);
        const double td = static_cast<double>(t);
        const T c1 = static_cast<T>(1.0 - std::pow(o_.beta1, td)), c2 = static_cast<T>(1.0 - std::pow(o_.beta2, td));
        const T lr = static_cast<T>(this->lr()), eps = static_cast<T>(o_.eps);
        const T shrink = o_.decoupled ? T(1) - lr * wd : T(1), coupled = o_.decoupled ? T(0) : wd;
        for_parts(n, [&](std::size_t j0, std::size_t j1) {
            for (std::size_t j = j0; j < j1; ++j) {
                const T d = gr[j] + coupled * w[j];
                m[j] = b1 * m[j] + (T(1) - b1) * d;
                v[j] = b2 * v[j] + (T(1) - b2) * d * d;
                w[j] = shrink * w[j] - lr * (m[j] / c1) / (std::sqrt(v[j] / c2) + eps);
            }
        });
    });
}

}  // namespace adg::nn
