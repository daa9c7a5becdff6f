#!/usr/bin/env bash
# Makes sure a C++ tool chain is on this machine: the SQLite benchmark's peers
# (plainjob off Bun, liteque, sidequest) need better-sqlite3, whose prebuilt
# binaries come from a host this machine cannot reach, so it is built from
# source with node-gyp (python3, make, g++). Installs Debian's build-essential
# and python3 when it can, and otherwise says how. Used by `npm run bench`'s
# sqlite system (bench/sqlite.ts) and so by the benchmark smoke run.
set -euo pipefail
if command -v g++ >/dev/null 2>&1 && command -v make >/dev/null 2>&1 &&
  command -v python3 >/dev/null 2>&1; then
  exit 0
fi
echo "a C++ tool chain is missing; installing Debian's build-essential and python3 with apt-get (better-sqlite3 is built from source for the SQLite benchmark's peers)..."
packages=(build-essential python3)
if command -v apt-get >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null &&
      exit 0
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null &&
      exit 0
  fi
fi
echo "error: g++, make or python3 is missing and could not be installed automatically." >&2
echo "       Install them (Debian/Ubuntu: 'sudo apt-get install build-essential python3')." >&2
exit 1
