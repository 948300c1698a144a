#!/usr/bin/env bash
# `npm run check`: the five independent checks at once. One after another they took 133 s of the
# CI budget (types 32, lint 23, format 28, schema 29 — a full build — and sdk 6), each on one
# core of a 2-core machine. Each check's output is kept and printed when it fails; the exit status
# is non-zero when any check fails.
set -uo pipefail
cd "$(dirname "$0")/.."
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
checks=(check:types check:lint check:format check:schema check:sdk)
pids=()
for c in "${checks[@]}"; do
  npm run -s "$c" >"$logs/$c.log" 2>&1 &
  pids+=($!)
done
status=0
for i in "${!checks[@]}"; do
  c=${checks[$i]}
  if wait "${pids[$i]}"; then
    echo "check: ok   $c"
  else
    status=1
    echo "check: FAIL $c"
    cat "$logs/$c.log"
  fi
done
exit $status
