#!/usr/bin/env bash
# Generation benchmark: each spec generated RUNS times by each mcp-gen binary, one after the
# other on an otherwise idle machine; prints the median wall time, peak memory and output
# size per binary, and their ratios against the first binary (the baseline).
#
#   scripts/bench.sh [-n RUNS] BASELINE_BIN CANDIDATE_BIN [MORE_BINS…] -- SPEC…
#
# Example (MS Graph from the corpus cache, against a build of an older commit):
#   git worktree add /tmp/base <commit> && (cd /tmp/base && cargo build --release)
#   scripts/bench.sh /tmp/base/target/release/mcp-gen target/release/mcp-gen -- \
#     ~/.cache/mcp-gen/corpus/specs/ms-graph.json
set -euo pipefail

runs=3
if [[ ${1:-} == -n ]]; then runs=$2; shift 2; fi
bins=()
while (($#)) && [[ $1 != -- ]]; do bins+=("$1"); shift; done
[[ ${1:-} == -- ]] || { echo "usage: $0 [-n RUNS] BASELINE_BIN CANDIDATE_BIN… -- SPEC…" >&2; exit 2; }
shift
(($# && ${#bins[@]} >= 1)) || { echo "usage: $0 [-n RUNS] BASELINE_BIN CANDIDATE_BIN… -- SPEC…" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "bench.sh: needs /usr/bin/time (GNU time)" >&2; exit 1; }

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

printf '| spec | binary | median wall s | peak RSS MB | output MB | wall ratio | RSS ratio | size ratio |\n'
printf '|---|---|---:|---:|---:|---:|---:|---:|\n'
for spec in "$@"; do
  base_wall="" base_rss="" base_size=""
  for bin in "${bins[@]}"; do
    walls=() rsss=()
    for ((i = 0; i < runs; i++)); do
      out="$scratch/out"
      rm -rf "$out"
      /usr/bin/time -f '%e %M' -o "$scratch/time" \
        "$bin" generate --url "$spec" --out "$out" --name bench-mcp \
        --oauth-server http://127.0.0.1:9000 --quiet
      read -r wall rss <"$scratch/time"
      walls+=("$wall") rsss+=("$rss")
    done
    size=$(du -sb "$out" | cut -f1)
    wall=$(printf '%s\n' "${walls[@]}" | median)
    rss=$(printf '%s\n' "${rsss[@]}" | median)
    : "${base_wall:=$wall}" "${base_rss:=$rss}" "${base_size:=$size}"
    awk -v s="$(basename "$spec")" -v b="$bin" -v w="$wall" -v r="$rss" -v z="$size" \
      -v bw="$base_wall" -v br="$base_rss" -v bz="$base_size" 'BEGIN {
        printf "| %s | %s | %.2f | %.0f | %.1f | %.2f | %.2f | %.2f |\n",
          s, b, w, r / 1024, z / 1048576, w / bw, r / br, z / bz }'
  done
done
