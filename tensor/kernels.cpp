#include <adgraph/tensor/kernels.hpp>

#include <algorithm>
#include <cstring>
#include <limits>

#include <xtensor/xbroadcast.hpp>
#include <xtensor/xmanipulation.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xnoalias.hpp>
#include <xtensor/xreducer.hpp>
#include <xtensor/xstrided_view.hpp>

namespace adg::kernels {

namespace {

// Sizes of the axes before `axis`, at `axis`, and after it: x viewed as (outer, mid, inner).
struct Split {
    std::size_t outer = 1, mid = 1, inner = 1;
};

Split split_at(const Shape& s, std::size_t axis) {
    Split p;
    for (std::size_t i = 0; i < axis; ++i) p.outer *= s[i];
    p.mid = s[axis];
    for (std::size_t i = axis + 1; i < s.size(); ++i) p.inner *= s[i];
    return p;
}

template <class T>
xt::xarray<T> zeros_of_shape(const Shape& s, const char* op) {
    xt::xarray<T> r = new_xarray<T>(s, op);
    std::fill(r.data(), r.data() + r.size(), T(0));
    return r;
}

Shape permuted_shape(const Shape& s, const std::vector<std::size_t>& perm) {
    Shape out(perm.size());
    for (std::size_t i = 0; i < perm.size(); ++i) out[i] = s.at(perm[i]);
    return out;
}

}  // namespace

Array permute(const Array& x, const std::vector<std::size_t>& perm) {
    return x.visit([&](const auto& a) {
        using T = typename std::decay_t<decltype(a)>::value_type;
        xt::xarray<T> r = new_xarray<T>(permuted_shape(a.shape(), perm), "permute");
        xt::noalias(r) = xt::transpose(a, perm);
        return Array(std::move(r));
    });
}

Array broadcast_to(const Array& x, const Shape& shape) {
    check_broadcastable(x.shape(), shape);
    return x.visit([&](const auto& a) {
        using T = typename std::decay_t<decltype(a)>::value_type;
        auto r = new_xarray<T>(shape, "broadcast_to");
        const std::size_t n = r.size(), na = a.size();
        if (na == n) {
            std::copy(a.data(), a.data() + n, r.data());
        } else if (na == 1) {
            std::fill(r.data(), r.data() + n, a.data()[0]);
        } else {
            // Tile whole rows when `a` is a suffix of `shape` (a bias or a direction-free value): a memcpy per row.
            std::size_t s = 0;
            while (s < a.dimension() && a.shape()[s] == 1) ++s;
            const bool suffix = std::equal(a.shape().begin() + static_cast<long>(s), a.shape().end(),
                                           shape.end() - static_cast<long>(a.dimension() - s));
            if (suffix) {
                for (std::size_t i = 0; i < n; i += na) std::copy(a.data(), a.data() + na, r.data() + i);
            } else {
                xt::noalias(r) = xt::broadcast(a, shape);
            }
        }
        return Array(std::move(r));
    });
}

Array sum_to(const Array& x, const Shape& shape) {
    const Shape& xs = x.shape();
    check_summable(xs, shape);
    if (numel(xs) == numel(shape)) return x.reshaped(shape);
    // Axes merged into runs that are all summed or all kept (axes of size 1 dropped): a bias gradient, (rows, n)
    // to (n), is one summed run over one kept run, so each input row is added to the output in one vector loop.
    const std::size_t lead = xs.size() - shape.size();
    std::vector<std::size_t> size;
    std::vector<char> kept;
    for (std::size_t i = 0; i < xs.size(); ++i) {
        if (xs[i] == 1) continue;
        const char k = i >= lead && shape[i - lead] != 1;
        if (!kept.empty() && kept.back() == k) {
            size.back() *= xs[i];
        } else {
            size.push_back(xs[i]);
            kept.push_back(k);
        }
    }
    // Output stride of each run (0 for summed runs).
    std::vector<std::size_t> stride(size.size(), 0);
    for (std::size_t i = size.size(), s = 1; i-- > 0;) {
        if (kept[i]) {
            stride[i] = s;
            s *= size[i];
        }
    }
    return x.visit([&](const auto& a) {
        using T = typename std::decay_t<decltype(a)>::value_type;
        xt::xarray<T> r = zeros_of_shape<T>(shape, "sum_to");
        T* out = r.data();
        const T* in = a.data();
        const std::size_t runs = size.size(), inner = size.back();
        // Every output element sums its inputs in row-major order, whatever the leading (direction) axes: a batch
        // of k gives the k single sums bitwise.
        std::vector<std::size_t> idx(runs, 0);
        for (std::size_t base = 0, n = numel(xs); base < n; base += inner) {
            std::size_t o = 0;
            for (std::size_t d = 0; d + 1 < runs; ++d) o += idx[d] * stride[d];
            if (kept.back()) {
                T* dst = out + o;
                const T* src = in + base;
                for (std::size_t j = 0; j < inner; ++j) dst[j] += src[j];
            } else {
                T acc = out[o];
                for (std::size_t j = 0; j < inner; ++j) acc += in[base + j];
                out[o] = acc;
            }
            for (std::size_t d = runs - 1; d-- > 0;) {
                if (++idx[d] < size[d]) break;
                idx[d] = 0;
            }
        }
        return Array(std::move(r));
    });
}

Array max_keepdims(const Array& x, const std::vector<std::size_t>& axes, const char* op) {
    for (auto ax : axes) {
        if (x.shape()[ax] == 0) {
            throw value_error(std::string(op) + ": cannot reduce over the empty axis " + std::to_string(ax) +
                              " of shape " + shape_str(x.shape()) +
                              "; a maximum (and so softmax and logsumexp) needs at least one element per slice");
        }
    }
    // The reduced axes are not empty, so an empty x has an empty axis elsewhere and so an empty result (which
    // xt::reduce does not handle: it read past the empty input).
    if (x.size() == 0) return Array::empty(reduced_shape(x.shape(), axes), x.dtype(), op);
    return x.visit([&](const auto& a) {
        using T = typename std::decay_t<decltype(a)>::value_type;
        // NaN wins (xt::amax would drop it depending on its position): a NaN input must reach the output.
        const auto nan_max = [](T acc, T v) { return (v > acc || v != v) ? v : acc; };
        const auto reducer =
            xt::make_xreducer_functor(nan_max, xt::const_value<T>(-std::numeric_limits<T>::infinity()));
        xt::xarray<T> r = xt::reduce(reducer, a, axes, xt::evaluation_strategy::immediate);
        r.reshape(reduced_shape(a.shape(), axes));
        return Array(std::move(r));
    });
}

Array slice(const Array& x, std::size_t axis, std::size_t start, std::size_t stop) {
    const Split p = split_at(x.shape(), axis);
    Shape out = x.shape();
    out[axis] = stop - start;
    return x.visit([&](const auto& a) {
        using T = typename std::decay_t<decltype(a)>::value_type;
        auto r = new_xarray<T>(out, "slice");
        const std::size_t len = (stop - start) * p.inner;
        for (std::size_t o = 0; o < p.outer; ++o) {
            const T* src = a.data() + (o * p.mid + start) * p.inner;
            std::copy(src, src + len, r.data() + o * len);
        }
        return Array(std::move(r));
    });
}

Array pad(const Array& x, std::size_t axis, std::size_t start, std::size_t total) {
    const Split p = split_at(x.shape(), axis);
    Shape out = x.shape();
    out[axis] = total;
    return x.visit([&](const auto& a) {
        using T = typename std::decay_t<decltype(a)>::value_type;
        xt::xarray<T> r = zeros_of_shape<T>(out, "pad");
        const std::size_t len = p.mid * p.inner;
        for (std::size_t o = 0; o < p.outer; ++o) {
            std::copy(a.data() + o * len, a.data() + (o + 1) * len, r.data() + (o * total + start) * p.inner);
        }
        return Array(std::move(r));
    });
}

bool add_into_slice(Array& acc, const Array& part, std::size_t axis, std::size_t start) {
    const Shape &as = acc.shape(), &ps = part.shape();
    if (acc.dtype() != part.dtype() || as.size() != ps.size() || axis >= as.size() || start > as[axis] ||
        ps[axis] > as[axis] - start) {
        return false;
    }
    for (std::size_t i = 0; i < as.size(); ++i) {
        if (i != axis && as[i] != ps[i]) return false;
    }
    const Split p = split_at(as, axis);
    const std::size_t len = ps[axis] * p.inner;
    acc.visit_mut([&](auto& a) {
        using T = typename std::decay_t<decltype(a)>::value_type;
        const T* src = part.get<T>().data();
        for (std::size_t o = 0; o < p.outer; ++o) {
            T* __restrict dst = a.data() + (o * p.mid + start) * p.inner;
            const T* __restrict s = src + o * len;
            for (std::size_t e = 0; e < len; ++e) dst[e] += s[e];
        }
    });
    return true;
}

Array concat(const std::vector<Array>& xs, std::size_t axis, const char* op) {
    if (xs.empty()) throw value_error(std::string(op) + ": needs at least one tensor");
    const Shape& first = xs[0].shape();
    Shape out = first;
    out[axis] = 0;
    for (const auto& x : xs) {
        check_same_dtype(xs[0], x, op);
        bool ok = x.dim() == first.size();
        for (std::size_t i = 0; ok && i < first.size(); ++i) ok = i == axis || x.shape()[i] == first[i];
        if (!ok) {
            throw shape_error(std::string(op) + ": shapes " + shape_str(first) + " and " + shape_str(x.shape()) +
                              " differ outside axis " + std::to_string(axis) +
                              "; all tensors must have equal sizes except along the joined axis");
        }
        out[axis] += x.shape()[axis];
    }
    const Split p = split_at(out, axis);
    return xs[0].visit([&](const auto& a0) {
        using T = typename std::decay_t<decltype(a0)>::value_type;
        auto r = new_xarray<T>(out, op);
        std::size_t offset = 0;
        for (const auto& x : xs) {
            const auto& a = x.get<T>();
            const std::size_t len = a.shape()[axis] * p.inner;
            for (std::size_t o = 0; o < p.outer; ++o) {
                std::copy(a.data() + o * len, a.data() + (o + 1) * len, r.data() + o * p.mid * p.inner + offset);
            }
            offset += len;
        }
        return Array(std::move(r));
    });
}

Array index_select(const Array& x, std::size_t axis, const std::vector<std::size_t>& index) {
    const Split p = split_at(x.shape(), axis);
    for (auto i : index) {
        if (i >= p.mid) {
            throw value_error("index_select: index " + std::to_string(i) + " is out of range for axis " +
                              std::to_string(axis) + " of size " + std::to_string(p.mid) + " in shape " +
                              shape_str(x.shape()));
        }
    }
    Shape out = x.shape();
    out[axis] = index.size();
    return x.visit([&](const auto& a) {
        using T = typename std::decay_t<decltype(a)>::value_type;
        auto r = new_xarray<T>(out, "index_select");
        T* dst = r.data();
        for (std::size_t o = 0; o < p.outer; ++o) {
            for (auto i : index) {
                const T* src = a.data() + (o * p.mid + i) * p.inner;
                dst = std::copy(src, src + p.inner, dst);
            }
        }
        return Array(std::move(r));
    });
}

Array index_add(const Array& x, std::size_t axis, const std::vector<std::size_t>& index, std::size_t size) {
    const Split p = split_at(x.shape(), axis);
    if (p.mid != index.size()) {
        throw shape_error("index_add: axis " + std::to_string(axis) + " of shape " + shape_str(x.shape()) + " has " +
                          std::to_string(p.mid) + " entries but " + std::to_string(index.size()) +
                          " indices were given");
    }
    for (auto i : index) {
        if (i >= size) {
            throw value_error("index_add: index " + std::to_string(i) + " is out of range for size " +
                              std::to_string(size));
        }
    }
    Shape out = x.shape();
    out[axis] = size;
    return x.visit([&](const auto& a) {
        using T = typename std::decay_t<decltype(a)>::value_type;
        xt::xarray<T> r = zeros_of_shape<T>(out, "index_add");
        for (std::size_t o = 0; o < p.outer; ++o) {
            for (std::size_t j = 0; j < index.size(); ++j) {
                const T* src = a.data() + (o * p.mid + j) * p.inner;
                T* dst = r.data() + (o * size + index[j]) * p.inner;
                for (std::size_t e = 0; e < p.inner; ++e) dst[e] += src[e];
            }
        }
        return Array(std::move(r));
    });
}

}  // namespace adg::kernels
