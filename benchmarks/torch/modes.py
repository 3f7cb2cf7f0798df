#!/usr/bin/python3
"""PyTorch functorch peer of bench_modes: the same 3-layer tanh network (hidden 64) for the same (n, m) and the same
batch-64 MLP loss, float32, 1 intra-op thread: primal, jvp, vjp, jacfwd, jacrev (functorch transforms), plus the
plain autograd VJP (record, then torch.autograd.grad). Timings of a case are interleaved round-robin; medians in
microseconds. Prints a table, or with --json one JSON object per case (same keys as bench_modes)."""
import argparse
import json
import math
import os
import platform
import statistics
import time

import torch
import functorch


def make_layer(n_in, n_out, gen):
    bound = 1.0 / math.sqrt(n_in)
    w = (torch.rand(n_out, n_in, generator=gen) * 2 - 1) * bound
    b = (torch.rand(n_out, generator=gen) * 2 - 1) * bound
    return w, b


def tanh_net(n, m, hidden, gen):
    (w1, b1), (w2, b2), (w3, b3) = make_layer(n, hidden, gen), make_layer(hidden, hidden, gen), make_layer(hidden, m, gen)

    def f(x):
        return torch.tanh(torch.nn.functional.linear(
            torch.tanh(torch.nn.functional.linear(torch.tanh(torch.nn.functional.linear(x, w1, b1)), w2, b2)), w3, b3))

    return f"tanh n={n} m={m}", n, m, torch.rand(n, generator=gen) * 2 - 1, f


def mlp_loss(batch, features, hidden, gen):
    (w1, b1), (w2, b2), (w3, b3) = make_layer(features, hidden, gen), make_layer(hidden, hidden, gen), make_layer(hidden, 1, gen)

    def f(x):
        h = torch.tanh(torch.nn.functional.linear(
            torch.tanh(torch.nn.functional.linear(torch.tanh(torch.nn.functional.linear(x, w1, b1)), w2, b2)), w3, b3))
        return torch.mean(torch.square(h))

    return f"mlp loss {batch}x{features}", batch * features, 1, torch.rand(batch, features, generator=gen) * 2 - 1, f


def interleaved_medians(fns, budget, min_reps):
    """Round-robin medians like bench_modes: each timed call directly follows an untimed one (warm cache)."""
    for fn in fns:
        fn()
    start = time.perf_counter()
    for fn in fns:
        fn()
    one_round = 2 * (time.perf_counter() - start)
    reps = int(max(min_reps, min(2000, budget / max(one_round, 1e-9))))
    times = [[] for _ in fns]
    for _ in range(reps):
        for i, fn in enumerate(fns):
            fn()
            t = time.perf_counter()
            fn()
            times[i].append(time.perf_counter() - t)
    return [statistics.median(t) for t in times], reps


def autograd_vjp(f, x, u):
    xr = x.detach().requires_grad_(True)
    return torch.autograd.grad(f(xr), xr, u)[0]


def measure(case, budget, min_reps):
    name, n, m, x, f = case
    gen = torch.Generator().manual_seed(3)
    v = torch.rand(x.shape, generator=gen) * 2 - 1
    with torch.no_grad():
        y = f(x)
    u = torch.rand(y.shape, generator=gen) * 2 - 1

    def primal():
        with torch.no_grad():
            f(x)

    fns = [
        primal,
        lambda: functorch.jvp(f, (x,), (v,)),
        lambda: functorch.vjp(f, x)[1](u),
        lambda: functorch.jacfwd(f)(x),
        lambda: functorch.jacrev(f)(x),
        lambda: autograd_vjp(f, x, u),
    ]
    t, reps = interleaved_medians(fns, budget, min_reps)
    diff = (functorch.jacfwd(f)(x) - functorch.jacrev(f)(x)).abs().max().item()
    us = 1e6
    return {"table": "transforms", "case": name, "n": n, "m": m, "reps": reps, "primal_us": us * t[0],
            "jvp_us": us * t[1], "vjp_us": us * t[2], "jacfwd_us": us * t[3], "jacrev_us": us * t[4],
            "autograd_vjp_us": us * t[5], "jvp_over_primal": t[1] / t[0], "vjp_over_primal": t[2] / t[0],
            "jacfwd_over_jacrev": t[3] / t[4], "max_diff": diff}


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--budget", type=float, default=1.5, help="seconds of timing per case")
    ap.add_argument("--min-reps", type=int, default=7)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="tiny sizes (smoke run)")
    ap.add_argument("--json", action="store_true", help="one JSON object per result line")
    a = ap.parse_args()
    shapes, batch, features = [(1, 1000), (10, 1000), (100, 100), (1000, 10), (1000, 1)], 64, 16
    if a.quick:
        shapes, a.hidden, batch, features, a.budget, a.min_reps = [(1, 20), (5, 5), (20, 1)], 8, 4, 3, 0.01, 2
    torch.set_num_threads(a.threads)
    gen = torch.Generator().manual_seed(1)
    cases = [tanh_net(n, m, a.hidden, gen) for n, m in shapes] + [mlp_loss(batch, features, a.hidden, gen)]
    context = {"program": "modes", "engine": "functorch", "torch": torch.__version__, "dtype": "float32",
               "threads": torch.get_num_threads(), "hidden": a.hidden, "cpu": cpu_model(), "cores": os.cpu_count()}
    if not a.json:
        print(f"functorch (PyTorch {torch.__version__}) on the bench_modes shapes; medians of interleaved rounds, "
              "microseconds")
        print(f"machine: {context['cpu']}, {context['cores']} cores")
        print(f"dtype float32, hidden {a.hidden}, threads {context['threads']}")
        print(f"{'case':20} {'reps':>5} {'primal':>9} {'jvp':>9} {'vjp':>9} {'jacfwd':>10} {'jacrev':>10} "
              f"{'autograd':>9} {'jvp/p':>7} {'vjp/p':>7} {'fwd/rev':>9}")
    for case in cases:
        r = measure(case, a.budget, a.min_reps)
        if a.json:
            print(json.dumps({**context, **r}), flush=True)
        else:
            print(f"{r['case']:20} {r['reps']:5d} {r['primal_us']:9.1f} {r['jvp_us']:9.1f} {r['vjp_us']:9.1f} "
                  f"{r['jacfwd_us']:10.1f} {r['jacrev_us']:10.1f} {r['autograd_vjp_us']:9.1f} "
                  f"{r['jvp_over_primal']:7.2f} {r['vjp_over_primal']:7.2f} {r['jacfwd_over_jacrev']:9.3f}", flush=True)


if __name__ == "__main__":
    main()
