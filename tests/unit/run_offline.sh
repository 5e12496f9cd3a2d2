#!/usr/bin/env bash
# Runs a command with no network: in a new network namespace (as root), or a user namespace.
# Fails when no namespace can be made, so a green run always means "proven offline".
set -euo pipefail
if unshare --net true 2>/dev/null; then
  exec unshare --net "$@"
elif unshare --user --map-root-user --net true 2>/dev/null; then
  exec unshare --user --map-root-user --net "$@"
fi
echo "run_offline.sh: cannot create a network namespace here (unshare refused)" >&2
exit 1
