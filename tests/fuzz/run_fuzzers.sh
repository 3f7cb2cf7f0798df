#!/usr/bin/env bash
# Runs the libFuzzer targets one after another (never in parallel), each for SECONDS, with the limits of
# issue 6: -malloc_limit_mb=256 (a reader that allocates what a corrupt header claims is a finding) and
# -rss_limit_mb=2048. Build them first: cmake --preset fuzz && cmake --build --preset fuzz
#
#   tests/fuzz/run_fuzzers.sh [SECONDS] [TARGET...]     (default 620 s; all of idx_raw idx_gz checkpoint spec png)
#
# Env: FUZZ_BUILD (default build/fuzz), FUZZ_WORK (default build/fuzz/work: the growing corpus, one directory per
# target, and crash/oom/timeout artifacts), FUZZ_LOGS (default build/fuzz/logs). The committed seeds in
# tests/fuzz/corpus/<target>/ are read, never written. Exit status: 0 if every run ended without a finding.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

seconds=${1:-620}
shift || true
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(idx_raw idx_gz checkpoint spec png)
build=${FUZZ_BUILD:-build/fuzz}
work=${FUZZ_WORK:-$build/work}
logs=${FUZZ_LOGS:-$build/logs}
mkdir -p "$logs"

status=0
for t in "${targets[@]}"; do
  case $t in
    idx_raw | idx_gz) dict=tests/fuzz/idx.dict ;;
    checkpoint | spec | png) dict=tests/fuzz/$t.dict ;;
    *) echo "run_fuzzers: unknown target '$t' (idx_raw, idx_gz, checkpoint, spec, png)" >&2; exit 2 ;;
  esac
  bin=$build/tests/fuzz/fuzz_$t
  [[ -x $bin ]] || { echo "run_fuzzers: $bin is missing; build the fuzz preset first" >&2; exit 2; }
  mkdir -p "$work/$t"
  log=$logs/$t-$(date +%Y%m%d-%H%M%S).log
  echo "run_fuzzers: $t for $seconds s, log $log"
  "$bin" -malloc_limit_mb=256 -rss_limit_mb=2048 -max_total_time="$seconds" -print_final_stats=1 \
    -dict="$dict" -artifact_prefix="$work/$t-" "$work/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1
  rc=$?
  grep -E '^#[0-9]+[[:space:]]+DONE|^Done [0-9]+ runs|^stat::' "$log" | sed "s/^/  $t: /"
  if [[ $rc -ne 0 ]]; then
    echo "run_fuzzers: $t stopped with status $rc (a finding); see $log and $work/$t-*" >&2
    status=1
  fi
done
exit $status
