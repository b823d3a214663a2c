#!/usr/bin/env bash
# Server benchmark (scripts/bench.sh server): the generated Petstore server under load, against
# peer servers of the same spec and the same upstream, all on this machine's loopback.
# Measured, never timed in tests or CI: the figures depend on the machine and on whatever else
# runs on it (wrk, the upstream and the server share its cores), so compare rows of one run.
#
#   scripts/bench.sh server [-n ROUNDS] [-d SECONDS] [-c CONNECTIONS] [--only NAME,…] [--no-graph]
#
# What it does, once per invocation:
# - installs what it needs, pinned and cached under ${MCP_GEN_CACHE:-~/.cache/mcp-gen}/bench-server/:
#   FastMCP (scripts/bench-server/requirements.txt, every package at an exact version) in a
#   venv, rmcp-openapi-server $RMCP_OPENAPI_VERSION (`cargo install --locked`), and the test
#   peers of scripts/peers.sh for the authorization server; wrk and nginx come from Debian
#   packages (`apt-get install wrk nginx-light`, when missing and run as root; said first);
# - starts nginx on 127.0.0.1 answering GET …/pet/<id> with one static JSON pet (the upstream);
# - generates the Petstore server twice (`--auth none`, and `--auth oauth2` for a run with a
#   JWT verified on every call, its keys cached) and builds both in release;
# - starts the servers: ours (auth none), ours (JWT), FastMCP `from_openapi` (stateless, JSON
#   replies) and rmcp-openapi-server, each with the same spec and upstream;
# - checks that each answers `tools/call get_pet_by_id` with a successful tool result carrying
#   the pet, then drives it with wrk (POSTing that JSON-RPC call over Streamable HTTP) for
#   ROUNDS rounds, the servers in a rotating order; a reply that is not that result counts as
#   an error;
# - prints a markdown table of medians over the rounds: calls/s, p50 and p99 latency, RSS
#   after the run, and server CPU per call (utime + stime from /proc/<pid>/stat over the run,
#   divided by the calls completed); the nginx row is wrk against the upstream itself;
# - then the startup check: the MS Graph server (${GRAPH_SPEC:-~/.cache/mcp-gen/corpus/specs/
#   ms-graph.json}, generated and built in release) started cold, the time until it listens
#   and until `tools/list` answers, and its RSS then. --no-graph skips it.
#
# Projects are generated under ${CARGO_TARGET_DIR:-target}/bench and built into
# ${BENCH_TARGET_DIR:-${CARGO_TARGET_DIR:-target}/generated} (one target directory for all of
# them); logs and configuration go to a scratch directory under the target directory, kept
# with --keep. MCP_GEN_BIN picks the mcp-gen binary (default: this checkout's release build).
# BASELINE_OURS and BASELINE_OURS_JWT name servers built elsewhere (an older commit's Petstore
# builds, auth none and oauth2) to measure in the same rounds, as extra rows.
set -euo pipefail

die() { printf 'bench.sh server: error: %s\n' "$*" >&2; exit 1; }
say() { printf 'bench.sh server: %s\n' "$*" >&2; }
usage() {
  printf 'usage: %s server [-n ROUNDS] [-d SECONDS] [-c CONNECTIONS] [--only NAME,…] [--no-graph] [--keep]\n' \
    "$(dirname "$0")/bench.sh" >&2
  printf '       NAME: nginx, ours, ours-jwt, fastmcp, rmcp-openapi\n' >&2
  exit 2
}

RMCP_OPENAPI_VERSION=0.32.1
FASTMCP_VERSION=4.2.3
PROTOCOL=2025-06-18
# The upstream API key every server sends (long enough to be looked for in replies, as real ones are).
API_KEY=bench-api-key-0123456789abcdef

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
rounds=3 seconds=10 connections=16 only="" graph=1 keep=0
while (($#)); do
  case $1 in
    -n) rounds=$2; shift 2 ;;
    -d) seconds=$2; shift 2 ;;
    -c) connections=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --no-graph) graph=0; shift ;;
    --keep) keep=1; shift ;;
    *) usage ;;
  esac
done
[[ $rounds =~ ^[1-9][0-9]*$ && $seconds =~ ^[1-9][0-9]*$ && $connections =~ ^[1-9][0-9]*$ ]] || usage
wanted() { [[ -z $only || ,$only, == *,$1,* ]]; }

