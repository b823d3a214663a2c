"""Tools that work with or without authorization ("mixed": the spec lists an empty requirement
`{}` beside one that needs the server's API key) spend the server's credential only on callers
entitled to it: a verified token holding the tool's scopes. Anonymous and under-scoped callers
get the empty alternative: the upstream sees no key, and so the key can never come back to them.

The upstream is tests/e2e/upstream_peer.py, whose /anything routes echo each request back, like
httpbin's (the upstream security.json was written for): whatever the server sends upstream
reaches the caller in the tool result.
- fid-security (`security.json`): `get_anything_optional_auth` is `[{apiKey_query: []}, {}]`,
  any valid token (no scopes);
- upstream-faults: `echo_optional` is `[{}, {key: []}]` with `x-mcp-scopes: [read]`.
"""

from __future__ import annotations

import json

import pytest

from test_fidelity import SECURITY_ENV
from upstream_fixtures import exchange_env, start_server, token_for

QUERY_KEY = SECURITY_ENV["API_KEY_QUERY_API_KEY"]
HEADER_KEY = "server-key-mixed-7"


@pytest.fixture(scope="module")
def security_server(workdir, auth_server, peer):
    return start_server(workdir, "fid-security", "mixed", {
        "UPSTREAM_BASE_URL": peer.base_url, **SECURITY_ENV, **exchange_env(auth_server)})


@pytest.fixture(scope="module")
def scoped_server(workdir, auth_server, peer):
    return start_server(workdir, "upstream-faults", "mixed", {
        "UPSTREAM_BASE_URL": peer.base_url, "UPSTREAM_API_KEY": HEADER_KEY, **exchange_env(auth_server)})


def echoed(result) -> dict:
    """What the upstream saw, from the echo in the tool result."""
    assert not result.get("isError"), result
    return json.loads(result["content"][0]["text"])


def call_and_seen(server, peer, tool: str, args: dict, token: str | None, prefix: str):
    before = len(peer.requests(prefix))
    result = server.call(tool, args, token)
    sent = peer.requests(prefix)[before:]
    assert len(sent) == 1, f"{tool}: expected one upstream request, saw {len(sent)}"
    return result, sent[0]


def test_optional_query_key_is_sent_only_with_a_valid_token(security_server, peer, auth_server):
    tool, prefix = "get_anything_optional_auth", "/anything/optional-auth"
    # Anonymous: the empty alternative; no key upstream, none in the reply.
    result, seen = call_and_seen(security_server, peer, tool, {}, None, prefix)
    assert "apiKey=" not in seen.target, seen.target
    assert QUERY_KEY not in json.dumps(result)
    assert echoed(result)["target"] == prefix

    # A verified token (this tool asks for no scopes): the key alternative is theirs.
    token = token_for(auth_server, security_server, "")
    result, seen = call_and_seen(security_server, peer, tool, {}, token, prefix)
    assert seen.target == f"{prefix}?apiKey={QUERY_KEY}", seen.target
    assert token not in json.dumps(seen.headers), "the MCP token never goes upstream"


@pytest.mark.parametrize("scope", [None, "other", "read"])
def test_optional_header_key_needs_the_tools_scopes(scoped_server, peer, auth_server, scope):
    """Anonymous, under-scoped (`other`) and entitled (`read`) callers of one mixed tool."""
    token = None if scope is None else token_for(auth_server, scoped_server, scope)
    result, seen = call_and_seen(scoped_server, peer, "echo_optional", {"id": "7"}, token,
                                 "/anything/optional/")
    reply = json.dumps(result)
    if scope == "read":
        assert seen.headers.get("x-key") == HEADER_KEY, seen.headers
        # The upstream echoes the key back; the caller may use it, never read it.
        assert echoed(result)["headers"]["x-key"] == "[redacted]"
        assert HEADER_KEY not in reply
    else:
        assert "x-key" not in seen.headers, f"{scope}: the server's key went upstream"
        assert HEADER_KEY not in reply, f"{scope}: the server's key reached the caller"
        assert echoed(result)["target"] == "/anything/optional/7"
    if token:
        assert token not in json.dumps(seen.headers)
