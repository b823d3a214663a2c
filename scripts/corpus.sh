#!/usr/bin/env bash
# The corpus (ARCHITECTURE.md, Tests and peers): every spec in fixtures/corpus/specs.tsv must
# generate, pass scripts/corpus-check (tool count, names, valid 2020-12 input schemas without
# $ref) and `cargo check`. Big specs come from npm tarballs pinned by sha256
# (fixtures/corpus/packages.tsv),
# cached in $MCP_GEN_CACHE/corpus (default ~/.cache/mcp-gen/corpus).
#
#   scripts/corpus.sh [ID…]      # all specs, or only those ids
#
# Needs: target/release/mcp-gen (cargo build --release), PEERS_NODE (eval "$(scripts/peers.sh)",
# for YAML specs), npm. All generated projects and the checker share CARGO_TARGET_DIR
# (default target/generated), so dependencies build once. Writes target/corpus/report.md.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
die() { printf 'corpus.sh: error: %s\n' "$*" >&2; exit 1; }
say() { printf 'corpus.sh: %s\n' "$*" >&2; }

: "${PEERS_NODE:?run eval \"\$(scripts/peers.sh)\" first}"
mcp_gen="${MCP_GEN:-$repo/target/release/mcp-gen}"
[[ -x $mcp_gen ]] || die "build it first: cargo build --release"
cache="${MCP_GEN_CACHE:-$HOME/.cache/mcp-gen}/corpus"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target/generated}"
work="$repo/target/corpus"
mkdir -p "$cache/tarballs" "$cache/specs" "$work"

say "building scripts/corpus-check"
cargo build --release --locked --quiet --manifest-path scripts/corpus-check/Cargo.toml
checker="$CARGO_TARGET_DIR/release/corpus-check"

# npm pack PACKAGE@VERSION into the cache unless there, and check its sha256.
tarball() {
  local pkg=$1 want line file
  line=$(awk -F'\t' -v p="$pkg" '$1 == p {print $2}' fixtures/corpus/packages.tsv)
  [[ -n $line ]] || die "$pkg is not pinned in fixtures/corpus/packages.tsv"
  want=$line
  file=$(printf '%s' "$pkg" | sed -e 's/^@//' -e 's#/#-#' -e 's/@\([^@]*\)$/-\1/').tgz
  if [[ ! -f $cache/tarballs/$file ]]; then
    say "fetching $pkg"
    (cd "$cache/tarballs" && npm pack --silent "$pkg" >/dev/null)
  fi
  local got
  got=$(sha256sum "$cache/tarballs/$file" | cut -d' ' -f1)
  [[ $got == "$want" ]] || die "$file: sha256 $got, pinned $want"
  printf '%s\n' "$cache/tarballs/$file"
}

# The spec file of one corpus entry (extracted from its tarball when not a fixture).
spec_file() {
  local id=$1 source=$2 path=$3
  if [[ $source == fixture ]]; then
    printf '%s\n' "$repo/$path"
    return
  fi
  local tgz dest
  tgz=$(tarball "$source")
  dest="$cache/specs/$id.${path##*.}"
  if [[ ! -f $dest || $dest -ot $tgz ]]; then
    tar -xzf "$tgz" -O "package/$path" >"$dest.tmp"
    mv "$dest.tmp" "$dest"
  fi
  printf '%s\n' "$dest"
}

# The checker reads JSON; YAML specs are converted once with the peers' js-yaml.
as_json() {
  local spec=$1
  case $spec in
    *.yaml|*.yml)
      local json="$cache/specs/$(basename "${spec%.*}").json"
      if [[ ! -f $json || $json -ot $spec ]]; then
        NODE_PATH="$PEERS_NODE_MODULES" "$PEERS_NODE" -e \
          'const y=require("js-yaml"),fs=require("fs");fs.writeFileSync(process.argv[2],JSON.stringify(y.load(fs.readFileSync(process.argv[1],"utf8"))))' \
          "$spec" "$json"
      fi
      printf '%s\n' "$json" ;;
    *) printf '%s\n' "$spec" ;;
  esac
}

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1f s", b - a}'; }

report="$work/report.md"
{
  echo "| spec | version | operations | tools | generate | cargo check |"
  echo "|---|---|---:|---:|---:|---|"
} >"$report"
failed=0
while IFS=$'\t' read -r id source path; do
  [[ -z $id || $id == \#* ]] && continue
  if (($#)) && [[ " $* " != *" $id "* ]]; then continue; fi
  spec=$(spec_file "$id" "$source" "$path")
  out="$work/$id"
  version=$("$checker" spec-version "$(as_json "$spec")")
  say "$id ($version): generate"
  t0=$(now)
  if ! "$mcp_gen" generate --url "$spec" --out "$out" --name "corpus-$id" \
      --oauth-server http://127.0.0.1:9000 --quiet 2>"$work/$id.generate.log"; then
    cat "$work/$id.generate.log" >&2
    echo "| $id | $version | | | failed | |" >>"$report"
    failed=1
    continue
  fi
  gen=$(secs "$t0" "$(now)")
  if ! counts=$("$checker" "$(as_json "$spec")" "$out"); then
    echo "| $id | $version | | | $gen | check failed |" >>"$report"
    failed=1
    continue
  fi
  read -r ops tools <<<"$counts"
  say "$id: $ops operations, $tools tools, generated in $gen; cargo check"
  t0=$(now)
  if (cd "$out" && cargo check --locked --quiet 2>"$work/$id.check.log"); then
    build="ok ($(secs "$t0" "$(now)"))"
  else
    tail -n 30 "$work/$id.check.log" >&2
    build="FAILED"
    failed=1
  fi
  echo "| $id | $version | $ops | $tools | $gen | $build |" >>"$report"
done <fixtures/corpus/specs.tsv

# Catalog mode on the big APIs: what a client is listed must stay small, and an operation's
# own summary must find it among the first five search results for at least 90% of them.
{
  echo
  echo "| spec | operations | mode | tools/list tokens, tools mode | tools/list tokens, catalog mode | found by its summary (top 5) |"
  echo "|---|---:|---|---:|---:|---:|"
} >>"$report"
for id in github stripe; do
  if (($#)) && [[ " $* " != *" $id "* ]]; then continue; fi
  line=$(awk -F'\t' -v i="$id" '$1 == i' fixtures/corpus/specs.tsv)
  [[ -n $line ]] || die "$id is not in fixtures/corpus/specs.tsv"
  IFS=$'\t' read -r _ source path <<<"$line"
  spec=$(spec_file "$id" "$source" "$path")
  say "$id: catalog mode's list and search"
  if ! row=$("$mcp_gen" inspect --url "$spec" --format json --quiet | "$PEERS_NODE" -e '
      const s = JSON.parse(require("fs").readFileSync(0, "utf8")).summary;
      const l = s.listing, q = s.search;
      const ok = l.catalog.tokens < 2000 && q.rate >= 0.9;
      console.log(`| ${process.argv[1]} | ${s.operations} | ${l.mode} | ${l.tools.tokens} | ${l.catalog.tokens} | ${q.foundInTop5}/${q.queries} (${(q.rate * 100).toFixed(1)}%) |`);
      process.exit(ok ? 0 : 1);' "$id"); then
    say "$id: catalog list over 2,000 tokens or search under 90%: $row"
    failed=1
  fi
  echo "$row" >>"$report"
done
cat "$report"
exit "$failed"
