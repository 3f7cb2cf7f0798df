#include "rnn_grads.hpp"

#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "machine.hpp"
#include "memory.hpp"

namespace adg::bench {

namespace {

// Bytes live now: malloc's in-use bytes (arrays under 64 KiB, graph nodes, vectors) and the library's own large
// buffers, which malloc does not see.
double live_bytes() { return static_cast<double>(mallinfo2().uordblks) + static_cast<double>(buffer_bytes_in_use()); }

Tensor loss_of(const Tensor& h, const Tensor& target) { return mean(square(h - target)); }

Grads flat(const std::vector<Tensor>& ts) {
    Grads g;
    for (const auto& t : ts) {
        std::vector<double> v(t.size());
        for (std::size_t i = 0; i < v.size(); ++i) v[i] = t.value().flat(i);
        g.push_back(std::move(v));
    }
    return g;
}

// The recorded sequence from a zero state, the state detached before every multiple of `window` (0: never).
Grads recorded_grads(RnnProblem& p, std::size_t window, MemoryMeter* meter) {
    p.cell->zero_grad();
    Tensor h = Tensor::zeros({p.batch, p.hidden}, p.target.dtype());
    for (std::size_t t = 0; t < p.xs.size(); ++t) {
        if (window && t > 0 && t % window == 0) h = h.detach();
        h = p.cell->forward(p.xs[t], h);
        if (meter) meter->note();
    }
    loss_of(h, p.target).backward();
    h = Tensor();
    if (meter) meter->note();
    std::vector<Tensor> grads;
    for (const auto& w : p.cell->parameters()) grads.push_back(w.grad());
    return flat(grads);
}

}  // namespace

RnnProblem make_rnn_problem(std::size_t input, std::size_t hidden, std::size_t steps, std::size_t batch, Dtype dtype,
                            std::uint64_t seed) {
    Generator gen(seed);
    RnnProblem p;
    p.cell = std::make_shared<nn::GRUCell>(input, hidden, gen, true, dtype);
    for (std::size_t t = 0; t < steps; ++t) p.xs.push_back(Tensor::normal({batch, input}, 0, 1, gen, dtype));
    p.target = Tensor::uniform({batch, hidden}, -1, 1, gen, dtype);
    p.batch = batch;
    p.hidden = hidden;
    return p;
}

MemoryMeter::MemoryMeter() {
    // Freed memory kept from earlier runs would hide this run's own: hand it back first.
    release_cached_buffers();
    malloc_trim(0);
    reset_peak_rss();
    base_rss_ = current_rss();
    base_live_ = live_bytes();
}

void MemoryMeter::note() { held_ = std::max(held_, live_bytes() - base_live_); }

MemoryUse MemoryMeter::finish() const {
    const std::size_t peak = peak_rss();
    return {peak > base_rss_ ? static_cast<double>(peak - base_rss_) : 0.0, held_};
}

double max_abs_diff(const Grads& a, const Grads& b, const std::vector<std::vector<char>>& mask) {
    double d = 0;
    for (std::size_t j = 0; j < a.size(); ++j) {
        for (std::size_t i = 0; i < a[j].size(); ++i) {
            if (mask.empty() || mask[j][i]) d = std::max(d, std::abs(a[j][i] - b[j][i]));
        }
    }
    return d;
}

double max_abs(const Grads& g) {
    double m = 0;
    for (const auto& v : g) {
        for (const double x : v) m = std::max(m, std::abs(x));
    }
    return m;
}

Grads bptt_grads(RnnProblem& p, MemoryMeter* meter) { return recorded_grads(p, 0, meter); }

Grads truncated_grads(RnnProblem& p, std::size_t window, MemoryMeter* meter) {
    return recorded_grads(p, window, meter);
}

std::vector<RtrlChunk> rtrl_chunks(RnnProblem& p, std::size_t k) {
    std::vector<RtrlChunk> chunks;
    const auto params = p.cell->parameters();
    for (std::size_t j = 0; j < params.size(); ++j) {
        const std::size_t n = params[j].size();
        for (std::size_t from = 0; from < n; from += k) chunks.push_back({j, from, std::min(k, n - from)});
    }
    return chunks;
}

Grads zero_grads(RnnProblem& p) {
    Grads g;
    for (const auto& w : p.cell->parameters()) g.emplace_back(w.size(), 0.0);
    return g;
}

double rtrl_chunk(RnnProblem& p, const RtrlChunk& c, Grads& g, MemoryMeter* meter) {
    const auto start = std::chrono::steady_clock::now();
    const Tensor w = p.cell->parameters()[c.param];
    const Directions seed = Directions::basis(w.shape(), w.dtype(), c.from, c.count);
    // h_0 = 0 does not depend on the parameters: the first step has no state tangent.
    Tensor h = Tensor::zeros({p.batch, p.hidden}, p.target.dtype()), dh;
    const std::size_t steps = p.xs.size();
    for (std::size_t t = 0; t < steps; ++t) {
        const Tensor prev = dh.defined() ? h.requires_grad() : h;
        const Tensor next = p.cell->forward(p.xs[t], prev);
        const bool last = t + 1 == steps;
        const Tensor out = last ? loss_of(next, p.target) : next;
        std::vector<Tensor> inputs{w};
        std::vector<Directions> tangents{seed};
        if (dh.defined()) {
            inputs.push_back(prev);
            tangents.emplace_back(dh);
        }
        Tensor d = forward_sweep_directions(inputs, std::move(tangents), {out})[0];
        if (last) {
            for (std::size_t r = 0; r < c.count; ++r) g[c.param][c.from + r] = d.value().flat(r);
        } else {
            dh = std::move(d);
            h = next.detach();  // the step's graph goes with `next`
        }
        if (meter) meter->note();
    }
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

namespace {

// The first chunk of each parameter tensor.
std::vector<RtrlChunk> first_chunks(RnnProblem& p, std::size_t chunk) {
    std::vector<RtrlChunk> firsts;
    for (const auto& c : rtrl_chunks(p, chunk)) {
        if (c.from == 0) firsts.push_back(c);
    }
    return firsts;
}

}  // namespace

MemoryUse measure_memory(RnnProblem& p, const std::string& mode, std::size_t window, std::size_t chunk) {
    const std::vector<RtrlChunk> chunks = first_chunks(p, chunk);
    Grads g = zero_grads(p);
    MemoryMeter meter;
    if (mode == "bptt") {
        bptt_grads(p, &meter);
    } else if (mode == "truncated") {
        truncated_grads(p, window, &meter);
    } else {
        for (const auto& c : chunks) rtrl_chunk(p, c, g, &meter);
    }
    return meter.finish();
}

void warm_up(const RnnProblem& p, std::size_t window, std::size_t chunk) {
    RnnProblem w = p;
    w.xs.resize(std::min<std::size_t>(2, w.xs.size()));
    bptt_grads(w, nullptr);
    truncated_grads(w, window, nullptr);
    Grads g = zero_grads(w);
    for (const auto& c : first_chunks(w, chunk)) rtrl_chunk(w, c, g, nullptr);
}

}  // namespace adg::bench
