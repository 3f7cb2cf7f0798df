#!/usr/bin/env python3
"""Turns the JSON lines of scripts/run-benchmarks.sh into docs/benchmarks.md: tables, the issue's target ratios
(each the median over rounds of the ratio measured within a round) and plots (gnuplot).

    benchmarks/report.py RESULTS_DIR [--docs DOCS_DIR] [--section cnn|gru]

Without --docs the page is printed. With --section cnn only the CNN section is made from RESULTS_DIR (a run of
`scripts/run-benchmarks.sh --only cnn`) and, with --docs, spliced into the existing page in place of its CNN
section, the rest of the page untouched; --section gru likewise for the GRU section (after the CNN one). Only the
standard library is used."""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def faster(xs, ys):
    """Round by round, the smaller of two timings, either of which may be missing (None, or ys shorter)."""
    ys = list(ys) + [None] * (len(xs) - len(ys))
    return [min(v for v in (x, y) if v) if (x or y) else None for x, y in zip(xs, ys)]


def read_jsonl(path):
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if line.startswith("{"):
            rows.append(json.loads(line))
    return rows


class Run:
    """All rounds of one run: rows[program][round] = list of JSON objects."""

    def __init__(self, root):
        self.root = root
        self.rounds = sorted((p for p in root.glob("round-*") if p.is_dir()), key=lambda p: int(p.name.split("-")[1]))
        self.env = {}
        env = root / "run.env"
        if env.exists():
            for line in env.read_text().splitlines():
                k, _, v = line.partition("=")
                self.env[k] = v
        self.load = (root / "load.txt").read_text().strip().splitlines() if (root / "load.txt").exists() else []

    def per_round(self, name):
        return [read_jsonl(r / f"{name}.jsonl") for r in self.rounds]

    def has(self, name):
        return any(rows for rows in self.per_round(name))


def by_key(rows, key, **match):
    return {r[key]: r for r in rows if all(r.get(k) == v for k, v in match.items())}


def fmt(v, digits=1):
    if v is None:
        return "–"
    if isinstance(v, str):
        return v
    if abs(v) >= 1e5 or (0 < abs(v) < 1e-3):
        return f"{v:.2e}"
    return f"{v:.{digits}f}"


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---:" if i else "---" for i in range(len(header))) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def fmt_near(v, edge, digits=3):
    """fmt(v, digits), with more digits where the rounded value would read as the goal's edge itself (2.500 for a
    value just above a goal of ≤ 2.5), so a row never shows the edge next to 'missed'."""
    if v is None:
        return fmt(v)
    while digits < 6 and round(v, digits) == edge and v != edge:
        digits += 1
    return fmt(v, digits)


class Targets:
    def __init__(self):
        self.rows = []

    def add(self, what, value, goal, ok, note=""):
        self.rows.append((what, value, goal, "met" if ok else ("**missed**" if ok is not None else "–"), note))

    def markdown(self):
        return table(["target", "measured", "goal", "", "note"], self.rows)


FORMS = ("matmul", "linear")


def form_of(row):
    """The form a bench_modes row was written in; rows from before the matmul form (and ADOL-C's, whose function has
    the biases and the tanh on every layer) are the linear form."""
    return row.get("form", "linear")


