#!/usr/bin/env bash
# Builds and runs every benchmark program (and the libtorch, functorch and ADOL-C peers where installed) in
# interleaved rounds, then regenerates docs/benchmarks.md (tables, ratios against the issue's targets, plots).
#
#   scripts/run-benchmarks.sh [--rounds N] [--build DIR] [--arch ARCH] [--docs DIR] [--quick] [--no-docs]
#                             [--only cnn|gru] [--cnn-limit N] [--gru-limit N]
#
# --only cnn runs only bench_cnn and its libtorch peer and splices their section into the existing page (the rest
# of the page is left as it is); --cnn-limit is the number of training samples in their epoch (default 6400).
# --only gru does the same for bench_gru and its libtorch peer (GRU section, after the CNN one); --gru-limit is the
# number of training samples in their epoch (default 6400).
#
# It measures the build scripts/setup.sh produces: it configures DIR (default build/bench) with
# `cmake --preset release` (Release, CMake's default ADGRAPH_ARCH, i.e. -march=native, tests, examples and
# benchmarks on) and ccache where installed, as setup.sh does. --arch ARCH overrides ADGRAPH_ARCH for this run only
# (--arch portable: the x86-64 baseline build); without it, an ADGRAPH_ARCH left in DIR's cache by an earlier
# --arch is dropped, so the default applies again. The page states the flags actually used, read from DIR's CMake
# cache and the compile commands.
#
# Each round runs every program once, alternating adgraph and its peers, so a change of machine load hits both
# sides of a ratio alike; the report takes the median over rounds (ratios: the median of per-round ratios).
# Measure on a quiet machine: the script prints the load average and any fuzzers it sees before each round.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD="$ROOT/build/bench"
ROUNDS=3
ARCH=""
ARCH_SET=0
QUICK=()
DOCS=1
DOCS_DIR="$ROOT/docs"
ONLY=""
CNN_LIMIT=6400
GRU_LIMIT=6400
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift 2 ;;
    --build) BUILD=$2; shift 2 ;;
    --arch) ARCH=$2; ARCH_SET=1; shift 2 ;;
    --quick) QUICK=(--quick); shift ;;
    --docs) DOCS_DIR=$2; shift 2 ;;
    --no-docs) DOCS=0; shift ;;
    --only) ONLY=$2; shift 2 ;;
    --cnn-limit) CNN_LIMIT=$2; shift 2 ;;
    --gru-limit) GRU_LIMIT=$2; shift 2 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "run-benchmarks: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

if [[ -n $ONLY && $ONLY != cnn && $ONLY != gru ]]; then
  echo "run-benchmarks: --only takes cnn or gru (got $ONLY)" >&2
  exit 2
fi
BUILD=$(realpath -m "$BUILD")
# Configured as scripts/setup.sh configures build/release, in a directory of its own. A directory an earlier version
# of this script configured with another generator (make) is configured afresh: CMake cannot switch generators.
if [[ -f $BUILD/CMakeCache.txt ]] && ! grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja$' "$BUILD/CMakeCache.txt"; then
  echo "run-benchmarks: $BUILD was configured with another generator; configuring it afresh" >&2
  rm -rf "$BUILD/CMakeCache.txt" "$BUILD/CMakeFiles"
fi
CONFIGURE=(--preset release -B "$BUILD")
if command -v ccache >/dev/null 2>&1; then CONFIGURE+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
if [[ $ARCH_SET -eq 1 ]]; then CONFIGURE+=(-DADGRAPH_ARCH="$ARCH"); else CONFIGURE+=(-UADGRAPH_ARCH); fi
(cd "$ROOT" && cmake "${CONFIGURE[@]}" >/dev/null)
if [[ $ONLY == cnn ]]; then
  TARGETS=(bench_cnn)
  PEERS=(bench_cnn_torch)
elif [[ $ONLY == gru ]]; then
  TARGETS=(bench_gru)
  PEERS=(bench_gru_torch)
else
  TARGETS=(bench_modes bench_jacobian_chain bench_overhead bench_mlp bench_mlp_user bench_higher_order bench_cnn bench_gru)
  PEERS=(bench_mlp_torch bench_overhead_torch bench_cnn_torch bench_gru_torch bench_modes_adolc)
fi
cmake --build "$BUILD" -j"${JOBS:-2}" --target "${TARGETS[@]}"
# The peers exist only where libtorch / ADOL-C were found at configure time.
for t in "${PEERS[@]}"; do
  if ! cmake --build "$BUILD" -j"${JOBS:-2}" --target "$t" >"$BUILD/$t.build.log" 2>&1; then
    echo "run-benchmarks: $t not built (peer library missing?), see $BUILD/$t.build.log" >&2
  fi
