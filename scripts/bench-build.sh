#!/usr/bin/env bash
# Build-time benchmark of the generated project. Measured, never timed in tests or CI: the
# figures depend on the machine and on whatever else runs on it (read them with the load
# average it prints), so this is a benchmark, never a CI gate.
#
# For each spec: the release build of this checkout's mcp-gen (or $MCP_GEN_BIN) generates a
# project from a copy of the spec, then, each with the project's own fresh CARGO_TARGET_DIR:
#   - cold `cargo build --release --locked`: wall time, CPU time (user + sys), peak RSS of the
#     largest process (rustc or the linker), units compiled, size of the release binary;
#   - cold `cargo build --locked` (debug), the same figures;
#   - one new operation (GET /bench-ping, operationId benchPing) added to the spec copy, the
#     project regenerated in place (a plain `mcp-gen generate --out DIR`, as after a spec
#     update), then the incremental release and debug rebuilds: wall and CPU time.
# CARGO_HOME is left as it is and `cargo fetch --locked` runs first, so every build is
# `--offline`: the figures exclude downloads (the first fetch on a machine does not). Prints a
# markdown table, then the crates of the pinned lock and the runtime's direct dependencies.
#
#   scripts/bench-build.sh [SPEC…]
#
# Default specs: fixtures/petstore/petstore-3.0.json and the GitHub spec in
# ${MCP_GEN_CACHE:-~/.cache/mcp-gen}/corpus/specs/github.json (`scripts/corpus.sh github`
# fetches it). The projects and their target dirs go under $BENCH_DIR (default: this
# checkout's target/) and are removed at the end (BENCH_KEEP=1 keeps them). Each cold build
# takes minutes; on a shared machine run it as `nice -n 19 scripts/bench-build.sh`.
set -euo pipefail

die() { printf 'bench-build.sh: error: %s\n' "$*" >&2; exit 1; }
say() { printf 'bench-build.sh: %s\n' "$*" >&2; }
usage() {
  printf 'usage: %s [SPEC…]\n' "$0" >&2
  exit 2
}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[[ ${1:-} == -* ]] && usage
[[ -x /usr/bin/time ]] || die "needs /usr/bin/time (GNU time; Debian: apt-get install time)"
command -v jq >/dev/null || die "needs jq (to add an operation to the spec)"