def modes_section(run, targets, targets22, plots_dir, lines):
    adg = run.per_round("modes")
    ft = run.per_round("modes_functorch")
    ad = run.per_round("modes_adolc")
    kept = run.per_round("modes_retain")
    keys = []  # (case, form) in bench_modes' order: both forms of a case next to each other
    for r in adg[0]:
        if r.get("table") == "transforms" and (r["case"], form_of(r)) not in keys:
            keys.append((r["case"], form_of(r)))
    if not keys:
        return
    cases = list(dict.fromkeys(c for c, _ in keys))
    forms = [f for f in FORMS if any(k[1] == f for k in keys)]

    def row_of(rows, table_name, case, form):
        return next((r for r in rows if r.get("table") == table_name and r.get("case") == case
                     and form_of(r) == form), None)

    def series(rounds, case, form, field, table_name="transforms"):
        return [(row_of(rows, table_name, case, form) or {}).get(field) for rows in rounds]

    def ratio_series(num_rounds, num_field, den_rounds, den_field, case, form, num_table="transforms",
                     den_table="transforms"):
        out = []
        for a, b in zip(num_rounds, den_rounds):
            x = (row_of(a, num_table, case, form) or {}).get(num_field)
            y = (row_of(b, den_table, case, form) or {}).get(den_field)
            out.append(x / y if x and y else None)
        return out

    def nm(case):
        r = next(row_of(adg[0], "transforms", case, f) for f in forms if row_of(adg[0], "transforms", case, f))
        return r["n"], r["m"]

    first = adg[0][0]
    lines.append("## Forward vs reverse mode (`bench_modes`)\n")
    mlp_case = next((c for c in cases if c.startswith("mlp")), None)
    mlp_text = ""
    if mlp_case:
        mlp_text = (f", plus an MLP loss (the same network on an input batch {mlp_case.split()[-1]}, mean of "
                    f"squares, so n = {nm(mlp_case)[0]}, m = 1)")
    lines.append(f"f: Rⁿ → Rᵐ is a 3-layer tanh network (hidden {first.get('hidden')}){mlp_text}; "
                 f"{first['dtype']}, {first['threads']} BLAS thread. Every case runs in two **forms**: *matmul* is "
                 "f(x) = W3·tanh(W2·tanh(W1·x)) written with `matmul(W, x)` and no bias, as docs/tutorial.md "
                 "teaches and as the functorch and ADOL-C peers write networks (the MLP loss with the batch in "
                 "columns, x of shape (features, batch)); *linear* is `tanh(linear(x, W, b))` on every layer, "
                 "the batch in rows. Transforms record the function and sweep it (as a user calls them); medians "
                 "in µs. `jvp/p` and `vjp/p` are the cost of one JVP / VJP in units of the primal (evaluated "
                 "without recording).\n")
    rows = []
    for c, f in keys:
        g = lambda fld: med(series(adg, c, f, fld))
        diffs = [v for v in series(adg, c, f, "max_diff") if v is not None]
        rows.append([c, f, fmt(g("primal_us")), fmt(g("jvp_us")), fmt(g("vjp_us")), fmt(g("jacfwd_us")),
                     fmt(g("jacrev_us")), fmt(g("jvp_over_primal"), 2), fmt(g("vjp_over_primal"), 2),
                     fmt(g("jacfwd_over_jacrev"), 3), f"{max(diffs):.1e}" if diffs else "–"])
    lines.append(table(["case", "form", "primal", "jvp", "vjp", "jacfwd", "jacrev", "jvp/p", "vjp/p",
                        "jacfwd/jacrev", "max |jacfwd − jacrev|"], rows))
    lines.append("\n**Same recorded graph**: record f once, then sweep that graph forward and backward (k directions "
                 "per sweep; k = n basis tangents is jacfwd's sweep, k = m basis cotangents jacrev's). *Seed GEMM* is "
                 "the one GEMM a naive identity seed costs in the first layer (jacfwd) or the last (jacrev), timed "
                 "with cblas in the same rounds; `jacfwd / seed GEMM` near 1 means the transform is FLOP-bound.\n")
    rows = []
    for c, f in keys:
        g = lambda fld: med(series(adg, c, f, fld, "same_graph"))
        rows.append([c, f, fmt(g("record_us")), fmt(g("sweep_fwd_us")), fmt(g("sweep_rev_us")),
                     fmt(g("sweep_jacfwd_us")), fmt(g("sweep_jacrev_us")), fmt(g("seed_gemm_fwd_us")),
                     fmt(g("seed_gemm_rev_us")), fmt(g("jacfwd_over_seed_gemm"), 2),
                     fmt(g("jacrev_over_seed_gemm"), 2)])
    lines.append(table(["case", "form", "record", "fwd k=1", "rev k=1", "fwd k=n", "rev k=m", "seed GEMM (fwd)",
                        "seed GEMM (rev)", "jacfwd / seed GEMM", "jacrev / seed GEMM"], rows))

    if any(row_of(rows_, "transforms", keys[0][0], keys[0][1]) and "jacrev_faults" in
           row_of(rows_, "transforms", keys[0][0], keys[0][1]) for rows_ in adg):
        lines.append("\n**Page faults**: minor page faults per call (`getrusage` ru_minflt before and after each "
                     "timed call; the mean over a round's calls, so a storm every few calls shows, then the median "
                     "over rounds). A fault is a page the kernel maps afresh, "
                     "i.e. memory that was given back to the OS and requested again; 0 means every buffer the call "
                     "needed came from memory the process kept.\n")
        rows = []
        for c, f in keys:
            g = lambda fld, t="transforms": med(series(adg, c, f, fld, t))
            rows.append([c, f] + [fmt(g(fld), 1) for fld in ("primal_faults", "jvp_faults", "vjp_faults",
                                                              "jacfwd_faults", "jacrev_faults")]
                        + [fmt(g("sweep_jacfwd_faults", "same_graph"), 1),
                           fmt(g("sweep_jacrev_faults", "same_graph"), 1)])
        lines.append(table(["case", "form", "primal", "jvp", "vjp", "jacfwd", "jacrev", "fwd k=n", "rev k=m"], rows))

    if any(any(r.get("table") == "structured" for r in rows_) for rows_ in adg):
        lines.append("\n`jacobian(f, x)` looks at the recorded graph and picks the structure, the mode and the number "
                     "of directions itself (here every Jacobian is dense, so it picks the cheaper of jacfwd and jacrev; "
                     "the difference is the cost of the analysis).\n")
        rows = []
        for c, f in keys:
            row = row_of(adg[0], "structured", c, f)
            if row:
                rows.append([c, f, fmt(med(series(adg, c, f, "jacobian_us", "structured"))), row["structure"]])
        lines.append(table(["case", "form", "jacobian(f, x) µs", "structure, mode, directions"], rows))

    # The two forms side by side: adgraph / functorch and adgraph / the naive seed GEMM, per form.
    side = lambda name: [f"{name} ({f})" for f in forms]
    if any(ft):
        f0 = ft[0][0]
        api = f0.get("transforms", "functorch")
        lines.append(f"\n**Peers, same shapes and forms.** functorch (`{api}` of PyTorch {f0.get('torch')}, "
                     f"{f0['dtype']}, {f0['threads']} thread, `torch.set_num_threads(1)`; `autograd` is a plain "
                     "`torch.autograd.grad` VJP) runs the identical two functions "
                     "(`benchmarks/torch/modes.py`).\n")
        rows = []
        for c, f in keys:
            g = lambda fld: med(series(ft, c, f, fld))
            rows.append([c, f, fmt(g("primal_us")), fmt(g("jvp_us")), fmt(g("vjp_us")), fmt(g("jacfwd_us")),
                         fmt(g("jacrev_us")), fmt(g("autograd_vjp_us"))])
        lines.append(table(["case", "form", "primal", "jvp", "vjp", "jacfwd", "jacrev", "autograd vjp"], rows))
        lines.append("\n**adgraph / functorch**, the two forms side by side: adgraph's time over functorch's, the "
                     "median over rounds of each round's ratio (0.2 = 5× faster).\n")
        rows = []
        for c in cases:
            row = [c]
            for fld in ("jvp_us", "vjp_us", "jacfwd_us", "jacrev_us"):
                row += [fmt(med(ratio_series(adg, fld, ft, fld, c, f)), 3) for f in forms]
            rows.append(row)
        lines.append(table(["case"] + side("jvp") + side("vjp") + side("jacfwd") + side("jacrev"), rows))
    lines.append("\n**adgraph / naive seed GEMM**, side by side: the transform's whole time (record + sweep) over "
                 "the one GEMM a naive identity seed costs (≤ 1.1 where the Jacobian is FLOP-bound, n or m = 1000, "
                 "is issue 22's target), with the page faults of the same calls.\n")
    rows = []
    for c in cases:
        row = [c]
        for fld, t in (("jacfwd_over_seed_gemm", "same_graph"), ("jacrev_over_seed_gemm", "same_graph"),
                       ("jacfwd_faults", "transforms"), ("jacrev_faults", "transforms")):
            row += [fmt(med(series(adg, c, f, fld, t)), 2 if "gemm" in fld else 1) for f in forms]
        rows.append(row)
    lines.append(table(["case"] + side("jacfwd / seed GEMM") + side("jacrev / seed GEMM") + side("jacfwd faults")
                       + side("jacrev faults"), rows))

    retain_targets = []  # added after the speed targets
    if any(kept):
        lines.append("\n**Freed memory as shipped.** The same jacrev once more in a second process of each round "
                     "that first calls `retain_freed_memory()` (`bench_modes --retain-freed-memory`), as programs had "
                     "to before the library kept freed memory by itself; the ratio is the library as shipped over "
                     "that, per round, median (issue 22's target: ≤ 1.2).\n")
        rows = []
        for r0 in (r for r in kept[0] if r.get("table") == "transforms"):
            c, f = r0["case"], form_of(r0)
            ratio = med(ratio_series(adg, "jacrev_us", kept, "jacrev_us", c, f))
            rows.append([c, f, fmt(med(series(adg, c, f, "jacrev_us"))), fmt(med(series(kept, c, f, "jacrev_us"))),
                         fmt(ratio, 2), fmt(med(series(adg, c, f, "jacrev_faults")), 1),
                         fmt(med(series(kept, c, f, "jacrev_faults")), 1)])
            retain_targets.append((f"modes, {c} ({f}): jacrev as shipped / with retain_freed_memory()",
                                   fmt_near(ratio, 1.2), "≤ 1.2", ratio is not None and ratio <= 1.2))
        lines.append(table(["case", "form", "jacrev µs, as shipped", "jacrev µs, retain_freed_memory() called",
                            "as shipped / called", "faults per call, as shipped", "faults per call, called"], rows))

    if any(ad):
        lines.append("\nADOL-C 2.7 (scalar tape, float64: ADOL-C has no float32; its function is the linear form, "
                     "biases and a tanh on every layer): the function is taped once "
                     "(`tape`), then swept (`zos` = primal from the tape, `jvp` = fos_forward, `vjp` = zos_forward "
                     "+ fos_reverse, `jacfwd` = fov_forward with n directions, `jacrev` = zos_forward + fov_reverse "
                     "with m). Compare with adgraph's *same recorded graph* sweeps (float32) above.\n")
        rows = []
        for c in cases:
            g = lambda fld: med(series(ad, c, "linear", fld))
            rows.append([c, fmt(g("primal_us")), fmt(g("tape_us")), fmt(g("zos_us")), fmt(g("jvp_us")),
                         fmt(g("vjp_us")), fmt(g("jacfwd_us")), fmt(g("jacrev_us"))])
        lines.append(table(["case", "primal (double)", "tape", "zos", "jvp", "vjp", "jacfwd", "jacrev"], rows))

    # Issue 4's targets, on the form they were set for (linear).
    if mlp_case and "linear" in forms:
        jp = med(series(adg, mlp_case, "linear", "jvp_over_primal"))
        vp = med(series(adg, mlp_case, "linear", "vjp_over_primal"))
        targets.add(f"modes, {mlp_case}: JVP / primal", fmt(jp, 3), "≤ 2", jp is not None and jp <= 2)
        targets.add(f"modes, {mlp_case}: VJP / primal", fmt(vp, 3), "≤ 3", vp is not None and vp <= 3)
    for c in cases:
        if "linear" not in forms:
            break
        n, m = nm(c)
        r = med(series(adg, c, "linear", "jacfwd_over_jacrev"))
        targets.add(f"modes, {c}: jacfwd / jacrev time (one batched sweep each)", fmt(r, 3),
                    f"follows n/m = {n / m:g}", None)
    # Issue 22's: both forms against functorch where latency-bound, and against the seed GEMM where FLOP-bound.
    for c, f in keys:
        n, m = nm(c)
        if any(ft):
            checks = [("jvp_us", "JVP", True), ("vjp_us", "VJP", True), ("jacfwd_us", "jacfwd", n <= 100),
                      ("jacrev_us", "jacrev", m <= 100)]
            for fld, label, latency_bound in checks:
                if not latency_bound:
                    continue
                r = med(ratio_series(adg, fld, ft, fld, c, f))
                if f == "linear":
                    sp = med(ratio_series(ft, fld, adg, fld, c, f))
                    targets.add(f"modes, {c}: {label} speed-up vs functorch", fmt(sp, 1) + "×", "≥ 5×",
                                sp is not None and sp >= 5)
                targets22.add(f"modes, {c} ({f}): {label}, adgraph / functorch", fmt_near(r, 0.2),
                              "≤ 0.2 (5× faster)", r is not None and r <= 0.2)
        if not c.startswith("tanh"):
            continue
        for big, fld, label in ((n, "jacfwd_over_seed_gemm", "jacfwd"), (m, "jacrev_over_seed_gemm", "jacrev")):
            if big < 1000:
                continue
            r = med(series(adg, c, f, fld, "same_graph"))
            if f == "linear":
                targets.add(f"modes, {c}: {label} / naive seed GEMM ({big} directions)", fmt(r, 2), "≤ 1.1",
                            r is not None and r <= 1.1)
            targets22.add(f"modes, {c} ({f}): {label} / naive seed GEMM ({big} directions)", fmt_near(r, 1.1),
                          "≤ 1.1", r is not None and r <= 1.1)

    for row in retain_targets:
        targets22.add(*row)

    # The crossover plot: every engine's jacfwd/jacrev time ratio against n/m, per form.
    if plots_dir is not None and shutil.which("gnuplot"):
        # The points go inline (a datablock) and gnuplot prints the PNG on stdout: no path is part of the script.
        data = []
        series_list = []
        for f in forms:
            series_list += [(f"adgraph, transforms ({f})", adg, f, ("jacfwd_us", "jacrev_us", "transforms")),
                            (f"adgraph, same recorded graph ({f})", adg, f,
                             ("sweep_jacfwd_us", "sweep_jacrev_us", "same_graph")),
                            (f"functorch ({f})", ft, f, ("jacfwd_us", "jacrev_us", "transforms"))]
        series_list.append(("ADOL-C, sweeps over the tape (linear)", ad, "linear",
                            ("jacfwd_us", "jacrev_us", "transforms")))
        count = 0
        for label, rounds, f, field_pairs in series_list:
            if not any(rounds):
                continue
            pts = []
            for c in (c for c in cases if c.startswith("tanh")):
                row = row_of(rounds[0], field_pairs[2], c, f)
                if not row:
                    continue
                r = med(ratio_series(rounds, field_pairs[0], rounds, field_pairs[1], c, f, field_pairs[2],
                                     field_pairs[2]))
                if r:
                    pts.append((row["n"] / row["m"], r))
            if not pts:
                continue
            count += 1
            data.append(f'"{label}"')
            for x, y in sorted(pts):
                data.append(f"{x} {y}")
            data += ["", ""]
        png = plots_dir / "modes-crossover.png"
        script = f"""set terminal pngcairo size 900,560 font 'sans,10'
$crossover << EOD
{chr(10).join(data)}
EOD
set logscale xy
set grid
set key top left
set title 'jacfwd / jacrev time against n / m (3-layer tanh network, hidden {first.get('hidden')}, {first['dtype']}, 1 thread)'
set xlabel 'n / m (inputs / outputs)'
set ylabel 'time(jacfwd) / time(jacrev)'
set xrange [0.0005:2000]
plot for [i=0:{count - 1}] $crossover index i using 1:2 with linespoints pt 7 title columnheader(1), \\
     x with lines dt 2 lc rgb 'gray40' title 'proportional to n / m'
"""
        gp = subprocess.run(["gnuplot"], input=script.encode(), capture_output=True, check=False) if count else None
        if gp is not None and gp.returncode == 0 and gp.stdout.startswith(b"\x89PNG\r\n\x1a\n"):
            tmp = png.with_name(png.name + f".tmp.{os.getpid()}")
            tmp.write_bytes(gp.stdout)
            os.replace(tmp, png)
        elif gp is not None:
            print(f"report.py: warning: gnuplot exited with status {gp.returncode}, no {png} written: "
                  f"{gp.stderr.decode(errors='replace').strip()}", file=sys.stderr)
        if png.exists():
            lines.append(f"\n![jacfwd/jacrev crossover]({plots_dir.name}/{png.name})\n")
    lines.append("")


