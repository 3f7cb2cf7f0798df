#!/usr/bin/python3
"""`adgraph train` under mpirun: data-parallel training as the issue's "What a user gets" promises.

Cases (--case):
  equivalence  mpirun -np 1, 2 and 3 against the plain single-process run of the same tiny setting (1000 images,
               784-32-10 with dropout 0.1, batch 32 so the last batch has 8 rows, AdamW, cosine, 10 epochs: 320
               steps). The checkpoints are compared tensor by tensor: -np 1 must equal the single process bitwise;
               -np 2 and 3 within the float32 bound below. A run with another seed must differ by far more (the
               comparison can fail). Rank 0 alone reports and writes: one header, one metrics row per epoch, the
               rank count in the header, and the reduced evaluation equals `adgraph eval` of the checkpoint.
  resume       checkpoints resumed on another number of processes (2 -> 3, 1 -> 2, 2 -> 1) end within the bound of
               the uninterrupted single-process run (constant schedule, 2 + 2 epochs); metrics.jsonl continues. Ranks
               given different checkpoints (mpirun's colon syntax) all exit 1 with one message from rank 0; given
               copies of one checkpoint, they train.
  faults       -np 3 training killed on rank 1 (SIGKILL) mid-epoch after the first checkpoint: mpirun ends the job
               with a non-zero exit naming the rank within 10 s, the checkpoint loads (`adgraph eval`) and resumes;
               a non-finite loss (--lr 1e30) stops all ranks with exit 1 and one message naming the ranks; a
               failure on rank 0 alone (--out is a file) ends the job through MPI_Abort, saying why once; ranks
               started unlike (another --limit; --resume on one rank only) and a rank that cannot load its data
               all exit 1 with one message.
  nompi        (a build without MPI) mpirun -np 2 adgraph train exits 1 with one message saying how to get MPI.

The float32 bound: N ranks take the step one process takes except that each gradient sum over the batch rows is
split into N partial sums (each rank's mean over its rows, weighted by its share of the batch) added in another
order by the allreduce. Each such sum then differs by a few float32 roundings, a relative ~1e-7..1e-6 of the
gradient. Adam's update lr·m/(sqrt(v) + eps) is a ratio of such sums, so it differs by about lr times that
relative error: ~1e-3 · 1e-6 = 1e-9 per step, at most ~3e-7 after these 320 steps if every step's difference
added up (the loss surface barely amplifies it at this learning rate). Measured here: max |diff| 4.5e-8 (-np 2) and
6.0e-8 (-np 3), relative to the largest parameter 2.5e-7 and 2.4e-7. The test asserts max |diff| <= 1e-5: a margin
of 30x over the estimate and 170x over the measurement, and 8e4x below what another seed gives (0.84). One event could break
the estimate: a gradient element so close to zero that its sign flips between the orders, which Adam turns into an
update of up to 2·lr; it did not occur here (the runs are deterministic, so the measurement is reproducible on this
machine).

Exit 0 pass, 1 fail, 77 skip when mpirun is missing (fail instead when ADGRAPH_REQUIRE_MPI=1, as .ci/run sets).
Every process is started in its own session and killed (with all its descendants) on every exit path. A case has
one deadline (--budget, 540 s: below CTest's TIMEOUT of 600 s in tests/mpi/cli.cmake), and each program's time limit
is cut to what is left of it: CTest's timeout (CMake 3.25) kills this script with SIGKILL, leaving no chance to clean
up, so this script's own limit must come first.
"""
import argparse
import array
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

SKIP = 77
BOUND_ABS = 1e-5
TINY = ["--limit", "500", "--model", "784-32-10", "--dropout", "0.1", "--threads", "1", "--batch", "64",
        "--no-plot"]
# The equivalence run: 1000 images in batches of 32 (the last of 8 rows: 3 + 3 + 2 on three ranks), 10 epochs of 32
# steps: 320 steps.
EQUIVALENCE = ["--limit", "1000", "--model", "784-32-10", "--dropout", "0.1", "--threads", "1", "--batch", "32",
               "--no-plot", "--epochs", "10"]