target=${CARGO_TARGET_DIR:-$repo/target}
gen_target=${BENCH_TARGET_DIR:-$target/generated}
cache=${MCP_GEN_CACHE:-$HOME/.cache/mcp-gen}/bench-server
spec=$repo/fixtures/petstore/petstore-3.0.json
graph_spec=${GRAPH_SPEC:-${MCP_GEN_CACHE:-$HOME/.cache/mcp-gen}/corpus/specs/ms-graph.json}
mkdir -p "$target" "$cache"
scratch=$(mktemp -d "$target/bench-server.XXXXXX")
pids=()
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if ((keep)); then say "logs kept in $scratch"; else rm -rf "$scratch"; fi
}
trap cleanup EXIT

# --- what it needs ------------------------------------------------------------------------
nginx_bin() { command -v nginx || echo /usr/sbin/nginx; }

# A cached install: runs "$@" into $dest once (under a lock), marked complete at the end.
cached() {
  local dest=$1 what=$2; shift 2
  exec 9>"$dest.lock"
  flock 9
  if [[ ! -f $dest/.complete ]]; then
    say "installing $what into $dest (one-off)"
    rm -rf "$dest" && mkdir -p "$dest"
    "$@" || die "installing $what failed (see above)"
    touch "$dest/.complete"
  fi
  exec 9>&-
}

install_fastmcp() {
  local req=$repo/scripts/bench-server/requirements.txt digest
  command -v python3 >/dev/null || die "'python3' (3.10 or later) is needed for FastMCP"
  python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' || die "FastMCP needs Python 3.10 or later"
  digest=$( { cat "$req"; python3 -c 'import sys; print(sys.version)'; } | sha256sum | cut -c1-16)
  fastmcp_dir=$cache/fastmcp-$FASTMCP_VERSION-$digest
  # shellcheck disable=SC2016 # expanded by the inner shell
  cached "$fastmcp_dir" "FastMCP $FASTMCP_VERSION (PyPI)" bash -c '
    python3 -m venv "$1/venv" && "$1/venv/bin/pip" install -q --no-deps -r "$2" >&2' _ "$fastmcp_dir" "$req"
  [[ $("$fastmcp_dir/venv/bin/python" -c 'import fastmcp; print(fastmcp.__version__)') == "$FASTMCP_VERSION" ]] \
    || die "FastMCP in $fastmcp_dir is not $FASTMCP_VERSION; remove it to reinstall"
}

install_rmcp_openapi() {
  rmcp_openapi_dir=$cache/rmcp-openapi-server-$RMCP_OPENAPI_VERSION
  cached "$rmcp_openapi_dir" "rmcp-openapi-server $RMCP_OPENAPI_VERSION (crates.io; a release build, minutes)" \
    env CARGO_TARGET_DIR="$rmcp_openapi_dir/build" cargo install --quiet --locked \
    --root "$rmcp_openapi_dir" --version "=$RMCP_OPENAPI_VERSION" rmcp-openapi-server
  rm -rf "$rmcp_openapi_dir/build"
}

# --- processes ------------------------------------------------------------------------------
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start NAME CMD…: starts CMD in the background, its output in $scratch/NAME.log; sets $pid.
start() {
  local name=$1; shift
  "$@" >"$scratch/$name.log" 2>&1 &
  pid=$!
  pids+=("$pid")
}

# wait_for SECONDS PID CMD…: until CMD succeeds; fails when PID exits or time runs out.
wait_for() {
  local deadline=$((SECONDS + $1)) pid=$2; shift 2
  until "$@" >/dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || return 1
    ((SECONDS < deadline)) || return 1
    sleep 0.05
  done
}

