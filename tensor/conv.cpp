#include <adgraph/tensor/conv.hpp>

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

#include <xsimd/xsimd.hpp>

#include <adgraph/tensor/matmul.hpp>
#include <adgraph/tensor/parallel.hpp>

namespace adg::kernels {

// Implementation: im2col + GEMM per sample, samples split over adgraph's threads (one single-threaded GEMM per
// sample and group, no synchronisation inside a sample). Chosen by measurement (bench_conv_layers, the cnn preset's
// layers at N = 128, float32, 1 thread, CPU ms, median of 15 on a loaded 2-core EPYC):
//   1→32 on 28×28: im2col + GEMM 1.48 forward; a direct loop (nine shifted multiply-adds per filter, SSE2 as the
//                  portable build compiles it) 5.89, so no second path for small channel counts;
//   32→64 on 14×14: forward 11.45 against 10.12 for its per-sample GEMMs alone and 13.45 for one GEMM of the same
//                  multiply-adds over all samples (whose im2col matrix, 29 MB, no longer stays in cache); input
//                  gradient 11.76 against 10.19, weight gradient 12.43 against 11.28.
//
// Directions. Leading axes broadcast like matmul's batch axes. When only the image operand has them, they fold
// into the batch (k·N samples, the same GEMM per sample). When only the weight (or, for the weight correlation,
// one operand) has them, the k weight sets are stacked into one GEMM's rows (k·O/groups output channels per group,
// or k·C/groups input channels), with a copy that swaps two axes before and after. Only when both operands carry
// leading axes (nested higher-order rules) is there one call per broadcast index.

namespace {

using Index = std::ptrdiff_t;

// The geometry of one convolution: input (C, H, W), weight (O, C/G, kh, kw), output (O, Ho, Wo).
struct Geo {
    std::size_t C, H, W, O, kh, kw, Ho, Wo;
    ConvParams p;
    std::size_t G() const { return p.groups; }
    std::size_t cg() const { return C / p.groups; }
    std::size_t og() const { return O / p.groups; }
    std::size_t ck() const { return cg() * kh * kw; }
    std::size_t pix() const { return Ho * Wo; }
    std::size_t in_size() const { return C * H * W; }
    std::size_t out_size() const { return O * Ho * Wo; }
    // A 1×1 kernel at stride 1 without padding reads the image as it is: its im2col matrix is the image.
    bool direct() const {
        return kh == 1 && kw == 1 && p.stride_h == 1 && p.stride_w == 1 && p.pad_h == 0 && p.pad_w == 0;
    }
};

// Output positions o in [lo, hi) whose input position o·stride + off lies in [0, in).
void valid_range(Index off, std::size_t stride, std::size_t in, std::size_t out, std::size_t& lo, std::size_t& hi) {
    const auto s = static_cast<Index>(stride);
    lo = off >= 0 ? 0 : static_cast<std::size_t>((-off + s - 1) / s);
    const Index top = static_cast<Index>(in) - 1 - off;
    hi = top < 0 ? 0 : std::min(out, static_cast<std::size_t>(top / s) + 1);
    lo = std::min(lo, hi);
}

// Zeroes n entries at p. The borders im2col zeroes are mostly a single entry (padding 1), which a store writes in
// less time than a call to memset (3 % of the 32→64 layer's forward in perf, at two calls per patch row).
template <class T>
void zero(T* p, std::size_t n) {
    if (n == 1) {
        *p = T(0);
    } else if (n > 1) {
        std::fill(p, p + n, T(0));
    }
}

// dst[i] += src[i] for i < n, in SIMD batches: -O2's cheap vectoriser leaves a loop of unknown length whose
// operands may alias scalar (col2im was 13 % of the input gradient's time in perf). The same additions, so the
// same bits.
template <class T>
void add_into(T* dst, const T* src, std::size_t n) {
    using Batch = xsimd::batch<T>;
    std::size_t i = 0;
    for (; i + Batch::size <= n; i += Batch::size) {
        (Batch::load_unaligned(dst + i) + Batch::load_unaligned(src + i)).store_unaligned(dst + i);
    }
    for (; i < n; ++i) dst[i] += src[i];
}

// col (C/G·kh·kw, Ho·Wo) = the patches of group `grp` of one image x (C, H, W); zeros where the kernel meets padding.
// Positions are computed as signed indices into the channel and turned into pointers only once inside it.
template <class T>
void im2col(const T* x, const Geo& g, std::size_t grp, T* col) {
    const std::size_t P = g.pix();
    const bool same_width = g.p.stride_h == 1 && g.p.stride_w == 1 && g.Wo == g.W;
    const auto W = static_cast<Index>(g.W);
    for (std::size_t c = 0; c < g.cg(); ++c) {
        const T* xc = x + (grp * g.cg() + c) * g.H * g.W;
        for (std::size_t i = 0; i < g.kh; ++i) {
            const Index off_h = static_cast<Index>(i * g.p.dil_h) - static_cast<Index>(g.p.pad_h);
            std::size_t h0, h1;
            valid_range(off_h, g.p.stride_h, g.H, g.Ho, h0, h1);
            for (std::size_t j = 0; j < g.kw; ++j) {
                T* row = col + ((c * g.kh + i) * g.kw + j) * P;
                const Index off_w = static_cast<Index>(j * g.p.dil_w) - static_cast<Index>(g.p.pad_w);
                std::size_t w0, w1;
                valid_range(off_w, g.p.stride_w, g.W, g.Wo, w0, w1);
                if (same_width && w0 < w1 && h0 < h1) {
                    // Stride 1 and an output as wide as the image: rows h0..h1 of this patch row are the image
                    // shifted by one offset, so one copy moves them all; the entries that wrapped around a row end
                    // (outside w0..w1) become the padding's zeros.
                    const std::size_t first = h0 * g.Wo + w0, last = (h1 - 1) * g.Wo + w1;
                    const T* src = xc + (static_cast<Index>(first) + off_h * W + off_w);
                    std::fill(row, row + first, T(0));
                    std::copy(src, src + (last - first), row + first);
                    std::fill(row + last, row + P, T(0));
                    for (std::size_t oh = h0; oh < h1; ++oh) {
                        zero(row + oh * g.Wo, w0);
                        zero(row + oh * g.Wo + w1, g.Wo - w1);
                    }
                    continue;
                }
                for (std::size_t oh = 0; oh < g.Ho; ++oh) {
                    T* r = row + oh * g.Wo;
                    if (oh < h0 || oh >= h1 || w0 >= w1) {
                        std::fill(r, r + g.Wo, T(0));
                        continue;
                    }
                    // Image row oh·stride + off_h, shifted by off_w.
                    const Index base = (static_cast<Index>(oh * g.p.stride_h) + off_h) * W + off_w;
                    zero(r, w0);
                    if (g.p.stride_w == 1) {
                        std::copy(xc + (base + static_cast<Index>(w0)), xc + (base + static_cast<Index>(w1)), r + w0);
                    } else {
                        for (std::size_t ow = w0; ow < w1; ++ow) {
                            r[ow] = xc[base + static_cast<Index>(ow * g.p.stride_w)];
                        }
                    }
                    zero(r + w1, g.Wo - w1);
                }
            }
        }
    }
}

// The adjoint of im2col: adds each patch entry of col back onto the image position it was read from. col is
// scratch: the same-width path zeroes its entries that belong to the padding, then adds a whole patch row at once.
template <class T>
void col2im(T* col, const Geo& g, std::size_t grp, T* x) {
    const std::size_t P = g.pix();
    const bool same_width = g.p.stride_h == 1 && g.p.stride_w == 1 && g.Wo == g.W;
    const auto W = static_cast<Index>(g.W);
    for (std::size_t c = 0; c < g.cg(); ++c) {
        T* xc = x + (grp * g.cg() + c) * g.H * g.W;
        for (std::size_t i = 0; i < g.kh; ++i) {
            const Index off_h = static_cast<Index>(i * g.p.dil_h) - static_cast<Index>(g.p.pad_h);
            std::size_t h0, h1;
            valid_range(off_h, g.p.stride_h, g.H, g.Ho, h0, h1);
            for (std::size_t j = 0; j < g.kw; ++j) {
                T* row = col + ((c * g.kh + i) * g.kw + j) * P;
                const Index off_w = static_cast<Index>(j * g.p.dil_w) - static_cast<Index>(g.p.pad_w);
                std::size_t w0, w1;
                valid_range(off_w, g.p.stride_w, g.W, g.Wo, w0, w1);
                if (h0 >= h1 || w0 >= w1) continue;
                if (same_width) {
                    for (std::size_t oh = h0; oh < h1; ++oh) {
                        zero(row + oh * g.Wo, w0);
                        zero(row + oh * g.Wo + w1, g.Wo - w1);
                    }
                    const std::size_t first = h0 * g.Wo + w0, last = (h1 - 1) * g.Wo + w1;
                    add_into(xc + (static_cast<Index>(first) + off_h * W + off_w), row + first, last - first);
                    continue;
                }
                for (std::size_t oh = h0; oh < h1; ++oh) {
                    const T* r = row + oh * g.Wo;
                    const Index base = (static_cast<Index>(oh * g.p.stride_h) + off_h) * W + off_w;
                    if (g.p.stride_w == 1) {
                        add_into(xc + (base + static_cast<Index>(w0)), r + w0, w1 - w0);
                    } else {
                        for (std::size_t ow = w0; ow < w1; ++ow)
                            xc[base + static_cast<Index>(ow * g.p.stride_w)] += r[ow];
                    }
                }
            }
        }
    }
}

constexpr std::size_t split_macs = std::size_t{1} << 16;

// f(n0, n1) over samples [0, b), split over adgraph's threads when a sample's products are large enough.
template <class F>
void for_samples(std::size_t b, std::size_t macs_per_sample, F&& f) {
    const std::size_t grain = std::max<std::size_t>(1, split_macs / std::max<std::size_t>(1, macs_per_sample));
    parallel_for(b, grain, 1, f);
}

template <class T>
xt::xarray<T> scratch(std::size_t rows, std::size_t cols, const char* op) {
    return new_xarray<T>(Shape{rows, cols}, op);
}

// y (B, O, Ho, Wo) = x (B, C, H, W) ⋆ w (O, C/G, kh, kw) (+ bias): per sample and group one GEMM
// W_g (O/G × C/G·kh·kw) · col (C/G·kh·kw × Ho·Wo), C starting as the bias.
template <class T>
void conv_core(const T* x, std::size_t b, const T* w, const T* bias, T* y, const Geo& g) {
    const std::size_t P = g.pix(), CK = g.ck(), Og = g.og();
    for_samples(b, g.O * CK * P, [&](std::size_t n0, std::size_t n1) {
        xt::xarray<T> col = g.direct() ? scratch<T>(0, 0, "conv2d") : scratch<T>(CK, P, "conv2d");
        for (std::size_t n = n0; n < n1; ++n) {
            for (std::size_t grp = 0; grp < g.G(); ++grp) {
                const T* patches = x + n * g.in_size() + grp * g.cg() * g.H * g.W;
                if (!g.direct()) {
                    im2col(x + n * g.in_size(), g, grp, col.data());
                    patches = col.data();
                }
                T* yg = y + n * g.out_size() + grp * Og * P;
                if (bias) {
                    for (std::size_t o = 0; o < Og; ++o) std::fill(yg + o * P, yg + (o + 1) * P, bias[grp * Og + o]);
                }
                gemm_serial(w + grp * Og * CK, Og, CK, patches, CK, P, yg, false, false, bias ? T(1) : T(0));
            }
        }
    });
}

// x̄ (B, C, H, W) from ȳ (B, O, Ho, Wo): per sample and group col = W_gᵀ · ȳ_g, then col2im.
template <class T>
void conv_transpose_core(const T* gy, std::size_t b, const T* w, T* xbar, const Geo& g) {
    const std::size_t P = g.pix(), CK = g.ck(), Og = g.og();
    for_samples(b, g.O * CK * P, [&](std::size_t n0, std::size_t n1) {
        xt::xarray<T> col = g.direct() ? scratch<T>(0, 0, "conv2d") : scratch<T>(CK, P, "conv2d");
        for (std::size_t n = n0; n < n1; ++n) {
            T* xn = xbar + n * g.in_size();
            if (!g.direct()) std::fill(xn, xn + g.in_size(), T(0));
            for (std::size_t grp = 0; grp < g.G(); ++grp) {
                const T* gg = gy + n * g.out_size() + grp * Og * P;
                if (g.direct()) {
                    gemm_serial(w + grp * Og * CK, Og, CK, gg, Og, P, xn + grp * g.cg() * g.H * g.W, true, false, T(0));
                } else {
                    gemm_serial(w + grp * Og * CK, Og, CK, gg, Og, P, col.data(), true, false, T(0));
                    col2im(col.data(), g, grp, xn);
                }
            }
        }
    });
}

// w̄ (O, C/G, kh, kw) = Σₙ ȳₙ,g · colₙ,gᵀ. Samples are cut into at most num_threads() parts, each summing into its
// own buffer; the parts are added in order, so a thread count always gives the same bits.
template <class T>
void conv_weight_core(const T* x, const T* gy, std::size_t b, T* wbar, const Geo& g) {
    const std::size_t P = g.pix(), CK = g.ck(), Og = g.og(), size = g.O * CK;
    const std::size_t grain = std::max<std::size_t>(1, split_macs / std::max<std::size_t>(1, size * P));
    const std::size_t parts =
        std::max<std::size_t>(1, std::min<std::size_t>(static_cast<std::size_t>(num_threads()), b / grain));
    const std::size_t chunk = (b + parts - 1) / parts;
    // Part 0 sums into w̄ itself, the others into buffers of their own.
    std::vector<xt::xarray<T>> acc;
    acc.reserve(parts);
    for (std::size_t part = 0; part < parts; ++part) acc.push_back(scratch<T>(part == 0 ? 0 : g.O, CK, "conv2d"));
    parallel_for(parts, 1, 1, [&](std::size_t p0, std::size_t p1) {
        for (std::size_t part = p0; part < p1; ++part) {
            T* a = part == 0 ? wbar : acc[part].data();
            std::fill(a, a + size, T(0));
            xt::xarray<T> col = g.direct() ? scratch<T>(0, 0, "conv2d") : scratch<T>(CK, P, "conv2d");
            for (std::size_t n = part * chunk; n < std::min(b, (part + 1) * chunk); ++n) {
                for (std::size_t grp = 0; grp < g.G(); ++grp) {
                    const T* patches = x + n * g.in_size() + grp * g.cg() * g.H * g.W;
                    if (!g.direct()) {
                        im2col(x + n * g.in_size(), g, grp, col.data());
                        patches = col.data();
                    }
                    gemm_serial(gy + n * g.out_size() + grp * Og * P, Og, P, patches, CK, P, a + grp * Og * CK, false,
                                true, T(1));
                }
            }
        }
    });
    for (std::size_t part = 1; part < parts; ++part) {
        const T* a = acc[part].data();
        for (std::size_t i = 0; i < size; ++i) wbar[i] += a[i];
    }
}

// dst (B, A, R) = src (A, B, R) with the first two axes swapped.
template <class T>
void swap01(const T* src, std::size_t a, std::size_t b, std::size_t r, T* dst) {
    for (std::size_t i = 0; i < a; ++i) {
        for (std::size_t j = 0; j < b; ++j)
            std::copy(src + (i * b + j) * r, src + (i * b + j + 1) * r, dst + (j * a + i) * r);
    }
}

Shape lead_of(const Shape& s) { return Shape(s.begin(), s.end() - 4); }

// For each flat index of the broadcast shape `l`, the flat indices into `la` and `lb` (numpy broadcasting).
std::vector<std::pair<std::size_t, std::size_t>> broadcast_pairs(const Shape& l, const Shape& la, const Shape& lb) {
    std::vector<std::pair<std::size_t, std::size_t>> out;
    const std::size_t rank = l.size(), total = numel(l);
    Shape idx(rank, 0);
    for (std::size_t i = 0; i < total; ++i) {
        std::size_t oa = 0, ob = 0;
        for (std::size_t d = 0, sa = 1, sb = 1; d < rank; ++d) {
            const std::size_t axis = rank - 1 - d;
            const std::size_t da = d < la.size() ? la[la.size() - 1 - d] : 1;
            const std::size_t db = d < lb.size() ? lb[lb.size() - 1 - d] : 1;
            if (da != 1) oa += idx[axis] * sa;
            if (db != 1) ob += idx[axis] * sb;
            sa *= da;
            sb *= db;
        }
        out.emplace_back(oa, ob);
        for (std::size_t d = rank; d-- > 0;) {
            if (++idx[d] < l[d]) break;
            idx[d] = 0;
        }
    }
    return out;
}

[[noreturn]] void misfit(const char* op, const Shape& a, const char* what_a, const Shape& b, const char* what_b,
                         const char* need) {
    throw shape_error(std::string(op) + ": " + what_a + " " + shape_str(a) + " and " + what_b + " " + shape_str(b) +
                      " do not fit: " + need);
}

// The geometry of x (…, N, C, H, W) against a weight (…, O, C/G, kh, kw), checked.
Geo geometry(const char* op, const Shape& xs, const Shape& ws, const ConvParams& p) {
    if (xs.size() < 4 || ws.size() < 4) {
        misfit(op, xs, "input", ws, "weight", "need an input (N, C, H, W) and a weight (O, C/groups, kh, kw)");
    }
    check_conv_params(p, op);
    const std::size_t r = xs.size(), q = ws.size();
    Geo g{xs[r - 3], xs[r - 2], xs[r - 1], ws[q - 4], ws[q - 2], ws[q - 1], 0, 0, p};
    if (g.C % p.groups != 0 || g.C / p.groups != ws[q - 3] || g.O % p.groups != 0) {
        misfit(op, xs, "input", ws, "weight", "the input's channels must be the weight's axis 1 times groups");
    }
    if (conv_out_size(g.H, g.kh, 1, p.pad_h, p.dil_h) == 0 || conv_out_size(g.W, g.kw, 1, p.pad_w, p.dil_w) == 0) {
        misfit(op, xs, "input", ws, "weight", "the dilated kernel is larger than the padded input");
    }
    g.Ho = conv_out_size(g.H, g.kh, p.stride_h, p.pad_h, p.dil_h);
    g.Wo = conv_out_size(g.W, g.kw, p.stride_w, p.pad_w, p.dil_w);
    return g;
}

}  // namespace

void check_conv_params(const ConvParams& p, const char* op) {
    if (p.groups == 0 || p.stride_h == 0 || p.stride_w == 0 || p.dil_h == 0 || p.dil_w == 0) {
        throw value_error(std::string(op) + ": stride " + std::to_string(p.stride_h) + "x" +
                          std::to_string(p.stride_w) + ", dilation " + std::to_string(p.dil_h) + "x" +
                          std::to_string(p.dil_w) + " and groups " + std::to_string(p.groups) +
                          " must each be at least 1; pass positive values");
    }
    if (std::max({p.stride_h, p.stride_w, p.pad_h, p.pad_w, p.dil_h, p.dil_w}) > max_conv_step) {
        throw value_error(std::string(op) + ": stride " + std::to_string(p.stride_h) + "x" +
                          std::to_string(p.stride_w) + ", padding " + std::to_string(p.pad_h) + "x" +
                          std::to_string(p.pad_w) + " and dilation " + std::to_string(p.dil_h) + "x" +
                          std::to_string(p.dil_w) + " must each be at most " + std::to_string(max_conv_step) +
                          "; pass smaller values");
    }
}

std::size_t conv_out_size(std::size_t in, std::size_t k, std::size_t stride, std::size_t pad, std::size_t dil) {
    std::size_t span = 0, padded = 0;
    if (k == 0 || stride == 0 || __builtin_mul_overflow(dil, k - 1, &span) || __builtin_add_overflow(span, 1, &span) ||
        __builtin_mul_overflow(pad, 2, &padded) || __builtin_add_overflow(padded, in, &padded) || padded < span) {
        return 0;
    }
    return (padded - span) / stride + 1;
}

Array conv2d(const Array& x, const Array& w, const Array* bias, const ConvParams& p) {
    check_same_dtype(x, w, "conv2d");
    const Shape &xs = x.shape(), &ws = w.shape();
    const Geo g = geometry("conv2d", xs, ws, p);
    const Shape lx = lead_of(xs), lw = lead_of(ws);
    const std::size_t n = xs[xs.size() - 4], nx = numel(lx), nw = numel(lw);
    if (bias) {
        check_same_dtype(x, *bias, "conv2d");
        if (bias->shape() != Shape{g.O} || !lw.empty()) {
            misfit("conv2d", bias->shape(), "bias", ws, "weight",
                   "the bias must be (O) beside a weight (O, C/groups, kh, kw)");
        }
    }
    Shape out = broadcast_shape(lx, lw, "conv2d");
    for (std::size_t s : {n, g.O, g.Ho, g.Wo}) out.push_back(s);
    return x.visit([&](const auto& xa) {
        using T = typename std::decay_t<decltype(xa)>::value_type;
        const T* wp = w.get<T>().data();
        const T* bp = bias ? bias->get<T>().data() : nullptr;
        auto y = new_xarray<T>(out, "conv2d");
        if (nw == 1) {
            conv_core(xa.data(), nx * n, wp, bp, y.data(), g);
        } else if (nx == 1) {
            // k weight sets as k·O/G output channels per group: (k, G, O/G·CK) → (G, k, O/G·CK), then the output
            // (N, G, k, O/G·P) back to (k, N, G, O/G·P).
            auto wf = new_xarray<T>(Shape{nw * g.O * g.ck()}, "conv2d");
            swap01(wp, nw, g.G(), g.og() * g.ck(), wf.data());
            Geo gf = g;
            gf.O = nw * g.O;
            auto yf = new_xarray<T>(Shape{n * gf.out_size()}, "conv2d");
            conv_core(xa.data(), n, wf.data(), static_cast<const T*>(nullptr), yf.data(), gf);
            swap01(yf.data(), n * g.G(), nw, g.og() * g.pix(), y.data());
        } else {
            const auto pairs = broadcast_pairs(Shape(out.begin(), out.end() - 4), lx, lw);
            for (std::size_t l = 0; l < pairs.size(); ++l) {
                conv_core(xa.data() + pairs[l].first * n * g.in_size(), n, wp + pairs[l].second * g.O * g.ck(), bp,
                          y.data() + l * n * g.out_size(), g);
            }
        }
        return Array(std::move(y));
    });
}

Array conv2d_transpose(const Array& gy, const Array& w, const ConvParams& p, std::size_t h, std::size_t w_size) {
    check_same_dtype(gy, w, "conv2d_transpose");
    const Shape &gs = gy.shape(), &ws = w.shape();
    if (gs.size() < 4 || ws.size() < 4) {
        misfit("conv2d_transpose", gs, "gradient", ws, "weight",
               "need a gradient (N, O, Ho, Wo) and a weight (O, C/groups, kh, kw)");
    }
    Shape xs = {gs[gs.size() - 4], ws[ws.size() - 3] * p.groups, h, w_size};
    const Geo g = geometry("conv2d_transpose", xs, ws, p);
    if (gs[gs.size() - 3] != g.O || gs[gs.size() - 2] != g.Ho || gs[gs.size() - 1] != g.Wo) {
        misfit("conv2d_transpose", gs, "gradient", ws, "weight",
               "the gradient must be (N, O, Ho, Wo) of the convolution");
    }
    const Shape lg = lead_of(gs), lw = lead_of(ws);
    const std::size_t n = xs[0], ng = numel(lg), nw = numel(lw);
    Shape out = broadcast_shape(lg, lw, "conv2d_transpose");
    for (std::size_t s : xs) out.push_back(s);
    return gy.visit([&](const auto& ga) {
        using T = typename std::decay_t<decltype(ga)>::value_type;
        const T* wp = w.get<T>().data();
        auto x = new_xarray<T>(out, "conv2d_transpose");
        if (nw == 1) {
            conv_transpose_core(ga.data(), ng * n, wp, x.data(), g);
        } else if (ng == 1) {
            // k weight sets as k·C/G input channels per group: (k, O, CK) → (O, k, CK); the result
            // (N, G, k, C/G·H·W) back to (k, N, G, C/G·H·W).
            auto wf = new_xarray<T>(Shape{nw * g.O * g.ck()}, "conv2d_transpose");
            swap01(wp, nw, g.O, g.ck(), wf.data());
            Geo gf = g;
            gf.C = nw * g.C;
            auto xf = new_xarray<T>(Shape{n * gf.in_size()}, "conv2d_transpose");
            conv_transpose_core(ga.data(), n, wf.data(), xf.data(), gf);
            swap01(xf.data(), n * g.G(), nw, g.cg() * g.H * g.W, x.data());
        } else {
            const auto pairs = broadcast_pairs(Shape(out.begin(), out.end() - 4), lg, lw);
            for (std::size_t l = 0; l < pairs.size(); ++l) {
                conv_transpose_core(ga.data() + pairs[l].first * n * g.out_size(), n,
                                    wp + pairs[l].second * g.O * g.ck(), x.data() + l * n * g.in_size(), g);
            }
        }
        return Array(std::move(x));
    });
}

Array conv2d_weight(const Array& x, const Array& gy, const ConvParams& p, std::size_t kh, std::size_t kw) {
    check_same_dtype(x, gy, "conv2d_weight");
    const Shape &xs = x.shape(), &gs = gy.shape();
    if (xs.size() < 4 || gs.size() < 4 || p.groups == 0 || xs[xs.size() - 3] % p.groups != 0) {
        misfit("conv2d_weight", xs, "input", gs, "gradient",
               "need an input (N, C, H, W) and a gradient (N, O, Ho, Wo)");
    }
    const Shape ws = {gs[gs.size() - 3], xs[xs.size() - 3] / p.groups, kh, kw};
    const Geo g = geometry("conv2d_weight", xs, ws, p);
    const std::size_t n = xs[xs.size() - 4];
    if (gs[gs.size() - 4] != n || gs[gs.size() - 2] != g.Ho || gs[gs.size() - 1] != g.Wo) {
        misfit("conv2d_weight", xs, "input", gs, "gradient", "the gradient must be (N, O, Ho, Wo) of the convolution");
    }
    const Shape lx = lead_of(xs), lg = lead_of(gs);
    const std::size_t nx = numel(lx), ng = numel(lg);
    Shape out = broadcast_shape(lx, lg, "conv2d_weight");
    for (std::size_t s : ws) out.push_back(s);
    return x.visit([&](const auto& xa) {
        using T = typename std::decay_t<decltype(xa)>::value_type;
        const T* gp = gy.get<T>().data();
        auto r = new_xarray<T>(out, "conv2d_weight");
        const std::size_t wsize = g.O * g.ck();
        if (nx == 1 && ng == 1) {
            conv_weight_core(xa.data(), gp, n, r.data(), g);
        } else if (nx == 1) {
            // k gradients as k·O/G output channels per group: (k, N·G, O/G·P) → (N·G, k, O/G·P); the result
            // (G, k, O/G·CK) back to (k, G, O/G·CK).
            auto gf = new_xarray<T>(Shape{ng * n * g.out_size()}, "conv2d_weight");
            swap01(gp, ng, n * g.G(), g.og() * g.pix(), gf.data());
            Geo f = g;
            f.O = ng * g.O;
            auto rf = new_xarray<T>(Shape{ng * wsize}, "conv2d_weight");
            conv_weight_core(xa.data(), gf.data(), n, rf.data(), f);
            swap01(rf.data(), g.G(), ng, g.og() * g.ck(), r.data());
        } else if (ng == 1) {
            // k images as k·C/G input channels per group: (k, N·G, C/G·H·W) → (N·G, k, C/G·H·W); the result
            // (O, k, CK) back to (k, O, CK).
            auto xf = new_xarray<T>(Shape{nx * n * g.in_size()}, "conv2d_weight");
            swap01(xa.data(), nx, n * g.G(), g.cg() * g.H * g.W, xf.data());
            Geo f = g;
            f.C = nx * g.C;
            auto rf = new_xarray<T>(Shape{nx * wsize}, "conv2d_weight");
            conv_weight_core(xf.data(), gp, n, rf.data(), f);
            swap01(rf.data(), g.O, nx, g.ck(), r.data());
        } else {
            const auto pairs = broadcast_pairs(Shape(out.begin(), out.end() - 4), lx, lg);
            for (std::size_t l = 0; l < pairs.size(); ++l) {
                conv_weight_core(xa.data() + pairs[l].first * n * g.in_size(), gp + pairs[l].second * n * g.out_size(),
                                 n, r.data() + l * wsize, g);
            }
        }
        return Array(std::move(r));
    });
}

Array conv2d_bias_grad(const Array& gy, const Shape& core) {
    const Shape& s = gy.shape();
    if (core.size() < 3 || s.size() < core.size() || !std::equal(core.begin(), core.end(), s.end() - core.size())) {
        throw shape_error("conv2d_bias_grad: gradient " + shape_str(s) + " does not end with the output shape " +
                          shape_str(core) + "; pass the gradient of a convolution's output (…, N, O, Ho, Wo)");
    }
    const Shape lead(s.begin(), s.end() - core.size());
    const std::size_t kd = numel(lead), o = core[core.size() - 3], p = core[core.size() - 2] * core.back();
    const std::size_t b = numel(Shape(core.begin(), core.end() - 3));
    Shape out = lead;
    out.push_back(o);
    return gy.visit([&](const auto& ga) {
        using T = typename std::decay_t<decltype(ga)>::value_type;
        auto r = new_xarray<T>(out, "conv2d_bias_grad");
        const T* src = ga.data();
        parallel_for(kd * o, std::max<std::size_t>(1, parallel_grain / std::max<std::size_t>(1, b * p)), 1,
                     [&](std::size_t r0, std::size_t r1) {
                         for (std::size_t row = r0; row < r1; ++row) {
                             const std::size_t d = row / o, c = row % o;
                             // Eight running sums side by side (a fixed order, so the result never depends on the
                             // thread count) keep the loop vectorisable without reassociating by the compiler.
                             T lane[8] = {};
                             T tail = 0;
                             for (std::size_t n = 0; n < b; ++n) {
                                 const T* v = src + ((d * b + n) * o + c) * p;
                                 std::size_t q = 0;
                                 for (; q + 8 <= p; q += 8) {
                                     for (std::size_t l = 0; l < 8; ++l) lane[l] += v[q + l];
                                 }
                                 for (; q < p; ++q) tail += v[q];
                             }
                             T sum = tail;
                             for (T l : lane) sum += l;
                             r.data()[row] = sum;
                         }
                     });
        return Array(std::move(r));
    });
}

}  // namespace adg::kernels
