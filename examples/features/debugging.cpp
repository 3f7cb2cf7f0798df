#include <adgraph/adgraph.hpp>
#include <cmath>
#include <cstdio>
#include <string>

using namespace adg;

// Runs `f`, which should throw E, and prints and returns the message ("" if it throws nothing or something else).
template <class E, class F>
std::string error_of(const char* type, F&& f) {
    try {
        f();
    } catch (const E& e) {
        std::printf("%s: %s\n", type, e.what());
        return e.what();
    } catch (const std::exception& e) {
        std::printf("unexpected error: %s\n", e.what());
        return "";
    }
    std::printf("no %s was thrown\n", type);
    return "";
}

bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

int main() {
    bool ok = true;
    Generator gen(0);

    // 1. The recorded graph as DOT: W requires grad (light blue), x is a constant (grey), the loss is green.
    const Tensor W = Tensor::uniform({2, 3}, -1.0, 1.0, gen, f64).requires_grad();
    const Tensor x = Tensor::from({0.5, -1.0, 2.0}, f64);
    const Tensor loss = sum(square(tanh(matmul(W, x))));
    const std::string dot = to_dot({loss}, {"loss"});
    std::printf("%s", dot.c_str());
    ok = ok && contains(dot, "lightblue") && contains(dot, "lightgrey") && contains(dot, "darkolivegreen1");
    // backward() without retain_graph releases what it swept: the loss is drawn dashed, its inputs are gone.
    loss.backward();
    const std::string released = to_dot({loss}, {"loss"});
    std::printf("after backward():\n%s", released.c_str());
    ok = ok && contains(released, "dashed");

    // 2. Anomaly mode. Off (the default), a NaN flows on silently.
    const Tensor minus_one = Tensor::from({-1.0, 1.0}, f64);
    std::printf("without anomaly mode, log(-1) = %f\n", log(minus_one).value().flat(0));
    {
        DetectAnomaly on;  // until the end of this scope, on this thread
        const std::string nan = error_of<value_error>("value_error", [&] { return log(minus_one); });
        ok = ok && contains(nan, "'log' produced NaN in its output") && contains(nan, "debugging.cpp:");
        // In a sweep: d/dz √z = 1/(2√z) is infinite at 0; the message names the rule, the sweep and the line
        // where sqrt was called.
        const Tensor zero = Tensor::from({0.0, 4.0}, f64).requires_grad();
        const Tensor root = sum(sqrt(zero));
        const std::string inf = error_of<value_error>("value_error", [&] { root.backward(); });
        ok = ok && contains(inf, "in the VJP rule of 'sqrt' (backward)") && contains(inf, "debugging.cpp:");
        // An operator cannot record a call site; the named function can.
        const Tensor big = Tensor::from({1e200}, f64);
        const std::string op = error_of<value_error>("value_error", [&] { return big * big; });
        const std::string fn = error_of<value_error>("value_error", [&] { return mul(big, big); });
        ok = ok && contains(op, "an operator such as *") && contains(fn, "debugging.cpp:");
    }

    // 3. The error types, all derived from adg::error; messages name the op, what is wrong and the remedy.
    int missing = 0;  // errors not thrown, or not with the expected type
    missing += error_of<shape_error>("shape_error", [&] { return matmul(W, Tensor::ones({4}, f64)); }).empty();
    missing += error_of<dtype_error>("dtype_error", [&] { return x + Tensor::ones({3}, f32); }).empty();
    missing += error_of<graph_error>("graph_error", [&] { loss.backward(); }).empty();  // released above
    missing += error_of<value_error>("value_error", [&] { return sum(x, {1}); }).empty();
    missing += error_of<io_error>("io_error", [] {
                   return nn::read_checkpoint_metadata("no/such/model.safetensors");
               }).empty();
    missing += error_of<error>("adg::error", [&] { return reshape(x, {2, 2}); }).empty();
    return ok && missing == 0 ? 0 : 1;
}