done
BIN="$BUILD/benchmarks"
have() { [[ -x "$BIN/$1" ]]; }
TORCH_PY=/usr/bin/python3
have_functorch() { "$TORCH_PY" -c 'import torch.func' 2>/dev/null || "$TORCH_PY" -c 'import functorch' 2>/dev/null; }

OUT="$BUILD/bench-results/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$OUT"
echo "run-benchmarks: results in $OUT"

# What the figures come from: the cache entries that set the flags, and the flags of the compile commands of the
# library and of a benchmark program as the generator will run them.
cache() { sed -n "s/^$1:[A-Z]*=//p" "$BUILD/CMakeCache.txt"; }
compile_flags() {
  # The optimisation, code-generation and definition flags of the command that compiles source $2 for target $1.
  { ninja -C "$BUILD" -t commands "$1" 2>/dev/null | grep -m1 -- "$2" | tr ' ' '\n' |
    grep -E '^-(O|march|mtune|f|DNDEBUG|std|g$|m[a-z0-9-]+$)' | tr '\n' ' ' | sed 's/ $//'; } || true
}
# Every program states its machine; the run records the rest: date, commit, build, load, peers' versions.
{
  echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet 2>/dev/null || echo '+local changes')"
  echo "compiler=$(c++ --version | head -1)"
  echo "openblas=$(dpkg-query -W -f '${Version}' libopenblas0-pthread 2>/dev/null || echo unknown)"
  echo "rounds=$ROUNDS"
  echo "only=${ONLY:-all}"
  echo "build_dir=$BUILD"
  echo "build_type=$(cache CMAKE_BUILD_TYPE)"
  echo "arch=$(cache ADGRAPH_ARCH)"
  echo "arch_override=$([[ $ARCH_SET -eq 1 ]] && echo "--arch $ARCH" || echo "none (CMake's default)")"
  # What -march=native means to this compiler on this CPU.
  echo "native_cpu=$(c++ -march=native -Q --help=target 2>/dev/null |
    sed -n 's/^[[:space:]]*-march=[[:space:]]*//p' | head -1)"
  echo "cxx_flags_release=$(cache CMAKE_CXX_FLAGS_RELEASE)"
  echo "cxx_flags=$(cache CMAKE_CXX_FLAGS)"
  echo "library_flags=$(compile_flags benchmarks/bench_modes tensor/array.cpp)"
  echo "benchmark_flags=$(compile_flags benchmarks/bench_modes benchmarks/modes.cpp)"
} >"$OUT/run.env"

round_note() {
  local load fuzz
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  fuzz=$(pgrep -fc 'fuzz_' || true)
  echo "round $1: load average $load, fuzzers running: $fuzz" | tee -a "$OUT/load.txt"
}

# The cnn preset (a CNN_LIMIT-sample epoch at 1 and 2 threads, then the conv2d layer table) and its libtorch peer,
# which like bench_mlp_torch runs with libgomp's default and with passive waiting.
cnn_round() {
  local R=$1
  OPENBLAS_NUM_THREADS=2 "$BIN/bench_cnn" --json --threads 1,2 --limit "$CNN_LIMIT" "${QUICK[@]}" >"$R/cnn.jsonl"
  if have bench_cnn_torch; then
    OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=2 "$BIN/bench_cnn_torch" --json --threads 1,2 --limit "$CNN_LIMIT" \
      "${QUICK[@]}" >"$R/cnn_torch.jsonl"
    OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=2 OMP_WAIT_POLICY=passive "$BIN/bench_cnn_torch" --json --threads 1,2 \
      --limit "$CNN_LIMIT" "${QUICK[@]}" >"$R/cnn_torch_passive.jsonl"
  fi
}

# The GRU classifier (a GRU_LIMIT-sample epoch at 1 and 2 threads), with gradient clipping (the step's default,
# clip 5) and without, and its libtorch peer: passive waiting for every timed epoch, libgomp's default for one with
# clipping (at 2 threads its spinning workers and OpenBLAS's fight for the cores, which makes its epochs minutes long).
gru_round() {
  local R=$1 clip suffix
  for clip in 5 0; do
    suffix=$([[ $clip == 0 ]] && echo _noclip || echo "")
    OPENBLAS_NUM_THREADS=2 "$BIN/bench_gru" --json --threads 1,2 --limit "$GRU_LIMIT" --clip "$clip" "${QUICK[@]}" \
      >"$R/gru$suffix.jsonl"
    if have bench_gru_torch; then
      OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=2 OMP_WAIT_POLICY=passive "$BIN/bench_gru_torch" --json --threads 1,2 \
        --limit "$GRU_LIMIT" --clip "$clip" "${QUICK[@]}" >"$R/gru_torch_passive$suffix.jsonl"
      if [[ $clip == 5 ]]; then
        OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=2 "$BIN/bench_gru_torch" --json --threads 1,2 --epochs 1 \
          --limit "$GRU_LIMIT" --clip "$clip" "${QUICK[@]}" >"$R/gru_torch$suffix.jsonl"
      fi
    fi
  done
}

