#!/usr/bin/env bash
# Memory drift of a long training run: runs `adgraph train` for many epochs and compares the resident set size and
# the heap bytes in use recorded after each epoch (metrics.jsonl, keys rss_mib and heap_mib) with those after
# epoch 2, when the optimizer's state, the data and the allocator's pools exist. RSS is what the machine sees; the
# heap in use catches a slow leak that RSS hides while it fills memory the allocator had kept (a leak of one
# batch's input per step shows there from epoch 3 on).
#
# Usage: benchmarks/rss_drift.sh [--adgraph PATH] [--epochs N] [--limit N] [--max-drift PCT] [-- extra train args]
#   defaults: adgraph from PATH, 50 epochs, 60000 images (the full set), max drift 5 (%).
# Prints a table (epoch; RSS and heap with their drift vs epoch 2) and the largest drifts; exits 1 when either
# reaches --max-drift.
set -euo pipefail

ADGRAPH=adgraph
EPOCHS=50
LIMIT=60000
MAX_DRIFT=5
EXTRA=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --adgraph) ADGRAPH="$2"; shift 2 ;;
    --epochs) EPOCHS="$2"; shift 2 ;;
    --limit) LIMIT="$2"; shift 2 ;;
    --max-drift) MAX_DRIFT="$2"; shift 2 ;;
    --) shift; EXTRA=("$@"); break ;;
    *) echo "rss_drift.sh: unknown argument '$1' (see the usage at the top of $0)" >&2; exit 2 ;;
  esac
done
if [[ "$EPOCHS" -lt 3 ]]; then
  echo "rss_drift.sh: --epochs must be at least 3 (drift is measured after epoch 2), got $EPOCHS" >&2
  exit 2
fi

if ! command -v "$ADGRAPH" >/dev/null 2>&1; then
  echo "rss_drift.sh: cannot run '$ADGRAPH'; build it (cmake --workflow --preset release puts it in build/release/bin)" \
       "and pass --adgraph PATH, or install it (scripts/setup.sh)" >&2
  exit 2
fi

OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT

echo "rss_drift: $ADGRAPH train --epochs $EPOCHS --limit $LIMIT --no-plot ${EXTRA[*]:-}"
"$ADGRAPH" train --epochs "$EPOCHS" --limit "$LIMIT" --no-plot --out "$OUT" "${EXTRA[@]}" > "$OUT/train.log"
tail -n 1 "$OUT/train.log" | sed 's/^/rss_drift: /'

# One "epoch heap rss" line per epoch, from the JSON lines (flat objects; nlohmann::json sorts the keys, so they
# come in the order epoch, heap_mib, rss_mib).
NUM='[0-9.eE+-]+'
sed -E "s/.*\"epoch\":([0-9]+).*\"heap_mib\":($NUM).*\"rss_mib\":($NUM).*/\1 \2 \3/" "$OUT/metrics.jsonl" > "$OUT/mem.txt"
if [[ "$(wc -l < "$OUT/mem.txt")" -ne "$EPOCHS" ]] || grep -Evq "^[0-9]+ $NUM $NUM\$" "$OUT/mem.txt"; then
  echo "rss_drift.sh: metrics.jsonl does not hold $EPOCHS epochs with heap_mib and rss_mib; is $ADGRAPH too old?" >&2
  exit 1
fi

awk -v max="$MAX_DRIFT" '
  function drift(v, base) { return 100 * (v - base) / base }
  function abs(v) { return v < 0 ? -v : v }
  $1 == 2 { heap0 = $2; rss0 = $3 }
  { heap[$1] = $2; rss[$1] = $3; n = $1 }
  END {
    if (rss0 <= 0) { print "rss_drift.sh: no RSS recorded for epoch 2 (is /proc mounted?)" > "/dev/stderr"; exit 1 }
    if (heap0 <= 0) {
      print "rss_drift.sh: no heap figure for epoch 2: this allocator does not report one (a sanitizer build?);" \
            " measure a release build" > "/dev/stderr"
      exit 1
    }
    printf "%6s %10s %9s %10s %9s\n", "epoch", "RSS MiB", "vs ep. 2", "heap MiB", "vs ep. 2"
    for (e = 1; e <= n; ++e) {
      dr = drift(rss[e], rss0); dh = drift(heap[e], heap0)
      if (e > 2 && abs(dr) >= abs(worst_rss)) { worst_rss = dr; worst_rss_epoch = e }
      if (e > 2 && abs(dh) >= abs(worst_heap)) { worst_heap = dh; worst_heap_epoch = e }
      printf "%6d %10.2f %+8.2f%% %10.2f %+8.2f%%\n", e, rss[e], dr, heap[e], dh
    }
    printf "largest drift after epoch 2: RSS %+.2f%% (epoch %d), heap in use %+.2f%% (epoch %d); limit %s%%\n",
           worst_rss, worst_rss_epoch, worst_heap, worst_heap_epoch, max
    exit (abs(worst_rss) >= max || abs(worst_heap) >= max) ? 1 : 0
  }' "$OUT/mem.txt"
