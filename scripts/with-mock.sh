#!/usr/bin/env bash
# Usage: with-mock.sh PATH/TO/partly-mock [mock args...] -- command [args...]
# Starts partly-mock on a free port, exports PARTLY_BASE_URL (and the demo credentials through
# the command's own defaults), runs the command, then stops the mock by its PID.
set -euo pipefail
mock=$1; shift
mock_args=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do mock_args+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
out=$(mktemp)
"$mock" --port 0 "${mock_args[@]}" >"$out" &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -f "$out"' EXIT
for _ in $(seq 1 200); do
  if grep -q '^listening on ' "$out"; then break; fi
  if ! kill -0 "$pid" 2>/dev/null; then echo "partly-mock exited early" >&2; cat "$out" >&2; exit 1; fi
  sleep 0.05
done
url=$(sed -n 's/^listening on //p' "$out" | head -n1)
[ -n "$url" ] || { echo "partly-mock did not report its address" >&2; exit 1; }
export PARTLY_BASE_URL="$url"
"$@"
