#!/usr/bin/env bash
# Runs clang-tidy (checks in .clang-tidy) over the project's sources on every core, using the
# compile commands of a configured build tree. Exits non-zero on any finding.
#
#   scripts/tidy.sh [BUILD_DIR]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${1:-build}"
cd "$ROOT"
TIDY=$(command -v clang-tidy || command -v clang-tidy-14 || true)
[ -n "$TIDY" ] || { echo "clang-tidy not found; run scripts/bootstrap.sh" >&2; exit 1; }
[ -f "$BUILD/compile_commands.json" ] || { echo "no $BUILD/compile_commands.json; build first" >&2; exit 1; }
report=$(mktemp)
trap 'rm -f "$report"' EXIT
status=0
git ls-files 'src/*.cpp' | xargs -P "$(nproc)" -n 1 "$TIDY" -p "$BUILD" --quiet --warnings-as-errors='*' \
  >"$report" 2>&1 || status=$?
grep -v -E "^[0-9]+ warnings? (and [0-9]+ errors? )?generated" "$report" || true
[ $status -eq 0 ] && echo "clang-tidy: no findings in $(git ls-files 'src/*.cpp' | wc -l) files"
exit $status
