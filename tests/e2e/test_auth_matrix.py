"""The bad-token matrix (issue 3): every hostile or broken credential, minted here, against the
real generated server (AUTH_CHALLENGE=tool, RUST_LOG=debug). Each bad case must get HTTP 401 with
`WWW-Authenticate: Bearer error=…, error_description=…, resource_metadata=…`, cause no upstream
request (Prism's log), leave the server alive without a panic, and never show the token (nor its
signature) in the server's log. The good cases (RS256 and ES256, `bearer` in lower case, `scope`
and `scp`, `aud` as string and array, a token from the AS itself) reach the upstream.

The table of the last run is written to <e2e workdir>/auth-matrix.md."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import http.server
import json
import threading
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from cryptography.hazmat.primitives import serialization

import support
from auth_support import (AuthServerInstance, EcKey, b64url, post_mcp, rsa_private_jwk, secrets_in_log,
                          start_mcp_server, tool_call)
from conftest import server_binary
from support import SigningKey, parse_bearer_challenge

SCOPES = "read:pets write:pets"
# Needs both scopes (so a good case proves the scopes were read) and calls Prism.
TOOL, ARGS = "find_pets_by_status", {"status": ["available"]}
ROWS: list[tuple[str, str, str]] = []


class CountingJwksHost:
    """A key server for `jku`/`x5u` headers to point at: it must never be asked."""

    def __init__(self, jwks: dict):
        body = json.dumps(jwks).encode()
        hits = self.hits = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                hits.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer((support.LOOPBACK, 0), Handler)
        self.url = f"http://{support.LOOPBACK}:{self.server.server_address[1]}/jwks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


@pytest.fixture(scope="module")
def keys():
    return {"rsa": SigningKey.generate(), "ec": EcKey.generate(), "foreign_rsa": SigningKey.generate(),
            "foreign_ec": EcKey.generate()}


@pytest.fixture(scope="module")
def matrix_as(workdir, keys):
    """An AS publishing an RS256 and an ES256 key (it signs with the RSA one)."""
    instance = AuthServerInstance(workdir, "matrix-as").start(
        [rsa_private_jwk(keys["rsa"]), keys["ec"].private_jwk()])
    yield instance
    instance.stop()


@pytest.fixture(scope="module")
def server(workdir, matrix_as, prism):
    srv = start_mcp_server(server_binary(), workdir, "mcp server matrix", {
        "AUTHORIZATION_SERVER_URL": matrix_as.issuer,
        "UPSTREAM_BASE_URL": prism.base_url,
        "UPSTREAM_API_KEY": "special-key",
        "AUTH_CHALLENGE": "tool",
        "RUST_LOG": "debug",  # the most the server ever logs: still no token in it
    })
    yield srv
    srv.proc.stop()


@pytest.fixture(scope="module")
def foreign_jwks_host(keys):
    host = CountingJwksHost({"keys": [keys["foreign_ec"].public_jwk()]})
    yield host
    host.close()


@pytest.fixture(scope="module", autouse=True)
def _write_table(workdir):
    yield
    lines = ["| case | expected | seen |", "| --- | --- | --- |"]
    lines += [f"| {c} | {e} | {s} |" for c, e, s in ROWS]
    (workdir / "auth-matrix.md").write_text("\n".join(lines) + "\n")
    print(f"\nauth matrix: {workdir / 'auth-matrix.md'}")


def claims(issuer: str, audience, scope: str | None = SCOPES, **extra) -> dict:
    """Good claims, with `extra` set or (None) removed."""
    now = int(time.time())
    out = {"iss": issuer, "aud": audience, "sub": "matrix-user", "iat": now, "exp": now + 300,
           "jti": uuid.uuid4().hex}
    if scope is not None:
        out["scope"] = scope
    for k, v in extra.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = v
    return out


def rsa_sign(key: SigningKey, body: dict, headers: dict | None = None) -> str:
    import jwt
    return jwt.encode(body, key.private_key, algorithm="RS256",
                      headers={"kid": key.kid, "typ": "at+jwt", **(headers or {})})


def bad_cases(keys, matrix_as, server, jku_url) -> list[tuple[str, dict]]:
    """(case, request) where request = {"headers": [...], "query": str, "token": str}."""
    rsa, ec_key = keys["rsa"], keys["ec"]
    iss, aud = matrix_as.issuer, server.resource
    good = claims(iss, aud)
    token = rsa_sign(rsa, good)
    h, p, s = token.split(".")
    public_pem = rsa.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    hs_input = f"{b64url({'alg': 'HS256', 'typ': 'at+jwt', 'kid': rsa.kid})}.{b64url(good)}"
    hs256 = hs_input + "." + b64url(hmac.new(public_pem, hs_input.encode(), hashlib.sha256).digest())
    flipped = s[:-6] + ("AAAAAA" if not s.endswith("AAAAAA") else "BBBBBB")
    foreign_rsa = SigningKey(keys["foreign_rsa"].private_key, kid=rsa.kid)
    foreign_ec = EcKey(keys["foreign_ec"].private_key, kid=ec_key.kid)
    now = int(time.time())

    def bearer(t: str) -> dict:
        return {"headers": [("Authorization", f"Bearer {t}")], "token": t}

    cases = [
        ("expired (exp 1 h ago)", bearer(rsa_sign(rsa, claims(iss, aud, iat=now - 7200, exp=now - 3600)))),
        ("nbf 1 h in the future", bearer(rsa_sign(rsa, claims(iss, aud, nbf=now + 3600)))),
        ("no exp", bearer(rsa_sign(rsa, claims(iss, aud, exp=None)))),
        ("wrong iss", bearer(rsa_sign(rsa, claims("http://127.0.0.1:1", aud)))),
        ("wrong aud", bearer(rsa_sign(rsa, claims(iss, "http://127.0.0.1:1/mcp")))),
        ("no aud", bearer(rsa_sign(rsa, claims(iss, aud, aud=None)))),
        # RFC 8414 §3.3, RFC 9068 §4: identifiers compare exactly, a trailing slash included.
        ("iss with a trailing slash", bearer(rsa_sign(rsa, claims(iss + "/", aud)))),
        ("aud with a trailing slash", bearer(rsa_sign(rsa, claims(iss, aud + "/")))),
        # RFC 9449 / RFC 8705: sender-constrained, not usable as a plain bearer token.
        ("DPoP-bound (cnf.jkt)", bearer(rsa_sign(rsa, claims(
            iss, aud, cnf={"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"})))),
        ("mTLS-bound (cnf.x5t#S256)", bearer(rsa_sign(rsa, claims(
            iss, aud, cnf={"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"})))),
        ("aud of another resource, issued by the AS", bearer(matrix_as.client_credentials(
            scope=SCOPES, resource="http://127.0.0.1:1/other-mcp"))),
        ("alg none", bearer(f"{b64url({'alg': 'none', 'typ': 'at+jwt', 'kid': rsa.kid})}.{b64url(good)}.")),
        ("HS256 keyed with the RSA public key (alg confusion)", bearer(hs256)),
        ("unknown kid", bearer(rsa_sign(keys["foreign_rsa"], good, {"kid": f"unknown-{uuid.uuid4().hex}"}))),
        ("RS256 naming the ES256 key's kid", bearer(rsa_sign(rsa, good, {"kid": ec_key.kid}))),
        ("payload tampered (sub, scope)", bearer(f"{h}.{b64url(claims(iss, aud, scope='admin', sub='root'))}.{s}")),
        ("signature tampered", bearer(f"{h}.{p}.{flipped}")),
        ("truncated", bearer(token[:-12])),
        ("header and payload only", bearer(f"{h}.{p}")),
        ("non-JWT garbage", bearer("this-is-not-a-token")),
        ("64 KiB token", bearer(rsa_sign(rsa, claims(iss, aud, pad="x" * 65536)))),
        ("RS256 from a foreign key with the known kid", bearer(foreign_rsa.mint(iss=iss, aud=aud, scope=SCOPES))),
        ("ES256 from a foreign key with the known kid", bearer(foreign_ec.sign(good))),
        ("jku to a host serving the foreign key", bearer(foreign_ec.sign(good, {"jku": jku_url}))),
        ("x5u to a foreign host", bearer(foreign_ec.sign(good, {"x5u": jku_url}))),
        ("embedded jwk of the foreign key", bearer(foreign_ec.sign(good, {"jwk": keys["foreign_ec"].public_jwk()}))),
        ("crit with an unknown extension", bearer(rsa_sign(rsa, good, {"crit": ["urn:x:ext"], "urn:x:ext": 1}))),
        ("ID token (typ JWT, nonce, at_hash)", bearer(rsa_sign(
            rsa, claims(iss, aud, nonce="n-0S6", at_hash="77QmUPtjPfzWtF2AnpK9RQ"), {"typ": "JWT"}))),
        ("another JWT type (typ logout+jwt)", bearer(rsa_sign(rsa, good, {"typ": "logout+jwt"}))),
        ("token only in ?access_token=", {"headers": [], "query": f"access_token={token}", "token": token}),
        ("two Authorization headers", {"headers": [("Authorization", f"Bearer {token}")] * 2, "token": token}),
        ("two tokens in one header", bearer(f"{token} {token}")),
        ("Basic scheme", {"headers": [("Authorization", "Basic " + b64url("user:" + token))], "token": token}),
        ("empty Bearer", {"headers": [("Authorization", "Bearer ")], "token": ""}),
        ("scheme only (Bearer)", {"headers": [("Authorization", "Bearer")], "token": ""}),
    ]
    return cases


def good_cases(keys, matrix_as, server) -> list[tuple[str, dict]]:
    rsa, ec_key = keys["rsa"], keys["ec"]
    iss, aud = matrix_as.issuer, server.resource

    def bearer(t: str, scheme: str = "Bearer") -> dict:
        return {"headers": [("Authorization", f"{scheme} {t}")], "token": t}

    return [
        ("RS256, scope string, aud string", bearer(rsa_sign(rsa, claims(iss, aud)))),
        ("ES256", bearer(ec_key.sign(claims(iss, aud)))),
        ("scheme `bearer` in lower case", bearer(rsa_sign(rsa, claims(iss, aud)), "bearer")),
        ("scopes as `scp` array", bearer(rsa_sign(rsa, claims(iss, aud, scope=None, scp=SCOPES.split())))),
        ("aud as array", bearer(rsa_sign(rsa, claims(iss, ["https://other.example", aud])))),
        ("typ JWT (most providers)", bearer(rsa_sign(rsa, claims(iss, aud), {"typ": "JWT"}))),
        ("issued by the AS (client_credentials)", bearer(matrix_as.client_credentials(scope=SCOPES, resource=aud))),
    ]


@dataclass
class Answer:
    status_code: int
    headers: dict[str, str]
    text: str

    def json(self):
        return json.loads(self.text)


def send(server, request: dict, client=None) -> Answer:
    """http.client, not httpx: it sends what the case says (a trailing space, repeated headers)."""
    parts = urlsplit(server.mcp_url)
    path = parts.path + (f"?{request['query']}" if request.get("query") else "")
    body = json.dumps(tool_call(TOOL, ARGS)).encode()
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.putrequest("POST", path)
        for name, value in [("Accept", "application/json, text/event-stream"),
                            ("Content-Type", "application/json"),
                            ("MCP-Protocol-Version", support.PROTOCOL_VERSION),
                            ("Content-Length", str(len(body))), *request["headers"]]:
            conn.putheader(name, value)
        conn.endheaders(body)
        r = conn.getresponse()
        return Answer(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read().decode(errors="replace"))
    finally:
        conn.close()


def test_bad_tokens_get_401_and_nothing_else(keys, matrix_as, server, prism, foreign_jwks_host):
    cases = bad_cases(keys, matrix_as, server, foreign_jwks_host.url)
    assert len(cases) >= 25
    failures = []
    with support.http_client() as client:
        for case, request in cases:
            before = len(prism.requests())
            r = send(server, request, client)
            upstream = len(prism.requests()) - before
            header = r.headers.get("www-authenticate", "")
            c = parse_bearer_challenge(header) if header else {}
            leaks = secrets_in_log(server.proc.log_text(), request["token"])
            problems = []
            if r.status_code != 401:
                problems.append(f"HTTP {r.status_code}")
            if c.get("scheme", "").lower() != "bearer" or c.get("error") not in ("invalid_token", "invalid_request"):
                problems.append(f"challenge {header!r}")
            if not c.get("error_description"):
                problems.append("no error_description")
            if c.get("resource_metadata") not in server.prm_urls:
                problems.append(f"resource_metadata {c.get('resource_metadata')!r}")
            if upstream:
                problems.append(f"{upstream} upstream request(s)")
            if leaks:
                problems.append(f"token in the log ({', '.join(leaks)})")
            if not server.alive() or "panicked" in server.proc.log_text():
                problems.append("server died or panicked")
            seen = (f"{r.status_code} {c.get('error', '-')}: {c.get('error_description', '-')}; "
                    f"upstream {upstream}; log clean {not leaks}")
            ROWS.append((case, "401 invalid_token/invalid_request, no upstream, not logged", seen))
            if problems:
                failures.append(f"{case}: {'; '.join(problems)}")
    assert foreign_jwks_host.hits == [], f"the server fetched keys from a token's jku/x5u: {foreign_jwks_host.hits}"
    assert not failures, "\n".join(failures)


def test_good_tokens_reach_the_upstream(keys, matrix_as, server, prism):
    failures = []
    with support.http_client() as client:
        for case, request in good_cases(keys, matrix_as, server):
            before = len(prism.requests())
            r = send(server, request, client)
            upstream = [(q.method, q.path.split("?")[0]) for q in prism.requests()[before:]]
            result = (r.json().get("result") or {}) if r.status_code == 200 else {}
            challenge = (result.get("_meta") or {}).get("mcp/www_authenticate")
            ROWS.append((case, "200, the call goes upstream",
                         f"{r.status_code}; upstream {upstream}; challenge {challenge or '-'}"))
            if r.status_code != 200 or challenge or upstream != [("GET", "/pet/findByStatus")]:
                failures.append(f"{case}: HTTP {r.status_code} challenge={challenge} upstream={upstream} "
                                f"{r.text[:200]}")
            if secrets_in_log(server.proc.log_text(), request["token"]):
                failures.append(f"{case}: token in the log")
    assert not failures, "\n".join(failures)


def test_mixed_tools_anonymous_but_a_bad_token_is_still_401(keys, matrix_as, server, prism):
    """get_order_by_id is noauth: fine without a token, refused with a broken one."""
    call = tool_call("get_order_by_id", {"orderId": 3})
    before = len(prism.requests())
    anonymous = post_mcp(server.mcp_url, call)
    assert anonymous.status_code == 200 and not anonymous.json()["result"].get("isError"), anonymous.text[:300]
    assert len(prism.requests()) == before + 1
    expired = rsa_sign(keys["rsa"], claims(matrix_as.issuer, server.resource, exp=int(time.time()) - 3600))
    refused = post_mcp(server.mcp_url, call, [("Authorization", f"Bearer {expired}")])
    assert refused.status_code == 401, refused.text[:300]
    assert parse_bearer_challenge(refused.headers["www-authenticate"])["error"] == "invalid_token"
    assert len(prism.requests()) == before + 1
    ROWS.append(("noauth tool, no token", "200, upstream", f"{anonymous.status_code}; upstream 1"))
    ROWS.append(("noauth tool, expired token", "401 invalid_token, no upstream",
                 f"{refused.status_code} {parse_bearer_challenge(refused.headers['www-authenticate'])['error']}"))
