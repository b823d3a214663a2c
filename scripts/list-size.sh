#!/usr/bin/env bash
# How big a generated server's `tools/list` is, measured on the wire: generates each spec,
# builds the server, runs it over stdio and counts the bytes of the tools/list reply (total,
# and the part that is output schemas). A benchmark, not a test.
#
#   scripts/list-size.sh SPEC…        # paths (for the corpus: ~/.cache/mcp-gen/corpus/specs/*.json)
#
# Needs target/release/mcp-gen (cargo build --release). Extra generate flags via
# MCP_GEN_FLAGS (e.g. MCP_GEN_FLAGS='--config my.toml'). Projects go to target/list-size/,
# sharing CARGO_TARGET_DIR (default target/generated) with the other generated projects.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
die() { printf 'list-size.sh: error: %s\n' "$*" >&2; exit 1; }
mcp_gen="${MCP_GEN:-$repo/target/release/mcp-gen}"
[[ -x $mcp_gen ]] || die "build it first: cargo build --release"
[[ $# -gt 0 ]] || die "usage: scripts/list-size.sh SPEC…"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target/generated}"
work="$repo/target/list-size"
mkdir -p "$work"

printf '%-28s %6s %14s %14s %12s\n' spec tools "tools/list B" "output sch. B" "largest B"
for spec in "$@"; do
  [[ -f $spec ]] || die "no such spec: $spec"
  id=$(basename "${spec%.*}")
  name="size-$id"
  out="$work/$id"
  # shellcheck disable=SC2086
  "$mcp_gen" generate --url "$spec" --name "$name" --auth none --out "$out" --quiet ${MCP_GEN_FLAGS:-}
  (cd "$out" && cargo build --locked --quiet)
  printf '%s\n' \
    '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"list-size","version":"0"}}}' \
    '{"jsonrpc":"2.0","method":"notifications/initialized"}' \
    '{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{}}' \
    | { cat; sleep 2; } \
    | UPSTREAM_BASE_URL=http://127.0.0.1:9 "$CARGO_TARGET_DIR/debug/$name" --stdio 2>/dev/null \
    | python3 -c '
import json, sys
for line in sys.stdin:
    msg = json.loads(line)
    if msg.get("id") != 2:
        continue
    tools = msg["result"]["tools"]
    size = lambda v: len(json.dumps(v, separators=(",", ":")))
    output = sum(size(t["outputSchema"]) for t in tools if "outputSchema" in t)
    largest = max((size(t) for t in tools), default=0)
    print(f"{sys.argv[1]:<28} {len(tools):>6} {len(line.strip()):>14,} {output:>14,} {largest:>12,}")
    break
else:
    sys.exit("no tools/list reply")
' "$id"
done
