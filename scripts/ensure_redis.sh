#!/usr/bin/env bash
# Makes sure redis-server and redis-cli are on this machine: the Redis tests
# start their own server on a free loopback port. Installs them from the
# distribution's packages when it can, and otherwise says how.
set -euo pipefail
if command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; then
  exit 0
fi
if [ -n "${REDIS_URL:-}" ] && command -v redis-cli >/dev/null 2>&1; then
  exit 0
fi
echo "redis-server is not installed; installing it with apt-get (the Redis tests need a real server)..."
if command -v apt-get >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null && exit 0
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null && exit 0
  fi
fi
echo "error: redis-server is missing and could not be installed automatically." >&2
echo "       Install it (Debian/Ubuntu: 'sudo apt-get install redis-server'; macOS: 'brew install redis')," >&2
echo "       or point the tests at a server you run with REDIS_URL=redis://127.0.0.1:6379/15" >&2
exit 1
