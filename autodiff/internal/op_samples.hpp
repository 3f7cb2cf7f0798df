#pragma once
/// \file Not installed: the samples the op tests call every listed op with, and the op lists they come from. Op
/// files include this header to end with their list; tests include it to draw inputs.

#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <adgraph/autodiff/op_kinds.hpp>
#include <adgraph/autodiff/op_list.hpp>

namespace adg {

/// A float64 tensor of `shape` drawn from `range` (e.g. `{}` for U(-2, 2), `{0.5, 2.0}`).
Tensor sample_tensor(const Shape& shape, const detail::SampleRange& range, Generator& gen);
/// A float64 tensor of `shape` in [-2, 2] with distinct values at least half a grid step (4 / size) apart (a random
/// order of the grid, jittered by at most a quarter step), for ops with kinks at ties (max, min, max_pool2d).
Tensor distinct_tensor(const Shape& shape, Generator& gen);

/// Shapes every unary op is sampled at: {}, {3}, {2,3}.
const std::vector<Shape>& unary_sample_shapes();
/// Shape pairs every binary op is sampled at, broadcast pairs included.
const std::vector<std::pair<Shape, Shape>>& binary_sample_shapes();

/// Samples of a one-input op at unary_sample_shapes().
template <class Op>
std::vector<OpSample> unary_samples(const Op& op, const detail::SampleRange& range, Generator& gen) {
    std::vector<OpSample> out;
    for (const auto& s : unary_sample_shapes()) {
        out.push_back({std::string(Op::name) + " " + shape_str(s),
                       {sample_tensor(s, range, gen)},
                       [op](const std::vector<Tensor>& xs) { return apply(op, xs[0]); }});
    }
    return out;
}

namespace detail {

// True if a and b differ by at least `gap` everywhere (broadcast).
bool separated(const Tensor& a, const Tensor& b, double gap);

template <class>
inline constexpr bool always_false = false;

// The samples a kind derives: Elementwise ops at unary_sample_shapes() for each example, Binary ops at
// binary_sample_shapes(), a and b kept apart by the kind's separation.
template <class Op>
std::vector<OpSample> kind_samples(Generator& gen) {
    using Kind = kind_of<Op>;
    constexpr Kind kind = Op::kind;
    std::vector<OpSample> out;
    if constexpr (std::is_same_v<Kind, Elementwise>) {
        std::vector<Op> examples;
        if constexpr (kind.example_count == 0) {
            examples.push_back(Op{});
        } else {
            for (std::size_t i = 0; i < kind.example_count; ++i) {
                if constexpr (kind.example_arity == 1) {
                    examples.push_back(Op{kind.examples[i][0]});
                } else {
                    examples.push_back(Op{kind.examples[i][0], kind.examples[i][1]});
                }
            }
        }
        for (const Op& op : examples) {
            for (auto& s : unary_samples(op, kind.range, gen)) out.push_back(std::move(s));
        }
    } else if constexpr (std::is_same_v<Kind, Binary>) {
        for (const auto& [sa, sb] : binary_sample_shapes()) {
            Tensor a, b;
            do {
                a = sample_tensor(sa, {}, gen);
                b = sample_tensor(sb, kind.range_b, gen);
            } while (kind.gap > 0 && !separated(a, b, kind.gap));
            out.push_back({std::string(Op::name) + " " + shape_str(sa) + "·" + shape_str(sb),
                           {a, b},
                           [](const std::vector<Tensor>& xs) { return apply(Op{}, xs[0], xs[1]); }});
        }
    } else {
        static_assert(always_false<Op>, "a Custom or LinearMap op gives its own `static samples(Generator&)`");
    }
    return out;
}

}  // namespace detail

/// The samples of Op: its own `samples(gen)`, else those its kind derives.
template <class Op>
std::vector<OpSample> op_samples(Generator& gen) {
    if constexpr (detail::has_samples<Op>::value) {
        return Op::samples(gen);
    } else {
        return detail::kind_samples<Op>(gen);
    }
}

/// An OpInfo for `Op` (its name and samples).
template <class Op>
OpInfo op_info() {
    return OpInfo{Op::name, [](Generator& gen) { return op_samples<Op>(gen); }};
}

}  // namespace adg