def overhead_section(run, targets, targets22, lines):
    adg = run.per_round("overhead")
    tt = run.per_round("overhead_torch")
    if not any(adg):
        return
    first = adg[0][0]
    lines.append("## Per-op overhead (`bench_overhead`)\n")
    lines.append(f"A chain of {first['ops']} ops (tanh and × 0.99, alternating) on tensors of 1 and of 1024 "
                 f"elements, {first['dtype']}, 1 thread; µs per op. *record + fwd* runs the chain with recording "
                 "on (values included), *backward* is the reverse sweep that follows (freeing the graph), *fwd "
                 "sweep* a forward sweep over the same recorded chain. Ratios are adgraph / libtorch, per round, "
                 "median.\n")
    rows = []
    sizes = [r["elements"] for r in adg[0]]
    for s in sizes:
        g = lambda f, rounds=adg: med([by_key(rs, "elements").get(s, {}).get(f) for rs in rounds])
        rr = lambda f: med([(by_key(a, "elements").get(s, {}).get(f) or 0) / by_key(b, "elements")[s][f]
                            for a, b in zip(adg, tt) if b and s in by_key(b, "elements")])
        row = [s, fmt(g("nograd_us_per_op"), 3), fmt(g("record_us_per_op"), 3), fmt(g("backward_us_per_op"), 3),
               fmt(g("forward_sweep_us_per_op"), 3)]
        if any(tt):
            row += [fmt(g("nograd_us_per_op", tt), 3), fmt(g("record_us_per_op", tt), 3),
                    fmt(g("backward_us_per_op", tt), 3), fmt(rr("record_us_per_op"), 2), fmt(rr("backward_us_per_op"), 2)]
            for label, field in [("record + forward", "record_us_per_op"), ("backward", "backward_us_per_op")]:
                r = rr(field)
                targets.add(f"overhead, {s} element(s): {label} per op, adgraph / libtorch", fmt(r, 3), "≤ 0.2",
                            r is not None and r <= 0.2)
                if s == max(sizes):
                    targets22.add(f"overhead, {s} element(s): {label} per op, adgraph / libtorch", fmt_near(r, 0.2),
                                  "≤ 0.2", r is not None and r <= 0.2)
        rows.append(row)
    header = ["elements", "no grad", "record + fwd", "backward", "fwd sweep"]
    if any(tt):
        header += ["libtorch no grad", "libtorch record + fwd", "libtorch backward", "record ratio", "backward ratio"]
    lines.append(table(header, rows))
    lines.append("")


def user_section(run, adg, best_torch, thread_counts, epoch, targets22, lines):
    """The epoch as a user writes it (bench_mlp_user) beside libtorch, in dataset order and shuffled."""
    in_order, shuffled = run.per_round("mlp_user_in_order"), run.per_round("mlp_user")
    torch_shuffled = run.per_round("mlp_torch_shuffled")
    if not any(in_order) and not any(shuffled):
        return
    rows = []
    for t in thread_counts:
        ui, us = epoch(in_order, "adgraph-user", t), epoch(shuffled, "adgraph-user", t)
        lt = best_torch.get(t, [])
        ls = epoch(torch_shuffled, "libtorch", t)
        a = epoch(adg, "adgraph", t)
        r_in = med([x / y for x, y in zip(ui, lt) if x and y])
        r_sh = med([x / y for x, y in zip(us, ls) if x and y])
        r_bench = med([x / y for x, y in zip(ui, a) if x and y])
        rows.append([t, fmt(med(ui), 3), fmt(med(us), 3), fmt(med(lt), 3) if any(lt) else "–",
                     fmt(med(ls), 3) if any(ls) else "–", fmt(r_in, 2), fmt(r_sh, 2), fmt(r_bench, 2)])
        if any(ls):
            targets22.add(f"mlp as a user writes it, {t} thread(s), shuffled: adgraph / libtorch shuffled",
                          fmt_near(r_sh, 0.85), "≤ 0.85", r_sh is not None and r_sh <= 0.85,
                          "bench_mlp_user against bench_mlp_torch --shuffle (passive waiting)")
    lines.append("\nThe same epoch written as a user writes it from the README (`bench_mlp_user`: a `Sequential` of "
                 "`Linear` and `ReLU` modules, `load_fashion_mnist`, a `DataLoader`, `cross_entropy`, `SGD` with "
                 "momentum; no call to `retain_freed_memory()`), in dataset order and shuffled (a new order each "
                 "epoch), against libtorch in dataset order (the faster configuration, as above) and shuffled "
                 "(`bench_mlp_torch --shuffle`, gathering each batch with `index_select`, passive waiting); seconds "
                 "per epoch, medians; ratios per round, median:\n")
    lines.append(table(["threads", "user, in order", "user, shuffled", "libtorch, in order", "libtorch, shuffled",
                        "user in order / libtorch", "user shuffled / libtorch shuffled", "user in order / bench_mlp"],
                       rows))


