"""1. AUTH_CHALLENGE=tool (the default, what ChatGPT reads): without a token, listing works,
anonymous tools work, and a protected tool refuses in-band with a challenge in
_meta["mcp/www_authenticate"] and no upstream call."""

import support
from support import call_tool, list_tools, parse_bearer_challenge, result_json, result_meta, result_text

PETSTORE_TOOLS = {"get_pet_by_id", "add_pet", "update_pet", "delete_pet", "find_pets_by_status",
                  "get_order_by_id", "place_order", "get_inventory"}


def test_tools_list_works_anonymously(server_tool):
    names = {tool.name for tool in list_tools(server_tool.mcp_url)}
    assert PETSTORE_TOOLS <= names, f"missing tools: {PETSTORE_TOOLS - names}"


def test_protected_tool_without_token_returns_challenge(server_tool, auth_server, prism):
    before = len(prism.requests())
    result = call_tool(server_tool.mcp_url, "get_pet_by_id", {"petId": 1})

    assert result.is_error, f"expected a refusal, got {result}"
    assert result_text(result).strip(), "the refusal carries a human-readable message"
    challenges = result_meta(result).get("mcp/www_authenticate")
    assert isinstance(challenges, list) and challenges, f'_meta["mcp/www_authenticate"] = {challenges!r}'
    challenge = parse_bearer_challenge(challenges[0])
    assert challenge["scheme"].lower() == "bearer", challenges
    assert challenge.get("error") == "invalid_request", challenges
    assert challenge.get("resource_metadata") in server_tool.prm_urls, challenges

    # The challenge leads a client to the right authorization server.
    with support.http_client() as c:
        prm = c.get(challenge["resource_metadata"])
    assert prm.status_code == 200, prm.text
    assert prm.json()["resource"] == server_tool.resource
    assert prm.json()["authorization_servers"] == [auth_server.issuer]

    assert len(prism.requests()) == before, "a refused call must not reach the upstream"


def test_anonymous_tool_works_without_token(server_tool, prism):
    before = len(prism.requests())
    result = call_tool(server_tool.mcp_url, "get_order_by_id", {"orderId": 7})
    assert not result.is_error, result_text(result)
    upstream = prism.requests()[before:]
    assert [(r.method, r.path) for r in upstream] == [("GET", "/store/order/7")]
    assert "authorization" not in upstream[0].headers
    assert result_json(result) == prism.get_json("/store/order/7")