EQUIVALENCE_EPOCHS = 10
STARTED = []  # every Popen, killed with its descendants at exit
DEADLINE = [float("inf")]  # time.monotonic() by which the case must end (main sets it from --budget)


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def environment():
    env = dict(os.environ)
    env.update({"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1", "OPENBLAS_NUM_THREADS": "1"})
    # A test must not inherit a launcher's variables (it is not itself a rank).
    for name in list(env):
        if name.startswith(("OMPI_COMM_WORLD", "PMI_", "PMIX_")):
            del env[name]
    return env


def children_of(pid):
    """Every descendant of pid, from /proc (ranks may leave mpirun's process group)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces: the fields after its ')' are fixed.
        fields = stat[stat.rfind(")") + 2:].split()
        parents.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_all(process):
    """Kills process, its process group and its descendants, then reaps it; only while it is not yet reaped (until
    then its pid, which is also its group's id, cannot belong to another process)."""
    if process.returncode is not None:
        return
    for pid in [process.pid] + children_of(process.pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except OSError:
        pass
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def start(args):
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment(),
                         start_new_session=True, text=True)
    STARTED.append(p)
    return p


def finish(p, timeout):
    """(exit code, stdout, stderr) of p, killing it (and its descendants) if it outlives `timeout` seconds or the
    case's deadline."""
    limit = min(timeout, DEADLINE[0] - time.monotonic())
    try:
        out, err = p.communicate(timeout=max(limit, 0.1))
    except subprocess.TimeoutExpired:
        kill_all(p)
        try:
            out, err = p.communicate(timeout=10)
        except subprocess.TimeoutExpired:  # something that escaped still holds the pipes
            out, err = "", ""
        raise Failure("timed out after %.0f s%s: %s\nstdout:\n%s\nstderr:\n%s"
                      % (limit, " (the case's deadline)" if limit < timeout else "", " ".join(p.args), out, err))
    return p.returncode, out, err


def run(args, timeout=120):
    return finish(start(args), timeout)


def mpirun(n, args):
    return ["mpirun", "--oversubscribe", "-np", str(n)] + args


def train_ok(args, timeout=180):
    code, out, err = run(args, timeout)
    check(code == 0, "%s exited %d\nstdout:\n%s\nstderr:\n%s" % (" ".join(args), code, out, err))
    return out, err


# --- safetensors, read with the standard library: 8-byte little-endian header length, JSON header, data ---------

TYPECODES = {"F32": "f", "F64": "d", "I64": "q", "U64": "Q", "I32": "i", "U32": "I"}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        values = array.array(TYPECODES[info["dtype"]])
        values.frombytes(data[8 + length + begin:8 + length + end])
        tensors[name] = values
    return tensors, header.get("__metadata__", {})


def compare(path_a, path_b):
    """(max abs difference, max abs difference / largest |value|, tensors bitwise equal) over every tensor."""
    a, _ = read_safetensors(path_a)
    b, _ = read_safetensors(path_b)
    check(sorted(a) == sorted(b), "%s and %s hold different tensors" % (path_a, path_b))
    worst, worst_rel, identical = 0.0, 0.0, True
    for name in a:
        check(len(a[name]) == len(b[name]), "tensor %s has another size" % name)
        identical = identical and a[name].tobytes() == b[name].tobytes()
        if name.startswith("optim.") and not name.endswith((".m", ".v")):
            continue  # step counts
        scale = max((abs(x) for x in a[name]), default=0.0) or 1.0
        diff = max((abs(x - y) for x, y in zip(a[name], b[name])), default=0.0)
        worst = max(worst, diff)
        if not name.startswith("optim."):
            worst_rel = max(worst_rel, diff / scale)
    return worst, worst_rel, identical


def metrics(directory):
    with open(os.path.join(directory, "metrics.jsonl")) as f:
        return [json.loads(line) for line in f if line.strip()]


# --- cases ---------------------------------------------------------------------------------------------------------

def case_equivalence(adgraph, work):
    plain = EQUIVALENCE
    single = os.path.join(work, "single")
    train_ok([adgraph, "train"] + plain + ["--out", single])
    other_seed = os.path.join(work, "seed2")
    train_ok([adgraph, "train"] + plain + ["--out", other_seed, "--seed", "2"])
    ref = os.path.join(single, "model.safetensors")
    far, _, _ = compare(ref, os.path.join(other_seed, "model.safetensors"))
    print("seed 2 vs seed 1: max |diff| %.3g" % far)
    check(far > 100 * BOUND_ABS, "another seed should differ by far more than the bound, got %g" % far)
    for n in (1, 2, 3):
        out_dir = os.path.join(work, "np%d" % n)
        out, err = train_ok(mpirun(n, [adgraph, "train"] + plain + ["--out", out_dir]))
        worst, rel, identical = compare(ref, os.path.join(out_dir, "model.safetensors"))
        print("-np %d vs one process: max |diff| %.3g, max |diff| / max |value| %.3g, bitwise %s"
              % (n, worst, rel, identical))
        if n == 1:
            check(identical, "-np 1 must equal the single process bitwise (max |diff| %g)" % worst)
        check(worst <= BOUND_ABS, "-np %d differs by %g > %g" % (n, worst, BOUND_ABS))
        check(rel <= 1e-3, "-np %d differs by %g relative to the largest value" % (n, rel))
        # Rank 0 alone reports and writes.
        check(out.count("adgraph train:") == 1, "the header must be printed once:\n" + out)
        check(out.count("wrote ") == 1, "the summary must be printed once:\n" + out)
        if n > 1:
            check("%d processes × 1 thread(s)" % n in out, "the header must say %d processes:\n%s" % (n, out))
        rows = metrics(out_dir)
        check([r["epoch"] for r in rows] == list(range(1, EQUIVALENCE_EPOCHS + 1)),
              "metrics.jsonl must hold every epoch once: %s" % rows)
        names = sorted(os.listdir(out_dir))
        check(names == ["confusion.csv", "metrics.jsonl", "model.safetensors"], "files written: %s" % names)
        # Reduced over the ranks, the train loss is the global batch's, close to the single process's.
        ref_rows = metrics(single)
        for mine, theirs in zip(rows, ref_rows):
            check(abs(mine["train_loss"] - theirs["train_loss"]) <= 1e-4 * abs(theirs["train_loss"]),
                  "train loss %s vs one process %s" % (mine["train_loss"], theirs["train_loss"]))
        # The evaluation split across ranks equals one process's evaluation of the same checkpoint.
        code, eval_out, eval_err = run([adgraph, "eval", "--model", os.path.join(out_dir, "model.safetensors"),
                                        "--limit", "1000"])
        check(code == 0, eval_err)
        shown = "test accuracy %.2f %%" % (100 * rows[-1]["test_acc"])
        check(shown in eval_out, "adgraph eval says %r, the run's last epoch %s" % (eval_out.splitlines()[0], shown))
        # And the loss (eval prints 4 decimals: within their rounding, plus the reduction's own round-off).
        loss = re.search(r"test loss ([0-9.]+)", eval_out)
        check(loss is not None and abs(float(loss.group(1)) - rows[-1]["test_loss"]) <= 6e-5,
              "adgraph eval says %r, the run's last epoch test loss %s" % (eval_out.splitlines()[0],
                                                                         rows[-1]["test_loss"]))
        if n == 1:
            with open(os.path.join(out_dir, "confusion.csv")) as f, open(os.path.join(single, "confusion.csv")) as g:
                check(f.read() == g.read(), "-np 1's confusion matrix differs from one process's")


def case_resume(adgraph, work):
    constant = TINY + ["--schedule", "constant"]
    whole = os.path.join(work, "whole")
    train_ok([adgraph, "train"] + constant + ["--epochs", "4", "--out", whole])
    ref = os.path.join(whole, "model.safetensors")
    for first, then in ((2, 3), (1, 2), (2, 1)):
        out_dir = os.path.join(work, "from%dto%d" % (first, then))
        launch = (lambda n, args: mpirun(n, args) if n > 1 else args)
        train_ok(launch(first, [adgraph, "train"] + constant + ["--epochs", "2", "--out", out_dir]))
        ckpt = os.path.join(out_dir, "model.safetensors")
        out, _ = train_ok(launch(then, [adgraph, "train", "--resume", ckpt, "--epochs", "4", "--threads", "1",
                                        "--no-plot"]))
        check("after epoch 2 (global step 16)" in out, "the resumed run must say where it starts:\n" + out)
        worst, rel, _ = compare(ref, ckpt)
        print("%d processes for 2 epochs, resumed on %d for 2 more, vs 4 epochs in one: max |diff| %.3g (rel %.3g)"
              % (first, then, worst, rel))
        check(worst <= BOUND_ABS, "resumed %d -> %d differs by %g" % (first, then, worst))
        check([r["epoch"] for r in metrics(out_dir)] == [1, 2, 3, 4], "metrics.jsonl must continue")

    # Every rank reads the checkpoint at the path on its own machine. Two files at one path need two machines, but
    # mpirun's colon syntax (one command line per rank) gives each rank its own path: rank 1 given another run's
    # checkpoint (2 epochs instead of 1) must stop every rank with one message, not drift or hang. The same resume
    # with a copy of rank 0's file instead trains (the check compares the runs, not the paths).
    first = os.path.join(work, "first")
    train_ok([adgraph, "train"] + constant + ["--epochs", "1", "--out", first])
    copy = os.path.join(work, "copy")
    shutil.copytree(first, copy)
    stale = os.path.join(work, "from2to3", "model.safetensors")  # 4 epochs by now
    before = open(os.path.join(first, "model.safetensors"), "rb").read()
    resume = ["train", "--epochs", "5", "--threads", "1", "--no-plot", "--resume"]

    def per_rank(ckpt0, ckpt1):
        return ["mpirun", "--oversubscribe", "-np", "1", adgraph] + resume + [ckpt0, ":", "-np", "1", adgraph] + \
            resume + [ckpt1]

    started = time.monotonic()
    code, out, err = run(per_rank(os.path.join(first, "model.safetensors"), stale), timeout=60)
    print("rank 1 resumed from another run: mpirun exited %d after %.2f s: %s"
          % (code, time.monotonic() - started, [line for line in err.splitlines() if "loaded another" in line]))
    check(code == 1, "every rank must exit 1, mpirun exited %d:\n%s" % (code, err))
    check(err.count("adgraph: error: checkpoint %s: rank 1 of 2 loaded another run than rank 0"
                    % os.path.join(first, "model.safetensors")) == 1, "rank 0 alone must name rank 1:\n" + err)
    check("MPI_ABORT" not in err and "aborts the job" not in err, "no rank may need MPI_Abort:\n" + err)
    check(open(os.path.join(first, "model.safetensors"), "rb").read() == before, "nothing may be written")
    out, _ = train_ok(per_rank(os.path.join(first, "model.safetensors"), os.path.join(copy, "model.safetensors")))
    check("after epoch 1 (global step 8)" in out, "the same run resumed on both ranks must train:\n" + out)

    # A refusal that only rank 1 meets (its copy has trained all 4 epochs asked for; rank 0's only 1), before MPI
    # is up: rank 1 must say why itself, naming itself (rank 0 has nothing to report), and the job must end.
    started = time.monotonic()
    ask = ["--epochs", "4", "--threads", "1", "--no-plot"]
    code, out, err = run(["mpirun", "--oversubscribe", "-np", "1", adgraph, "train", "--resume",
                          os.path.join(copy, "model.safetensors")] + ask +
                         [":", "-np", "1", adgraph, "train", "--resume", stale] + ask, timeout=60)
    print("rank 1 alone refuses its checkpoint: mpirun exited %d after %.2f s" % (code, time.monotonic() - started))
    check(code != 0, "mpirun must exit non-zero:\n" + err)
    check(err.count("adgraph: rank 1 of 2: --epochs 4: the checkpoint %s has trained 4 of 4 epochs" % stale) == 1,
          "rank 1 must say why, naming itself:\n" + err)


def rank_pid(mpirun_process, rank):
    for pid in children_of(mpirun_process.pid):
        try:
            with open("/proc/%d/environ" % pid, "rb") as f:
                env = f.read().split(b"\0")
        except OSError:
            continue
        if b"OMPI_COMM_WORLD_RANK=%d" % rank in env:
            return pid
    return None


def case_faults(adgraph, work):
    out_dir = os.path.join(work, "killed")
    ckpt = os.path.join(out_dir, "model.safetensors")
    # 10000 images in batches of 64: 157 steps an epoch, long enough to be killed inside one.
    long_run = ["--limit", "10000", "--model", "784-32-10", "--dropout", "0.1", "--threads", "1", "--batch", "64",
                "--no-plot", "--epochs", "1000", "--out", out_dir]
    p = start(mpirun(3, [adgraph, "train"] + long_run))
    try:
        deadline = time.monotonic() + 120
        while not os.path.exists(ckpt):
            if p.poll() is not None:
                raise Failure("the run ended before its first checkpoint: %s" % (p.communicate(),))
            check(time.monotonic() < deadline, "no checkpoint within 120 s")
            time.sleep(0.05)
        time.sleep(0.3)  # into the next epoch
        victim = rank_pid(p, 1)
        check(victim is not None, "rank 1's process not found among mpirun's descendants")
        killed_at = time.monotonic()
        os.kill(victim, signal.SIGKILL)
        code, out, err = finish(p, 60)
        seconds = time.monotonic() - killed_at
    finally:
        kill_all(p)  # nothing if finish() reaped it
    print("rank 1 killed: mpirun exited %d after %.2f s: %s"
          % (code, seconds, [line for line in (out + err).splitlines() if "rank 1" in line]))
    check(code != 0, "mpirun must exit non-zero when a rank is killed")
    # No rank of ours can say it (the victim is gone): mpirun's report names it, unless mpirun's own help-text
    # lookup failed under load (seen in 3 of 17 runs: ORTE_ERROR_LOG ... show_help); then the exit code must do.
    report_lost = "ORTE_ERROR_LOG" in err or "show_help" in err
    check("rank 1" in out + err or report_lost, "the message must name rank 1:\n%s\n%s" % (out, err))
    check(seconds < 10, "the job must end within seconds of rank 1's death, took %.2f s" % seconds)
    code, eval_out, eval_err = run([adgraph, "eval", "--model", ckpt, "--limit", "500"])
    check(code == 0, "the kept checkpoint must load: " + eval_err)
    epoch = int(read_safetensors(ckpt)[1]["epoch"])
    print("the kept checkpoint (epoch %d) loads: %s" % (epoch, eval_out.splitlines()[0]))
    out, _ = train_ok(mpirun(2, [adgraph, "train", "--resume", ckpt, "--epochs", str(epoch + 1), "--threads", "1",
                                 "--no-plot"]))
    check(int(read_safetensors(ckpt)[1]["epoch"]) == epoch + 1, "the resumed run must write epoch %d" % (epoch + 1))

    # A non-finite loss: every rank stops at the same step, exit 1, one message naming the ranks.
    nan_dir = os.path.join(work, "nan")
    started = time.monotonic()
    code, out, err = run(mpirun(3, [adgraph, "train"] + TINY + [
        "--epochs", "2", "--optimizer", "sgd", "--lr", "1e30", "--momentum", "0", "--schedule", "constant", "--out",
        nan_dir]), timeout=60)
    said = [line for line in err.splitlines() if "the loss became" in line]
    print("non-finite loss: mpirun exited %d after %.2f s (start-up included): %s"
          % (code, time.monotonic() - started, said))
    check(code == 1, "all ranks must exit 1, mpirun exited %d:\n%s" % (code, err))
    check(err.count("the loss became") == 1, "one message, from rank 0:\n" + err)
    check(" of 3 at epoch 1, step " in err and ("on rank " in err or "on ranks " in err),
          "the message must name the ranks:\n" + err)
    check("MPI_ABORT" not in err, "no rank may need MPI_Abort:\n" + err)
    check(not os.path.exists(os.path.join(nan_dir, "model.safetensors")), "no checkpoint after a first-epoch NaN")

    # A failure on rank 0 alone (its output directory cannot be made) while rank 1 goes on into the first step's
    # collective: rank 0 says why and ends the job itself (MPI_Abort), not relying on the launcher to notice.
    not_a_dir = os.path.join(work, "a-file")
    with open(not_a_dir, "w") as f:
        f.write("not a directory\n")
    started = time.monotonic()
    code, out, err = run(mpirun(2, [adgraph, "train"] + TINY + ["--epochs", "1", "--out", not_a_dir]), timeout=60)
    seconds = time.monotonic() - started
    print("rank 0 fails alone: mpirun exited %d after %.2f s (start-up included)" % (code, seconds))
    check(code != 0, "mpirun must exit non-zero when rank 0 fails:\n" + err)
    check(err.count("cannot create the output directory") == 1, "rank 0 alone must say why:\n" + err)
    check("adg::mpi: rank 0 of 2 aborts the job" in err, "rank 0 must end the job:\n" + err)
    check(seconds < 30, "the job must end within seconds, took %.2f s" % seconds)

    # Ranks started unlike (here rank 1 with another --limit, as another copy of the data on its node would be) would
    # take another number of steps, and the first to finish would wait for ever in MPI_Finalize: they compare a
    # fingerprint of the options and data sizes before training, and all exit 1 with one message from rank 0.
    unlike_dir = os.path.join(work, "unlike")
    rank0 = [adgraph, "train"] + TINY + ["--epochs", "1", "--out", unlike_dir]
    rank1 = [a if a != "500" else "400" for a in rank0]
    check(rank1 != rank0, "rank 1's command line must differ")
    started = time.monotonic()
    code, out, err = run(["mpirun", "--oversubscribe", "-np", "1"] + rank0 + [":", "-np", "1"] + rank1, timeout=60)
    seconds = time.monotonic() - started
    print("rank 1 started with another --limit: mpirun exited %d after %.2f s" % (code, seconds))
    check(code == 1, "every rank must exit 1, mpirun exited %d:\n%s" % (code, err))
    check(err.count("adgraph: error: rank 1 of 2 started another run than rank 0") == 1,
          "rank 0 alone must name rank 1:\n" + err)
    check("aborts the job" not in err and "MPI_ABORT" not in err, "no rank may need MPI_Abort:\n" + err)
    check(not os.path.exists(os.path.join(unlike_dir, "model.safetensors")), "nothing may be trained")
    check(seconds < 30, "the job must end within seconds, took %.2f s" % seconds)

    # The same options, but rank 1 resumes a checkpoint of them and rank 0 starts afresh: a resuming rank makes
    # collectives a fresh one does not (comparing what it loaded), so --resume is part of what the ranks compare.
    first = os.path.join(work, "first")
    train_ok([adgraph, "train"] + TINY + ["--epochs", "1", "--out", first])
    mixed_dir = os.path.join(work, "mixed")
    rank0 = [adgraph, "train"] + TINY + ["--epochs", "2", "--out", mixed_dir]
    rank1 = [adgraph, "train", "--resume", os.path.join(first, "model.safetensors"), "--epochs", "2", "--threads", "1",
             "--no-plot", "--out", mixed_dir]
    started = time.monotonic()
    code, out, err = run(["mpirun", "--oversubscribe", "-np", "1"] + rank0 + [":", "-np", "1"] + rank1, timeout=60)
    print("rank 1 resumes, rank 0 starts afresh: mpirun exited %d after %.2f s" % (code, time.monotonic() - started))
    check(code == 1, "every rank must exit 1, mpirun exited %d:\n%s" % (code, err))
    check(err.count("adgraph: error: rank 1 of 2 started another run than rank 0") == 1,
          "rank 0 alone must name rank 1:\n" + err)
    check("aborts the job" not in err and "MPI_ABORT" not in err, "no rank may need MPI_Abort:\n" + err)

    # Rank 1 cannot load its data (another --data on its node): MPI is up before the data is loaded, so the ranks
    # agree that one failed and all exit 1 normally, rank 1 naming itself; no rank waits in MPI_Init for it.
    nodata_dir = os.path.join(work, "nodata")
    rank0 = [adgraph, "train"] + TINY + ["--epochs", "1", "--out", nodata_dir]
    rank1 = rank0 + ["--data", os.path.join(work, "nowhere")]
    started = time.monotonic()
    code, out, err = run(["mpirun", "--oversubscribe", "-np", "1"] + rank0 + [":", "-np", "1"] + rank1, timeout=60)
    print("rank 1 cannot load its data: mpirun exited %d after %.2f s" % (code, time.monotonic() - started))
    check(code == 1, "every rank must exit 1, mpirun exited %d:\n%s" % (code, err))
    check(err.count("adgraph: error: rank 1 of 2: load_fashion_mnist: the data directory %s does not exist"
                    % os.path.join(work, "nowhere")) == 1, "rank 1 alone must say why, naming itself:\n" + err)
    check(err.count("adgraph: error:") == 1, "one message:\n" + err)
    check("aborts the job" not in err and "MPI_ABORT" not in err, "no rank may need MPI_Abort:\n" + err)
    check(not os.path.exists(os.path.join(nodata_dir, "model.safetensors")), "nothing may be trained")


def case_nompi(adgraph, work):
    check(os.environ.get("ADGRAPH_REQUIRE_MPI") != "1",
          "ADGRAPH_REQUIRE_MPI=1 but this build has no MPI (CMake did not find it: install libopenmpi-dev)")
    code, out, err = run(mpirun(2, [adgraph, "train"] + TINY + ["--out", os.path.join(work, "nompi")]), 60)
    print("without MPI, mpirun -np 2 exited %d: %s" % (code, err.strip().splitlines()[:1]))
    check(code == 1, "mpirun -np 2 of a build without MPI must exit 1, got %d" % code)
    check(err.count("this adgraph was built without MPI") == 1, "rank 0 alone must say so:\n" + err)
    check("install libopenmpi-dev" in err, err)
    check(not os.path.exists(os.path.join(work, "nompi")), "nothing may be trained or written")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--adgraph", required=True)
    parser.add_argument("--case", required=True, choices=["equivalence", "resume", "faults", "nompi"])
    parser.add_argument("--work", help="directory for the runs (default: a temporary one, removed)")
    parser.add_argument("--budget", type=float, default=540, help="seconds the case may take in all")
    args = parser.parse_args()
    DEADLINE[0] = time.monotonic() + args.budget
    # A SIGTERM (e.g. a user's kill; CTest's timeout sends SIGKILL) unwinds, so that the `finally` below kills what
    # was started.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit("FAIL: terminated (SIGTERM)"))
    if shutil.which("mpirun") is None:
        if os.environ.get("ADGRAPH_REQUIRE_MPI") == "1":
            print("FAIL: mpirun not found, but ADGRAPH_REQUIRE_MPI=1 (install openmpi-bin)")
            return 1
        print("SKIP: mpirun not found (install openmpi-bin)")
        return SKIP
    work = args.work or tempfile.mkdtemp(prefix="adgraph-mpi-")
    if args.work:
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
    try:
        globals()["case_" + args.case](os.path.abspath(args.adgraph), work)
        print("PASS")
        return 0
    except Failure as e:
        print("FAIL: %s" % e)
        return 1
    finally:
        for p in STARTED:
            # A reaped process's pid may belong to another process by now: only its group, which outlives it while
            # a member (an escaped rank) does and whose id is not reused meanwhile, is still ours to signal.
            if p.poll() is None:
                kill_all(p)
            else:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except OSError:
                    pass
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
