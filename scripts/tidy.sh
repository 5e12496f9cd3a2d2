#!/usr/bin/env bash
# Runs clang-tidy (checks in .clang-tidy) over the project's sources on every core, using the
# compile commands of a configured build tree. Exits non-zero on any finding.
#
#   scripts/tidy.sh [BUILD_DIR]
#
# A file that passed before with the same inputs (its text, the project headers it includes, its
# compile command, the checks, clang-tidy's version and the pinned dependencies: see
# scripts/tidy_keys.py) is not analysed again: its pass is remembered under
# $LAKEROUTER_CACHE/tidy. LAKEROUTER_TIDY_NO_CACHE=1 analyses every file.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${1:-build}"
cd "$ROOT"
TIDY=$(command -v clang-tidy || command -v clang-tidy-14 || true)
[ -n "$TIDY" ] || { echo "clang-tidy not found; run scripts/bootstrap.sh" >&2; exit 1; }
[ -f "$BUILD/compile_commands.json" ] || { echo "no $BUILD/compile_commands.json; build first" >&2; exit 1; }
CACHE="${LAKEROUTER_CACHE:-$HOME/.cache/lakerouter}/tidy"
mkdir -p "$CACHE"
report=$(mktemp)
todo=$(mktemp)
trap 'rm -f "$report" "$todo"' EXIT

total=0
while read -r key file; do
  total=$((total + 1))
  if [ "${LAKEROUTER_TIDY_NO_CACHE:-0}" = 1 ] || ! [ -f "$CACHE/$key" ]; then
    printf '%s %s\n' "$key" "$file" >>"$todo"
  fi
done < <(git ls-files 'src/*.cpp' | python3 scripts/tidy_keys.py "$BUILD" "$TIDY")
echo "clang-tidy: $(wc -l <"$todo") of $total files to analyse (the rest passed before unchanged)"

# One file per call; a clean pass is remembered by its key.
export TIDY BUILD CACHE
status=0
xargs -r -P "$(nproc)" -n 2 bash -c '"$TIDY" -p "$BUILD" --quiet --warnings-as-errors="*" "$1" && touch "$CACHE/$0"' \
  <"$todo" >"$report" 2>&1 || status=$?
grep -v -E "^[0-9]+ warnings? (and [0-9]+ errors? )?generated" "$report" || true
[ $status -eq 0 ] && echo "clang-tidy: no findings in $total files"
exit $status
