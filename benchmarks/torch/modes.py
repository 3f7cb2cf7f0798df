#!/usr/bin/python3
"""PyTorch functorch peer of bench_modes: the same 3-layer tanh network (hidden 64) for the same (n, m) and the same
batch-64 MLP loss, each in bench_modes' two forms (matmul: W3 @ tanh(W2 @ tanh(W1 @ x)) without bias; linear:
tanh(linear(x, W, b)) per layer), float32, 1 intra-op thread: primal, jvp, vjp, jacfwd, jacrev (torch.func, or
functorch on PyTorch < 2), plus the plain autograd VJP (record, then torch.autograd.grad). Timings of a case are
interleaved round-robin; medians in microseconds. Prints a table, or with --json one JSON object per case (same keys
as bench_modes)."""
import argparse
import json
import math
import os
import platform
import statistics
import time

import torch

try:  # PyTorch >= 2.0
    from torch import func as transforms
    TRANSFORMS = "torch.func"
except ImportError:  # PyTorch 1.13: the same transforms in the functorch package
    import functorch as transforms
    TRANSFORMS = "functorch"


def make_layer(n_in, n_out, gen):
    bound = 1.0 / math.sqrt(n_in)
    w = (torch.rand(n_out, n_in, generator=gen) * 2 - 1) * bound
    b = (torch.rand(n_out, generator=gen) * 2 - 1) * bound
    return w, b


def linear(x, w, b):
    return torch.nn.functional.linear(x, w, b)


def tanh_net(n, m, hidden, form, gen):
    """f: R^n -> R^m, x of shape (n). matmul form W3 @ tanh(W2 @ tanh(W1 @ x)); linear form: tanh on every layer."""
    (w1, b1), (w2, b2), (w3, b3) = make_layer(n, hidden, gen), make_layer(hidden, hidden, gen), make_layer(hidden, m, gen)

    if form == "matmul":
        def f(x):
            return w3 @ torch.tanh(w2 @ torch.tanh(w1 @ x))
    else:
        def f(x):
            return torch.tanh(linear(torch.tanh(linear(torch.tanh(linear(x, w1, b1)), w2, b2)), w3, b3))

    return f"tanh n={n} m={m}", form, n, m, torch.rand(n, generator=gen) * 2 - 1, f


def mlp_loss(batch, features, hidden, form, gen):
    """Mean of squares over a batch: matmul form with the batch in columns (x of shape (features, batch)), linear
    form in rows (x of shape (batch, features))."""
    (w1, b1), (w2, b2) = make_layer(features, hidden, gen), make_layer(hidden, hidden, gen)
    w3, b3 = make_layer(hidden, 1, gen)

    if form == "matmul":
        def f(x):
            return torch.mean(torch.square(w3 @ torch.tanh(w2 @ torch.tanh(w1 @ x))))

        x = torch.rand(features, batch, generator=gen) * 2 - 1
    else:
        def f(x):
            h = torch.tanh(linear(torch.tanh(linear(torch.tanh(linear(x, w1, b1)), w2, b2)), w3, b3))
            return torch.mean(torch.square(h))

        x = torch.rand(batch, features, generator=gen) * 2 - 1
    return f"mlp loss {batch}x{features}", form, batch * features, 1, x, f


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
    name, form, n, m, x, f = case
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
        lambda: transforms.jvp(f, (x,), (v,)),
        lambda: transforms.vjp(f, x)[1](u),
        lambda: transforms.jacfwd(f)(x),
        lambda: transforms.jacrev(f)(x),
        lambda: autograd_vjp(f, x, u),
    ]
    t, reps = interleaved_medians(fns, budget, min_reps)
    diff = (transforms.jacfwd(f)(x) - transforms.jacrev(f)(x)).abs().max().item()
    us = 1e6
    return {"table": "transforms", "case": name, "form": form, "n": n, "m": m, "reps": reps, "primal_us": us * t[0],
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
    ap.add_argument("--forms", default="matmul,linear", help="comma-separated: matmul, linear")
    ap.add_argument("--quick", action="store_true", help="tiny sizes (smoke run)")
    ap.add_argument("--json", action="store_true", help="one JSON object per result line")
    a = ap.parse_args()
    shapes, batch, features = [(1, 1000), (10, 1000), (100, 100), (1000, 10), (1000, 1)], 64, 16
    if a.quick:
        shapes, a.hidden, batch, features, a.budget, a.min_reps = [(1, 20), (5, 5), (20, 1)], 8, 4, 3, 0.01, 2
    forms = a.forms.split(",")
    if not forms or any(f not in ("matmul", "linear") for f in forms):
        ap.error(f"--forms wants matmul and/or linear, comma-separated, got '{a.forms}'")
    torch.set_num_threads(a.threads)
    gen = torch.Generator().manual_seed(1)
    cases = [tanh_net(n, m, a.hidden, f, gen) for n, m in shapes for f in forms]
    cases += [mlp_loss(batch, features, a.hidden, f, gen) for f in forms]
    context = {"program": "modes", "engine": "functorch", "transforms": TRANSFORMS, "torch": torch.__version__,
               "dtype": "float32",
               "threads": torch.get_num_threads(), "hidden": a.hidden, "cpu": cpu_model(), "cores": os.cpu_count()}
    if not a.json:
        print(f"{TRANSFORMS} (PyTorch {torch.__version__}) on the bench_modes shapes and forms; medians of interleaved "
              "rounds, microseconds")
        print(f"machine: {context['cpu']}, {context['cores']} cores")
        print(f"dtype float32, hidden {a.hidden}, threads {context['threads']}")
        print(f"{'case':20} {'form':6} {'reps':>5} {'primal':>9} {'jvp':>9} {'vjp':>9} {'jacfwd':>10} {'jacrev':>10} "
              f"{'autograd':>9} {'jvp/p':>7} {'vjp/p':>7} {'fwd/rev':>9}")
    for case in cases:
        r = measure(case, a.budget, a.min_reps)
        if a.json:
            print(json.dumps({**context, **r}), flush=True)
        else:
            print(f"{r['case']:20} {r['form']:6} {r['reps']:5d} {r['primal_us']:9.1f} {r['jvp_us']:9.1f} {r['vjp_us']:9.1f} "
                  f"{r['jacfwd_us']:10.1f} {r['jacrev_us']:10.1f} {r['autograd_vjp_us']:9.1f} "
                  f"{r['jvp_over_primal']:7.2f} {r['vjp_over_primal']:7.2f} {r['jacfwd_over_jacrev']:9.3f}", flush=True)


if __name__ == "__main__":
    main()