def mlp_section(run, targets, targets22, plots_dir, lines):
    adg = run.per_round("mlp")
    tt = run.per_round("mlp_torch")
    if not any(adg):
        return
    first = next(r for r in adg[0] if "epoch_s" in r)
    lines.append("## MLP training (`bench_mlp`, `bench_mlp_torch`)\n")
    lines.append(f"One epoch of {first['model']}, batch {first['batch']}, {first['optimizer']}, {first['dtype']}, "
                 f"data {first['data']} ({first['steps_per_epoch']} steps). adgraph and the GEMM floor (only the "
                 "cblas_sgemm calls of each step: forward X·Wᵀ, backward dW = dYᵀ·X and dX = dY·W except for "
                 "layer 1, each C zeroed by a vectorised fill and accumulated with beta = 1, as adgraph does, since "
                 "OpenBLAS's own beta = 0 pass is scalar) alternate epoch by epoch in one process, each timed epoch "
                 "starting 0.3 s after the last so that OpenBLAS's worker, which spins for about 0.1 s after its last "
                 "call, is idle; libtorch runs the same model, initial weights, "
                 "batches and step in the next process of the same round, with intra-op and OpenBLAS threads set to "
                 "the same count. Both report the same first-epoch loss, a check that they do identical work. "
                 "At t threads adgraph runs `set_num_threads(t)`: its own threads split the large GEMMs "
                 "(single-threaded cblas calls on blocks of C) and the elementwise, optimizer and batch-copy loops; "
                 "the floor runs twice, with OpenBLAS's t threads and in adgraph's blocks on adgraph's t threads, "
                 "and the faster of the two in each round is the floor, so that adgraph's own way of splitting a "
                 "GEMM cannot make it look better than the floor. Neither side is tuned for memory: adgraph's own "
                 "buffer cache keeps freed arrays for the next step in every program.\n")

    def epoch(rounds, engine, threads):
        return [next((r["epoch_s"] for r in rs if r.get("engine") == engine and r.get("threads") == threads
                      and "epoch_s" in r), None) for rs in rounds]

    thread_counts = sorted({r["threads"] for r in adg[0] if "epoch_s" in r})
    passive = run.per_round("mlp_torch_passive")
    rows = []
    best_torch = {}
    any_fused = False
    for t in thread_counts:
        a, fb, fa = epoch(adg, "adgraph", t), epoch(adg, "gemm-floor", t), epoch(adg, "gemm-floor-adgraph-threads", t)
        hf = epoch(adg, "hand-fused", t)
        any_fused |= any(hf)
        # The floor of a round: the faster of OpenBLAS's threads and adgraph's blocks (only timed at t > 1).
        fl = faster(fb, fa)
        lt, lp = epoch(tt, "libtorch", t), epoch(passive, "libtorch", t)
        # The faster libtorch configuration of each round (default or passive OpenMP waiting).
        lb = faster(lt, lp)
        best_torch[t] = lb
        vs_torch = med([x / y for x, y in zip(a, lb) if x and y]) if any(tt) else None
        of_floor = med([y / x for x, y in zip(a, fl) if x and y])
        torch_floor = med([y / x for x, y in zip(lb, fl) if x and y]) if any(tt) else None
        fused_floor = med([y / x for x, y in zip(hf, fl) if x and y]) if any(hf) else None
        rows.append([t, fmt(med(a), 3), fmt(med(fb), 3), fmt(med(fa), 3) if any(fa) else "–",
                     fmt(med(hf), 3) if any(hf) else "–",
                     fmt(med(lt), 3) if any(tt) else "–",
                     fmt(med(lp), 3) if any(passive) else "–", fmt(vs_torch, 2),
                     f"{100 * of_floor:.0f} %" if of_floor else "–",
                     f"{100 * fused_floor:.0f} %" if fused_floor else "–",
                     f"{100 * torch_floor:.0f} %" if torch_floor else "–"])
        if any(tt):
            for tg in (targets, targets22):
                tg.add(f"mlp, {t} thread(s): adgraph epoch / libtorch epoch", fmt_near(vs_torch, 0.85), "≤ 0.85",
                       vs_torch is not None and vs_torch <= 0.85, "against the faster libtorch configuration")
        notes = []
        if any(fa):
            # The floor is the faster threading; what the OpenBLAS-threaded floor alone gives, for comparison.
            blas_only = med([y / x for x, y in zip(a, fb) if x and y])
            notes.append(f"floor: the faster of OpenBLAS's threads and adgraph's blocks; against OpenBLAS's threads "
                         f"alone {100 * blas_only:.1f} %")
        if fused_floor:
            notes.append(f"the hand-fused step reaches {100 * fused_floor:.1f} % of the same floor")
        note = "; ".join(notes)
        targets.add(f"mlp, {t} thread(s): GEMM floor / adgraph epoch", f"{100 * of_floor:.1f} %", "≥ 90 %",
                    of_floor is not None and of_floor >= 0.9, note)
    lines.append(table(["threads", "adgraph s/epoch", "GEMM floor s/epoch, OpenBLAS's threads",
                        "GEMM floor s/epoch, adgraph's threads", "hand-fused s/epoch", "libtorch s/epoch",
                        "libtorch, OMP_WAIT_POLICY=passive", "adgraph / best libtorch", "floor / adgraph",
                        "floor / hand-fused", "floor / best libtorch"], rows))
    user_section(run, adg, best_torch, thread_counts, epoch, targets22, lines)
    if any_fused:
        lines.append("\nThe hand-fused step (`benchmarks/fused_trainer.cpp`) is the same training written by hand for "
                     "this one model, the reference for how close to the floor any trainer gets on this machine: "
                     "adgraph's GEMM blocks and threads but no graph, the bias as each forward GEMM's starting C, "
                     "ReLU and its derivative in place, each weight gradient's GEMM accumulating straight into the "
                     "momentum buffer (beta = momentum, so no gradient array exists) and batches read in place. It "
                     "alternates with the others in every round and starts from the same weights; bench_mlp fails "
                     "unless its first-epoch mean loss is within 1e-4 (relative) of adgraph's.")
    if any(passive):
        lines.append("\nlibtorch runs twice per round: with libgomp's default (spinning) waits, and with "
                     "`OMP_WAIT_POLICY=passive`, because on this 2-core machine spinning OpenMP workers and OpenBLAS's "
                     "own threads compete for the cores; ratios use the faster run of each round.")

    # Where an epoch goes: both engines time the same phase boundaries (medians over epochs and rounds).
    names = next((r["phases"] for r in adg[0] if "phases" in r), None)
    if names:
        rows = []
        for t in thread_counts:
            for engine, rounds in [("adgraph", adg), ("libtorch", tt), ("libtorch passive", passive)]:
                ph = [next((r["phase_s"] for r in rs if r.get("engine") == engine.split()[0] and r.get("threads") == t
                            and "phase_s" in r), None) for rs in rounds]
                ph = [p for p in ph if p]
                if ph:
                    rows.append([engine, t] + [f"{med([p[i] for p in ph]):.4f}" for i in range(len(names))])
        lines.append("\nWhere an epoch goes (seconds per epoch; both engines time the same boundaries; GEMMs are "
                     "inside forward and backward):\n")
        lines.append(table(["engine", "threads"] + names, rows))

    def rss(rounds, engine):
        rs = [next((r for r in rows if r.get("metric") == "rss" and r.get("engine") == engine), None) for rows in rounds]
        rs = [r for r in rs if r]
        return (med([r["rss_peak_bytes"] for r in rs]), med([r["rss_peak_bytes"] - r["rss_before_bytes"] for r in rs]),
                med([r["first_epoch_loss"] for r in rs])) if rs else (None, None, None)

    a_peak, a_grow, a_loss = rss(adg, "adgraph")
    mib = lambda b: f"{b / 1048576:.1f}" if b is not None else "–"
    rows = [["adgraph", mib(a_peak), mib(a_grow), f"{a_loss:.6f}"]]
    if any(tt):
        t_peak, t_grow, t_loss = rss(tt, "libtorch")
        rows.append(["libtorch", mib(t_peak), mib(t_grow), f"{t_loss:.6f}"])
        targets.add("mlp: peak RSS while training, adgraph / libtorch", fmt(a_peak / t_peak, 2), "≤ 1",
                    a_peak <= t_peak, f"{mib(a_peak)} vs {mib(t_peak)} MiB")
        targets.add("mlp: RSS growth over the first epoch, adgraph / libtorch", fmt(a_grow / t_grow, 2), "≤ 1",
                    a_grow <= t_grow, f"{mib(a_grow)} vs {mib(t_grow)} MiB")
    lines.append("\nMemory: the peak RSS over the first epoch (the kernel's high-water mark, reset just before it), "
                 "and how far it rose above the RSS before that epoch (the dataset, one copy in both, is already "
                 "resident then).\n")
    lines.append(table(["engine", "peak RSS MiB", "growth while training MiB", "first-epoch mean loss"], rows))
    lines.append("")

CNN_HEADING = "## CNN training (`bench_cnn`, `bench_cnn_torch`)"


