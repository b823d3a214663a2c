"""Issue 11: generated servers work in the official MCP clients against an upstream that drifts
from its spec (tests/e2e/drift_upstream.py). The Petstore server (OAuth on, default
`output_schemas = "describe"`) is called through the Python `mcp` client and the TypeScript v2
(`@modelcontextprotocol/client`) and v1 (`@modelcontextprotocol/sdk`) clients, on MCP
2026-07-28 and on 2025-11-25. No client may raise, and what the client hands the model must
carry the upstream's data. The matrix (client × drift → what the client returned) is printed."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

import support
from drift_upstream import ARRAY, DRIFTS, DriftingUpstream
from upstream_fixtures import exchange_env, start_server, token_for

CLIENT_SCRIPT = Path(__file__).parent / "clients" / "call_tools.cjs"
MODERN, LEGACY = "2026-07-28", "2025-11-25"
# (client, protocol asked for). The TypeScript v1 SDK speaks 2025-11-25 at most.
CLIENTS = [("python", MODERN), ("python", LEGACY), ("ts-v2", MODERN), ("ts-v2", LEGACY), ("ts-v1", LEGACY)]
CALLS = [(d, "get_pet_by_id", {"petId": i + 1}) for i, d in enumerate(DRIFTS)] + [
    (ARRAY, "find_pets_by_status", {"status": ["available"]})]
# Replies the describing output schema cannot admit (its types are kept): an error result
# that carries the reply. Every other drift is a success with structuredContent.
NOT_CONFORMING = {"number-as-string", "not-json"}
MATRIX: dict[tuple[str, str], dict[str, str]] = {}


@pytest.fixture(scope="module")
def drifting():
    upstream = DriftingUpstream()
    yield upstream
    upstream.stop()


@pytest.fixture(scope="module")
def server(workdir, auth_server, drifting):
    # find_pets_by_status acts as the user upstream (petstore_auth): token exchange at the AS.
    srv = start_server(workdir, "fid-petstore", "drift", {
        "UPSTREAM_BASE_URL": drifting.base_url,
        "UPSTREAM_API_KEY": "drift-key",
        **exchange_env(auth_server),
    })
    yield srv
    srv.proc.stop()


def python_client(url: str, token: str, protocol: str) -> tuple[str, list[dict]]:
    async def scenario(client):
        await client.list_tools()
        results = []
        for _, name, arguments in CALLS:
            try:
                result = await client.call_tool(name, arguments)
                results.append({"raised": None, "result": result.model_dump(by_alias=True, exclude_none=True)})
            except Exception as err:  # what the user of the client would see
                results.append({"raised": f"{type(err).__name__}: {err}", "result": None})
        return client.protocol_version, results
    mode = "auto" if protocol == MODERN else "legacy"
    return support.run(lambda: support.with_mcp_client(url, scenario, token=token, mode=mode))


def ts_client(sdk: str, url: str, token: str, protocol: str, workdir: Path) -> tuple[str, list[dict]]:
    request = workdir / f"drift-{sdk}-{protocol}.json"
    request.write_text(json.dumps({
        "sdk": sdk, "url": url, "token": token, "protocol": protocol if protocol == MODERN else "legacy",
        "calls": [{"name": name, "arguments": arguments} for _, name, arguments in CALLS]}))
    done = subprocess.run([os.environ["PEERS_NODE"], str(CLIENT_SCRIPT), str(request)], capture_output=True,
                          text=True, timeout=120, env=support.node_env(
                              {"PEERS_NODE_MODULES": os.environ["PEERS_NODE_MODULES"]}))
    assert done.returncode == 0, f"the {sdk} client failed to run:\n{done.stderr[-3000:]}"
    answer = json.loads(done.stdout)
    return answer["negotiated"], answer["results"]


def model_visible(result: dict) -> str:
    """What the client hands the model: every content block and the structured content."""
    parts = [block.get("text", "") for block in result.get("content", [])]
    if result.get("structuredContent") is not None:
        parts.append(json.dumps(result["structuredContent"]))
    return "\n".join(parts)


def summary(outcome: dict) -> str:
    if outcome["raised"]:
        return f"RAISED {outcome['raised'][:80]}"
    result = outcome["result"]
    kind = "isError" if result.get("isError") else "ok"
    if result.get("structuredContent") is not None:
        return f"{kind} structured {json.dumps(result['structuredContent'])[:60]}"
    last = (result.get("content") or [{}])[-1].get("text", "")
    return f"{kind} text {last[:60]!r}"


@pytest.mark.parametrize("client,protocol", CLIENTS, ids=[f"{c}@{p}" for c, p in CLIENTS])
def test_official_clients_survive_upstream_drift(client, protocol, server, auth_server, workdir):
    token = token_for(auth_server, server, "read:pets write:pets")
    if client == "python":
        negotiated, outcomes = python_client(server.mcp_url, token, protocol)
    else:
        negotiated, outcomes = ts_client(client.removeprefix("ts-"), server.mcp_url, token, protocol, workdir)
    MATRIX[(client, protocol)] = {d.key: summary(o) for (d, _, _), o in zip(CALLS, outcomes)}
    assert negotiated == protocol, f"{client} negotiated {negotiated}, wanted {protocol}"
    problems = []
    for (drift, _, _), outcome in zip(CALLS, outcomes):
        if outcome["raised"]:
            problems.append(f"{drift.key}: the client raised {outcome['raised']}")
            continue
        result = outcome["result"]
        seen = model_visible(result)
        if drift.key == "empty-200":
            ok = not result.get("isError") and result.get("structuredContent") == {} and "HTTP 200" in seen
        elif drift.key in NOT_CONFORMING:
            ok = result.get("isError") and f"rex-{drift.key}" in seen and "carried out" in seen
        else:
            ok = not result.get("isError") and result.get("structuredContent") is not None \
                and f"rex-{drift.key}" in json.dumps(result["structuredContent"])
        if not ok:
            problems.append(f"{drift.key} ({drift.what}): {json.dumps(result)[:400]}")
    assert not problems, f"{client}@{protocol}:\n  " + "\n  ".join(problems)


def test_every_tool_has_explicit_boolean_annotations_and_object_output_schemas(server, auth_server):
    """ChatGPT's app review rejects missing or null hints; MCP wants an object outputSchema."""
    tools = server.rpc("tools/list", token=token_for(auth_server, server, "read:pets"))["tools"]
    hints = ["readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"]
    for tool in tools:
        annotations = tool.get("annotations") or {}
        assert all(isinstance(annotations.get(h), bool) for h in hints), (tool["name"], annotations)
        if "outputSchema" in tool:
            assert tool["outputSchema"]["type"] == "object", tool["name"]
    by_name = {t["name"]: t for t in tools}
    assert by_name["delete_pet"]["annotations"] == {
        "readOnlyHint": False, "destructiveHint": True, "idempotentHint": True, "openWorldHint": True}
    # The list endpoint declares its wrapped reply.
    assert by_name["find_pets_by_status"]["outputSchema"]["properties"]["result"]["type"] == ["array", "null"]


def test_print_matrix():
    """The matrix of the runs above (client × drift → what the client returned)."""
    assert MATRIX, "no client run recorded"
    drifts = [d for d, _, _ in CALLS]
    print("\nDRIFT MATRIX (client@protocol × upstream drift → what the client returned)")
    for drift in drifts:
        print(f"\n{drift.key}: {drift.what}")
        for (client, protocol), row in MATRIX.items():
            print(f"  {client + '@' + protocol:<20} {row.get(drift.key, '-')}")
