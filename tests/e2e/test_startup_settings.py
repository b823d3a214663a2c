"""Settings checked at startup: a RESOURCE_SERVER_URL without a path works; an OAuth server that
other machines can reach refuses to start without RESOURCE_SERVER_URL (the default is the same
for every server, so two deployments sharing an authorization server would accept each other's
tokens); a `--auth none` server off loopback warns that anyone can spend its credentials.

"Reachable" is HOST=192.0.2.1 (TEST-NET-1, never assigned here): the checks happen before the
server binds, and binding that address fails, so nothing ever listens off loopback."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

import support
from auth_support import start_mcp_server
from conftest import server_binary

UNREACHABLE_HOST = "192.0.2.1"
NOAUTH_WARNING = "anyone who can reach it can call every tool"


def noauth_binary() -> Path:
    value = os.environ.get("MCP_NOAUTH_SERVER_BIN")
    if not value or not os.access(value, os.X_OK):
        pytest.fail("MCP_NOAUTH_SERVER_BIN is not an executable (the --auth none Petstore server)", pytrace=False)
    return Path(value)


def run_to_exit(binary: Path, env: dict[str, str | None]) -> tuple[int, str]:
    """Runs the server with HOST=192.0.2.1 until it exits (it cannot bind); its code and log."""
    full = support.loopback_env({"HOST": UNREACHABLE_HOST, "PORT": str(support.free_port()),
                                 "RUST_LOG": "info", "RESOURCE_SERVER_URL": None,
                                 "AUTHORIZATION_SERVER_URL": None, "UPSTREAM_BASE_URL": "http://127.0.0.1:9",
                                 **env})
    done = subprocess.run([str(binary)], env=full, capture_output=True, text=True, timeout=30,
                          stdin=subprocess.DEVNULL)
    return done.returncode, done.stdout + done.stderr


def test_resource_url_without_a_path_starts_and_serves_its_metadata(workdir, auth_server):
    srv = start_mcp_server(server_binary(), workdir, "mcp server resource without path", {
        "AUTHORIZATION_SERVER_URL": auth_server.issuer, "UPSTREAM_BASE_URL": "http://127.0.0.1:9",
        "RESOURCE_SERVER_URL": "https://mcp.example.com"})
    try:
        with support.http_client() as c:
            meta = c.get(f"{srv.base_url}/.well-known/oauth-protected-resource")
        assert meta.status_code == 200, meta.text[:200]
        assert meta.json()["resource"] == "https://mcp.example.com"
    finally:
        srv.proc.stop()


def test_reachable_oauth_server_needs_its_resource_url(auth_server):
    code, log = run_to_exit(server_binary(), {"AUTHORIZATION_SERVER_URL": auth_server.issuer})
    print(f"STARTUP | OAuth, HOST={UNREACHABLE_HOST}, no RESOURCE_SERVER_URL | exit {code} | {log.strip()[-200:]}")
    assert code != 0 and "RESOURCE_SERVER_URL" in log and "cannot listen" not in log, log
    # Named, it gets as far as binding (which fails here on purpose).
    code, log = run_to_exit(server_binary(), {"AUTHORIZATION_SERVER_URL": auth_server.issuer,
                                              "RESOURCE_SERVER_URL": "https://mcp.example.com/mcp"})
    assert code != 0 and "cannot listen" in log and "invalid RESOURCE_SERVER_URL" not in log, log


def test_loopback_oauth_server_keeps_its_default_resource_url(workdir, auth_server):
    srv = start_mcp_server(server_binary(), workdir, "mcp server default resource", {
        "AUTHORIZATION_SERVER_URL": auth_server.issuer, "UPSTREAM_BASE_URL": "http://127.0.0.1:9",
        "RESOURCE_SERVER_URL": None})
    try:
        with support.http_client() as c:
            meta = c.get(f"{srv.base_url}/.well-known/oauth-protected-resource/mcp").json()
        assert meta["resource"] == f"{srv.base_url}/mcp"
    finally:
        srv.proc.stop()


def test_auth_none_off_loopback_warns_about_its_credentials(workdir):
    code, log = run_to_exit(noauth_binary(), {"UPSTREAM_API_KEY": "special-key"})
    warned = [line for line in log.splitlines() if NOAUTH_WARNING in line]
    print(f"STARTUP | --auth none, HOST={UNREACHABLE_HOST} | warning: {bool(warned)}")
    assert warned and "WARN" in warned[0] and "upstream credentials" in warned[0], log
    assert "special-key" not in log
    # On loopback: no warning.
    srv = start_mcp_server(noauth_binary(), workdir, "noauth server loopback", {
        "UPSTREAM_BASE_URL": "http://127.0.0.1:9"})
    srv.proc.stop()
    assert NOAUTH_WARNING not in srv.proc.log_text()


def test_operations_settings_are_checked_at_startup():
    """LOG_FORMAT, METRICS_ADDR and SHUTDOWN_GRACE_SECS: a bad value, or a metrics address in
    use, stops the server with an error naming the variable."""
    import socket
    with socket.socket() as taken:
        taken.bind((support.LOOPBACK, 0))
        taken.listen()
        busy = f"{support.LOOPBACK}:{taken.getsockname()[1]}"
        for env, named in [({"LOG_FORMAT": "yaml"}, "LOG_FORMAT"),
                           ({"METRICS_ADDR": "localhost:9464"}, "METRICS_ADDR"),
                           ({"SHUTDOWN_GRACE_SECS": "-1"}, "SHUTDOWN_GRACE_SECS"),
                           ({"HOST": support.LOOPBACK, "METRICS_ADDR": busy}, f"METRICS_ADDR={busy}")]:
            code, log = run_to_exit(server_binary(), {"RESOURCE_SERVER_URL": "https://mcp.example.com/mcp", **env})
            print(f"STARTUP | {env} | exit {code} | {log.strip()[-160:]}")
            assert code != 0 and named in log, (env, log)
