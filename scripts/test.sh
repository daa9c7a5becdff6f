#!/usr/bin/env bash
# The whole test suite, as `npm test` runs it (and CI, through .ci/run):
# format, lint and type checks, the JSR package checks, every test on Deno and
# on Bun, then the npm package: built, the suite run against it on Node 22, 24
# and 26 (from npm: the machine's own node may be end-of-life), and its packed
# tarball smoke-tested; last, the chaos run and the benchmark at CI size.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x node_modules/.bin/deno ] || [ ! -x node_modules/.bin/bun ]; then
  echo "error: run 'npm ci' first (Deno and Bun are installed from npm as devDependencies)" >&2
  exit 1
fi
# Node 24 first on PATH for everything below that runs `node` (the helper
# scripts, the CLI tests, the smoke test, npm itself), whatever the machine has.
node24="$(bash scripts/install_node.sh 24)"
export PATH="$PWD/node_modules/.bin:$(dirname "$node24"):$PATH"
echo "node on PATH: $(command -v node) ($(node --version))"
bash scripts/ensure_redis.sh
bash scripts/ensure_promtool.sh
bash scripts/ensure_chromium.sh

LOG_DIR="$(mktemp -d)"
trap 'rm -rf "$LOG_DIR"' EXIT
passed=0
failed=0

step() { echo; echo "=== $* ==="; }

step "lockfile, format, lint, type check (check_lockfile, deno fmt --check, deno lint, deno check)"
node scripts/check_lockfile.mjs
deno fmt --check
deno lint
deno check mod.ts testing.ts adapters/memory/*.ts adapters/redis/*.ts adapters/redis/lua/*.ts \
  adapters/sqlite/*.ts \
  runners/*.ts cli/*.ts cli/commands/*.ts dashboard/*.ts dashboard/**/*.ts tests/*.ts examples/*.ts \
  scripts/build_npm.ts scripts/smoke_npm.ts scripts/chaos.ts scripts/_chaos_worker.ts bench/*.ts

step "JSR package (deno publish --dry-run, deno doc --lint, deno test --doc)"
set +e
jsr_status=0
# Slow types and excluded files are errors or warnings here; the one warning
# allowed is cli/_runtime.ts's import of the user's tasks module by path.
deno publish --dry-run --allow-dirty 2>&1 | tee "$LOG_DIR/publish.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || jsr_status=1
if grep -E '^(warning|error)\[' <(sed 's/\x1b\[[0-9;]*m//g' "$LOG_DIR/publish.log") |
  grep -v 'warning\[unanalyzable-dynamic-import\]'; then
  echo "deno publish --dry-run: unexpected warnings (above)"
  jsr_status=1
fi
deno doc --lint mod.ts testing.ts adapters/memory/mod.ts adapters/redis/mod.ts adapters/sqlite/mod.ts \
  runners/mod.ts cli/main.ts \
  dashboard/mod.ts || jsr_status=1
# Every example runs, except RedisStorage's: they name fixed servers
# (127.0.0.1:6379, a cluster on :7000), so they are type-checked only.
deno test -A --doc mod.ts testing.ts adapters/memory/ adapters/sqlite/ cli/main.ts core/ dashboard/ \
  2>&1 |
  tee "$LOG_DIR/doc.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || jsr_status=1
deno test --doc --no-run adapters/redis/ || jsr_status=1
set -e
docpass="$(sed 's/\x1b\[[0-9;]*m//g' "$LOG_DIR/doc.log" | sed -nE 's/^(ok|FAILED) \| ([0-9]+) passed.*/\2/p' | tail -1)"
docfail="$(sed 's/\x1b\[[0-9;]*m//g' "$LOG_DIR/doc.log" | sed -nE 's/^(ok|FAILED) \| [0-9]+ passed[^|]*\| ([0-9]+) failed.*/\2/p' | tail -1)"
passed=$((passed + ${docpass:-0}))
failed=$((failed + ${docfail:-0}))
echo "doc examples: ${docpass:-0} passed, ${docfail:-0} failed"

# Built first, so the export-map tests run on Deno and Bun too.
step "npm package: build (scripts/build_npm.ts into npm/, the tests against it into npm_test/)"
deno run -A scripts/build_npm.ts

