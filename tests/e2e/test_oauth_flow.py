"""2. AUTH_CHALLENGE=http (what Claude, VS Code and the SDK clients act on): the Python SDK's
OAuthClientProvider does the whole dance by itself — 401 → protected-resource metadata → AS
metadata → dynamic registration → PKCE authorization (the scripted browser signs in on the dev
login page) → token for this resource — and the call then reaches Prism with the API key."""

from auth_support import oauth_provider
from support import (MemoryTokenStorage, RawMcp, call_tool, result_json, result_text, run,
                     with_mcp_client)

PET_ID = 4242  # unique in this session, to find the upstream request in Prism's log


def test_sdk_oauth_flow_then_tool_call(server_http, auth_server, prism):
    storage, browser_log = MemoryTokenStorage(), []
    provider = oauth_provider(server_http.mcp_url, storage, browser_log)

    async def scenario(client):
        before = len(prism.requests())
        result = await client.call_tool("get_pet_by_id", {"petId": PET_ID})
        upstream = prism.requests()[before:]
        tools = (await client.list_tools()).tools
        return result, upstream, tools

    result, upstream, tools = run(lambda: with_mcp_client(server_http.mcp_url, scenario, auth=provider))

    # The flow happened: the browser was sent to our AS with PKCE and this resource…
    assert browser_log, "the SDK never started the authorization flow (no 401 from the server?)"
    assert browser_log[0].startswith(f"{auth_server.issuer}/auth?")
    assert "code_challenge_method=S256" in browser_log[0]
    # …and the token the SDK holds is a JWT of our AS for exactly this MCP server.
    assert storage.client_info is not None and storage.client_info.client_id, "no dynamic registration"
    token = storage.tokens.access_token
    claims = auth_server.key.verify(token, audience=server_http.resource, issuer=auth_server.issuer)
    assert claims["aud"] == server_http.resource

    # The tool answered with Prism's data, and Prism saw the server's API key, not the user's token.
    assert not result.is_error, result_text(result)
    assert [(r.method, r.path) for r in upstream] == [("GET", f"/pet/{PET_ID}")]
    assert upstream[0].headers.get("api_key") == "special-key", upstream[0].headers
    assert "authorization" not in upstream[0].headers, "the client's token must never go upstream"
    assert result_json(result) == prism.get_json(f"/pet/{PET_ID}", {"api_key": "special-key"})

    # tools/list: securitySchemes in _meta (SDK view) and top-level (raw JSON; the SDK drops
    # unknown fields), with the scopes of the spec.
    by_name = {t.name: t for t in tools}
    _, reply = RawMcp(server_http.mcp_url, token).ready().request("tools/list")
    raw = {t["name"]: t for t in reply["result"]["tools"]}
    expected = {
        "add_pet": [("oauth2", {"write:pets", "read:pets"})],
        "get_pet_by_id": [("oauth2", set())],
        "get_order_by_id": [("noauth", set())],
    }
    for name, schemes in expected.items():
        meta = (by_name[name].meta or {}).get("securitySchemes")
        top = raw[name].get("securitySchemes")
        for where, value in (("_meta.securitySchemes", meta), ("securitySchemes", top)):
            assert isinstance(value, list), f"{name}: {where} = {value!r}"
            got = [(s.get("type"), set(s.get("scopes", []))) for s in value]
            assert got == schemes, f"{name}: {where} = {value!r}"
        assert raw[name]["_meta"]["securitySchemes"] == top, f"{name}: the two copies differ"


def test_upstream_401_without_api_key_is_a_clear_tool_error(server_http_no_key, auth_server, prism):
    token = auth_server.client_credentials(scope="read:pets", resource=server_http_no_key.resource)
    before = len(prism.requests())
    result = call_tool(server_http_no_key.mcp_url, "get_pet_by_id", {"petId": 4243}, token=token)
    upstream = prism.requests()[before:]
    text = result_text(result)
    assert result.is_error, f"expected a tool error, got {result}"
    if upstream:
        # The server called Prism without the key: Prism's 401 must come back, recognisably.
        assert "api_key" not in upstream[0].headers
        assert "401" in text, f"the error should carry the upstream status: {text!r}"
    else:
        # The server refused before calling (ARCHITECTURE.md, Upstream credentials): the message
        # must name what is missing.
        assert "UPSTREAM_API_KEY" in text or "api_key" in text.lower(), text
