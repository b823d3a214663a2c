"""Opaque access tokens (RFC 7662): oidc-provider started with --opaque issues non-JWT tokens;
the server, given a client of that AS (and TOKEN_INTROSPECTION_URL, or else the endpoint from the
AS metadata), asks the AS about each token
(with a short cache, counted in the AS's request log) and applies the same rules as for JWTs:
active, for this resource, scopes per tool."""

from __future__ import annotations

import pytest

import support
from auth_support import (CLIENT_ID, CLIENT_SECRET, AuthServerInstance, post_mcp, rsa_private_jwk,
                          secrets_in_log, start_mcp_server, tool_call)
from conftest import server_binary
from support import SigningKey, parse_bearer_challenge

INTROSPECTION = "POST /token/introspection"


@pytest.fixture(scope="module")
def opaque_as(workdir):
    instance = AuthServerInstance(workdir, "opaque-as", opaque=True).start(
        [rsa_private_jwk(SigningKey.generate())])
    yield instance
    instance.stop()


def start_introspecting(workdir, opaque_as, prism, name: str, env: dict[str, str]):
    """A Petstore server that introspects with its client at `opaque_as`; `env` adds to it."""
    return start_mcp_server(server_binary(), workdir, name, {
        "AUTHORIZATION_SERVER_URL": opaque_as.issuer,
        "TOKEN_INTROSPECTION_CLIENT_ID": CLIENT_ID,
        "TOKEN_INTROSPECTION_CLIENT_SECRET": CLIENT_SECRET,
        "UPSTREAM_BASE_URL": prism.base_url,
        "UPSTREAM_API_KEY": "special-key",
        **env,
    })


@pytest.fixture(scope="module")
def server(workdir, opaque_as, prism):
    srv = start_introspecting(workdir, opaque_as, prism, "mcp server introspection", {
        "TOKEN_INTROSPECTION_URL": opaque_as.metadata()["introspection_endpoint"],
    })
    yield srv
    srv.proc.stop()


def call(server, token: str, tool: str = "find_pets_by_status", args=None):
    return post_mcp(server.mcp_url, tool_call(tool, args or {"status": ["available"]}),
                    [("Authorization", f"Bearer {token}")])


def test_opaque_token_is_introspected_and_cached(server, opaque_as, prism):
    token = opaque_as.client_credentials(scope="read:pets write:pets", resource=server.resource)
    assert token.count(".") != 2, f"expected an opaque token from --opaque, got a JWT-like {token[:20]}…"
    before_asked, before_upstream = opaque_as.count(INTROSPECTION), len(prism.requests())
    for _ in range(3):
        r = call(server, token)
        assert r.status_code == 200, f"HTTP {r.status_code} {r.headers} {r.text[:300]}"
        assert "mcp/www_authenticate" not in (r.json()["result"].get("_meta") or {}), r.text[:300]
    assert len(prism.requests()) - before_upstream == 3
    assert opaque_as.count(INTROSPECTION) - before_asked == 1, "answers are cached (short TTL)"
    assert not secrets_in_log(server.proc.log_text(), token)


def test_opaque_token_scopes_are_enforced(server, opaque_as, prism):
    token = opaque_as.client_credentials(scope="read:pets", resource=server.resource)
    before = len(prism.requests())
    r = call(server, token, "add_pet", {"name": "x", "photoUrls": []})
    challenges = (r.json()["result"].get("_meta") or {}).get("mcp/www_authenticate") or [""]
    assert parse_bearer_challenge(challenges[0]).get("error") == "insufficient_scope", r.text[:300]
    assert len(prism.requests()) == before


@pytest.mark.parametrize("case", ["another resource", "revoked", "unknown"])
def test_bad_opaque_tokens_get_401(case, server, opaque_as, prism):
    if case == "another resource":
        token = opaque_as.client_credentials(scope="read:pets", resource="http://127.0.0.1:1/other-mcp")
        expected = "not issued for this resource"
    elif case == "revoked":
        token = opaque_as.client_credentials(scope="read:pets", resource=server.resource)
        with support.http_client() as c:
            r = c.post(opaque_as.metadata()["revocation_endpoint"], data={"token": token},
                       auth=(CLIENT_ID, CLIENT_SECRET))
        assert r.status_code == 200, r.text
        expected = "not active"
    else:
        token = "Zm9yZ2VkLW9wYXF1ZS10b2tlbi10aGF0LXRoZS1BUy1uZXZlci1pc3N1ZWQ"
        expected = "not active"
    before = len(prism.requests())
    r = call(server, token)
    assert r.status_code == 401, f"{case}: HTTP {r.status_code} {r.text[:300]}"
    challenge = parse_bearer_challenge(r.headers["www-authenticate"])
    assert challenge["error"] == "invalid_token" and expected in challenge["error_description"], challenge
    assert challenge["resource_metadata"] in server.prm_urls
    assert len(prism.requests()) == before
    assert not secrets_in_log(server.proc.log_text(), token)


def test_endpoint_is_discovered_from_the_as_metadata(workdir, opaque_as, prism):
    """Only the client credentials are given: the server finds the RFC 7662 endpoint in the
    issuer's RFC 8414 metadata (`introspection_endpoint`) and uses it."""
    srv = start_introspecting(workdir, opaque_as, prism, "mcp server introspection discovered", {})
    try:
        token = opaque_as.client_credentials(scope="read:pets write:pets", resource=srv.resource)
        before_asked, before_upstream = opaque_as.count(INTROSPECTION), len(prism.requests())
        r = call(srv, token)
        assert r.status_code == 200, f"HTTP {r.status_code} {r.headers} {r.text[:300]}"
        assert "mcp/www_authenticate" not in (r.json()["result"].get("_meta") or {}), r.text[:300]
        assert opaque_as.count(INTROSPECTION) - before_asked == 1
        assert len(prism.requests()) - before_upstream == 1
        assert "introspection_endpoint of the authorization server metadata" in srv.proc.log_text()
        assert not secrets_in_log(srv.proc.log_text(), token)
    finally:
        srv.proc.stop()
