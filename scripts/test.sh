#!/usr/bin/env bash
# The README's test command: bootstraps, builds, and runs every test on a fresh machine.
#
#   scripts/test.sh
#
# Steps: bootstrap -> test lake -> the real test servers (PostgreSQL, Trino: scripts/services.sh,
# started in the background while the build runs) -> build (warnings are errors) -> unit tests
# (ctest) -> ASan/UBSan build and unit tests -> clang-tidy -> integration tests (pytest, real
# server and clients on loopback) -> servers stopped.
# LAKEROUTER_SKIP_ASAN=1 / LAKEROUTER_SKIP_TIDY=1 skip those steps for a quick local loop;
# LAKEROUTER_KEEP_SERVICES=1 leaves the test servers running for the next run to reuse.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/common.sh

started=$SECONDS
step() { log "== $* (at $((SECONDS - started)) s)"; }

step "bootstrap"
scripts/bootstrap.sh

step "demo lake for tests (SF 0.01)"
export LAKEROUTER_TEST_LAKE="$LAKEROUTER_CACHE/lake/sf0.01"
.venv/bin/python scripts/gen_demo_lake.py --sf 0.01 --out "$LAKEROUTER_TEST_LAKE"

step "test servers: PostgreSQL and Trino (in the background during the build)"
services_env=$(mktemp)
services_log=$(mktemp)
scripts/services.sh start --lake "$LAKEROUTER_TEST_LAKE" >"$services_env" 2>"$services_log" &
services_pid=$!
stop_services() {
  [ "${LAKEROUTER_KEEP_SERVICES:-0}" = 1 ] || scripts/services.sh stop >/dev/null 2>&1 || true
  rm -f "$services_env" "$services_log"
}
trap stop_services EXIT

step "build"
build_tree build -DLAKEROUTER_WERROR=ON

step "waiting for the test servers"
if ! wait "$services_pid"; then
  cat "$services_log" >&2
  die "the test servers did not start (see above)"
fi
cat "$services_log" >&2
# shellcheck disable=SC1090
source "$services_env"  # LAKEROUTER_PG_DSN, LAKEROUTER_TRINO_URL, ...

step "unit tests"
(cd build && ctest -j "$(nproc)" --output-on-failure)

if [ "${LAKEROUTER_SKIP_ASAN:-0}" != 1 ]; then
  step "unit tests under AddressSanitizer + UndefinedBehaviorSanitizer"
  if ! [ -f build-asan/CMakeCache.txt ]; then
    # shellcheck disable=SC2046
    cmake -S . -B build-asan -G Ninja -DDUCKDB_HOME="$DUCKDB_HOME" -DARROW_HOME="$ARROW_HOME" -DCMAKE_BUILD_TYPE=Debug \
      $(compiler_launcher) -DCMAKE_CXX_FLAGS_DEBUG=-g1 \
      -DLAKEROUTER_SANITIZE=ON -DLAKEROUTER_WERROR=ON -DLAKEROUTER_BUILD_BENCH=OFF >/dev/null
  fi
  cmake --build build-asan -j "$(nproc)" --target lakerouter_tests lakerouter
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
     LSAN_OPTIONS="suppressions=$ROOT/tests/unit/lsan.supp" ctest -j "$(nproc)" --output-on-failure)
fi

if [ "${LAKEROUTER_SKIP_TIDY:-0}" != 1 ]; then
  step "clang-tidy"
  scripts/tidy.sh build
fi

step "integration tests"
export LAKEROUTER_BIN="$ROOT/build/src/lakerouter"
# The sanitizer build of the server, for the protocol-robustness tests (leaks and memory errors).
[ "${LAKEROUTER_SKIP_ASAN:-0}" = 1 ] || export LAKEROUTER_ASAN_BIN="$ROOT/build-asan/src/lakerouter"
.venv/bin/python -m pytest tests/integration -q -p no:cacheprovider

command -v ccache >/dev/null && ccache --show-stats 2>/dev/null | grep -iE "hits|misses" | head -3 >&2
step "all tests passed in $((SECONDS - started)) s"
