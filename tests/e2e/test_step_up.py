"""Step-up and scope hierarchy.

- AUTH_CHALLENGE=http: a client holding a read:pets token calls add_pet, gets HTTP 403
  `insufficient_scope` naming write:pets, and the Python SDK's OAuthClientProvider re-authorizes
  with the wider scope by itself; the retried call then goes through. The same through catalog
  mode's call_operation: the operation's own scopes are what the 403 names.
- SCOPE_IMPLIES="write:pets=read:pets": a write:pets token satisfies tools that need both; the
  rule is one-way (read:pets alone still lacks write:pets)."""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

import anyio
import pytest
from mcp.client.auth import OAuthClientProvider
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientInformationFull, OAuthClientMetadata, OAuthToken

import support
from auth_support import post_mcp, start_mcp_server, tool_call
from conftest import server_binary
from support import MemoryTokenStorage, parse_bearer_challenge, result_meta, result_text, run, with_mcp_client

PET = {"name": "step-up-doggie", "photoUrls": ["https://example.com/p.png"], "status": "available"}


def register_and_authorize(issuer: str, resource: str, redirect_uri: str, scope: str):
    """What an earlier session of the client left in its storage: a registration and a token
    with `scope` only (DCR + PKCE + the scripted browser, by hand)."""
    with support.http_client() as c:
        meta = c.get(f"{issuer}/.well-known/oauth-authorization-server").json()
        reg = c.post(meta["registration_endpoint"], json={
            "redirect_uris": [redirect_uri], "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
            "application_type": "native", "client_name": "step-up e2e"})
        assert reg.status_code == 201, reg.text
        client = reg.json()
        verifier, challenge = support.pkce_pair()
        state = secrets.token_urlsafe(16)
        url = meta["authorization_endpoint"] + "?" + urlencode({
            "response_type": "code", "client_id": client["client_id"], "redirect_uri": redirect_uri,
            "scope": scope, "resource": resource, "state": state,
            "code_challenge": challenge, "code_challenge_method": "S256"})
        code = support.browse_authorization(url, redirect_uri).code
        tok = c.post(meta["token_endpoint"], data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
            "client_id": client["client_id"], "code_verifier": verifier, "resource": resource})
        assert tok.status_code == 200, tok.text
    return OAuthClientInformationFull.model_validate(client), OAuthToken.model_validate(tok.json())


def catalog_call(tool: str, arguments: dict) -> tuple[str, dict]:
    return "call_operation", {"operation": tool, "arguments": arguments}


@pytest.mark.parametrize("tool_mode", ["tools", "catalog"])
def test_sdk_steps_up_on_403_insufficient_scope(tool_mode, mcp_servers, auth_server, prism):
    server_http = mcp_servers("http", tool_mode=tool_mode)
    name, args = ("add_pet", PET) if tool_mode == "tools" else catalog_call("add_pet", PET)
    redirect_uri = f"http://127.0.0.1:{support.free_port()}/callback"
    client_info, narrow = register_and_authorize(auth_server.issuer, server_http.resource, redirect_uri,
                                                 "read:pets")
    assert narrow.scope is None or "write:pets" not in narrow.scope.split()
    storage = MemoryTokenStorage()
    storage.client_info, storage.tokens = client_info, narrow
    browser: list = []

    async def redirect_handler(authorization_url: str) -> None:
        browser.append(authorization_url)
        browser.append(await anyio.to_thread.run_sync(support.browse_authorization, authorization_url, redirect_uri))

    async def callback_handler() -> AuthorizationCodeResult:
        response = browser[-1]
        return AuthorizationCodeResult(code=response.code, state=response.state, iss=response.iss)

    metadata = OAuthClientMetadata(
        client_name="step-up e2e", redirect_uris=[redirect_uri], grant_types=["authorization_code", "refresh_token"],
        response_types=["code"], token_endpoint_auth_method="none", scope="read:pets")
    provider = OAuthClientProvider(server_http.mcp_url, metadata, storage, redirect_handler, callback_handler)

    # The server must answer the narrow token with 403 insufficient_scope (what triggers step-up).
    raw = post_mcp(server_http.mcp_url, tool_call(name, args), [("Authorization", f"Bearer {narrow.access_token}")])
    assert raw.status_code == 403, raw.text[:300]
    challenge = parse_bearer_challenge(raw.headers["www-authenticate"])
    assert challenge["error"] == "insufficient_scope" and "write:pets" in challenge["scope"].split(), challenge

    async def scenario(client):
        before = len(prism.requests())
        result = await client.call_tool(name, args)
        return result, prism.requests()[before:]

    result, upstream = run(lambda: with_mcp_client(server_http.mcp_url, scenario, auth=provider))
    assert browser, "the SDK did not re-authorize after the 403"
    assert "write%3Apets" in browser[0] or "write:pets" in browser[0], browser[0]
    wide = storage.tokens.access_token
    assert wide != narrow.access_token
    claims = auth_server.key.verify(wide, audience=server_http.resource, issuer=auth_server.issuer)
    assert {"read:pets", "write:pets"} <= set(claims["scope"].split()), claims
    # The retried call passed the server: it went upstream (Prism itself may refuse POST /pet:
    # the spec guards it with an upstream credential the server does not have).
    assert [(r.method, r.path) for r in upstream] == [("POST", "/pet")], result_text(result)
    assert "mcp/www_authenticate" not in result_meta(result)


@pytest.fixture(scope="module")
def implying_server(workdir, auth_server, prism):
    srv = start_mcp_server(server_binary(), workdir, "mcp server scope-implies", {
        "AUTHORIZATION_SERVER_URL": auth_server.issuer,
        "UPSTREAM_BASE_URL": prism.base_url,
        "UPSTREAM_API_KEY": "special-key",
        "SCOPE_IMPLIES": "write:pets=read:pets",
    })
    yield srv
    srv.proc.stop()


@pytest.mark.parametrize("scope,allowed", [("write:pets", True), ("read:pets", False)])
def test_scope_hierarchy(scope, allowed, implying_server, auth_server, prism):
    token = auth_server.client_credentials(scope=scope, resource=implying_server.resource)
    before = len(prism.requests())
    r = post_mcp(implying_server.mcp_url, tool_call("add_pet", PET), [("Authorization", f"Bearer {token}")])
    assert r.status_code == 200, r.text[:300]
    challenges = (r.json()["result"].get("_meta") or {}).get("mcp/www_authenticate")
    upstream = len(prism.requests()) - before
    if allowed:
        assert not challenges and upstream == 1, (challenges, upstream)
    else:
        assert parse_bearer_challenge(challenges[0])["error"] == "insufficient_scope" and upstream == 0
