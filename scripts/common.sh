# Shared settings for the project's scripts. Source it; do not run it.
# shellcheck shell=bash

LAKEROUTER_CACHE="${LAKEROUTER_CACHE:-$HOME/.cache/lakerouter}"
DOWNLOADS="$LAKEROUTER_CACHE/downloads"
DUCKDB_VERSION=1.5.5
DUCKDB_HOME="$LAKEROUTER_CACHE/duckdb-$DUCKDB_VERSION"
DUCKDB_EXTENSIONS="$DUCKDB_HOME/extensions"
ARROW_VERSION=26.0.1  # the pyarrow wheel in deps.lock
ARROW_HOME="$LAKEROUTER_CACHE/arrow-$ARROW_VERSION"
JARS="$LAKEROUTER_CACHE/jars"  # client drivers from Maven Central
export LAKEROUTER_CACHE DUCKDB_HOME DUCKDB_EXTENSIONS ARROW_HOME JARS

log() { printf '[lakerouter %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# build_dir NAME [cmake args...]: configure (once) and build a CMake tree with both cores.
build_tree() {
  local dir=$1; shift
  if ! [ -f "$dir/CMakeCache.txt" ]; then
    cmake -S "$ROOT" -B "$dir" -G Ninja -DDUCKDB_HOME="$DUCKDB_HOME" -DARROW_HOME="$ARROW_HOME" "$@" >/dev/null
  fi
  cmake --build "$dir" -j "$(nproc)"
}