if (($# == 0)); then
  set -- "$repo/fixtures/petstore/petstore-3.0.json" \
    "${MCP_GEN_CACHE:-$HOME/.cache/mcp-gen}/corpus/specs/github.json"
fi
for spec in "$@"; do
  [[ -f $spec ]] || die "no such spec: $spec (the GitHub spec: scripts/corpus.sh github)"
done

bench_dir=${BENCH_DIR:-${CARGO_TARGET_DIR:-$repo/target}}
mkdir -p "$bench_dir"
scratch=$(mktemp -d "$bench_dir/bench-build.XXXXXX")
if [[ -z ${BENCH_KEEP:-} ]]; then trap 'rm -rf "$scratch"' EXIT; else say "keeping $scratch"; fi

bin=${MCP_GEN_BIN:-}
if [[ -z $bin ]]; then
  say "building mcp-gen (cargo build --release -p mcp-gen)"
  (cd "$repo" && cargo build --release --quiet -p mcp-gen) || die "cargo build --release failed"
  bin=${CARGO_TARGET_DIR:-$repo/target}/release/mcp-gen
fi

# measure DIR CMD…: runs CMD in DIR and prints "wall_s cpu_s peak_rss_kb units"; CMD's output
# goes to $scratch/log. Units are the crates cargo reports compiling.
measure() {
  local dir=$1; shift
  local start=$EPOCHREALTIME
  (cd "$dir" && /usr/bin/time -f '%U %S %M' -o "$scratch/time" "$@" </dev/null >"$scratch/log" 2>&1) \
    || { tail -50 "$scratch/log" >&2; die "failed in $dir: $*"; }
  local end=$EPOCHREALTIME user sys rss
  read -r user sys rss <"$scratch/time"
  awk -v a="$start" -v b="$end" -v u="$user" -v s="$sys" -v r="$rss" \
    -v n="$(grep -c '^ *Compiling ' "$scratch/log" || true)" \
    'BEGIN {printf "%.1f %.1f %s %s\n", b - a, u + s, r, n}'
}

# gen OUT ARGS…: runs mcp-gen generate into OUT.
gen() {
  local out=$1; shift
  "$bin" generate --out "$out" --quiet "$@" >"$scratch/log" 2>&1 \
    || { cat "$scratch/log" >&2; die "mcp-gen generate failed for $out"; }
}

say "$(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $("${CARGO:-cargo}" --version)"
printf '| spec | tools | build | wall s | CPU s | peak RSS MB | units | release binary MB |\n'
printf '|---|---:|---|---:|---:|---:|---:|---:|\n'
row() { # SPEC TOOLS WHAT "wall cpu rss units" [BINARY]
  local size=–
  [[ -n ${5:-} ]] && size=$(awk -v z="$(stat -c %s "$5")" 'BEGIN {printf "%.1f", z / 1048576}')
  read -r wall cpu rss units <<<"$4"
  printf '| %s | %s | %s | %s | %s | %.0f | %s | %s |\n' "$1" "$2" "$3" "$wall" "$cpu" \
    "$(awk -v r="$rss" 'BEGIN {print r / 1024}')" "$units" "$size"
}

lock=""
for spec in "$@"; do
  base=$(basename "$spec" .json)
  name=$(printf '%s' "$base" | tr '[:upper:]' '[:lower:]' | tr -c 'a-z0-9\n' '-')-bench
  work="$scratch/$name"
  mkdir -p "$work"
  cp "$spec" "$work/spec.json"
  project="$work/project"
  gen "$project" --url "$work/spec.json" --name "$name" --auth oauth2 \
    --oauth-server http://127.0.0.1:9
  tools=$(grep -c '^    ToolSpec {' "$project/src/tools.rs" || true)
  lock="$project/Cargo.lock"
  (cd "$project" && cargo fetch --locked --quiet) || die "cargo fetch --locked failed in $project"
  export CARGO_TARGET_DIR="$work/target"
  say "$base: cold release build (load $(cut -d' ' -f1-3 /proc/loadavg))"
  cold_release=$(measure "$project" cargo build --release --locked --offline)
  say "$base: cold debug build"
  cold_debug=$(measure "$project" cargo build --locked --offline)
  binary="$CARGO_TARGET_DIR/release/$name"

  # One new operation, the rest of the spec untouched; regenerated the way a user would.
  jq '.paths["/bench-ping"] = {get: {operationId: "benchPing", summary: "Bench ping",
        responses: {"200": {description: "pong"}}}}' "$work/spec.json" >"$work/spec.new"
  mv "$work/spec.new" "$work/spec.json"
  gen "$project"
  grep -q bench_ping "$project/src/tools.rs" || die "the new operation is not in $project/src/tools.rs"
  say "$base: incremental release build"
  incr_release=$(measure "$project" cargo build --release --locked --offline)
  say "$base: incremental debug build"
  incr_debug=$(measure "$project" cargo build --locked --offline)
  unset CARGO_TARGET_DIR

  row "$base" "$tools" "cold release" "$cold_release" "$binary"
  row "$base" "$tools" "cold debug" "$cold_debug"
  row "$base" "$((tools + 1))" "incremental release (+1 operation)" "$incr_release"
  row "$base" "$((tools + 1))" "incremental debug (+1 operation)" "$incr_debug"
done

# The lock is the same for every generated project.
project=$(dirname "$lock")
printf '\nPinned lock: %s crates (every platform); built on this one: %s crates (normal and build dependencies).\n' \
  "$(grep -c '^name' "$lock")" \
  "$(cd "$project" && cargo tree -e normal,build --locked --offline --prefix none --format '{p}' \
    | sed 's/ (\*)$//; s/ (proc-macro)$//' | sort -u | wc -l)"
# shellcheck disable=SC2016 # backquotes are markdown
printf '\nThe runtime'"'"'s direct dependencies (`cargo tree -e normal --depth 1 -p mcp-gen-runtime`):\n\n```\n'
(cd "$project" && cargo tree -e normal --locked --offline --depth 1 -p mcp-gen-runtime)
printf '```\n'
