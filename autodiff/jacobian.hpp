#pragma once
/// \file Jacobians that know their structure: the mode is chosen from n, m and the recorded graph, and
/// elementwise or row-separable graphs give their diagonal or blocks from a few directions instead of n.

#include <string>
#include <vector>

#include <adgraph/autodiff/functional.hpp>

namespace adg {

/// Which sweep computes a Jacobian.
enum class Mode {
    automatic,          ///< chosen from the graph's structure, n and m
    forward,            ///< forward sweeps: one direction per input element (or per input of a block)
    reverse,            ///< reverse sweeps: one direction per output element (or per output of a block)
    Auto = automatic,   ///< alias
    Forward = forward,  ///< alias
    Reverse = reverse,  ///< alias
};

/// The shape of the derivative.
enum class Structure {
    dense,     ///< every output element may depend on every input element
    diagonal,  ///< output element i depends only on input element i (elementwise graph, same shapes)
    blocks,    ///< output row i depends only on input row i (a per-sample function over a batch)
};

/// A Jacobian of f at x in its structured form.
struct Jacobian {
    /// The structure found in the recorded graph.
    Structure structure = Structure::dense;
    /// The sweep direction used.
    Mode mode = Mode::forward;
    /// Sweeps' direction count (the batch k of the one sweep that was run).
    std::size_t directions = 0;
    /// Why this structure and mode, in a sentence.
    std::string why;
    /// dense: (ys..., xs...); diagonal: ∂yᵢ/∂xᵢ in x's shape; blocks: (B, ys[1:]..., xs[1:]...), one block per row.
    Tensor values;
    /// Input and output shapes.
    Shape x_shape, y_shape;
    /// The full (ys..., xs...) Jacobian, built from the structured values.
    Tensor dense() const;
};

/// ∂f/∂x with structure and mode chosen automatically (or the mode forced); one batched sweep.
Jacobian jacobian(const Fn& f, const Tensor& x, Mode mode = Mode::automatic);

namespace detail {
/// The structured Jacobians of f(xs) with respect to xs[i] for each i in `which`, from one run of f.
std::vector<Jacobian> jacobians_structured(const MultiFn& f, const std::vector<Tensor>& xs,
                                           const std::vector<std::size_t>& which, Mode mode);
}  // namespace detail

/// (x0, x1, ...) ↦ [the structured ∂f/∂x_i for i in argnums], each found as jacobian(f, x) finds it, from one run of
/// f (the argnums form of jacobian; other arguments are constants).
template <class F>
auto jacobian(F f, Argnums a, Mode mode = Mode::automatic) {
    return [f = std::move(f), a = std::move(a), mode](const auto&... args) {
        return detail::with_argnums(
            "jacobian", f, a,
            [mode](const MultiFn& g, const std::vector<Tensor>& xs, const std::vector<std::size_t>& which) {
                return detail::jacobians_structured(g, xs, which, mode);
            },
            args...);
    };
}
/// (x0, x1, ...) ↦ the structured ∂f/∂x_argnum.
template <class F, class I, detail::if_integral<I> = 0>
auto jacobian(F f, I argnum, Mode mode = Mode::automatic) {
    return [g = jacobian(std::move(f), argnums(argnum), mode)](const auto&... args) { return g(args...)[0]; };
}

/// "forward", "reverse" or "automatic".
const char* mode_name(Mode m);
/// "dense", "diagonal" or "blocks".
const char* structure_name(Structure s);

}  // namespace adg