# cpu_ticks PID: user + system time so far, in clock ticks (all threads).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# --- MCP over HTTP --------------------------------------------------------------------------
# mcp URL [HEADER…] BODY: one JSON-RPC POST; prints the JSON reply (from an SSE stream too).
mcp() {
  local url=$1 headers=() body
  shift
  while (($# > 1)); do headers+=(-H "$1"); shift; done
  body=$1
  curl -sS --max-time 10 "$url" -H 'Content-Type: application/json' \
    -H 'Accept: application/json, text/event-stream' -H "MCP-Protocol-Version: $PROTOCOL" \
    "${headers[@]}" -d "$body" -D "$scratch/headers" -o "$scratch/reply" || return 1
  if grep -qi '^content-type: text/event-stream' "$scratch/headers"; then
    sed -n 's/^data: //p' "$scratch/reply" | grep -m1 '"jsonrpc"'
  else
    cat "$scratch/reply"
  fi
}

# session URL: for a server that keeps sessions, the header that names a new, initialized one
# (empty for a stateless server).
session() {
  local url=$1 id
  mcp "$url" '{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"'"$PROTOCOL"'","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}' \
    >/dev/null || return 1
  id=$(sed -n 's/^mcp-session-id: *\([^[:space:]]*\).*/\1/ip' "$scratch/headers")
  [[ -n $id ]] || return 0
  mcp "$url" "Mcp-Session-Id: $id" '{"jsonrpc":"2.0","method":"notifications/initialized"}' >/dev/null || true
  echo "Mcp-Session-Id: $id"
}

# check_server NAME URL [HEADER…]: finds the get-pet-by-id tool in tools/list and checks that
# three calls answer with the pet as a successful tool result. Sets $tool.
check_server() {
  local name=$1 url=$2 reply i
  shift 2
  reply=$(mcp "$url" "$@" '{"jsonrpc":"2.0","id":1,"method":"tools/list"}') \
    || die "$name: tools/list failed (log: $scratch/$name.log)"
  tool=$(jq -r '.result.tools[].name' <<<"$reply" | grep -iE '^get_?pet_?by_?id$' | head -1) \
    || die "$name: no get-pet-by-id tool in tools/list: ${reply:0:300}"
  for i in 1 2 3; do
    reply=$(mcp "$url" "$@" "$(call_body)") || die "$name: tools/call failed"
    # The pet, as structuredContent or text; rmcp-openapi-server wraps it as {status, body}.
    jq -e '.result.isError != true and ([.result.structuredContent, (.result.content[0].text | fromjson?)]
           | map(select(. != null) | (.name, .body.name?)) | index("doggie") != null)' \
      <<<"$reply" >/dev/null || die "$name: tools/call $tool did not answer with the pet (call $i): ${reply:0:500}"
  done
}
call_body() {
  printf '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"%s","arguments":{"petId":1}}}' "$tool"
}

# The wrk script: POSTs BENCH_BODY with BENCH_HEADERS (lines "Name: value"); a reply that is
# not HTTP 200 carrying the pet without isError:true counts as bad. Prints one RESULT line.
write_lua() {
  cat >"$scratch/call.lua" <<'EOF'
wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
wrk.headers["MCP-Protocol-Version"] = os.getenv("BENCH_PROTOCOL")
for line in (os.getenv("BENCH_HEADERS") or ""):gmatch("[^\n]+") do
  local name, value = line:match("^([^:]+):%s*(.*)$")
  if name then wrk.headers[name] = value end
end
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init() bad = 0 end
function response(status, headers, body)
  if status ~= 200 or not body:find("doggie", 1, true) or body:find('"isError":true', 1, true) then
    bad = bad + 1
  end
end
function done(summary, latency, requests)
  local b = 0
  for _, t in ipairs(threads) do b = b + t:get("bad") end
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), b + e.connect + e.read + e.write + e.timeout))
end
EOF
  cat >"$scratch/get.lua" <<'EOF'
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), e.status + e.connect + e.read + e.write + e.timeout))
end
EOF
}

# drive NAME PID URL LUA [HEADER…]: a 1 s warm-up, then the measured run; appends
# "calls/s p50_us p99_us rss_kb cpu_us_per_call errors" to $scratch/NAME.runs.
drive() {
  local name=$1 pid=$2 url=$3 lua=$4 headers before after out
  shift 4
  headers=$(printf '%s\n' "$@")
  BENCH_BODY=$(call_body) BENCH_HEADERS=$headers BENCH_PROTOCOL=$PROTOCOL \
    wrk -t2 -c"$connections" -d1s -s "$scratch/$lua" "$url" >/dev/null
  before=$(cpu_ticks "$pid")
  out=$(BENCH_BODY=$(call_body) BENCH_HEADERS=$headers BENCH_PROTOCOL=$PROTOCOL \
    wrk -t2 -c"$connections" -d"${seconds}s" -s "$scratch/$lua" "$url") || die "$name: wrk failed"
  after=$(cpu_ticks "$pid")
  awk -v b="$before" -v a="$after" -v hz="$(getconf CLK_TCK)" -v rss="$(rss_kb "$pid")" '
    /^RESULT / { printf "%.0f %d %d %d %.1f %d\n", $2 / ($3 / 1e6), $4, $5, rss,
                 ($2 > 0 ? (a - b) * 1e6 / hz / $2 : 0), $6 }' <<<"$out" >>"$scratch/$name.runs"
}