def cnn_section(run, lines):
    """The cnn preset's epoch against libtorch, its GEMM floor, peak RSS and the per-layer conv2d table, with the
    issue 15 targets in a table of its own, so the section can be spliced into an existing page (--section cnn)."""
    adg = run.per_round("cnn")
    tt = run.per_round("cnn_torch")
    passive = run.per_round("cnn_torch_passive")
    if not any(adg):
        return
    ep = lambda rows: [r for r in rows if r.get("table") == "epoch"]
    targets = Targets()
    lines.append(CNN_HEADING + "\n")
    lines.append(f"Measured {run.env.get('date', '?')} at commit {run.env.get('commit', '?')}, {len(run.rounds)} "
                 "rounds of `bench_cnn` and `bench_cnn_torch` alternating (load per round: "
                 + "; ".join(l.split(': ', 1)[-1] for l in run.load) + f"); adgraph's {build_line(run)}.\n")
    first = next((r for r in ep(adg[0]) if "epoch_s" in r), None)
    if first:
        steps = first["steps_per_epoch"]
        full = 60000 / first["batch"]
        lines.append(f"One epoch of the `cnn` preset ({first['model']}), batch {first['batch']}, {first['optimizer']}, "
                     f"{first['dtype']}, training mode (batch statistics, running statistics updated, dropout on), "
                     f"data {first['data']} ({steps} steps; the full 60000-sample epoch has {full:.0f}, "
                     f"≈ {full / steps:.1f}× as long). adgraph runs the model `adgraph train --model cnn` trains "
                     "(`nn::build_model(\"cnn\")`: Conv2d, BatchNorm2d, ReLU, MaxPool2d, Flatten, Linear, Dropout; "
                     "`nn::cross_entropy`, `nn::Adam` decoupled) on `set_num_threads(t)`; libtorch runs "
                     "`torch::nn` modules with the same initial weights, batches and step, intra-op and OpenBLAS "
                     "threads both t, once with libgomp's default waiting and once with `OMP_WAIT_POLICY=passive` "
                     "(ratios use the faster of each round). Both report the first epoch's mean loss (dropout masks "
                     "differ, so close, not equal). The GEMM floor is only the GEMMs: each conv layer as one im2col "
                     "GEMM over the batch (forward, dW, and dx for the second), the linears' forward, dW and dx, "
                     "with OpenBLAS's threads and in adgraph's blocks (the faster is the floor); no im2col, batch "
                     "norm, pooling or elementwise work.\n")
    lines.append("Reproduce this section alone: `scripts/run-benchmarks.sh --only cnn --rounds 3` (it runs only the "
                 "CNN programs, in the same alternating rounds, and splices this section into the page with "
                 "`benchmarks/report.py RESULTS_DIR --docs docs --section cnn`, the rest of the page untouched).\n")

    def epoch(rounds, engine, threads):
        return [next((r["epoch_s"] for r in ep(rs) if r.get("engine") == engine and r.get("threads") == threads),
                     None) for rs in rounds]

    thread_counts = sorted({r["threads"] for r in ep(adg[0])})
    rows = []
    for t in thread_counts:
        a = epoch(adg, "adgraph", t)
        fb, fa = epoch(adg, "gemm-floor", t), epoch(adg, "gemm-floor-adgraph-threads", t)
        fl = faster(fb, fa)
        lt, lp = epoch(tt, "libtorch", t), epoch(passive, "libtorch", t)
        lb = faster(lt, lp)
        vs = med([x / y for x, y in zip(a, lb) if x and y])
        of_floor = med([y / x for x, y in zip(a, fl) if x and y])
        torch_floor = med([y / x for x, y in zip(lb, fl) if x and y])
        rows.append([t, fmt(med(a), 3), fmt(med(fb), 3), fmt(med(fa), 3) if any(fa) else "–",
                     fmt(med(lt), 3) if any(lt) else "–", fmt(med(lp), 3) if any(lp) else "–", fmt(vs, 2),
                     f"{100 * of_floor:.0f} %" if of_floor else "–",
                     f"{100 * torch_floor:.0f} %" if torch_floor else "–"])
        if any(lb):
            targets.add(f"cnn, {t} thread(s): adgraph epoch / libtorch epoch", fmt(vs, 3), "≤ 0.85",
                        vs is not None and vs <= 0.85, "against the faster libtorch configuration, per-round ratios")
    if rows:
        lines.append(table(["threads", "adgraph s/epoch", "GEMM floor s/epoch, OpenBLAS's threads",
                            "GEMM floor s/epoch, adgraph's threads", "libtorch s/epoch",
                            "libtorch, OMP_WAIT_POLICY=passive", "adgraph / best libtorch", "floor / adgraph",
                            "floor / best libtorch"], rows))

    names = next((r["phases"] for r in ep(adg[0]) if "phases" in r), None)
    if names and thread_counts:
        rows = []
        for t in thread_counts:
            for engine, rounds in [("adgraph", adg), ("libtorch", tt), ("libtorch passive", passive)]:
                ph = [next((r["phase_s"] for r in ep(rs) if r.get("engine") == engine.split()[0]
                            and r.get("threads") == t and "phase_s" in r), None) for rs in rounds]
                ph = [p for p in ph if p]
                if ph:
                    rows.append([engine, t] + [f"{med([p[i] for p in ph]):.3f}" for i in range(len(names))])
        lines.append("\nWhere an epoch goes (seconds per epoch, both engines timing the same boundaries):\n")
        lines.append(table(["engine", "threads"] + names, rows))

    def rss(rounds, engine):
        rs = [next((r for r in rows if r.get("metric") == "rss" and r.get("engine") == engine), None) for rows in rounds]
        rs = [r for r in rs if r]
        return (med([r["rss_peak_bytes"] for r in rs]), med([r["rss_peak_bytes"] - r["rss_before_bytes"] for r in rs]),
                med([r["first_epoch_loss"] for r in rs])) if rs else (None, None, None)

    mib = lambda b: f"{b / 1048576:.1f}" if b is not None else "–"
    a_peak, a_grow, a_loss = rss(adg, "adgraph")
    t_peak, t_grow, t_loss = rss(tt, "libtorch")
    if a_peak:
        rows = [["adgraph", mib(a_peak), mib(a_grow), fmt(a_loss, 4)]]
        if t_peak:
            rows.append(["libtorch", mib(t_peak), mib(t_grow), fmt(t_loss, 4)])
            targets.add("cnn: peak RSS while training, adgraph / libtorch", fmt(a_peak / t_peak, 2), "≤ 1",
                        a_peak <= t_peak, f"{mib(a_peak)} vs {mib(t_peak)} MiB")
        lines.append("\nMemory: the peak RSS over the first epoch (the kernel's high-water mark, reset just before "
                     "it) and its rise above the RSS before that epoch (the dataset is resident in both already).\n")
        lines.append(table(["engine", "peak RSS MiB", "growth while training MiB", "first-epoch mean loss"], rows))

    def layer_rows(kind):
        pick = lambda rounds: [[r for r in rs if r.get("table") == kind] for rs in rounds]
        ca, ct, cp = pick(adg), pick(tt), pick(passive)

        def field(rounds, case, t, f):
            return [next((r[f] for r in rs if r["case"] == case and r["threads"] == t), None) for rs in rounds]

        rows = []
        for r0 in ca[0]:
            c, t = r0["case"], r0["threads"]
            row = [c, r0["shape"], t]
            ratios = []
            for f in ("forward_ms", "backward_ms"):
                a = field(ca, c, t, f)
                lb = faster(field(ct, c, t, f), field(cp, c, t, f))
                ratio = med([x / y for x, y in zip(a, lb) if x and y])
                row += [fmt(med(a), 2), fmt(med(lb), 2) if any(lb) else "–"]
                ratios.append(fmt(ratio, 2))
            rows.append(row + ratios)
        return rows

    header = ["case", "shape", "threads", "adgraph fwd ms", "libtorch fwd ms", "adgraph bwd ms", "libtorch bwd ms",
              "fwd ratio", "bwd ratio"]
    conv_rows, op_rows = layer_rows("conv"), layer_rows("op")
    if conv_rows:
        lines.append("\nconv2d alone, per layer (float32, with bias): the forward while recording, as in training, and "
                     "the backward that follows it, seeded with a fixed cotangent (dx, dW and db; no dx for the "
                     "network's input), each the median over repetitions, then over rounds; libtorch's is the faster "
                     "of its two waiting policies per round. Ratios are adgraph / libtorch, per round, median. The "
                     "first two are the preset's layers at batch 128, the others common ResNet shapes.\n")
        lines.append(table(header, conv_rows))
    if op_rows:
        lines.append("\nThe preset's other layers with work proportional to the activations, timed the same way: "
                     "batch norm in training mode (batch statistics, running statistics updated; backward to x, γ "
                     "and β) and the 2×2 max pool.\n")
        lines.append(table(header, op_rows))
    # Where a step goes: the preset's layers (forward + backward, from the tables above) and the rest of the step
    # (its time per step minus those: the linears, ReLUs, dropout, loss, optimizer, batch and graph bookkeeping).
    if first and conv_rows:
        def layer_ms(rounds, case, t):
            vals = []
            for rs in rounds:
                r = next((r for r in rs if r.get("table") in ("conv", "op") and r["case"] == case
                          and r["threads"] == t), None)
                vals.append(r["forward_ms"] + r["backward_ms"] if r else None)
            return vals

        rows = []
        preset_cases = [r["case"] for r in adg[0] if r.get("table") in ("conv", "op") and r["case"].startswith("cnn ")
                        and r["threads"] == thread_counts[0]]
        for t in thread_counts:
            step_a = [x * 1e3 / first["steps_per_epoch"] if x else None for x in epoch(adg, "adgraph", t)]
            step_t = [x * 1e3 / first["steps_per_epoch"] if x else None
                      for x in faster(epoch(tt, "libtorch", t), epoch(passive, "libtorch", t))]
            sum_a = [0.0] * len(adg)
            sum_t = [0.0] * len(adg)
            for case in preset_cases:
                a = layer_ms(adg, case, t)
                b = faster(layer_ms(tt, case, t), layer_ms(passive, case, t))
                rows.append([case, t, fmt(med(a), 1), fmt(med(b), 1) if any(b) else "–",
                             fmt(med([x - y for x, y in zip(a, b) if x and y]), 1)])
                sum_a = [u + (x or 0) for u, x in zip(sum_a, a)]
                sum_t = [u + (y or 0) for u, y in zip(sum_t, b + [None] * (len(adg) - len(b)))]
            rest_a = [x - u if x else None for x, u in zip(step_a, sum_a)]
            rest_t = [y - u if y else None for y, u in zip(step_t + [None] * (len(adg) - len(step_t)), sum_t)]
            rows.append(["rest of the step", t, fmt(med(rest_a), 1), fmt(med(rest_t), 1) if any(rest_t) else "–",
                         fmt(med([x - y for x, y in zip(rest_a, rest_t) if x is not None and y is not None]), 1)])
            rows.append(["**whole step**", t, fmt(med(step_a), 1), fmt(med(step_t), 1) if any(step_t) else "–",
                         fmt(med([x - y for x, y in zip(step_a, step_t) if x and y]), 1)])
        lines.append("\nWhere a step goes, by layer: each of the preset's layers timed alone (forward + backward, "
                     "from the tables above, batch 128) and the rest of the step (the step's time, epoch / steps, "
                     "minus those layers: the linears, ReLUs, dropout, loss, optimizer, batch copy and graph "
                     "bookkeeping). Milliseconds per step, medians over rounds; the difference is adgraph − "
                     "libtorch, per round, median.\n")
        lines.append(table(["layer", "threads", "adgraph ms", "libtorch ms", "difference ms"], rows))
    lines.append("\n### Targets (issue 15)\n")
    lines.append(targets.markdown())
    lines.append("")


