#!/usr/bin/env bash
# Every test of mcp-gen, on a fresh machine with nothing installed by hand:
#   1. installs the pinned test peers (scripts/peers.sh; cached after the first run),
#   2. checks the workspace: the generator, the runtime crate its servers vendor and the
#      corpus checker (rustfmt, clippy, unit, golden and CLI tests),
#   3. generates the server from the bundled Petstore fixture, then builds and lints the
#      generated project (`cargo build --locked`),
#   4. drives that server end to end with real peers: oidc-provider, Prism, the Python `mcp`
#      client and the MCP Inspector.
# All generated projects share one CARGO_TARGET_DIR, so their dependencies build once.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
step() { printf '\n== %s\n' "$*"; }

step "test peers"
eval "$(scripts/peers.sh)"
# The load balancer of the replica test (tests/e2e/test_fleet.py).
scripts/need-debian.sh nginx:nginx-light

step "workspace (generator, runtime, corpus checker): fmt, clippy, tests"
cargo fmt --all -- --check
cargo clippy --locked --workspace --all-targets -- -D warnings
cargo test --locked --workspace
cargo build --locked --release

step "generate the Petstore server"
out="$repo/target/e2e/swagger-petstore-mcp"
export CARGO_TARGET_DIR="$repo/target/generated"
"$repo/target/release/mcp-gen" generate \
  --url fixtures/petstore/petstore-3.0.json \
  --auth oauth2 --oauth-server http://127.0.0.1:9000 \
  --out "$out"

step "generated project: build --locked, fmt, clippy, tests"
(
  cd "$out"
  cargo build --locked
  cargo fmt -- --check
  cargo clippy --locked --all-targets -- -D warnings
  cargo test --locked
)

step "generate and build the Petstore server with --auth none (for the MCP conformance suite)"
# Its own crate name, so its binary does not replace the OAuth one in the shared target dir;
# only this crate compiles (the dependencies are already built).
noauth="$repo/target/e2e/swagger-petstore-noauth-mcp"
"$repo/target/release/mcp-gen" generate \
  --url fixtures/petstore/petstore-3.0.json --auth none \
  --name swagger-petstore-noauth-mcp --out "$noauth"
(cd "$noauth" && cargo build --locked)

step "generate and build the upstream-side servers (issue 5: request fidelity, credentials, faults)"
# Each with --upstream-auth token-exchange, so user-OAuth operations carry an exchanged token.
while read -r name spec; do
  "$repo/target/release/mcp-gen" generate --url "$spec" --name "$name" \
    --auth oauth2 --oauth-server http://127.0.0.1:9 --upstream-auth token-exchange \
    --out "$repo/target/e2e/$name" --quiet
  (cd "$repo/target/e2e/$name" && cargo build --locked -q)
done <<'SERVERS'
fid-petstore fixtures/petstore/petstore-3.0.json
fid-security fixtures/readme-oas-examples/3.0/json/security.json
fid-parameters fixtures/readme-oas-examples/3.0/json/parameters-style.json
fid-uploads fixtures/readme-oas-examples/3.0/json/file-uploads.json
fid-train fixtures/readme-oas-examples/3.1/json/train-travel.json
upstream-faults tests/e2e/specs/upstream-faults.json
fid-required-headers fixtures/defects/swagger2-required-headers.json
SERVERS
# The Petstore server again with the spec's own output schemas, for the drift test's strict
# column (tests/e2e/test_drift.py).
"$repo/target/release/mcp-gen" generate --url fixtures/petstore/petstore-3.0.json \
  --name fid-petstore-strict --auth oauth2 --oauth-server http://127.0.0.1:9 \
  --upstream-auth token-exchange --output-schemas strict \
  --out "$repo/target/e2e/fid-petstore-strict" --quiet
(cd "$repo/target/e2e/fid-petstore-strict" && cargo build --locked -q)
export GENERATED_BIN_DIR="$CARGO_TARGET_DIR/debug"

step "corpus: every real spec generates, its tools are sound, its project compiles (scripts/corpus.sh)"
scripts/corpus.sh

step "end to end: oidc-provider + Prism + generated servers, driven by the Python and TypeScript MCP clients, the MCP Inspector and the conformance suite"
MCP_SERVER_BIN="$CARGO_TARGET_DIR/debug/swagger-petstore-mcp" \
MCP_NOAUTH_SERVER_BIN="$CARGO_TARGET_DIR/debug/swagger-petstore-noauth-mcp" \
  "$PEERS_PYTHON" -m pytest -v -c tests/e2e/pytest.ini tests/e2e
