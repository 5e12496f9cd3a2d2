#!/usr/bin/env bash
# The README's main command: bootstraps, builds, generates the demo lake if missing, and starts
# the router on its embedded default (DuckDB over the demo lake).
#
#   scripts/run.sh                 # SF 1 demo lake, HTTP on 127.0.0.1:8080
#   LAKEROUTER_SF=0.1 LAKEROUTER_PORT=9090 scripts/run.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/common.sh

SF="${LAKEROUTER_SF:-1}"
PORT="${LAKEROUTER_PORT:-8080}"
LAKE="$LAKEROUTER_CACHE/lake/sf$SF"

scripts/bootstrap.sh
log "building"
build_tree build
log "demo lake (TPC-H SF $SF) in $LAKE"
.venv/bin/python scripts/gen_demo_lake.py --sf "$SF" --out "$LAKE"

cat >&2 <<MSG

  lakerouter is starting on http://127.0.0.1:$PORT  (Ctrl-C stops it)

  Try:
    curl -s http://127.0.0.1:$PORT/v1/tables
    curl -s http://127.0.0.1:$PORT/v1/query -H 'Content-Type: application/json' \\
      -d '{"sql": "SELECT l_returnflag, count(*) AS n, sum(l_extendedprice) AS revenue FROM tpch.lineitem GROUP BY 1 ORDER BY 1"}'

MSG
exec build/src/lakerouter serve --lake "$LAKE" --port "$PORT"