median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

# --- the servers ----------------------------------------------------------------------------
build_mcp_gen() {
  bin=${MCP_GEN_BIN:-}
  if [[ -z $bin ]]; then
    say "building mcp-gen (cargo build --release)"
    (cd "$repo" && cargo build --release --quiet -p mcp-gen) || die "cargo build --release failed"
    bin=$target/release/mcp-gen
  fi
}

# generate_build DIR NAME ARGS…: a project generated into DIR and built in release; sets $server_bin.
generate_build() {
  local dir=$1 name=$2
  shift 2
  "$bin" generate --name "$name" --out "$dir" --quiet "$@" || die "mcp-gen generate failed: $*"
  say "building $name (release; the first build takes minutes)"
  (cd "$dir" && CARGO_TARGET_DIR=$gen_target cargo build --release --locked --quiet) \
    || die "cargo build of $dir failed"
  server_bin=$gen_target/release/$name
}

start_nginx() {
  local port
  port=$(free_port)
  mkdir -p "$scratch/nginx"
  cat >"$scratch/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
master_process off;
pid $scratch/nginx/nginx.pid;
error_log $scratch/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $scratch/nginx/tmp;
  proxy_temp_path $scratch/nginx/tmp;
  fastcgi_temp_path $scratch/nginx/tmp;
  uwsgi_temp_path $scratch/nginx/tmp;
  scgi_temp_path $scratch/nginx/tmp;
  server {
    listen 127.0.0.1:$port;
    keepalive_requests 1000000;
    location ~ /pet/[0-9]+\$ {
      default_type application/json;
      return 200 '{"id":1,"category":{"id":1,"name":"Dogs"},"name":"doggie","photoUrls":["https://example.com/doggie.jpg"],"tags":[{"id":1,"name":"friendly"}],"status":"available"}';
    }
    location / { return 404; }
  }
}
EOF
  # master_process off: one process to measure, which serves every request itself.
  start nginx "$(nginx_bin)" -p "$scratch/nginx" -c "$scratch/nginx/nginx.conf"
  nginx_pid=$pid
  upstream=http://127.0.0.1:$port/api/v3
  wait_for 10 "$nginx_pid" curl -sf "$upstream/pet/1" || die "nginx did not start (log: $scratch/nginx.log)"
}

# start_ours NAME BINARY PORT [VAR=VALUE…]: a generated server; sets $pid and $url.
start_ours() {
  local name=$1 binary=$2 port=$3
  shift 3
  url=http://127.0.0.1:$port/mcp
  # Metrics on (the default), each server on a port of its own.
  start "$name" env -i PATH="$PATH" HOST=127.0.0.1 PORT="$port" METRICS_ADDR=127.0.0.1:0 \
    UPSTREAM_BASE_URL="$upstream" UPSTREAM_API_KEY="$API_KEY" "$@" "$binary"
  wait_for 30 "$pid" curl -sf "http://127.0.0.1:$port/healthz" || die "$name did not start (log: $scratch/$name.log)"
}

# The authorization server of the e2e tests (oidc-provider) with a key of our own, and a
# token minted with that key for the JWT run: sets $issuer and $token for resource $1.
start_auth_server() {
  local resource=$1 port
  eval "$("$repo/scripts/peers.sh")"
  port=$(free_port)
  issuer=http://127.0.0.1:$port
  token=$("$PEERS_PYTHON" - "$scratch/as.jwks.json" "$issuer" "$resource" <<'EOF'
import json, sys, time, uuid
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
path, issuer, resource = sys.argv[1:]
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
jwk = json.loads(RSAAlgorithm.to_jwk(key))
jwk.pop("key_ops", None)
jwk.update(kid="bench", alg="RS256", use="sig")
with open(path, "w") as f:
    json.dump({"keys": [jwk]}, f)
now = int(time.time())
claims = {"iss": issuer, "aud": resource, "sub": "bench-user", "iat": now, "exp": now + 3600,
          "jti": uuid.uuid4().hex, "client_id": "bench", "scope": "read:pets write:pets"}
print(jwt.encode(claims, key, algorithm="RS256", headers={"kid": "bench", "typ": "at+jwt"}))
EOF
  ) || die "cannot mint the benchmark token"
  start auth-server env PATH="$(dirname "$PEERS_NODE"):$PATH" PEERS_NODE_MODULES="$PEERS_NODE_MODULES" \
    "$PEERS_NODE" "$repo/tests/peers/authorization-server.mjs" --port "$port" \
    --jwks "$scratch/as.jwks.json" --client-id bench --client-secret bench-secret
  wait_for 30 "$pid" curl -sf "$issuer/.well-known/oauth-authorization-server" \
    || die "the authorization server did not start (log: $scratch/auth-server.log)"
}

