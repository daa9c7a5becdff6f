#!/usr/bin/env bash
# Makes sure promtool is on this machine: the Prometheus tests check the
# exposition text with `promtool check metrics`. Installs Debian's
# `prometheus` package (which ships promtool) when it can, and otherwise
# says how. PROMTOOL=/path/to/promtool points the tests at another one.
set -euo pipefail
if [ -n "${PROMTOOL:-}" ] && [ -x "$PROMTOOL" ]; then
  exit 0
fi
if command -v promtool >/dev/null 2>&1; then
  exit 0
fi
echo "promtool is not installed; installing Debian's prometheus package with apt-get (the Prometheus tests need it)..."
if command -v apt-get >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null &&
      command -v promtool >/dev/null 2>&1 && exit 0
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null &&
      command -v promtool >/dev/null 2>&1 && exit 0
  fi
fi
echo "error: promtool is missing and could not be installed automatically." >&2
echo "       Install it (Debian/Ubuntu: 'sudo apt-get install prometheus'; macOS: 'brew install prometheus')," >&2
echo "       or download it from https://prometheus.io/download/ and set PROMTOOL=/path/to/promtool" >&2
exit 1
