"""Fixtures of the end-to-end tests: the peers (authorization server, Prism) and the generated MCP
server, each started once per session on free 127.0.0.1 ports, logging to files in a temp dir
(shown with any failure), and stopped at the end.

Run (see tests/e2e/README.md):
    eval "$(scripts/peers.sh)"
    MCP_SERVER_BIN=/path/to/swagger-petstore-mcp "$PEERS_PYTHON" -m pytest tests/e2e
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import support  # noqa: E402
from support import Process, SigningKey  # noqa: E402
from upstream_peer import UpstreamPeer  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
PETSTORE = REPO / "fixtures" / "petstore" / "petstore-3.0.json"
AS_SCRIPT = REPO / "tests" / "peers" / "authorization-server.mjs"
UPSTREAM_API_KEY = "special-key"
AS_CLIENT_ID, AS_CLIENT_SECRET = "e2e-client", "e2e-secret"

PEER_VARS = {
    "PEERS_NODE": "Node 24 binary",
    "PEERS_NODE_MODULES": "node_modules with oidc-provider",
    "PEERS_BIN": "node_modules/.bin",
    "PEERS_PRISM": "Prism CLI entry point",
    "PEERS_INSPECTOR": "MCP Inspector entry point",
}


def pytest_configure(config):
    """No peers, no run: a clear error, never a skip."""
    problems = []
    for var, what in PEER_VARS.items():
        value = os.environ.get(var)
        if not value:
            problems.append(f"{var} is not set ({what})")
        elif not Path(value).exists():
            problems.append(f"{var}={value} does not exist ({what})")
    for f in (PETSTORE, AS_SCRIPT):
        if not f.is_file():
            problems.append(f"missing {f}")
    if problems:
        raise pytest.UsageError(
            "the e2e test peers are missing:\n  " + "\n  ".join(problems)
            + '\nInstall them and export their paths with:  eval "$(scripts/peers.sh)"')


def pytest_terminal_summary(terminalreporter):
    """Tables the tests measured (support.REPORTS), after the results: visible in CI logs."""
    for title, lines in support.REPORTS:
        terminalreporter.write_sep("=", title)
        for line in lines:
            terminalreporter.write_line(line)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing test shows the tail of every peer's and server's log."""
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for proc in Process.registry:
            report.sections.append((f"log of {proc.name} ({proc.log_path})", proc.log_tail(80)))


@pytest.fixture(scope="session")
def workdir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("e2e")
    print(f"\ne2e logs and keys in {d}")
    return d


@pytest.fixture(scope="session", autouse=True)
def _stop_processes():
    yield
    for proc in reversed(Process.registry):
        proc.stop()


# --- the authorization server --------------------------------------------------------------

@dataclass
class AuthServer:
    issuer: str
    key: SigningKey
    proc: Process
    client_id: str = AS_CLIENT_ID
    client_secret: str = AS_CLIENT_SECRET

    def client_credentials(self, *, scope: str | None, resource: str | None) -> str:
        return support.client_credentials_token(
            self.issuer, self.client_id, self.client_secret, scope=scope, resource=resource)["access_token"]


@pytest.fixture(scope="session")
def signing_key() -> SigningKey:
    return SigningKey.generate()


@pytest.fixture(scope="session")
def auth_server(workdir, signing_key) -> AuthServer:
    port = support.free_port()
    jwks = signing_key.write_private_jwks(workdir / "as-private.jwks.json")
    proc = Process(
        "authorization server",
        [os.environ["PEERS_NODE"], str(AS_SCRIPT), "--port", str(port), "--jwks", str(jwks),
         "--client-id", AS_CLIENT_ID, "--client-secret", AS_CLIENT_SECRET],
        workdir / "authorization-server.log",
        support.node_env({"PEERS_NODE_MODULES": os.environ["PEERS_NODE_MODULES"]}),
    )
    issuer = f"http://{support.LOOPBACK}:{port}"
    proc.wait_ready(support.http_ok(f"{issuer}/.well-known/oauth-authorization-server"), 30, "AS metadata")
    return AuthServer(issuer=issuer, key=signing_key, proc=proc)


# --- tests/e2e/upstream_peer.py, the recording upstream --------------------------------------------

