#!/usr/bin/env bash
# Makes sure Chromium is on this machine: the dashboard's browser tests drive
# a real one through playwright-core (a devDependency, which brings no
# browser of its own). Installs Debian's `chromium` package when it can, and
# otherwise says how. CHROMIUM=/path/to/chromium points the tests at another.
set -euo pipefail
if [ -n "${CHROMIUM:-}" ] && [ -x "$CHROMIUM" ]; then
  exit 0
fi
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
  exit 0
fi
echo "chromium is not installed; installing Debian's chromium package with apt-get (the dashboard's browser tests need it)..."
if command -v apt-get >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null &&
      command -v chromium >/dev/null 2>&1 && exit 0
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null &&
      command -v chromium >/dev/null 2>&1 && exit 0
  fi
fi
echo "error: chromium is missing and could not be installed automatically." >&2
echo "       Install it (Debian/Ubuntu: 'sudo apt-get install chromium'; macOS: install Chrome)," >&2
echo "       or set CHROMIUM=/path/to/chromium" >&2
exit 1
