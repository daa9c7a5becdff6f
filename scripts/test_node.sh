#!/usr/bin/env bash
# Runs the test suite, compiled against the built npm package (npm_test/, made
# by `npm run build`), on one Node binary:
#   scripts/test_node.sh NODE_BIN
# Results go to stdout (spec reporter); its closing "ℹ pass N" / "ℹ fail N"
# lines are what scripts/test.sh adds to its totals. No --test-force-exit:
# on Node 24 it once ended a test file before its last describe() ran, so a
# suite went missing without a failure (test.sh now also checks the count).
set -euo pipefail
cd "$(dirname "$0")/.."
node_bin="${1:?usage: test_node.sh NODE_BIN}"
if [ ! -f npm_test/package.json ]; then
  echo "error: npm_test/ is missing: run 'npm run build' first" >&2
  exit 1
fi
# cli_test runs the CLI on this same Node (and a `node` on PATH is this one
# too); the Redis helpers need redis-server.
export PATH="$PWD/node_modules/.bin:$(dirname "$node_bin"):$PATH"
exec "$node_bin" --test --test-timeout=180000 --test-concurrency=2 \
  --test-reporter=spec --test-reporter-destination=stdout \
  npm_test/*_test.js
