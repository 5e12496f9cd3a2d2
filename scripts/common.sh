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

# Compiler cache, outside the repo: a clone builds what an earlier clone built from the cache
# (paths are made relative to the clone, so clones in different folders share hits).
export CCACHE_DIR="${CCACHE_DIR:-$LAKEROUTER_CACHE/ccache}" CCACHE_BASEDIR="${CCACHE_BASEDIR:-${ROOT:-$PWD}}"
export CCACHE_NOHASHDIR=true CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-6G}"
compiler_launcher() { command -v ccache >/dev/null && echo "-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"; true; }

log() { printf '[lakerouter %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# build_dir NAME [cmake args...]: configure (once) and build a CMake tree with both cores.
build_tree() {
  local dir=$1; shift
  if ! [ -f "$dir/CMakeCache.txt" ]; then
    # shellcheck disable=SC2046
    cmake -S "$ROOT" -B "$dir" -G Ninja -DDUCKDB_HOME="$DUCKDB_HOME" -DARROW_HOME="$ARROW_HOME" $(compiler_launcher) \
      "$@" >/dev/null
  fi
  cmake --build "$dir" -j "$(nproc)"
}
