#!/usr/bin/env bash
# CI smoke run of the benchmark (bench/main.ts): tiny sizes, every system, on
# Deno and on Node 24 (as `npm run bench:node` runs it), to keep it working.
# The SQLite system installs its peers into .tmp/ on its first run (better-sqlite3
# built from source, about a minute per install directory).
# It asserts nothing about timing: it passes when the benchmark ran to the end.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
sizes=(--n 500 --c 1,10 --memory-n 2000 --memory-c 1,50 --latency-n 20 --cpu-jobs 8 --sqlite-n 500 --json)
deno run -A --v8-flags=--expose-gc bench/main.ts "${sizes[@]}" >/dev/null
"$(bash scripts/install_node.sh 24)" --expose-gc bench/main.ts "${sizes[@]}" >/dev/null
deno run -A bench/idle_cpu.ts 1
echo "bench smoke: ok"
