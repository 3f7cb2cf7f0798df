// Sampling helpers for op lists, the list of composite functions, and the concatenation of all lists.

#include <algorithm>
#include <cmath>
#include <numeric>

#include <adgraph/autodiff/internal/op_samples.hpp>

namespace adg {

Tensor distinct_tensor(const Shape& shape, Generator& gen) {
    xt::xarray<double> a = xt::xarray<double>::from_shape(shape);
    std::vector<std::size_t> order(a.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::shuffle(order.begin(), order.end(), gen.engine());
    const double step = 4.0 / static_cast<double>(std::max<std::size_t>(a.size(), 1));
    std::uniform_real_distribution<double> jitter(-step / 4, step / 4);
    for (std::size_t i = 0; i < a.size(); ++i) {
        a.flat(i) = -2.0 + step * static_cast<double>(order[i]) + jitter(gen.engine());
    }
    return Tensor(std::move(a));
}

Tensor sample_tensor(const Shape& shape, const detail::SampleRange& d, Generator& gen) {
    std::uniform_real_distribution<double> u(d.lo, d.hi);
    xt::xarray<double> a = xt::xarray<double>::from_shape(shape);
    for (auto& v : a) {
        bool near_kink = true;
        while (near_kink) {
            v = u(gen.engine());
            near_kink = false;
            for (std::size_t k = 0; k < d.kink_count; ++k) near_kink |= std::abs(v - d.kinks[k]) < d.margin;
        }
    }
    return Tensor(std::move(a));
}

bool detail::separated(const Tensor& a, const Tensor& b, double gap) {
    const Array diff = zip(a.value(), b.value(), "separation", [](const auto& p, const auto& q) { return p - q; });
    for (std::size_t i = 0; i < diff.size(); ++i) {
        if (std::abs(diff.flat(i)) < gap) return false;
    }
    return true;
}

const std::vector<Shape>& unary_sample_shapes() {
    static const std::vector<Shape> shapes = {{}, {3}, {2, 3}};
    return shapes;
}

const std::vector<std::pair<Shape, Shape>>& binary_sample_shapes() {
    static const std::vector<std::pair<Shape, Shape>> shapes = {{{}, {}},      {{3}, {3}},    {{2, 3}, {2, 3}},
                                                                {{2, 3}, {3}}, {{3}, {2, 3}}, {{2, 1}, {1, 3}},
                                                                {{2, 3}, {}},  {{}, {2, 3}}};
    return shapes;
}

namespace {

OpSample composite(std::string label, std::vector<Tensor> inputs, MultiFn fn) {
    return {std::move(label), std::move(inputs), std::move(fn)};
}

}  // namespace

const OpList& composite_ops() {
    static const OpList list = {
        {"sum",
         [](Generator& g) {
             return std::vector<OpSample>{
                 composite("sum all (2,3)", {sample_tensor({2, 3}, {}, g)}, [](auto& x) { return sum(x[0]); }),
                 composite("sum axis 1 (2,3)", {sample_tensor({2, 3}, {}, g)}, [](auto& x) { return sum(x[0], {1}); }),
                 composite("sum axis 0 keepdims (2,3)", {sample_tensor({2, 3}, {}, g)},
                           [](auto& x) { return sum(x[0], {0}, true); }),
                 composite("sum axes 0,2 (2,3,2)", {sample_tensor({2, 3, 2}, {}, g)}, [](auto& x) {
                     return sum(x[0], {0, -1});
                 })};
         }},
        {"mean",
         [](Generator& g) {
             return std::vector<OpSample>{
                 composite("mean all (2,3)", {sample_tensor({2, 3}, {}, g)}, [](auto& x) { return mean(x[0]); }),
                 composite("mean axis -1 (2,3)", {sample_tensor({2, 3}, {}, g)},
                           [](auto& x) { return mean(x[0], {-1}); })};
         }},
        {"max (public)",
         [](Generator& g) {
             Tensor x = Tensor::from({{0.3, -1.2, 2.0}, {1.1, 0.4, -0.5}}, f64);
             (void)g;
             return std::vector<OpSample>{composite("max all (2,3)", {x}, [](auto& v) { return max(v[0]); }),
                                          composite("max axis 1 (2,3)", {x}, [](auto& v) { return max(v[0], {1}); })};
         }},
        {"logsumexp (public)",
         [](Generator& g) {
             return std::vector<OpSample>{composite("logsumexp axis 0 (2,3)", {sample_tensor({2, 3}, {}, g)},
                                                    [](auto& x) { return logsumexp(x[0], {0}); })};
         }},
        {"stack",
         [](Generator& g) {
             return std::vector<OpSample>{
                 composite("stack axis 0 (3)+(3)", {sample_tensor({3}, {}, g), sample_tensor({3}, {}, g)},
                           [](auto& x) { return stack(x, 0); }),
                 composite("stack axis -1 (2,2)+(2,2)", {sample_tensor({2, 2}, {}, g), sample_tensor({2, 2}, {}, g)},
                           [](auto& x) { return stack(x, -1); })};
         }},
        {"transpose",
         [](Generator& g) {
             return std::vector<OpSample>{
                 composite("transpose (2,3)", {sample_tensor({2, 3}, {}, g)}, [](auto& x) { return transpose(x[0]); })};
         }},
        {"matmul (public)",
         [](Generator& g) {
             return std::vector<OpSample>{
                 composite("matmul (2,3)·(3)", {sample_tensor({2, 3}, {}, g), sample_tensor({3}, {}, g)},
                           [](auto& x) { return matmul(x[0], x[1]); }),
                 composite("matmul (3)·(3,2)", {sample_tensor({3}, {}, g), sample_tensor({3, 2}, {}, g)},
                           [](auto& x) { return matmul(x[0], x[1]); }),
                 composite("matmul (3)·(3)", {sample_tensor({3}, {}, g), sample_tensor({3}, {}, g)},
                           [](auto& x) { return matmul(x[0], x[1]); }),
                 composite("matmul (2,2,3)·(3)", {sample_tensor({2, 2, 3}, {}, g), sample_tensor({3}, {}, g)},
                           [](auto& x) { return matmul(x[0], x[1]); })};
         }},
        {"linear without bias",
         [](Generator& g) {
             return std::vector<OpSample>{
                 composite("linear (2,3)·(4,3)ᵀ", {sample_tensor({2, 3}, {}, g), sample_tensor({4, 3}, {}, g)},
                           [](auto& x) { return linear(x[0], x[1]); }),
                 composite("linear (3)·(4,3)ᵀ", {sample_tensor({3}, {}, g), sample_tensor({4, 3}, {}, g)},
                           [](auto& x) { return linear(x[0], x[1]); })};
         }},
        {"scalar forms",
         [](Generator& g) {
             return std::vector<OpSample>{
                 composite("c - x", {sample_tensor({2, 3}, {}, g)}, [](auto& x) { return 2.5 - x[0]; }),
                 composite("x - c", {sample_tensor({2, 3}, {}, g)}, [](auto& x) { return x[0] - 2.5; })};
         }},
        {"mlp",
         [](Generator& g) {
             // A two-layer network with a loss: the lecture's chain of affine maps and activations.
             return std::vector<OpSample>{composite("mlp loss",
                                                    {sample_tensor({4, 3}, {}, g), sample_tensor({5, 3}, {}, g),
                                                     sample_tensor({5}, {}, g), sample_tensor({2, 5}, {}, g)},
                                                    [](auto& x) {
                                                        Tensor h = tanh(linear(x[0], x[1], x[2]));
                                                        return mean(square(log_softmax(linear(h, x[3]), -1)));
                                                    })};
         }},
    };
    return list;
}

OpList all_ops() {
    OpList out;
    for (const OpList* l :
         {&elementwise_ops(), &binary_ops(), &shape_ops(), &reduction_ops(), &matmul_ops(), &loss_ops(), &conv_ops(),
          &pool_ops(), &norm_ops(), &rnn_ops(), &composite_ops(), &index_ops()}) {
        out.insert(out.end(), l->begin(), l->end());
    }
    return out;
}

}  // namespace adg
