"""Opaque access tokens (RFC 7662): oidc-provider started with --opaque issues non-JWT tokens;
the server, given a client of that AS (and TOKEN_INTROSPECTION_URL, or else the endpoint from the
AS metadata), asks the AS about each token
(with a short cache, counted in the AS's request log) and applies the same rules as for JWTs:
active, for this resource, scopes per tool."""

from __future__ import annotations

import math
import secrets
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import support
from auth_support import (CLIENT_ID, CLIENT_SECRET, AuthServerInstance, post_mcp, rsa_private_jwk,
                          secrets_in_log, start_mcp_server, tool_call)
from conftest import server_binary
from support import SigningKey, parse_bearer_challenge

INTROSPECTION = "POST /token/introspection"
# The server's defaults: TOKEN_INTROSPECTION_MAX_PER_SEC=10, bursts of twice that.
PER_SEC, BURST = 10, 20


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


def call(server, token: str, tool: str = "find_pets_by_status", args=None, client=None):
    return post_mcp(server.mcp_url, tool_call(tool, args or {"status": ["available"]}),
                    [("Authorization", f"Bearer {token}")], client=client)


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


def test_a_garbage_token_flood_costs_a_bounded_number_of_introspections(workdir, opaque_as, prism):
    """200 distinct made-up opaque tokens, sent at once, by nobody: the server introspects
    at most BURST + PER_SEC per second of flood of them (the rest get 401 "try again"), and a
    valid token cached before the flood still works right after it, without a new round trip."""
    srv = start_introspecting(workdir, opaque_as, prism, "mcp server introspection flood", {
        "TOKEN_INTROSPECTION_URL": opaque_as.metadata()["introspection_endpoint"],
    })
    try:
        token = opaque_as.client_credentials(scope="read:pets write:pets", resource=srv.resource)
        assert call(srv, token).status_code == 200
        garbage = [secrets.token_urlsafe(32) for _ in range(200)]
        before_asked, before_upstream = opaque_as.count(INTROSPECTION), len(prism.requests())
        started = time.monotonic()
        # One client, 50 connections: the flood is as fast as the server answers.
        with support.http_client() as client, ThreadPoolExecutor(max_workers=50) as pool:
            statuses = list(pool.map(lambda t: call(srv, t, client=client).status_code, garbage))
        elapsed = time.monotonic() - started
        asked = opaque_as.count(INTROSPECTION) - before_asked
        bound = BURST + math.ceil(PER_SEC * elapsed) + 1
        print(f"\nflood: 200 garbage tokens in {elapsed:.2f}s -> {asked} introspections (bound {bound})")
        assert statuses == [401] * 200, statuses
        assert len(prism.requests()) == before_upstream
        assert asked <= bound, f"{asked} introspections for 200 garbage tokens in {elapsed:.2f}s (bound {bound})"
        # The valid token is still cached: it works at once and costs no introspection.
        r = call(srv, token)
        assert r.status_code == 200, f"HTTP {r.status_code} {r.text[:300]}"
        assert "mcp/www_authenticate" not in (r.json()["result"].get("_meta") or {}), r.text[:300]
        assert opaque_as.count(INTROSPECTION) - before_asked == asked
        # A new valid token works once the budget refilled (one second).
        time.sleep(1.0)
        fresh = opaque_as.client_credentials(scope="read:pets", resource=srv.resource)
        assert call(srv, fresh).status_code == 200
        log = srv.proc.log_text()
        assert not any(t in log for t in garbage[:20]), "garbage tokens are never logged"
    finally:
        srv.proc.stop()


def test_issuer_is_compared_exactly(workdir, opaque_as, prism):
    """AUTHORIZATION_SERVER_URL with a trailing slash the AS does not use: the AS's `iss`
    is another identifier (RFC 8414 §3.3), so its tokens are refused."""
    srv = start_introspecting(workdir, opaque_as, prism, "mcp server introspection slash", {
        "AUTHORIZATION_SERVER_URL": opaque_as.issuer + "/",
        "TOKEN_INTROSPECTION_URL": opaque_as.metadata()["introspection_endpoint"],
    })
    try:
        token = opaque_as.client_credentials(scope="read:pets write:pets", resource=srv.resource)
        before = len(prism.requests())
        r = call(srv, token)
        assert r.status_code == 401, f"HTTP {r.status_code} {r.text[:300]}"
        challenge = parse_bearer_challenge(r.headers["www-authenticate"])
        assert "another authorization server" in challenge["error_description"], challenge
        assert len(prism.requests()) == before
    finally:
        srv.proc.stop()
