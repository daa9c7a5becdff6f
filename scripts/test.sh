#!/usr/bin/env bash
# The whole test suite, as `npm test` runs it (and CI, through .ci/run):
# format, lint and type checks, then every test on Deno and on Bun.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
if [ ! -x node_modules/.bin/deno ] || [ ! -x node_modules/.bin/bun ]; then
  echo "error: run 'npm install' first (Deno and Bun are installed from npm as devDependencies)" >&2
  exit 1
fi
bash scripts/ensure_redis.sh

LOG_DIR="$(mktemp -d)"
trap 'rm -rf "$LOG_DIR"' EXIT
passed=0
failed=0

step() { echo; echo "=== $* ==="; }

step "format, lint, type check (deno fmt --check, deno lint, deno check)"
deno fmt --check
deno lint
deno check mod.ts testing.ts adapters/*.ts tests/*.ts examples/*.ts

step "tests on Deno $(deno --version | head -1 | cut -d' ' -f2)"
set +e
deno test -A --junit-path="$LOG_DIR/deno.xml" tests/ 2>&1 | tee "$LOG_DIR/deno.log"
deno_status=${PIPESTATUS[0]}
set -e
read -r dpass dfail < <(node scripts/count_junit.mjs "$LOG_DIR/deno.xml")
echo "deno: $dpass passed, $dfail failed"
passed=$((passed + dpass))
failed=$((failed + dfail))

step "tests on Bun $(bun --version)"
set +e
bun test tests/ 2>&1 | tee "$LOG_DIR/bun.log"
bun_status=${PIPESTATUS[0]}
set -e
bpass="$(sed -nE 's/^ *([0-9]+) pass$/\1/p' "$LOG_DIR/bun.log" | tail -1)"
bfail="$(sed -nE 's/^ *([0-9]+) fail$/\1/p' "$LOG_DIR/bun.log" | tail -1)"
passed=$((passed + ${bpass:-0}))
failed=$((failed + ${bfail:-0}))
echo "bun: ${bpass:-0} passed, ${bfail:-0} failed"

echo
if [ "$deno_status" -ne 0 ] || [ "$bun_status" -ne 0 ]; then
  [ "$failed" -eq 0 ] && failed=1
  echo "total: $passed passed, $failed failed"
  exit 1
fi
echo "total: $passed passed, $failed failed"
