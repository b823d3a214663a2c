"""The official MCP conformance suite (@modelcontextprotocol/conformance, pinned in
tests/peers/package.json) against the Petstore server generated with `--auth none` (the suite
cannot send an Authorization header): server-initialize, ping, tools-list and
dns-rebinding-protection. MCP_NOAUTH_SERVER_BIN names that binary (scripts/test.sh builds it)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

import support
from auth_support import start_mcp_server

SCENARIOS = ["server-initialize", "ping", "tools-list", "dns-rebinding-protection"]


@pytest.fixture(scope="module")
def noauth_server(workdir, prism):
    value = os.environ.get("MCP_NOAUTH_SERVER_BIN")
    if not value or not os.access(value, os.X_OK):
        pytest.fail("MCP_NOAUTH_SERVER_BIN must name the Petstore server generated with --auth none "
                    f"(got {value!r}); scripts/test.sh builds it", pytrace=False)
    if not os.environ.get("PEERS_CONFORMANCE"):
        pytest.fail('PEERS_CONFORMANCE is not set: eval "$(scripts/peers.sh)"', pytrace=False)
    srv = start_mcp_server(Path(value), workdir, "mcp server noauth", {
        "AUTHORIZATION_SERVER_URL": None,
        "UPSTREAM_BASE_URL": prism.base_url,
    })
    yield srv
    srv.proc.stop()


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_conformance_scenario(scenario, noauth_server, workdir):
    out = workdir / f"conformance-{scenario}"
    cmd = [os.environ["PEERS_NODE"], os.environ["PEERS_CONFORMANCE"], "server", "--url", noauth_server.mcp_url,
           "--scenario", scenario, "-o", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=support.node_env())
    report = done.stdout + done.stderr
    print(report)
    assert done.returncode == 0, f"{scenario} failed (exit {done.returncode}):\n{report[-3000:]}"
    summary = re.search(r"Passed: (\d+)/(\d+), (\d+) failed", report)
    assert summary, f"no result summary from the suite:\n{report[-3000:]}"
    passed, total, failed = map(int, summary.groups())
    assert total > 0 and passed == total and failed == 0, report[-3000:]
