// 2-D pooling of image batches (N, C, H, W): max pool (its derivative a gather at the recorded argmax and, as
// its transpose, a scatter-add), average pool (linear) and the global average pool. Kernels: tensor/pool2d.

#include <algorithm>
#include <memory>
#include <numeric>

#include <adgraph/autodiff/internal/op_samples.hpp>
#include <adgraph/tensor/pool2d.hpp>

namespace adg {

namespace {

using kernels::Pool2d;
using ArgmaxPtr = std::shared_ptr<const kernels::Argmax>;

OpSample sample(std::string label, std::vector<Tensor> inputs, MultiFn fn) {
    return {std::move(label), std::move(inputs), std::move(fn)};
}

// y[p, o] = x[p, i*(p, o)], a linear map once the argmax i* is fixed; transpose: the scatter-add below
struct PoolGather {
    static constexpr LinearMap kind{};
    static constexpr const char* name = "max_pool2d_gather";
    Locality locality(const std::vector<Shape>&, const Shape&, const std::vector<char>&) const {
        return Locality::rows;
    }
    Pool2d g;
    ArgmaxPtr argmax;
    Array forward(const Array& x) const { return kernels::pool_gather(x, g, *argmax); }
    Tensor transpose(const Tensor& ct) const;
    static std::vector<OpSample> samples(Generator& gen);
};

// x̄[p, i*(p, o)] += ȳ[p, o]; transpose: the gather above
struct PoolScatter {
    static constexpr LinearMap kind{};
    static constexpr const char* name = "max_pool2d_scatter";
    Locality locality(const std::vector<Shape>&, const Shape&, const std::vector<char>&) const {
        return Locality::rows;
    }
    Pool2d g;
    ArgmaxPtr argmax;
    Array forward(const Array& y) const { return kernels::pool_scatter(y, g, *argmax); }
    Tensor transpose(const Tensor& ct) const { return apply(PoolGather{g, argmax}, ct); }
    static std::vector<OpSample> samples(Generator& gen);
};

Tensor PoolGather::transpose(const Tensor& ct) const { return apply(PoolScatter{g, argmax}, ct); }

// y = max over each window; with i* the (first) argmax, ẏ = gather(ẋ, i*) and x̄ = scatter(ȳ, i*)
struct MaxPool2d {
    static constexpr Custom kind{};
    static constexpr const char* name = "max_pool2d";
    // Each sample's output comes from the same sample's input.
    Locality locality(const std::vector<Shape>&, const Shape&, const std::vector<char>&) const {
        return Locality::rows;
    }
    Pool2d g;
    // Filled by forward (a fresh vector per call, made by the caller); the rules read it.
    std::shared_ptr<kernels::Argmax> argmax = std::make_shared<kernels::Argmax>();
    Array forward(const Array& x) const { return kernels::max_pool2d(x, g, *argmax); }
    Tensor jvp(const std::vector<Tensor>&, const Tensor&, const std::vector<Tensor>& t) const {
        return apply(PoolGather{g, argmax}, t[0]);
    }
    Tensor vjp(const std::vector<Tensor>&, const Tensor&, const Tensor& ct, std::size_t) const {
        return apply(PoolScatter{g, argmax}, ct);
    }
    static std::vector<OpSample> samples(Generator& gen);
};

// y = Σ_window x / (kh·kw) (padded zeros counted); transpose: each ȳ spread back as ȳ / (kh·kw) over its window
struct AvgPool2dT;
struct AvgPool2d {
    static constexpr LinearMap kind{};
    static constexpr const char* name = "avg_pool2d";
    Locality locality(const std::vector<Shape>&, const Shape&, const std::vector<char>&) const {
        return Locality::rows;
    }
    Pool2d g;
    Array forward(const Array& x) const { return kernels::avg_pool2d(x, g); }
    Tensor transpose(const Tensor& ct) const;
    static std::vector<OpSample> samples(Generator& gen);
};

// the transpose of avg_pool2d; its transpose: avg_pool2d
struct AvgPool2dT {
    static constexpr LinearMap kind{};
    static constexpr const char* name = "avg_pool2d_transpose";
    Locality locality(const std::vector<Shape>&, const Shape&, const std::vector<char>&) const {
        return Locality::rows;
    }
    Pool2d g;
    Array forward(const Array& y) const { return kernels::avg_pool2d_transpose(y, g); }
    Tensor transpose(const Tensor& ct) const { return apply(AvgPool2d{g}, ct); }
    static std::vector<OpSample> samples(Generator& gen);
};

Tensor AvgPool2d::transpose(const Tensor& ct) const { return apply(AvgPool2dT{g}, ct); }

std::string pair_str(std::size_t a, std::size_t b) { return "(" + std::to_string(a) + ", " + std::to_string(b) + ")"; }

// The geometry of pooling x with `kernel`, `stride` (the kernel if not given) and `padding`, after the checks every
// pool shares (in the words of `op`).
Pool2d geometry(const char* op, const Tensor& x, Size2 kernel, std::optional<Size2> stride_opt, Size2 padding) {
    const std::string o(op);
    if (x.dim() != 4) {
        throw shape_error(o + ": input " + shape_str(x.shape()) +
                          " is not a batch of images (N, C, H, W); reshape it to 4 axes");
    }
    if (kernel.h == 0 || kernel.w == 0) {
        throw value_error(o + ": kernel " + pair_str(kernel.h, kernel.w) +
                          " has a side of 0; use a kernel of at least 1 by 1");
    }
    const Size2 stride = stride_opt.value_or(kernel);
    if (stride.h == 0 || stride.w == 0) {
        throw value_error(o + ": stride " + pair_str(stride.h, stride.w) +
                          " has a side of 0; use a stride of at least 1 (or none: it defaults to the kernel)");
    }
    if (2 * padding.h > kernel.h || 2 * padding.w > kernel.w) {
        throw value_error(o + ": padding " + pair_str(padding.h, padding.w) + " is more than half the kernel " +
                          pair_str(kernel.h, kernel.w) + "; use padding of at most kernel / 2 on each axis");
    }
    const std::size_t h = x.shape()[2], w = x.shape()[3];
    // kernel - 2·padding cannot wrap (padding <= kernel / 2), where h + 2·padding could for an absurd kernel.
    if (kernel.h - 2 * padding.h > h || kernel.w - 2 * padding.w > w) {
        throw shape_error(o + ": kernel " + pair_str(kernel.h, kernel.w) + " is larger than the padded input " +
                          pair_str(h + 2 * padding.h, w + 2 * padding.w) + " of x " + shape_str(x.shape()) +
                          "; use a smaller kernel or more padding");
    }
    Pool2d g;
    g.kh = kernel.h, g.kw = kernel.w, g.sh = stride.h, g.sw = stride.w, g.ph = padding.h, g.pw = padding.w;
    g.h = h, g.w = w;
    g.oh = (h + 2 * padding.h - kernel.h) / stride.h + 1;
    g.ow = (w + 2 * padding.w - kernel.w) / stride.w + 1;
    return g;
}

struct Case {
    Shape x;
    Size2 kernel;
    std::optional<Size2> stride;
    Size2 padding;
};

std::vector<Case> cases() {
    return {{{2, 2, 4, 4}, 2, std::nullopt, 0},
            {{1, 2, 5, 5}, 3, Size2(2), 1},
            {{2, 1, 4, 5}, Size2(2, 3), Size2(1, 2), Size2(1, 1)}};
}

std::string case_str(const Case& c) {
    const Size2 s = c.stride.value_or(c.kernel);
    return shape_str(c.x) + " k" + pair_str(c.kernel.h, c.kernel.w) + " s" + pair_str(s.h, s.w) + " p" +
           pair_str(c.padding.h, c.padding.w);
}

std::vector<OpSample> MaxPool2d::samples(Generator& gen) {
    std::vector<OpSample> out;
    for (const Case& c : cases()) {
        out.push_back(
            sample("max_pool2d " + case_str(c), {distinct_tensor(c.x, gen)},
                   [c](const std::vector<Tensor>& xs) { return max_pool2d(xs[0], c.kernel, c.stride, c.padding); }));
    }
    return out;
}

// The argmax of a max pool of a distinct sample, and the pool's geometry: fixed indices for the gather and scatter.
std::pair<Pool2d, ArgmaxPtr> fixed_argmax(const Case& c, Generator& gen) {
    const Tensor x = distinct_tensor(c.x, gen);
    const Pool2d g = geometry("max_pool2d", x, c.kernel, c.stride, c.padding);
    auto argmax = std::make_shared<kernels::Argmax>();
    kernels::max_pool2d(x.value(), g, *argmax);
    return {g, argmax};
}

std::vector<OpSample> PoolGather::samples(Generator& gen) {
    std::vector<OpSample> out;
    for (const Case& c : cases()) {
        const auto [g, argmax] = fixed_argmax(c, gen);
        out.push_back(sample("max_pool2d_gather " + case_str(c), {sample_tensor(c.x, {}, gen)},
                             [g = g, argmax = argmax](const std::vector<Tensor>& xs) {
                                 return apply(PoolGather{g, argmax}, xs[0]);
                             }));
    }
    return out;
}

std::vector<OpSample> PoolScatter::samples(Generator& gen) {
    std::vector<OpSample> out;
    for (const Case& c : cases()) {
        const auto [g, argmax] = fixed_argmax(c, gen);
        const Shape y{c.x[0], c.x[1], g.oh, g.ow};
        out.push_back(sample("max_pool2d_scatter " + case_str(c), {sample_tensor(y, {}, gen)},
                             [g = g, argmax = argmax](const std::vector<Tensor>& xs) {
                                 return apply(PoolScatter{g, argmax}, xs[0]);
                             }));
    }
    return out;
}

std::vector<OpSample> AvgPool2d::samples(Generator& gen) {
    std::vector<OpSample> out;
    for (const Case& c : cases()) {
        out.push_back(
            sample("avg_pool2d " + case_str(c), {sample_tensor(c.x, {}, gen)},
                   [c](const std::vector<Tensor>& xs) { return avg_pool2d(xs[0], c.kernel, c.stride, c.padding); }));
    }
    return out;
}

std::vector<OpSample> AvgPool2dT::samples(Generator& gen) {
    std::vector<OpSample> out;
    for (const Case& c : cases()) {
        const Pool2d g = geometry("avg_pool2d", Tensor::zeros(c.x, f64), c.kernel, c.stride, c.padding);
        const Shape y{c.x[0], c.x[1], g.oh, g.ow};
        out.push_back(sample("avg_pool2d_transpose " + case_str(c), {sample_tensor(y, {}, gen)},
                             [g](const std::vector<Tensor>& xs) { return apply(AvgPool2dT{g}, xs[0]); }));
    }
    return out;
}

// The global average pool as a list entry of its own (it is a composite of mean).
struct GlobalAvgPool2d {
    static constexpr const char* name = "global_avg_pool2d";
    static std::vector<OpSample> samples(Generator& gen) {
        return {sample("global_avg_pool2d (2,3,2,2)", {sample_tensor({2, 3, 2, 2}, {}, gen)},
                       [](const std::vector<Tensor>& xs) { return global_avg_pool2d(xs[0]); }),
                sample("global_avg_pool2d (1,2,3,1)", {sample_tensor({1, 2, 3, 1}, {}, gen)},
                       [](const std::vector<Tensor>& xs) { return global_avg_pool2d(xs[0]); })};
    }
};

Tensor global_mean(const Tensor& x) {
    if (x.dim() != 4) {
        throw shape_error("global_avg_pool2d: input " + shape_str(x.shape()) +
                          " is not a batch of images (N, C, H, W); reshape it to 4 axes");
    }
    return mean(x, {2, 3});
}

}  // namespace

#define ADG_OP_FUNCTIONS  // the public functions of the op table
#include <adgraph/autodiff/ops_pool.def>

const OpList& pool_ops() {
    static const OpList list = {
#define ADG_OP_LIST  // the entries of the op table
#include <adgraph/autodiff/ops_pool.def>
    };
    return list;
}

}  // namespace adg
