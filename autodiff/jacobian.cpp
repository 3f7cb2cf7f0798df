#include <adgraph/autodiff/jacobian.hpp>

#include <unordered_map>
#include <unordered_set>

#include <adgraph/autodiff/grad_mode.hpp>
#include <adgraph/autodiff/node.hpp>
#include <adgraph/autodiff/ops.hpp>
#include <adgraph/autodiff/sweep.hpp>

namespace adg {

namespace {

// The weakest locality over the ops between x and y (the nodes that depend on x), walked iteratively.
struct Analysis {
    Locality locality = Locality::elementwise;
    std::size_t ops = 0;
};

Analysis analyse(const Tensor& x, const Tensor& y) {
    const Node* xn = x.node().get();
    std::unordered_map<const Node*, char> depends;
    std::unordered_set<const Node*> seen{y.node().get()};
    std::vector<std::pair<const Node*, std::size_t>> stack{{y.node().get(), 0}};
    Analysis a;
    while (!stack.empty()) {
        auto& [n, next] = stack.back();
        if (n != xn && next < n->inputs().size()) {
            const Node* c = n->inputs()[next++].get();
            if (c->needs_grad() && seen.insert(c).second) stack.emplace_back(c, 0);
            continue;
        }
        bool any = n == xn;
        std::vector<char> varies;
        if (n != xn) {
            for (const auto& c : n->inputs()) {
                const auto it = depends.find(c.get());
                varies.push_back(it != depends.end() && it->second);
                any |= varies.back() != 0;
            }
        }
        depends[n] = any;
        if (n != xn && any) {
            a.locality = std::min(a.locality, n->locality(varies));
            ++a.ops;
        }
        stack.pop_back();
    }
    return a;
}

std::string count(std::size_t n, const char* what) { return std::to_string(n) + " " + what + (n == 1 ? "" : "s"); }

}  // namespace

const char* mode_name(Mode m) { return m == Mode::forward ? "forward" : m == Mode::reverse ? "reverse" : "automatic"; }

const char* structure_name(Structure s) {
    return s == Structure::diagonal ? "diagonal" : s == Structure::blocks ? "blocks" : "dense";
}

namespace {

// The structured ∂y/∂xin for a recorded input xin; `retain` keeps the graph for another input's sweeps.
Jacobian structured(const Tensor& xin, const Tensor& y, Mode mode, bool retain) {
    const Tensor& x = xin;
    const SweepOptions keep{retain, false};
    Jacobian J;
    J.x_shape = x.shape();
    J.y_shape = y.shape();
    const std::size_t n = x.size(), m = y.size();
    if (!y.needs_grad()) {
        J.why = "the output does not depend on x";
        J.values = Tensor::zeros(concat_shapes(y.shape(), x.shape()), y.dtype());
        return J;
    }
    const Analysis a = analyse(xin, y);
    NoGrad off;
    if (a.locality == Locality::elementwise && x.shape() == y.shape()) {
        J.structure = Structure::diagonal;
        J.mode = mode == Mode::reverse ? Mode::reverse : Mode::forward;
        J.directions = 1;
        const Tensor ones = Tensor::ones(batched_shape(1, x.shape()), x.dtype());
        const Tensor d =
            J.mode == Mode::forward ? forward_sweep({xin}, {ones}, {y})[0] : reverse_sweep({y}, {ones}, {xin}, keep)[0];
        J.values = reshape(d, x.shape());
        J.why = "diagonal: all " + count(a.ops, "op") + " between x and y act elementwise, so one " +
                mode_name(J.mode) + " sweep with a ones seed gives the " + std::to_string(n) +
                " derivatives (a dense Jacobian needs " + std::to_string(n) + " directions)";
        return J;
    }
    const bool rows = a.locality >= Locality::rows && x.dim() >= 1 && y.dim() >= 1 && x.shape()[0] == y.shape()[0] &&
                      x.shape()[0] > 1;
    if (rows) {
        // Seeds repeat one unit vector in every row: a direction per element of a row, not of the whole input.
        const std::size_t b = x.shape()[0], nb = n / b, mb = m / b;
        J.structure = Structure::blocks;
        J.mode = mode == Mode::automatic ? (nb <= mb ? Mode::forward : Mode::reverse) : mode;
        const Shape xr(x.shape().begin() + 1, x.shape().end()), yr(y.shape().begin() + 1, y.shape().end());
        const bool fwd = J.mode == Mode::forward;
        const std::size_t k = fwd ? nb : mb;
        J.directions = k;
        const Tensor unit(Array::basis(fwd ? xr : yr, x.dtype()));  // (k, row shape)
        const Shape row_seed = batched_shape(k, batched_shape(1, fwd ? xr : yr));
        const Tensor seed = broadcast_to(reshape(unit, row_seed), batched_shape(k, fwd ? x.shape() : y.shape()));
        const Tensor r = fwd ? forward_sweep({xin}, {seed}, {y})[0] : reverse_sweep({y}, {seed}, {xin}, keep)[0];
        // forward: r (nb, B, yr...) holds column j of every block; reverse: r (mb, B, xr...) holds row i.
        const Tensor blocks =
            fwd ? permute(reshape(r, {nb, b, mb}), {1, 2, 0}) : permute(reshape(r, {mb, b, nb}), {1, 0, 2});
        J.values = reshape(blocks, concat_shapes(concat_shapes({b}, yr), xr));
        J.why = "blocks: row i of y depends only on row i of x through all " + count(a.ops, "op") + ", so " +
                std::to_string(k) + " " + mode_name(J.mode) + " directions (" + (fwd ? "inputs" : "outputs") +
                " per row) give all " + std::to_string(b) + " blocks of " + std::to_string(mb) + "x" +
                std::to_string(nb) + " (a dense Jacobian needs " + std::to_string(std::min(n, m)) + ")";
        return J;
    }
    J.structure = Structure::dense;
    J.mode = mode == Mode::automatic ? (n <= m ? Mode::forward : Mode::reverse) : mode;
    J.directions = J.mode == Mode::forward ? n : m;
    // Swept on the graph already recorded: f runs once per call.
    J.values = detail::jacobians_of({xin}, y, J.mode == Mode::forward, {}, false, retain)[0];
    J.why = "dense: n = " + std::to_string(n) + " inputs, m = " + std::to_string(m) + " outputs; " +
            (J.mode == Mode::forward
                 ? "forward mode needs " + std::to_string(n) + " directions, reverse " + std::to_string(m)
                 : "reverse mode needs " + std::to_string(m) + " directions, forward " + std::to_string(n));
    if (mode != Mode::automatic) J.why += " (mode forced)";
    return J;
}

}  // namespace

std::vector<Jacobian> detail::jacobians_structured(const MultiFn& f, const std::vector<Tensor>& xs,
                                                   const std::vector<std::size_t>& which, Mode mode) {
    std::vector<Tensor> args = xs, leaves;
    Tensor y;
    {
        GradMode on(true);
        for (const std::size_t i : which) {
            if (!xs[i].defined()) {
                throw value_error(
                    "jacobian: an input is undefined (default-constructed or moved from); pass tensors with values");
            }
            leaves.push_back(xs[i].detach().requires_grad());
            args[i] = leaves.back();
        }
        y = f(args);
    }
    if (!y.defined()) throw value_error("jacobian: the function returned an undefined tensor");
    std::vector<Jacobian> out;
    for (std::size_t a = 0; a < leaves.size(); ++a)
        out.push_back(structured(leaves[a], y, mode, a + 1 < leaves.size()));
    return out;
}

Jacobian jacobian(const Fn& f, const Tensor& x, Mode mode) {
    return detail::jacobians_structured([&f](const std::vector<Tensor>& xs) { return f(xs[0]); }, {x}, {0}, mode)[0];
}

Tensor Jacobian::dense() const {
    const std::size_t n = numel(x_shape), m = numel(y_shape);
    if (structure == Structure::dense) return values;
    NoGrad off;
    if (structure == Structure::diagonal) {
        // Identity (n, n) scaled row-wise by the diagonal.
        const Tensor eye = reshape(Tensor(Array::basis(x_shape, values.dtype())), {n, n});
        return reshape(eye * reshape(values, {n, 1}), concat_shapes(y_shape, x_shape));
    }
    const std::size_t b = x_shape[0], nb = n / b, mb = m / b;
    // Place block i at rows i·mb.., columns i·nb.. of a zero (m, n) matrix.
    std::vector<Tensor> rows;
    const Tensor blk = reshape(values, {b, mb, nb});
    for (std::size_t i = 0; i < b; ++i) {
        const Tensor block = reshape(slice(blk, 0, i, i + 1), {mb, nb});
        rows.push_back(pad(block, 1, i * nb, n));
    }
    return reshape(concat(rows, 0), concat_shapes(y_shape, x_shape));
}

}  // namespace adg
