#!/usr/bin/env bash
# The CI-size chaos run (the full run is `npm run chaos`; see scripts/chaos.ts):
# 500 jobs, 2 worker processes, one SIGKILL mid-work, one redis-server restart
# (kill mode), then a short SIGSTOP of redis-server longer than the lease
# (pause mode). Each stops by itself in well under 60 s and exits non-zero if
# any acknowledged job is lost, is left in flight, or did not complete, or if
# a job ran twice without having been in flight at a disruption.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
bash scripts/ensure_redis.sh

echo "=== chaos smoke: kill mode (500 jobs, 2 workers, 1 kill, 1 redis restart) ==="
deno run -A scripts/chaos.ts --jobs 500 --workers 2 --rate 100 --kill-every 1500 \
  --max-kills 1 --restarts 1 --max-seconds 50
echo
echo "=== chaos smoke: pause mode (500 jobs, 2 workers, redis frozen 3 s, lease 1 s) ==="
deno run -A scripts/chaos.ts --mode pause --jobs 500 --workers 2 --rate 100 --lease 1000 \
  --pause-ms 3000 --max-seconds 50
