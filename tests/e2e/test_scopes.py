"""3. A valid token without the tool's scopes: refused with insufficient_scope naming the missing
scope (in-band with AUTH_CHALLENGE=tool, HTTP 403 with AUTH_CHALLENGE=http), no upstream call.
With the scopes, the same call goes through (so the refusal is about scopes, nothing else)."""

import pytest

from support import RawMcp, call_tool, list_tools, parse_bearer_challenge, result_meta, result_text


def add_pet_arguments(server) -> dict:
    """A valid Pet for add_pet, shaped after the tool's inputSchema (flattened or under `body`)."""
    pet = {"name": "e2e-doggie", "photoUrls": ["https://example.com/p.png"], "status": "available"}
    [tool] = [t for t in list_tools(server.mcp_url) if t.name == "add_pet"]
    props = tool.input_schema.get("properties", {})
    if "name" in props:
        return pet
    assert "body" in props, f"add_pet inputSchema has neither the Pet fields nor `body`: {tool.input_schema}"
    return {"body": pet}


def read_only_token(auth_server, server) -> str:
    token = auth_server.client_credentials(scope="read:pets", resource=server.resource)
    claims = auth_server.key.verify(token, audience=server.resource, issuer=auth_server.issuer)
    assert claims["scope"] == "read:pets"
    return token


def test_missing_scope_tool_mode(server_tool, auth_server, prism):
    args = add_pet_arguments(server_tool)
    token = read_only_token(auth_server, server_tool)
    before = len(prism.requests())
    result = call_tool(server_tool.mcp_url, "add_pet", args, token=token)

    assert result.is_error, f"expected a refusal, got {result}"
    challenges = result_meta(result).get("mcp/www_authenticate")
    assert isinstance(challenges, list) and challenges, f'_meta["mcp/www_authenticate"] = {challenges!r}'
    challenge = parse_bearer_challenge(challenges[0])
    assert challenge.get("error") == "insufficient_scope", challenges
    assert "write:pets" in challenge.get("scope", "").split(), challenges
    assert challenge.get("resource_metadata") in server_tool.prm_urls, challenges
    assert len(prism.requests()) == before, "a refused call must not reach the upstream"


def test_missing_scope_http_mode(server_http, auth_server, prism):
    args = add_pet_arguments(server_http)
    token = read_only_token(auth_server, server_http)
    session = RawMcp(server_http.mcp_url, token).ready()
    before = len(prism.requests())
    r, _ = session.request("tools/call", {"name": "add_pet", "arguments": args})

    assert r.status_code == 403, f"HTTP {r.status_code} {r.headers} {r.text[:500]}"
    challenge = parse_bearer_challenge(r.headers.get("www-authenticate", ""))
    assert challenge["scheme"].lower() == "bearer", r.headers
    assert challenge.get("error") == "insufficient_scope", r.headers
    assert "write:pets" in challenge.get("scope", "").split(), r.headers
    assert challenge.get("resource_metadata") in server_http.prm_urls, r.headers
    assert len(prism.requests()) == before, "a refused call must not reach the upstream"


@pytest.mark.parametrize("mode", ["tool", "http"])
def test_with_the_scopes_the_call_goes_through(mode, mcp_servers, auth_server, prism):
    """The control: with write:pets the server lets add_pet through to the upstream. (Prism then
    answers 401 itself: the spec secures POST /pet with its own oauth2 scheme, a credential the
    server does not have and must not fake with the client's token.)"""
    server = mcp_servers(mode)
    args = add_pet_arguments(server)
    token = auth_server.client_credentials(scope="read:pets write:pets", resource=server.resource)
    before = len(prism.requests())
    result = call_tool(server.mcp_url, "add_pet", args, token=token)
    upstream = prism.requests()[before:]
    assert [(r.method, r.path) for r in upstream] == [("POST", "/pet")], result_text(result)
    assert "authorization" not in upstream[0].headers, "the client's token must never go upstream"
    assert "mcp/www_authenticate" not in result_meta(result), result
    if result.is_error:
        assert "401" in result_text(result), f"an upstream refusal must carry its status: {result_text(result)!r}"
