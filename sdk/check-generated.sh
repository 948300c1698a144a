#!/usr/bin/env bash
# `npm run check:sdk`: regenerate the SDK into a temp dir and fail when sdk/generated differs
# (an operation or the schema changed without `npm run sdk`).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
SDK_OUT_DIR="$tmp/" npx --no-install graphql-codegen --config codegen.ts --silent
if ! diff -ru sdk/generated "$tmp" >"$tmp.diff"; then
  head -n 40 "$tmp.diff" >&2
  rm -f "$tmp.diff"
  echo 'sdk/generated is out of date with schema/: run `npm run sdk` and commit it' >&2
  exit 1
fi
rm -f "$tmp.diff"
echo 'sdk/generated is up to date'