@pytest.fixture(scope="module")
def peer():
    """A recording, fault-injecting upstream, one per test module (its record starts empty)."""
    p = UpstreamPeer()
    yield p
    p.stop()


# --- Prism, the upstream mock ------------------------------------------------------------------

@dataclass
class Prism:
    base_url: str
    proc: Process

    def requests(self) -> list[support.PrismRequest]:
        return support.prism_requests(self.proc.log_text())

    def get_json(self, path: str, headers: dict[str, str] | None = None):
        """What Prism itself answers (JSON), to compare a tool's result with."""
        with support.http_client() as c:
            r = c.get(self.base_url + path, headers={"Accept": "application/json", **(headers or {})})
        assert r.status_code == 200, f"Prism GET {path}: {r.status_code} {r.headers}"
        return r.json()


@pytest.fixture(scope="session")
def prism(workdir) -> Prism:
    port = support.free_port()
    # -v debug: Prism logs each request's headers too (proves what the server sent upstream).
    proc = Process(
        "prism",
        [os.environ["PEERS_NODE"], os.environ["PEERS_PRISM"], "mock", "-h", support.LOOPBACK,
         "-p", str(port), "-v", "debug", str(PETSTORE)],
        workdir / "prism.log", support.node_env(), cwd=REPO, noise="[CLI] ℹ",
    )
    proc.wait_ready(lambda: "Prism is listening" in proc.log_text() and support.port_open(port)(),
                    60, "listening")
    return Prism(base_url=f"http://{support.LOOPBACK}:{port}", proc=proc)


# --- the generated MCP server --------------------------------------------------------------------

@dataclass
class McpServer:
    base_url: str
    auth_challenge: str
    api_key: str | None
    proc: Process

    @property
    def mcp_url(self) -> str:
        return f"{self.base_url}/mcp"

    @property
    def resource(self) -> str:  # RESOURCE_SERVER_URL
        return self.mcp_url

    @property
    def prm_urls(self) -> list[str]:
        return [f"{self.base_url}/.well-known/oauth-protected-resource/mcp",
                f"{self.base_url}/.well-known/oauth-protected-resource"]


def server_binary() -> Path:
    value = os.environ.get("MCP_SERVER_BIN")
    if not value:
        pytest.fail("MCP_SERVER_BIN is not set: point it at the generated Petstore server binary, e.g. "
                    "target/generated/<dir>/target/debug/swagger-petstore-mcp", pytrace=False)
    path = Path(value)
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(f"MCP_SERVER_BIN={value} is not an executable file", pytrace=False)
    return path


@pytest.fixture(scope="session")
def mcp_servers(workdir, auth_server, prism):
    """A factory: mcp_servers(auth_challenge, api_key, tool_mode) → a running server; one per
    configuration."""
    started: dict[tuple, McpServer] = {}

    def get(auth_challenge: str = "tool", api_key: str | None = UPSTREAM_API_KEY,
            tool_mode: str = "tools") -> McpServer:
        key = (auth_challenge, api_key, tool_mode)
        if key not in started:
            binary = server_binary()
            name = f"mcp server ({auth_challenge}, {'key' if api_key else 'no key'}, {tool_mode})"
            base, proc = support.launch_mcp_server(
                binary, name, workdir / f"mcp-server-{auth_challenge}-{len(started)}.log", {
                    "AUTHORIZATION_SERVER_URL": auth_server.issuer,
                    "UPSTREAM_BASE_URL": prism.base_url,
                    "UPSTREAM_API_KEY": api_key,
                    "AUTH_CHALLENGE": auth_challenge,
                    "TOOL_MODE": tool_mode,
                })
            started[key] = McpServer(base_url=base, auth_challenge=auth_challenge, api_key=api_key, proc=proc)
        return started[key]

    return get


@pytest.fixture(scope="session")
def server_tool(mcp_servers) -> McpServer:
    return mcp_servers("tool")


@pytest.fixture(scope="session")
def server_http(mcp_servers) -> McpServer:
    return mcp_servers("http")


@pytest.fixture(scope="session")
def server_http_no_key(mcp_servers) -> McpServer:
    return mcp_servers("http", None)