start_fastmcp() {
  local port
  port=$(free_port)
  url=http://127.0.0.1:$port/mcp
  start fastmcp "$fastmcp_dir/venv/bin/python" "$repo/scripts/bench-server/fastmcp_server.py" \
    "$spec" "$upstream" "$port" "$API_KEY"
  wait_for 60 "$pid" bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" || die "FastMCP did not start (log: $scratch/fastmcp.log)"
}

start_rmcp_openapi() {
  local port
  port=$(free_port)
  url=http://127.0.0.1:$port/mcp
  start rmcp-openapi env RUST_LOG=warn "$rmcp_openapi_dir/bin/rmcp-openapi-server" "$spec" \
    --base-url "$upstream" --port "$port" --bind-address 127.0.0.1 --header "api_key: $API_KEY"
  wait_for 30 "$pid" bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" || die "rmcp-openapi-server did not start (log: $scratch/rmcp-openapi.log)"
}

# --- MS Graph startup -----------------------------------------------------------------------
graph_startup() {
  [[ -f $graph_spec ]] || { say "no $graph_spec: startup check skipped (scripts/corpus.sh fetches it)"; return 0; }
  generate_build "$target/bench/ms-graph" ms-graph-bench-mcp --url "$graph_spec" --auth none
  local port start listening listed tools i rss
  port=$(free_port)
  start=$EPOCHREALTIME
  start ms-graph env -i PATH="$PATH" HOST=127.0.0.1 PORT="$port" METRICS_ADDR=127.0.0.1:0 UPSTREAM_BASE_URL="$upstream" "$server_bin"
  wait_for 30 "$pid" bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" || die "the MS Graph server did not start"
  listening=$EPOCHREALTIME
  for ((i = 0; i < 600; i++)); do
    tools=$(mcp "http://127.0.0.1:$port/mcp" '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' \
      | jq '.result.tools | length' 2>/dev/null) && [[ $tools -gt 0 ]] && break
    sleep 0.05
  done
  listed=$EPOCHREALTIME
  rss=$(rss_kb "$pid")
  kill "$pid"
  printf '\n| MS Graph server (cold start) | listening after | tools/list answered after | tools listed | RSS then |\n'
  printf '|---|---:|---:|---:|---:|\n'
  awk -v s="$start" -v l="$listening" -v t="$listed" -v n="$tools" -v r="$rss" -v ops="$(jq '.tools | length' "$target/bench/ms-graph/mcp-gen.json")" \
    'BEGIN { printf "| %s operations | %.0f ms | %.0f ms | %d | %.0f MB |\n", ops, (l - s) * 1000, (t - s) * 1000, n, r / 1024 }'
}

# --- main -----------------------------------------------------------------------------------
for tool in curl jq python3 flock cargo; do
  command -v "$tool" >/dev/null || die "'$tool' is not on PATH"
done
"$repo/scripts/need-debian.sh" wrk:wrk nginx:nginx-light || die "wrk and nginx are needed"
build_mcp_gen
wanted fastmcp && install_fastmcp
wanted rmcp-openapi && install_rmcp_openapi
write_lua
start_nginx

names=()
declare -A server_pid server_url server_headers server_lua
if wanted nginx; then
  names+=(nginx) server_pid[nginx]=$nginx_pid server_url[nginx]=$upstream/pet/1 server_lua[nginx]=get.lua
fi
if wanted ours; then
  generate_build "$target/bench/petstore-none" petstore-bench-mcp --url "$spec" --auth none
  start_ours ours "$server_bin" "$(free_port)"
  names+=(ours) server_pid[ours]=$pid server_url[ours]=$url
  if [[ -n ${BASELINE_OURS:-} ]]; then
    start_ours ours-baseline "$BASELINE_OURS" "$(free_port)"
    names+=(ours-baseline) server_pid[ours-baseline]=$pid server_url[ours-baseline]=$url
  fi