GRU_HEADING = "## GRU training vs libtorch (`bench_gru`, `bench_gru_torch`)"


def gru_section(run, lines):
    """The GRU classifier's epoch against libtorch's torch::nn::GRU (issue 17), with and without gradient clipping,
    its GEMM floor, CPU time per epoch (how many cores each side kept busy), where an epoch goes, and the issue 17
    targets, so the section can be spliced into an existing page (--section gru)."""
    adg = run.per_round("gru")
    if not any(adg):
        return
    ep = lambda rows: [r for r in rows if r.get("table") == "epoch"]
    first = next((r for r in ep(adg[0]) if "epoch_s" in r), None)
    if not first:
        return
    targets = Targets()
    lines.append(GRU_HEADING + "\n")
    lines.append(f"Measured {run.env.get('date', '?')} at commit {run.env.get('commit', '?')}, {len(run.rounds)} "
                 "rounds of `bench_gru` and `bench_gru_torch` alternating (load per round: "
                 + "; ".join(l.split(': ', 1)[-1] for l in run.load) + f"); adgraph's {build_line(run)}.\n")
    steps = first["steps_per_epoch"]
    full = -(-60000 // first["batch"])
    lines.append(f"One epoch of a GRU classifier ({first['model']}): each Fashion-MNIST image read as 28 steps of "
                 f"28 pixels, batch {first['batch']}, softmax cross-entropy, {first['optimizer']}, {first['dtype']}, "
                 f"data {first['data']} ({steps} steps; the full 60000-sample epoch has {full}, ≈ "
                 f"{full / steps:.1f}× as long: the *per full epoch* columns are the measured time scaled by "
                 "that factor). adgraph's side is written as a user writes it (`benchmarks/gru.cpp`: `nn::GRU`, "
                 "`nn::Linear` on the last state, `nn::cross_entropy`, `nn::clip_grad_norm`, `nn::Adam`) on "
                 "`set_num_threads(t)`; libtorch's (`benchmarks/torch/gru.cpp`) is `torch::nn::GRU` (batch-first) "
                 "and `torch::nn::Linear` with the same initial weights, batches and step "
                 "(`torch::nn::utils::clip_grad_norm_`, `torch::optim::Adam`), intra-op and OpenBLAS threads both "
                 "t, once with libgomp's default waiting (one timed epoch per round: at 2 threads its spinning "
                 "workers fight OpenBLAS's for the 2 cores) and once with `OMP_WAIT_POLICY=passive`; ratios use the "
                 "faster of each round. Both report the first epoch's mean loss, the check that they do the same "
                 "work. *cores busy* is the process's CPU time over an epoch divided by its wall time: how many cores a "
                 "side really kept busy; on a loaded machine the CPU-time ratio at 1 thread is the steadier measure (wall time also "
                 "counts the time spent waiting for a core). The GEMM floor is only the GEMMs of each step (per time step x·W_ihᵀ and h·W_hhᵀ "
                 "forward, dW_ih, dW_hh and dh backward; the Linear's three), with OpenBLAS's threads and in "
                 "adgraph's blocks (the faster is the floor). `nn::GRU` runs each step as two `linear` ops and the "
                 "fused `gru_gates` op.\n")
    lines.append("Reproduce this section alone: `scripts/run-benchmarks.sh --only gru --rounds 3` (it runs only the "
                 "GRU programs, in the same alternating rounds, and splices this section into the page with "
                 "`benchmarks/report.py RESULTS_DIR --docs docs --section gru`, the rest of the page untouched).\n")

    def field(rounds, engine, threads, key="epoch_s"):
        return [next((r.get(key) for r in ep(rs) if r.get("engine") == engine and r.get("threads") == threads),
                     None) for rs in rounds]

    scale = full / steps
    thread_counts = sorted({r["threads"] for r in ep(adg[0])})
    rows = []
    for clip, suffix in (("5", ""), ("none", "_noclip")):
        a_r, t_r, p_r = run.per_round("gru" + suffix), run.per_round("gru_torch" + suffix), \
            run.per_round("gru_torch_passive" + suffix)
        if not any(a_r):
            continue
        for t in thread_counts:
            a = field(a_r, "adgraph", t)
            fl = faster(field(a_r, "gemm-floor", t), field(a_r, "gemm-floor-adgraph-threads", t))
            lt, lp = field(t_r, "libtorch", t), field(p_r, "libtorch", t)
            lb = faster(lt, lp)
            vs = med([x / y for x, y in zip(a, lb) if x and y])
            ac, tc = med(field(a_r, "adgraph", t, "cpu_s")), med(field(p_r, "libtorch", t, "cpu_s"))
            cpu_vs = med([x / y for x, y in zip(field(a_r, "adgraph", t, "cpu_s"),
                                                faster(field(t_r, "libtorch", t, "cpu_s"),
                                                       field(p_r, "libtorch", t, "cpu_s"))) if x and y])
            rng = lambda xs: f"{min(x for x in xs if x) * scale:.2f}–{max(x for x in xs if x) * scale:.2f}" \
                if any(xs) else "–"
            rows.append([clip, t, fmt(med(a) * scale, 2), rng(a), fmt(med(fl) * scale, 2) if any(fl) else "–",
                         fmt(med(lt) * scale, 2) if any(lt) else "–", fmt(med(lp) * scale, 2) if any(lp) else "–",
                         rng(lb), fmt(vs, 2), fmt(cpu_vs, 2),
                         f"{ac / med(a):.2f}" if ac and med(a) else "–",
                         f"{tc / med(lp):.2f}" if tc and any(lp) else "–"])
            if any(lb):
                targets.add(f"gru, clip {clip}, {t} thread(s): adgraph epoch / libtorch epoch", fmt(vs, 3), "≤ 0.85",
                            vs is not None and vs <= 0.85,
                            "against the faster libtorch configuration, per-round ratios")
    lines.append(table(["clip", "threads", "adgraph s per full epoch", "adgraph range",
                        "GEMM floor s per full epoch", "libtorch s per full epoch", "libtorch passive s per full epoch",
                        "best libtorch range", "adgraph / best libtorch", "CPU time adgraph / libtorch",
                        "adgraph cores busy (cpu / wall)",
                        "libtorch passive cores busy"], rows))

    names = next((r["phases"] for r in ep(adg[0]) if "phases" in r), None)
    if names:
        rows = []
        for t in thread_counts:
            for engine, prog in [("adgraph", "gru"), ("libtorch", "gru_torch"), ("libtorch passive", "gru_torch_passive")]:
                ph = [next((r["phase_s"] for r in ep(rs) if r.get("engine") == engine.split()[0]
                            and r.get("threads") == t and "phase_s" in r), None) for rs in run.per_round(prog)]
                ph = [p for p in ph if p]
                if ph:
                    rows.append([engine, t] + [f"{med([p[i] for p in ph]) * scale:.2f}" for i in range(len(names))])
        lines.append("\nWhere an epoch goes (seconds per full epoch, clip 5, both engines timing the same "
                     "boundaries; the optimizer phase includes clipping):\n")
        lines.append(table(["engine", "threads"] + names, rows))

    def rss(rounds, engine):
        rs = [next((r for r in rows if r.get("metric") == "rss" and r.get("engine") == engine), None) for rows in rounds]
        rs = [r for r in rs if r]
        return (med([r["rss_peak_bytes"] for r in rs]), med([r["rss_peak_bytes"] - r["rss_before_bytes"] for r in rs]),
                med([r["first_epoch_loss"] for r in rs])) if rs else (None, None, None)

    mib = lambda b: f"{b / 1048576:.1f}" if b is not None else "–"
    mem = [[e, mib(p), mib(g), fmt(l, 6)] for e, (p, g, l) in
           [("adgraph", rss(adg, "adgraph")), ("libtorch", rss(run.per_round("gru_torch_passive"), "libtorch"))] if p]
    if mem:
        lines.append("\nMemory: the peak RSS over the first epoch (reset just before it) and its rise above the RSS "
                     "before it; the first epoch's mean loss of both (same data, weights and step):\n")
        lines.append(table(["engine", "peak RSS MiB", "growth while training MiB", "first-epoch mean loss"], mem))
    lines.append("\n### Targets (issue 17)\n")
    lines.append(targets.markdown())
    lines.append("")


# Sections measured by a long run of their own (bench_rnn_modes takes minutes and writes its own CSV and plot; its
# section gives the command): a regenerated page keeps them from the existing one, as they are.
KEPT_HEADINGS = ["## Forward vs reverse through time (`bench_rnn_modes`)",
                 "## Playground: quality over seeds and compute per frame",
                 "## Data-parallel training over MPI (`bench_data_parallel`)"]


def kept_sections(page):
    """The sections under KEPT_HEADINGS in `page` (each up to the next '## ' heading), as lines."""
    lines, out = page.splitlines(), []
    for heading in KEPT_HEADINGS:
        if heading in lines:
            start = lines.index(heading)
            end = next((i for i, l in enumerate(lines) if i > start and l.startswith("## ")), len(lines))
            out += lines[start:end]
    return out


def splice_after(page, heading, section, after):
    """page with the section under `heading` replaced by `section`, or `section` inserted before the first '## '
    section after the one headed `after` (at the end if there is none)."""
    lines = page.splitlines()
    if heading in lines:
        return splice_section(page, heading, section)
    prev = next((i for i, l in enumerate(lines) if l == after), None)
    at = next((i for i, l in enumerate(lines) if prev is not None and i > prev and l.startswith("## ")), len(lines))
    return "\n".join(lines[:at] + section.rstrip("\n").splitlines() + [""] + lines[at:]) + "\n"


def splice_section(page, heading, section):
    """page with the section under `heading` (up to the next '## ' heading) replaced by `section`, or `section`
    inserted before the first section after the MLP one (or at the end) if the page has none yet."""
    lines = page.splitlines()
    start = next((i for i, l in enumerate(lines) if l == heading), None)
    if start is None:
        mlp = next((i for i, l in enumerate(lines) if l.startswith("## MLP training")), None)
        after = next((i for i, l in enumerate(lines) if mlp is not None and i > mlp and l.startswith("## ")), None)
        start = end = after if after is not None else len(lines)
    else:
        end = next((i for i, l in enumerate(lines) if i > start and l.startswith("## ")), len(lines))
    return "\n".join(lines[:start] + section.rstrip("\n").splitlines() + [""] + lines[end:]) + "\n"


def simple_section(run, name, title, intro, header, keys, lines):
    rounds = run.per_round(name)
    if not any(rounds):
        return
    lines.append(f"## {title}\n")
    lines.append(intro + "\n")
    label = keys[0]
    rows = []
    for r in rounds[0]:
        row = [r[label]]
        for k, digits in keys[1:]:
            row.append(fmt(med([by_key(rs, label).get(r[label], {}).get(k) for rs in rounds]), digits))
        rows.append(row)
    lines.append(table(header, rows))
    lines.append("")


def build_line(run):
    """Which build the figures come from, as the run recorded it (CMake cache and compile commands)."""
    e = run.env
    arch = e.get("arch", "?")
    if "build_type" not in e:  # a run from before the build was recorded: only the --arch it was given
        return f"adgraph built with `-DADGRAPH_ARCH={arch or 'portable'}`"
    shown = arch if arch else "(empty: portable)"
    cpu = e.get("native_cpu", "").strip()
    native = f" (`native` is {cpu} for this compiler)" if cpu and arch == "native" else ""
    code = lambda v: f"`{v.strip()}`" if v.strip() else "empty"
    shipped = e.get("arch_override", "").startswith("none")
    how = ("`cmake --preset release`, as scripts/setup.sh configures it" if shipped
           else f"`cmake --preset release` with the override `{e.get('arch_override')}`")
    return (f"build: {how} (directory `{Path(e.get('build_dir', '?')).name}`), from its CMake cache "
            f"CMAKE_BUILD_TYPE={e['build_type']}, ADGRAPH_ARCH={shown}{native}, CMAKE_CXX_FLAGS_RELEASE "
            f"{code(e.get('cxx_flags_release', ''))}, CMAKE_CXX_FLAGS {code(e.get('cxx_flags', ''))}; the library "
            f"compiled with `{e.get('library_flags', '?')}`, the benchmark programs with `{e.get('benchmark_flags', '?')}`")


HO_FWD, HO_REV, HO_GRAD = "hvp, forward over reverse", "hvp, reverse over reverse", "grad (one reverse sweep)"
HO_BEGIN = "<!-- begin measured: generated by benchmarks/report.py from bench_higher_order; do not edit by hand -->"
HO_END = "<!-- end measured -->"


def higher_order_numbers(run):
    """{transform: (median µs, median of the per-round ratio to the gradient)} of bench_higher_order."""
    rounds = run.per_round("higher_order")
    if not any(rounds):
        return {}
    out = {}
    for r0 in rounds[0]:
        t = r0["transform"]
        out[t] = (med([by_key(rs, "transform").get(t, {}).get("us") for rs in rounds]),
                  med([by_key(rs, "transform").get(t, {}).get("over_grad") for rs in rounds]))
    return out


def higher_order_advice(numbers):
    """Which way to compute one H·v, decided by the measured ratios (None without both)."""
    fwd, rev = numbers.get(HO_FWD, (None, None))[1], numbers.get(HO_REV, (None, None))[1]
    if not fwd or not rev:
        return None
    if max(fwd, rev) <= 1.1 * min(fwd, rev):
        return (f"Measured here, the two ways to one H·v cost about the same: forward over reverse (`hvp`) "
                f"{fwd:.2f} gradients, reverse over reverse {rev:.2f} (within 10 %). Either will do; `hvp` is the "
                "shorter to write, and `jvp(grad(f), x, v)` returns the gradient as well.")
    if fwd < rev:
        return (f"Measured here, forward over reverse is the faster way to one H·v: `hvp` costs {fwd:.2f} "
                f"gradients, reverse over reverse {rev:.2f}. So use `hvp` (or `jvp(grad(f), x, v)` when you want "
                "the gradient too) for H·v, and `create_graph` when the gradient is part of something you "
                "differentiate anyway.")
    return (f"Measured here, reverse over reverse is the faster way to one H·v: {rev:.2f} gradients against "
            f"{fwd:.2f} for `hvp` (forward over reverse, {fwd / rev:.2f}× as long). For a single H·v on a "
            "function like this one, `grad([&](const Tensor& z) { return sum(grad(f)(z) * v); })(x)` is the "
            "cheaper form; `hvp` and `jvp(grad(f), x, v)` (which also returns the gradient) are the convenient ones, "
            "and the ratio depends on f, so measure yours with `bench_higher_order` if it matters.")


def higher_order_block(run):
    """The measured part of docs/higher-order.md: the table and the advice that follows from it."""
    numbers = higher_order_numbers(run)
    if not numbers:
        return None
    r0 = run.per_round("higher_order")[0][0]
    rows = [[t, fmt(us, 1), fmt(ratio, 2)] for t, (us, ratio) in numbers.items()]
    out = [HO_BEGIN,
           f"`bench_higher_order` on a batch-{r0.get('batch', 64)} MLP loss ({r0.get('inputs', 16)} inputs, 3 tanh "
           f"layers, hidden {r0.get('hidden', 64)}, float64, {r0.get('threads', 1)} thread), "
           f"measured on {run.env.get('date', '?')} at commit {run.env.get('commit', '?')} ({r0.get('cpu', '?')}, "
           f"{r0.get('cores', '?')} cores; {build_line(run)}); medians over {len(run.rounds)} round(s), each ratio "
           "taken within its round; load average at the start of each round: "
           + ", ".join(l.split("load average ", 1)[-1].split()[0] for l in run.load if "round end" not in l)
           + ":", "",
           table(["transform", "µs", "/ grad"], rows), ""]
    advice = higher_order_advice(numbers)
    if advice:
        out.append(advice)
    out.append(HO_END)
    return "\n".join(out)


def splice_marked(text, block):
    """text with the lines from HO_BEGIN to HO_END replaced by block; None if the markers are missing."""
    lines = text.splitlines()
    start = next((i for i, l in enumerate(lines) if l == HO_BEGIN), None)
    end = next((i for i, l in enumerate(lines) if start is not None and i > start and l == HO_END), None)
    if start is None or end is None:
        return None
    return "\n".join(lines[:start] + block.splitlines() + lines[end + 1:]) + "\n"


def write_higher_order_doc(run, docs):
    block = higher_order_block(run)
    page = docs / "higher-order.md"
    if block is None or not page.exists():
        return
    spliced = splice_marked(page.read_text(), block)
    if spliced is None:
        print(f"report.py: warning: {page} has no '{HO_BEGIN}' ... '{HO_END}' block; left as it is",
              file=sys.stderr)
        return
    tmp = page.with_name(page.name + f".tmp.{os.getpid()}")
    tmp.write_text(spliced)
    os.replace(tmp, page)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results", type=Path)
    ap.add_argument("--docs", type=Path, help="write DOCS/benchmarks.md and DOCS/benchmarks/*.png")
    ap.add_argument("--section", choices=["cnn", "gru", "higher-order"],
                    help="only this section: printed, or with --docs spliced into the existing DOCS/benchmarks.md "
                         "(cnn) or DOCS/higher-order.md's measured block (higher-order)")
    a = ap.parse_args()
    run = Run(a.results)
    if not run.rounds:
        sys.exit(f"report: no round-* directories in {a.results}")
    if a.section == "cnn":
        body = []
        cnn_section(run, body)
        if not body:
            sys.exit(f"report: no bench_cnn results in {a.results}")
        section = "\n".join(body) + "\n"
        if a.docs:
            page = a.docs / "benchmarks.md"
            page.write_text(splice_section(page.read_text() if page.exists() else "# Benchmarks\n", CNN_HEADING,
                                           section))
        else:
            sys.stdout.write(section)
        return
    if a.section == "gru":
        body = []
        gru_section(run, body)
        if not body:
            sys.exit(f"report: no bench_gru results in {a.results}")
        section = "\n".join(body) + "\n"
        if a.docs:
            page = a.docs / "benchmarks.md"
            page.write_text(splice_after(page.read_text() if page.exists() else "# Benchmarks\n", GRU_HEADING,
                                         section, CNN_HEADING))
        else:
            sys.stdout.write(section)
        return
    if a.section == "higher-order":
        block = higher_order_block(run)
        if block is None:
            sys.exit(f"report: no bench_higher_order results in {a.results}")
        if a.docs:
            write_higher_order_doc(run, a.docs)
        else:
            sys.stdout.write(block + "\n")
        return
    plots_dir = None
    if a.docs:
        plots_dir = a.docs / "benchmarks"
        plots_dir.mkdir(parents=True, exist_ok=True)

    any_row = next(r for rs in run.per_round("modes") for r in rs)
    targets, targets22 = Targets(), Targets()
    body = []
    modes_section(run, targets, targets22, plots_dir, body)
    overhead_section(run, targets, targets22, body)
    mlp_section(run, targets, targets22, plots_dir, body)
    cnn_section(run, body)
    gru_section(run, body)
    chain = run.per_round("jacobian_chain")
    if any(chain):
        c0 = chain[0][0]
        simple_section(run, "jacobian_chain", "Jacobian chain vs matrix-free sweeps (`bench_jacobian_chain`)",
                       f"The gradient of sum(MLP(x)) through {c0['depth']} tanh layers of width {c0['width']} "
                       f"({c0['dtype']}, {c0['threads']} thread), five ways. Materialising each layer's Jacobian "
                       "costs w directions per layer; once they exist, multiplying back to front is cheap, front to "
                       "back is L matrix-matrix products. The reverse sweep gets the same gradient without any "
                       "Jacobian, holding only the activations. *memory* counts the arrays each method must hold "
                       "at once (weights, shared by all, excluded).",
                       ["method", "ms", "/ grad", "memory MiB"],
                       ["method", ("ms", 3), ("over_grad", 1), ("mib", 3)], body)
    ho = higher_order_numbers(run)
    if ho:
        ho_row = run.per_round("higher_order")[0][0]
        simple_section(run, "higher_order", "Higher order (`bench_higher_order`)",
                       f"Second-order transforms on a batch-{ho_row.get('batch', 64)} MLP loss "
                       f"({ho_row.get('inputs', 16)} inputs, 3 tanh layers, hidden {ho_row.get('hidden', 64)}, float64, {ho_row.get('threads', 1)} "
                       "thread), in units of one "
                       "gradient (grad, the two hvps and hvp's two parts timed interleaved, each ratio within its "
                       "round). hvp's parts are `linearize(grad(f), x)`, which records f and its gradient sweep, "
                       "and one call of the function it returns, the forward sweep hvp runs over that recording: "
                       "where hvp's time goes.", ["transform", "µs", "/ grad"], ["transform", ("us", 1), ("over_grad", 2)], body)
        advice = higher_order_advice(ho)
        if advice:
            body.insert(len(body) - 1, "\n" + advice + " (docs/higher-order.md quotes this table and this sentence.)\n")
        fwd = ho.get(HO_FWD, (None, None))[1]
        targets22.add("higher order: hvp (forward over reverse) / grad, as shipped", fmt_near(fwd, 2.5), "≤ 2.5",
                      fwd is not None and fwd <= 2.5)

    head = ["# Benchmarks", "",
            "Generated by `scripts/run-benchmarks.sh` (do not edit by hand; rerun it). Programs: `benchmarks/`; each "
            "prints a table, or JSON lines with `--json`, and `--help` lists its options; `--quick` is the tiny "
            "CTest smoke run (`ctest -L benchmarks`). The libtorch peers (`bench_mlp_torch`, `bench_overhead_torch`, "
            "`bench_cnn_torch`, `bench_gru_torch`) "
            "are built when CMake finds libtorch (Debian: libtorch-dev), the ADOL-C peer (`bench_modes_adolc`) when "
            "it finds ADOL-C (libadolc-dev); the functorch peer is `benchmarks/torch/modes.py` (python3-torch).", "",
            "Reproduce: `scripts/run-benchmarks.sh --rounds 3` on a quiet machine (it configures `build/bench` as "
            "scripts/setup.sh configures its build, builds what it needs there, runs every program `--json` in "
            "alternating rounds, and rewrites this page and the measured block of docs/higher-order.md).", "",
            f"- machine: {any_row['cpu']}, {any_row['cores']} cores; {run.env.get('compiler', '')}; OpenBLAS "
            f"{run.env.get('openblas', '?')}",
            f"- every adgraph figure on this page comes from one {build_line(run)}. Its xsimd kernels use "
            f"{any_row.get('simd', '?')}; libtorch and PyTorch pick their kernels at run time (AVX2 or AVX-512 on "
            "this CPU), whatever their build.",
            f"- date: {run.env.get('date', '?')}, commit {run.env.get('commit', '?')}",
            f"- {len(run.rounds)} rounds; each runs every program once, adgraph and its peers alternating, so load "
            "changes hit both sides of a ratio; within a program, timings are interleaved and the median taken.",
            "- load during the run (from /proc/loadavg; the machine is shared):"]
    head += [f"  - {l}" for l in run.load]
    head += ["", "## Targets (issue 22)", "",
             "Fast on every user's function and in the default build: both forms of the modes benchmark, the build "
             "scripts/setup.sh makes, freed memory kept by the library itself. Each row is computed from this run.",
             "", targets22.markdown(), ""]
    head += ["## Targets (issue 4)", "", targets.markdown(), ""]
    if a.docs:
        old = a.docs / "benchmarks.md"
        page = "\n".join(head + body + kept_sections(old.read_text() if old.exists() else "")).rstrip("\n") + "\n"
        (a.docs / "benchmarks.md").write_text(page)
        write_higher_order_doc(run, a.docs)
    else:
        sys.stdout.write("\n".join(head + body) + "\n")


if __name__ == "__main__":
    main()
