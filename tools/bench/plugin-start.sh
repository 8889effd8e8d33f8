#!/bin/bash
# How long a command takes to print its first line: for the provider plugin,
# from its start to the port it serves on (what the engine waits for).
#   bash tools/bench/plugin-start.sh [runs] [command...]
# Default: 5 runs of tools/provider/pulumi-resource-nfvkit with Node 22 from
# node_modules first on PATH. NODE_DISABLE_COMPILE_CACHE=1 measures without
# Node's compile cache.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PWD/node_modules/.bin:$PATH"
runs=${1:-5}
shift || true
[ $# -gt 0 ] || set -- tools/provider/pulumi-resource-nfvkit
for _ in $(seq "$runs"); do
  s=$(date +%s%N)
  coproc P { exec "$@" 2>/dev/null; }
  read -r line <&"${P[0]}"
  e=$(date +%s%N)
  kill "$P_PID" 2>/dev/null || true
  wait "$P_PID" 2>/dev/null || true
  echo "$(( (e - s) / 1000000 )) ms  (first line: $line)"
done
