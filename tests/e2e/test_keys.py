"""Signing keys over time, against a real oidc-provider that this module stops and restarts on the
same port (same issuer) with other keys. JWKS fetches are counted in the AS's own request log.

- AS down when the server starts: a clear log line, tokens refused, then accepted once it is up;
- rotation: a token with the new kid is accepted after one refetch; the removed kid is refused;
- the AS down after the first fetch: tokens with cached keys keep working;
- a burst of 1,000 random kids: at most a handful of JWKS fetches."""

from __future__ import annotations

import time
import uuid

import jwt
import pytest

import support
from auth_support import AuthServerInstance, rsa_private_jwk, start_mcp_server
from conftest import server_binary
from support import RawMcp, SigningKey

SCOPES = "read:pets write:pets"


@pytest.fixture(scope="module")
def key_a():
    return SigningKey.generate()


@pytest.fixture(scope="module")
def key_b():
    return SigningKey.generate()


@pytest.fixture(scope="module")
def as_k(workdir):
    instance = AuthServerInstance(workdir, "keys-as")
    yield instance
    instance.stop()


def server_for(workdir, as_k, prism, name):
    return start_mcp_server(server_binary(), workdir, name, {
        "AUTHORIZATION_SERVER_URL": as_k.issuer,
        "UPSTREAM_BASE_URL": prism.base_url,
        "UPSTREAM_API_KEY": "special-key",
    })


def status(server, token: str) -> int:
    r, _ = RawMcp(server.mcp_url, token).initialize()
    return r.status_code


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout}s: {what}")


def test_as_down_at_startup_then_recovers(workdir, as_k, prism, key_a):
    server = server_for(workdir, as_k, prism, "mcp server keys startup")
    try:
        wait_for(lambda: "cannot reach the authorization server" in server.proc.log_text(), 10,
                 "a log line saying the AS is unreachable")
        line = next(x for x in server.proc.log_text().splitlines() if "cannot reach the authorization server" in x)
        assert as_k.issuer in line and "ERROR" in line, line
        token = key_a.mint(iss=as_k.issuer, aud=server.resource, scope=SCOPES)
        assert status(server, token) == 401
        as_k.start([rsa_private_jwk(key_a)])
        # Retried on the next token, at most once a second while no keys were ever loaded.
        wait_for(lambda: status(server, token) == 200, 10, "the token accepted once the AS is up")
        assert "loaded signing keys" in server.proc.log_text()
        assert server.alive()
    finally:
        server.proc.stop()


def test_rotation_removed_kid_and_outage(workdir, as_k, prism, key_a, key_b):
    if as_k.proc is None or as_k.proc.proc.poll() is not None:
        as_k.start([rsa_private_jwk(key_a)])
    server = server_for(workdir, as_k, prism, "mcp server keys rotation")
    try:
        wait_for(lambda: "loaded signing keys" in server.proc.log_text(), 10, "keys loaded at startup")
        token_a = key_a.mint(iss=as_k.issuer, aud=server.resource, scope=SCOPES)
        assert status(server, token_a) == 200

        # Rotation: the AS now signs with B and no longer publishes A.
        as_k.stop()
        as_k.start([rsa_private_jwk(key_b)])
        before = as_k.jwks_fetches()
        issued = as_k.client_credentials(scope=SCOPES, resource=server.resource)
        assert jwt.get_unverified_header(issued)["kid"] == key_b.kid
        assert status(server, issued) == 200, "the new kid must be picked up"
        assert as_k.jwks_fetches() - before == 1, "exactly one refetch for the new kid"
        assert status(server, key_b.mint(iss=as_k.issuer, aud=server.resource, scope=SCOPES)) == 200
        # A was removed from the JWKS: its tokens are refused now.
        assert status(server, key_a.mint(iss=as_k.issuer, aud=server.resource, scope=SCOPES)) == 401
        assert as_k.jwks_fetches() - before == 1, "the removed kid must not cause another fetch yet"

        # The AS goes down: keys in the cache keep working; unknown kids are refused, no crash.
        as_k.stop()
        assert status(server, issued) == 200
        assert status(server, key_b.mint(iss=as_k.issuer, aud=server.resource, scope="read:pets")) == 200
        stranger = SigningKey(key_b.private_key, kid=f"new-{uuid.uuid4().hex}")
        assert status(server, stranger.mint(iss=as_k.issuer, aud=server.resource)) == 401
        assert server.alive()
    finally:
        server.proc.stop()


def test_burst_of_random_kids_is_rate_limited(workdir, as_k, prism, key_b):
    if as_k.proc is None or as_k.proc.proc.poll() is not None:
        as_k.start([rsa_private_jwk(key_b)])
    server = server_for(workdir, as_k, prism, "mcp server keys burst")
    try:
        wait_for(lambda: "loaded signing keys" in server.proc.log_text(), 10, "keys loaded at startup")
        before = as_k.jwks_fetches()
        started = time.monotonic()
        statuses = set()
        with support.http_client() as client:
            for _ in range(1000):
                forged = SigningKey(key_b.private_key, kid=f"random-{uuid.uuid4().hex}")
                token = forged.mint(iss=as_k.issuer, aud=server.resource)
                r = client.post(server.mcp_url, headers={
                    "Authorization": f"Bearer {token}", "Content-Type": "application/json",
                    "Accept": "application/json, text/event-stream"},
                    content='{"jsonrpc":"2.0","id":1,"method":"tools/list"}')
                statuses.add(r.status_code)
        elapsed = time.monotonic() - started
        fetches = as_k.jwks_fetches() - before
        print(f"\n1,000 random kids in {elapsed:.1f}s: {fetches} JWKS fetch(es), statuses {statuses}")
        assert statuses == {401}
        # One per 10 s at most (the first unknown kid fetches; the rest wait for the interval).
        assert 1 <= fetches <= 1 + int(elapsed // 10) + 1, f"{fetches} fetches in {elapsed:.1f}s"
        assert status(server, key_b.mint(iss=as_k.issuer, aud=server.resource, scope=SCOPES)) == 200
    finally:
        server.proc.stop()


def test_plain_http_issuer_outside_loopback_needs_an_explicit_setting(workdir, prism):
    """Keys, introspection and discovery fetched over plain http from another host could be
    forged on the way: such an issuer stops the server at startup with a message naming the
    setting, unless ALLOW_INSECURE_ISSUER=true accepts it."""
    import subprocess
    port = support.free_port()
    env = support.loopback_env({
        "AUTHORIZATION_SERVER_URL": "http://as.example.invalid",
        "RESOURCE_SERVER_URL": f"http://{support.LOOPBACK}:{port}/mcp",
        "HOST": support.LOOPBACK, "PORT": str(port),
        "UPSTREAM_BASE_URL": prism.base_url, "UPSTREAM_API_KEY": "special-key",
    })
    done = subprocess.run([str(server_binary())], env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode != 0, done.stderr[-2000:]
    assert "ALLOW_INSECURE_ISSUER" in done.stderr and "AUTHORIZATION_SERVER_URL" in done.stderr, done.stderr[-2000:]
    srv = start_mcp_server(server_binary(), workdir, "mcp server insecure issuer allowed", {
        "AUTHORIZATION_SERVER_URL": "http://as.example.invalid",
        "ALLOW_INSECURE_ISSUER": "true",
        "UPSTREAM_BASE_URL": prism.base_url,
        "UPSTREAM_API_KEY": "special-key",
    })
    srv.proc.stop()