for ((r = 1; r <= ROUNDS; r++)); do
  round_note "$r"
  R="$OUT/round-$r"
  mkdir -p "$R"
  if [[ $ONLY == cnn ]]; then
    cnn_round "$R"
    continue
  fi
  if [[ $ONLY == gru ]]; then
    gru_round "$R"
    continue
  fi
  # The modes table and its peers at 1 thread.
  OPENBLAS_NUM_THREADS=1 "$BIN/bench_modes" --json --csv "$R/modes.csv" --png "$R/modes.png" "${QUICK[@]}" >"$R/modes.jsonl"
  # jacrev at m = 1000 once more with an explicit retain_freed_memory() call: the library as shipped must be as fast.
  OPENBLAS_NUM_THREADS=1 "$BIN/bench_modes" --json --retain-freed-memory --shapes 1x1000,10x1000 --no-mlp \
    --csv "$R/modes_retain.csv" --png "" "${QUICK[@]}" >"$R/modes_retain.jsonl"
  if have_functorch; then
    OMP_NUM_THREADS=1 "$TORCH_PY" "$ROOT/benchmarks/torch/modes.py" --json "${QUICK[@]}" >"$R/modes_functorch.jsonl"
  fi
  if have bench_modes_adolc; then
    OPENBLAS_NUM_THREADS=1 "$BIN/bench_modes_adolc" --json "${QUICK[@]}" >"$R/modes_adolc.jsonl"
  fi
  # Per-op overhead at 1 thread.
  OPENBLAS_NUM_THREADS=1 "$BIN/bench_overhead" --json "${QUICK[@]}" >"$R/overhead.jsonl"
  if have bench_overhead_torch; then
    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 "$BIN/bench_overhead_torch" --json "${QUICK[@]}" >"$R/overhead_torch.jsonl"
  fi
  # MLP training at 1 and 2 threads (each program switches its thread count between epochs).
  OPENBLAS_NUM_THREADS=2 "$BIN/bench_mlp" --json --threads 1,2 "${QUICK[@]}" >"$R/mlp.jsonl"
  if have bench_mlp_torch; then
    OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=2 "$BIN/bench_mlp_torch" --json --threads 1,2 "${QUICK[@]}" \
      >"$R/mlp_torch.jsonl"
    # libgomp's default spin-waiting fights OpenBLAS's own threads for the cores; passive waiting is often faster
    # here. The report compares adgraph with the faster of the two libtorch runs.
    OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=2 OMP_WAIT_POLICY=passive "$BIN/bench_mlp_torch" --json --threads 1,2 \
      "${QUICK[@]}" >"$R/mlp_torch_passive.jsonl"
  fi
  # The same epoch written as a user writes it (nn modules, DataLoader), in dataset order and shuffled; libtorch
  # shuffled too (index_select), with passive waiting.
  OPENBLAS_NUM_THREADS=2 "$BIN/bench_mlp_user" --json --threads 1,2 --epochs 3 --in-order "${QUICK[@]}" \
    >"$R/mlp_user_in_order.jsonl"
  OPENBLAS_NUM_THREADS=2 "$BIN/bench_mlp_user" --json --threads 1,2 --epochs 3 "${QUICK[@]}" >"$R/mlp_user.jsonl"
  if have bench_mlp_torch; then
    OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=2 OMP_WAIT_POLICY=passive "$BIN/bench_mlp_torch" --json --threads 1,2 \
      --shuffle "${QUICK[@]}" >"$R/mlp_torch_shuffled.jsonl"
  fi
  cnn_round "$R"
  gru_round "$R"
  OPENBLAS_NUM_THREADS=1 "$BIN/bench_jacobian_chain" --json "${QUICK[@]}" >"$R/jacobian_chain.jsonl"
  OPENBLAS_NUM_THREADS=1 "$BIN/bench_higher_order" --json "${QUICK[@]}" >"$R/higher_order.jsonl"
done
round_note end

if [[ -n $ONLY ]]; then
  if [[ $DOCS -eq 1 ]]; then
    python3 "$ROOT/benchmarks/report.py" "$OUT" --docs "$DOCS_DIR" --section "$ONLY"
    echo "run-benchmarks: spliced the $ONLY section into $DOCS_DIR/benchmarks.md"
  else
    python3 "$ROOT/benchmarks/report.py" "$OUT" --section "$ONLY"
  fi
elif [[ $DOCS -eq 1 ]]; then
  python3 "$ROOT/benchmarks/report.py" "$OUT" --docs "$DOCS_DIR"
  echo "run-benchmarks: wrote $DOCS_DIR/benchmarks.md"
else
  python3 "$ROOT/benchmarks/report.py" "$OUT"
fi