step "tests on Deno $(deno --version | head -1 | cut -d' ' -f2)"
set +e
deno test -A --junit-path="$LOG_DIR/deno.xml" tests/ 2>&1 | tee "$LOG_DIR/deno.log"
deno_status=${PIPESTATUS[0]}
set -e
read -r dpass dfail dskip < <(node scripts/count_junit.mjs "$LOG_DIR/deno.xml")
echo "deno: $dpass passed, $dfail failed ($dskip skipped: not counted)"
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
bskip="$(sed -nE 's/^ *([0-9]+) skip$/\1/p' "$LOG_DIR/bun.log" | tail -1)"
echo "bun: ${bpass:-0} passed, ${bfail:-0} failed (${bskip:-0} skipped: not counted)"
btests=$(( ${bpass:-0} + ${bfail:-0} + ${bskip:-0} ))
if [ "$btests" -lt $((dpass + dfail + dskip)) ]; then
  echo "bun: only $btests tests ran, Deno ran $((dpass + dfail + dskip)): the missing count as failures"
  failed=$((failed + dpass + dfail + dskip - btests))
  bun_status=1
fi

node_status=0
for version in 22 24 26; do
  set +e
  node_bin="$(bash scripts/install_node.sh "$version")"
  install_status=$?
  set -e
  if [ "$install_status" -ne 0 ]; then
    echo "node $version: could not be installed (above); counted as a failure"
    node_status=1
    failed=$((failed + 1))
    continue
  fi
  step "tests on Node $("$node_bin" --version) (the built npm package)"
  set +e
  bash scripts/test_node.sh "$node_bin" 2>&1 | tee "$LOG_DIR/node.log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || node_status=1
  set -e
  npass="$(sed -nE 's/^(ℹ|#) pass ([0-9]+)$/\2/p' "$LOG_DIR/node.log" | tail -1)"
  nfail="$(sed -nE 's/^(ℹ|#) fail ([0-9]+)$/\2/p' "$LOG_DIR/node.log" | tail -1)"
  # The same suite runs everywhere: a Node run with fewer tests than Deno's
  # dropped some without saying so, and the missing ones count as failures.
  ntests="$(sed -nE 's/^(ℹ|#) tests ([0-9]+)$/\2/p' "$LOG_DIR/node.log" | tail -1)"
  expected=$((dpass + dfail + dskip))
  if [ "${ntests:-0}" -lt "$expected" ]; then
    echo "node: only ${ntests:-0} tests ran, Deno ran $expected: $((expected - ${ntests:-0})) missing"
    nfail=$(( ${nfail:-0} + expected - ${ntests:-0} ))
    node_status=1
  fi
  passed=$((passed + ${npass:-0}))
  failed=$((failed + ${nfail:-0}))
  echo "node $("$node_bin" --version): ${npass:-0} passed, ${nfail:-0} failed"
done

step "npm package: packed tarball in a fresh project (Node and Bun, tsc, Redis)"
set +e
deno run -A scripts/smoke_npm.ts 2>&1 | tee "$LOG_DIR/smoke.log"
smoke_status=${PIPESTATUS[0]}
set -e
spass="$(sed -nE 's/^smoke: ([0-9]+) passed, [0-9]+ failed$/\1/p' "$LOG_DIR/smoke.log" | tail -1)"
sfail="$(sed -nE 's/^smoke: [0-9]+ passed, ([0-9]+) failed$/\1/p' "$LOG_DIR/smoke.log" | tail -1)"
passed=$((passed + ${spass:-0}))
failed=$((failed + ${sfail:-0}))

# The chaos run and the benchmark at CI size: each counts as one check.
extra_status=0
for check in chaos_smoke bench_smoke; do
  step "$check (scripts/$check.sh)"
  if bash "scripts/$check.sh"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    extra_status=1
    echo "$check: FAILED"
  fi
done

echo
if [ "$deno_status" -ne 0 ] || [ "$bun_status" -ne 0 ] || [ "$jsr_status" -ne 0 ] ||
  [ "$node_status" -ne 0 ] || [ "$smoke_status" -ne 0 ] || [ "$extra_status" -ne 0 ]; then
  [ "$failed" -eq 0 ] && failed=1
  echo "total: $passed passed, $failed failed"
  exit 1
fi
echo "total: $passed passed, $failed failed"
