#!/usr/bin/env bash
# The workload benchmark in one command (bench/WORKLOAD.md): bootstraps, builds the router if needed,
# generates the demo lake, starts PostgreSQL and Trino on that lake, runs bench/workload_bench.py and
# writes the report to results/<date>-sf<N>/ (or --out DIR).
#
#   scripts/bench.sh                          # SF 1, all three workloads, concurrency 1 (~5 min)
#   scripts/bench.sh --sf 10                  # SF 10 (~25 min, +2 min for the lake; budget 300 min)
#   scripts/bench.sh --sf 1 --workloads mixed --concurrency 4 --out results/c4
#
# Every argument but --sf goes to bench/workload_bench.py (--help lists them). Trino's memory follows
# the scale factor unless set: LAKEROUTER_TRINO_HEAP (SF < 1: 2G, SF 1: 6G, SF 10: 12G),
# LAKEROUTER_TRINO_MAX_MEMORY_PER_NODE and LAKEROUTER_TRINO_SPILL_DIR (from SF 10). Starting the
# services on another lake (or heap) restarts Trino; scripts/test.sh moves it back to the test lake.
# LAKEROUTER_BIN names a prebuilt router and skips the build.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/common.sh
T0=$(date +%s)

SF=1
ARGS=()
while (($#)); do
  case $1 in
    --sf) [ $# -ge 2 ] || die "--sf needs a scale factor (0.01, 0.1, 1, 10)"; SF=$2; shift 2 ;;
    --sf=*) SF=${1#--sf=}; shift ;;
    -h | --help) awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "${BASH_SOURCE[0]}" >&2; exit 0 ;;
    *) ARGS+=("$1"); shift ;;
  esac
done
[[ $SF =~ ^[0-9]+(\.[0-9]+)?$ ]] && awk -v s="$SF" 'BEGIN {exit !(s > 0)}' || die "--sf must be a positive number, not '$SF'"
# The lake's folder name as gen_demo_lake.py and the tests spell it (sf1, sf0.01).
SF=$(awk -v s="$SF" 'BEGIN {printf "%g", s}')
LAKE="$LAKEROUTER_CACHE/lake/sf$SF"

big() { awk -v s="$SF" -v t="$1" 'BEGIN {exit !(s >= t)}'; }
if big 10; then
  export LAKEROUTER_TRINO_HEAP="${LAKEROUTER_TRINO_HEAP:-12G}"
  export LAKEROUTER_TRINO_MAX_MEMORY_PER_NODE="${LAKEROUTER_TRINO_MAX_MEMORY_PER_NODE:-6GB}"
  export LAKEROUTER_TRINO_SPILL_DIR="${LAKEROUTER_TRINO_SPILL_DIR:-$LAKEROUTER_CACHE/run/trino-spill}"
elif big 1; then
  export LAKEROUTER_TRINO_HEAP="${LAKEROUTER_TRINO_HEAP:-6G}"
fi

log "load average: $(cut -d' ' -f1-3 /proc/loadavg) (the figures need a quiet machine)"
scripts/bootstrap.sh
if [ -z "${LAKEROUTER_BIN:-}" ]; then
  log "building"
  build_tree build
fi
log "demo lake (TPC-H SF $SF) in $LAKE"
.venv/bin/python scripts/gen_demo_lake.py --sf "$SF" --out "$LAKE"
log "services on $LAKE (Trino heap ${LAKEROUTER_TRINO_HEAP:-2G})"
eval "$(scripts/services.sh start --lake "$LAKE")"

# SF 10 takes hours, not the 28 minutes the runner allows by default.
if big 10 && [[ " ${ARGS[*]-} " != *" --budget-min"* ]]; then ARGS+=(--budget-min 300); fi
OUT="results/$(date +%F)-sf$SF"
.venv/bin/python bench/workload_bench.py --sf "$SF" --lake "$LAKE" --out "$OUT" --t0 "$T0" ${ARGS[@]+"${ARGS[@]}"}
log "done in $(( ($(date +%s) - T0) / 60 )) min"
