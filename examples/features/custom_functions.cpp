#include <adgraph/adgraph.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>

using namespace adg;

// isru(x) = x / √(1 + x²), with d/dx isru(x) = (1 + x²)^(-3/2). A JVP only: the reverse rule is derived.
CustomFunction isru() {
    CustomFunction f;
    f.name = "isru";
    f.forward = [](const std::vector<Tensor>& x) { return x[0] / sqrt(1.0 + square(x[0])); };
    // t[0] has shape (k, x.shape): the derivative, of shape x.shape, broadcasts over the k directions.
    f.jvp = [](const std::vector<Tensor>& x, const Tensor&, const std::vector<Tensor>& t) {
        return pow(1.0 + square(x[0]), -1.5) * t[0];
    };
    return f;
}

// glu(a, b) = a ⊙ σ(b), with both rules: ∂/∂a = σ(b), ∂/∂b = a σ(b)(1 − σ(b)) = y (1 − σ(b)).
CustomFunction glu() {
    CustomFunction f;
    f.name = "glu";
    f.forward = [](const std::vector<Tensor>& x) { return x[0] * sigmoid(x[1]); };
    // An input that is not being differentiated has an undefined tangent (a zero nobody materialised).
    f.jvp = [](const std::vector<Tensor>& x, const Tensor& y, const std::vector<Tensor>& t) {
        const Tensor s = sigmoid(x[1]);
        Tensor r;
        if (t[0].defined()) r = s * t[0];
        if (t[1].defined()) r = r.defined() ? r + y * (1.0 - s) * t[1] : y * (1.0 - s) * t[1];
        return r;
    };
    f.vjp = [](const std::vector<Tensor>& x, const Tensor& y, const Tensor& ct, std::size_t i) {
        const Tensor s = sigmoid(x[1]);
        return i == 0 ? s * ct : y * (1.0 - s) * ct;
    };
    return f;
}

// normalize(x) = x / Σ x along the last axis: y' = (t − y Σt) / Σx, the sums over the last axis only.
CustomFunction normalize(bool sum_all_axes) {
    CustomFunction f;
    f.name = sum_all_axes ? "normalize_wrong" : "normalize";
    f.forward = [](const std::vector<Tensor>& x) { return x[0] / sum(x[0], {-1}, true); };
    f.jvp = [sum_all_axes](const std::vector<Tensor>& x, const Tensor& y, const std::vector<Tensor>& t) {
        // Right: axes counted from the end leave the leading k axis alone. Wrong: sum(t) also adds up the k
        // directions, which goes unnoticed while k = 1.
        const Tensor st = sum_all_axes ? sum(t[0]) : sum(t[0], {-1}, true);
        return (t[0] - y * st) / sum(x[0], {-1}, true);
    };
    return f;
}

int main() {
    Generator gen(5);
    bool ok = true;
    const auto expect = [&ok](bool holds, const char* what) {
        std::printf("%s %s\n", holds ? "  ok:" : "  FAILED:", what);
        ok = ok && holds;
    };

    // 1. A JVP only. Forward mode uses it as is; reverse mode transposes it; both agree with the formula.
    const CustomFunction f = isru();
    const Tensor x = Tensor::from({-2.0, -0.5, 0.0, 1.0, 3.0}, f64);
    const Tensor dx = pow(1.0 + square(x), -1.5), d2x = -3.0 * x * pow(1.0 + square(x), -2.5);
    const Fn total = [&](const Tensor& z) { return sum(call(f, {z})); };
    const Tensor by_grad = grad(total)(x);                                              // reverse: the transposed JVP
    const Tensor by_jacfwd = jacfwd([&](const Tensor& z) { return call(f, {z}); })(x);  // forward: 5 directions
    std::cout << "isru'(x) by grad (reverse, derived) " << by_grad << "\n";
    expect(max(abs(by_grad - dx)).item() < 1e-15, "grad = (1 + x²)^(-3/2)");
    const Tensor eye = one_hot({0, 1, 2, 3, 4}, 5, f64);
    expect(max(abs(by_jacfwd - eye * dx)).item() < 1e-15, "jacfwd: diagonal, the same values");
    // The rules are written with ops, so second order works too: H·1 = isru''(x).
    expect(max(abs(hvp(total, x, ones_like(x)) - d2x)).item() < 1e-14, "hvp gives isru''(x) = -3x (1 + x²)^(-5/2)");
    CheckResult r = check_function(f, {x}, gen);
    std::printf("check_function(isru): %s\n", r.message.c_str());
    expect(r.ok, "isru passes gradcheck and the dot test");

    // 2. JVP and VJP, two inputs.
    CustomFunction g = glu();
    const Tensor a = Tensor::from({{0.5, -1.0, 2.0}, {1.5, 0.2, -0.7}}, f64);
    const Tensor b = Tensor::from({{1.0, 0.3, -2.0}, {-0.4, 2.5, 0.8}}, f64);
    r = check_function(g, {a, b}, gen);
    std::printf("check_function(glu): %s\n", r.message.c_str());
    expect(r.ok, "glu passes");

    // 3. The batched-directions convention: one sweep carries k directions, rules must not mix them.
    const Tensor p = Tensor::from({1.0, 2.0, 3.0, 4.0}, f64);
    const MultiFn right = [](const std::vector<Tensor>& v) { return call(normalize(false), v); };
    const MultiFn wrong = [](const std::vector<Tensor>& v) { return call(normalize(true), v); };
    const Tensor t = Tensor::from({0.1, -0.2, 0.3, 1.0}, f64);
    const Tensor jv_right = jvp(right, {p}, {t}).second, jv_wrong = jvp(wrong, {p}, {t}).second;
    expect(max(abs(jv_right - jv_wrong)).item() == 0, "with one direction (k = 1) both versions agree");
    const CheckResult batched_right = batched_test(right, {p}, gen), batched_wrong = batched_test(wrong, {p}, gen);
    std::printf("batched_test(normalize): %s\nbatched_test(normalize_wrong): %s\n", batched_right.message.c_str(),
                batched_wrong.message.c_str());
    expect(batched_right.ok && !batched_wrong.ok, "batched_test tells them apart");
    r = check_function(normalize(true), {p}, gen);
    std::printf("check_function(normalize_wrong): %s\n", r.message.c_str());
    expect(!r.ok, "check_function fails it too (its Jacobians use n directions in one sweep)");

    // 4. A wrong VJP: the ∂/∂b rule forgets the factor (1 − σ(b)). Forward mode is still right.
    g.vjp = [](const std::vector<Tensor>& x, const Tensor& y, const Tensor& ct, std::size_t i) {
        return i == 0 ? sigmoid(x[1]) * ct : y * ct;
    };
    r = check_function(g, {a, b}, gen);
    std::printf("check_function(glu with a wrong vjp): %s\n", r.message.c_str());
    expect(!r.ok, "check_function catches the wrong VJP");
    const MultiFn glu_fn = [&g](const std::vector<Tensor>& v) { return call(g, v); };
    r = dot_test(glu_fn, {a, b}, gen);
    std::printf("dot_test alone (no finite differences): %s\n", r.message.c_str());
    expect(!r.ok, "so does the dot test on its own");
    return ok ? 0 : 1;
}