fi
if wanted ours-jwt; then
  generate_build "$target/bench/petstore-jwt" petstore-bench-jwt-mcp --url "$spec" --auth oauth2 \
    --oauth-server http://127.0.0.1:9000
  jwt_port=$(free_port)
  start_auth_server "http://127.0.0.1:$jwt_port/mcp"
  start_ours ours-jwt "$server_bin" "$jwt_port" AUTHORIZATION_SERVER_URL="$issuer" \
    ALLOW_INSECURE_ISSUER=true RESOURCE_SERVER_URL="http://127.0.0.1:$jwt_port/mcp"
  names+=(ours-jwt) server_pid[ours-jwt]=$pid server_url[ours-jwt]=http://127.0.0.1:$jwt_port/mcp
  server_headers[ours-jwt]="Authorization: Bearer $token"
  if [[ -n ${BASELINE_OURS_JWT:-} ]]; then
    # The token's audience is the first server's URL; the baseline is told it is that too.
    start_ours ours-jwt-baseline "$BASELINE_OURS_JWT" "$(free_port)" AUTHORIZATION_SERVER_URL="$issuer" \
      ALLOW_INSECURE_ISSUER=true RESOURCE_SERVER_URL="http://127.0.0.1:$jwt_port/mcp"
    names+=(ours-jwt-baseline) server_pid[ours-jwt-baseline]=$pid server_url[ours-jwt-baseline]=$url
    server_headers[ours-jwt-baseline]=${server_headers[ours-jwt]}
  fi
fi
if wanted fastmcp; then
  start_fastmcp
  names+=(fastmcp) server_pid[fastmcp]=$pid server_url[fastmcp]=$url
fi
if wanted rmcp-openapi; then
  start_rmcp_openapi
  names+=(rmcp-openapi) server_pid[rmcp-openapi]=$pid server_url[rmcp-openapi]=$url
fi
((${#names[@]})) || usage

declare -A server_tool
for name in "${names[@]}"; do
  [[ $name == nginx ]] && continue
  headers=()
  [[ -n ${server_headers[$name]:-} ]] && headers+=("${server_headers[$name]}")
  sid=$(session "${server_url[$name]}" "${headers[@]}") || die "$name: initialize failed"
  [[ -n $sid ]] && headers+=("$sid")
  check_server "$name" "${server_url[$name]}" "${headers[@]}"
  server_tool[$name]=$tool
  server_headers[$name]=$(printf '%s\n' "${headers[@]}")
  server_lua[$name]=call.lua
  say "$name: tools/call $tool answers with the pet"
done

say "$rounds rounds of ${seconds}s at $connections connections (wrk -t2); $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for ((r = 0; r < rounds; r++)); do
  for ((k = 0; k < ${#names[@]}; k++)); do
    name=${names[(k + r) % ${#names[@]}]}
    tool=${server_tool[$name]:-}
    mapfile -t headers <<<"${server_headers[$name]:-}"
    [[ -z ${headers[0]:-} ]] && headers=()
    drive "$name" "${server_pid[$name]}" "${server_url[$name]}" "${server_lua[$name]}" "${headers[@]}"
  done
done

declare -A label=(
  [nginx]="nginx, called directly (the upstream)"
  [ours]="mcp-gen server, --auth none"
  [ours-jwt]="mcp-gen server, JWT verified per call"
  [ours-baseline]="baseline mcp-gen server, --auth none"
  [ours-jwt-baseline]="baseline mcp-gen server, JWT verified per call"
  [fastmcp]="FastMCP $FASTMCP_VERSION from_openapi"
  [rmcp-openapi]="rmcp-openapi-server $RMCP_OPENAPI_VERSION"
)
printf '| server | calls/s | p50 ms | p99 ms | RSS MB | CPU µs/call | bad replies |\n'
printf '|---|---:|---:|---:|---:|---:|---:|\n'
for name in "${names[@]}"; do
  for col in 1 2 3 4 5 6; do awk -v c="$col" '{print $c}' "$scratch/$name.runs" | median; done \
    | paste -sd' ' | awk -v l="${label[$name]}" \
      '{ printf "| %s | %.0f | %.2f | %.2f | %.1f | %.0f | %d |\n", l, $1, $2 / 1000, $3 / 1000, $4 / 1024, $5, $6 }'
done
((graph)) && graph_startup
exit 0
