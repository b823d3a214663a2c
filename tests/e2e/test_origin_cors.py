"""DNS rebinding and browsers: a disallowed Origin or Host gets 403 (lists from ALLOWED_ORIGINS /
ALLOWED_HOSTS); an allowed browser origin can call /mcp and read WWW-Authenticate and
Mcp-Session-Id; the protected-resource metadata is readable from any origin. `ALLOWED_HOSTS=*`
leaves the Origin check and CORS as they were; only `ALLOWED_ORIGINS=*` opens them (warned)."""

from __future__ import annotations

import pytest

import support
from auth_support import post_mcp, start_mcp_server
from conftest import server_binary

APP = "https://app.example.com"
LIST = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}


@pytest.fixture(scope="module")
def server(workdir, auth_server, prism):
    srv = start_mcp_server(server_binary(), workdir, "mcp server origins", {
        "AUTHORIZATION_SERVER_URL": auth_server.issuer,
        "UPSTREAM_BASE_URL": prism.base_url,
        "ALLOWED_ORIGINS": APP,
        "ALLOWED_HOSTS": f"{support.LOOPBACK},mcp.example.com",
    })
    yield srv
    srv.proc.stop()


def exposed(r) -> set[str]:
    return {h.strip().lower() for h in r.headers.get("access-control-expose-headers", "").split(",")}


@pytest.mark.parametrize("headers,expected", [
    ([("Origin", APP)], 200),
    ([("Origin", "https://evil.example")], 403),
    ([("Origin", "http://localhost:6274")], 403),  # not in this server's explicit list
    ([("Host", "evil.example")], 403),
    ([("Host", "mcp.example.com")], 200),
])
def test_origin_and_host_lists_from_env(headers, expected, server):
    r = post_mcp(server.mcp_url, LIST, headers)
    assert r.status_code == expected, f"{headers}: HTTP {r.status_code} {r.text[:200]}"


def test_default_server_refuses_foreign_origins(server_tool):
    assert post_mcp(server_tool.mcp_url, LIST, [("Origin", "http://localhost:6274")]).status_code == 200
    assert post_mcp(server_tool.mcp_url, LIST, [("Origin", "https://evil.example")]).status_code == 403


def test_cors_exposes_challenge_and_session_headers(server):
    with support.http_client() as c:
        pre = c.options(server.mcp_url, headers={
            "Origin": APP, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, mcp-protocol-version"})
    assert pre.status_code == 200 and pre.headers.get("access-control-allow-origin") == APP, pre.headers
    assert "authorization" in pre.headers.get("access-control-allow-headers", "").lower()

    refused = post_mcp(server.mcp_url, LIST, [("Origin", APP), ("Authorization", "Bearer not-a-token")])
    assert refused.status_code == 401
    assert refused.headers.get("access-control-allow-origin") == APP
    assert {"www-authenticate", "mcp-session-id"} <= exposed(refused), refused.headers

    with support.http_client() as c:
        for url in server.prm_urls:
            meta = c.get(url, headers={"Origin": "https://any.example"})
            assert meta.status_code == 200 and meta.headers.get("access-control-allow-origin") == "*"
            assert {"www-authenticate", "mcp-session-id"} <= exposed(meta), meta.headers


# --- ALLOWED_HOSTS=* must not open origins ---------------------------------------------------------

FOREIGN = "https://evil.example"
PUBLIC_HOST = "public.example"  # any Host passes with ALLOWED_HOSTS=*
STAR_ORIGINS_WARNING = "ALLOWED_ORIGINS=*"


def start_open_server(workdir, auth_server, label: str, env: dict[str, str]):
    # No upstream is called: tools/list and preflights only.
    return start_mcp_server(server_binary(), workdir, f"mcp server {label}", {
        "AUTHORIZATION_SERVER_URL": auth_server.issuer, "UPSTREAM_BASE_URL": "http://127.0.0.1:9",
        "ALLOWED_HOSTS": "*", **env})


@pytest.fixture(scope="module")
def any_host(workdir, auth_server):
    srv = start_open_server(workdir, auth_server, "any host", {})
    yield srv
    srv.proc.stop()


@pytest.fixture(scope="module")
def any_origin(workdir, auth_server):
    srv = start_open_server(workdir, auth_server, "any origin", {"ALLOWED_ORIGINS": "*"})
    yield srv
    srv.proc.stop()


def preflight(url: str, origin: str):
    with support.http_client() as c:
        return c.options(url, headers={"Origin": origin, "Access-Control-Request-Method": "POST",
                                       "Access-Control-Request-Headers": "authorization, content-type",
                                       "Host": PUBLIC_HOST})


def test_any_host_still_refuses_foreign_origins(any_host):
    refused = post_mcp(any_host.mcp_url, LIST, [("Host", PUBLIC_HOST), ("Origin", FOREIGN)])
    pre = preflight(any_host.mcp_url, FOREIGN)
    print(f"ORIGIN | ALLOWED_HOSTS=* | POST from {FOREIGN}: HTTP {refused.status_code}, "
          f"ACAO {refused.headers.get('access-control-allow-origin')}; preflight ACAO "
          f"{pre.headers.get('access-control-allow-origin')}")
    assert refused.status_code == 403, refused.text[:200]
    assert "access-control-allow-origin" not in refused.headers, refused.headers
    assert "access-control-allow-origin" not in pre.headers, pre.headers
    # Any Host; loopback pages, the server's own origin and non-browser clients still work.
    own = any_host.base_url  # RESOURCE_SERVER_URL's origin
    for headers in ([("Host", PUBLIC_HOST)], [("Host", PUBLIC_HOST), ("Origin", "http://localhost:6274")],
                    [("Origin", own)]):
        r = post_mcp(any_host.mcp_url, LIST, headers)
        assert r.status_code == 200, f"{headers}: HTTP {r.status_code} {r.text[:200]}"
    assert STAR_ORIGINS_WARNING not in any_host.proc.log_text()


def test_allowed_origins_star_opens_them_with_a_warning(any_origin):
    r = post_mcp(any_origin.mcp_url, LIST, [("Host", PUBLIC_HOST), ("Origin", FOREIGN)])
    assert r.status_code == 200, r.text[:200]
    assert r.headers.get("access-control-allow-origin") == "*", r.headers
    assert preflight(any_origin.mcp_url, FOREIGN).headers.get("access-control-allow-origin") == "*"
    warnings = [line for line in any_origin.proc.log_text().splitlines() if STAR_ORIGINS_WARNING in line]
    assert warnings and "WARN" in warnings[0], any_origin.proc.log_tail()
