"""Issue 11: generated servers work in the official MCP clients against an upstream that drifts
from its spec (tests/e2e/drift_upstream.py). The Petstore server (OAuth on) is generated twice:
with the default `output_schemas = "describe"` (fid-petstore) and with `strict`
(fid-petstore-strict). Each is called through the Python `mcp` client and the TypeScript v2
(`@modelcontextprotocol/client`) and v1 (`@modelcontextprotocol/sdk`) clients, on MCP
2026-07-28 and on 2025-11-25. No client may raise, and what the client hands the model must
carry the upstream's data. The matrix (client × drift → what the client returned) is printed
after the results."""

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
# The server of each output_schemas mode, and the drifts its schemas admit (a success with
# structuredContent); every other reply is an error result that carries it.
SERVERS = {"describe": "fid-petstore", "strict": "fid-petstore-strict"}
CONFORMING = {
    "describe": {"missing-required", "unknown-enum", "null-string", "extra-property", "number-as-string",
                 "empty-200", "array"},
    "strict": {"extra-property"},
}
MATRIX: dict[str, dict[str, dict[str, str]]] = {mode: {} for mode in SERVERS}


@pytest.fixture(scope="module")
def drifting():
    upstream = DriftingUpstream()
    yield upstream
    upstream.stop()
    for mode, columns in MATRIX.items():
        if columns:
            support.REPORTS.append((f"drift matrix, output_schemas = {mode}", render(columns)))


@pytest.fixture(scope="module", params=list(SERVERS))
def server(request, workdir, auth_server, drifting):
    mode = request.param
    # find_pets_by_status acts as the user upstream (petstore_auth): token exchange at the AS.
    srv = start_server(workdir, SERVERS[mode], "drift", {
        "UPSTREAM_BASE_URL": drifting.base_url,
        "UPSTREAM_API_KEY": "drift-key",
        **exchange_env(auth_server),
    })
    yield mode, srv
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
    if result.get("structuredContent") is not None:
        kind = "isError" if result.get("isError") else "ok"
        return f"{kind} structured {json.dumps(result['structuredContent'])[:60]}"
    last = (result.get("content") or [{}])[-1].get("text", "")
    return f"{'isError' if result.get('isError') else 'ok'} + reply {last[:60]!r}"


def render(columns: dict[str, dict[str, str]]) -> list[str]:
    lines = []
    for drift, _, _ in CALLS:
        lines.append(f"{drift.key}: {drift.what}")
        for column, row in columns.items():
            lines.append(f"  {column:<20} {row.get(drift.key, '-')}")
    return lines


@pytest.mark.parametrize("client,protocol", CLIENTS, ids=[f"{c}@{p}" for c, p in CLIENTS])
def test_official_clients_survive_upstream_drift(client, protocol, server, auth_server, workdir):
    mode, srv = server
    token = token_for(auth_server, srv, "read:pets write:pets")
    if client == "python":
        negotiated, outcomes = python_client(srv.mcp_url, token, protocol)
    else:
        negotiated, outcomes = ts_client(client.removeprefix("ts-"), srv.mcp_url, token, protocol, workdir)
    MATRIX[mode][f"{client}@{protocol}"] = {d.key: summary(o) for (d, _, _), o in zip(CALLS, outcomes)}
    assert negotiated == protocol, f"{client} negotiated {negotiated}, wanted {protocol}"
    problems = []
    for (drift, _, _), outcome in zip(CALLS, outcomes):
        if outcome["raised"]:
            problems.append(f"{drift.key}: the client raised {outcome['raised']}")
            continue
        result = outcome["result"]
        seen = model_visible(result)
        marker = "HTTP 200" if drift.key == "empty-200" else f"rex-{drift.key}"
        if drift.key in CONFORMING[mode]:
            structured = result.get("structuredContent")
            ok = not result.get("isError") and structured is not None and marker in seen
            if drift.key == "empty-200":
                ok = ok and structured == {}
        else:
            ok = result.get("isError") and "structuredContent" not in result and marker in seen \
                and "carried out" in seen
        if not ok:
            problems.append(f"{drift.key} ({drift.what}): {json.dumps(result)[:400]}")
    assert not problems, f"{mode}, {client}@{protocol}:\n  " + "\n  ".join(problems)


def test_every_tool_has_explicit_boolean_annotations_and_object_output_schemas(server, auth_server):
    """ChatGPT's app review rejects missing or null hints; MCP wants an object outputSchema."""
    _, srv = server
    tools = srv.rpc("tools/list", token=token_for(auth_server, srv, "read:pets"))["tools"]
    hints = ["readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"]
    for tool in tools:
        annotations = tool.get("annotations") or {}
        assert all(isinstance(annotations.get(h), bool) for h in hints), (tool["name"], annotations)
        if "outputSchema" in tool:
            schema = tool["outputSchema"]
            assert schema["type"] == "object", tool["name"]
            assert all(isinstance(m, dict) for m in schema.get("properties", {}).values()), tool["name"]
    by_name = {t["name"]: t for t in tools}
    assert by_name["delete_pet"]["annotations"] == {
        "readOnlyHint": False, "destructiveHint": True, "idempotentHint": True, "openWorldHint": True}
    # The list endpoint declares its wrapped reply.
    assert "array" in by_name["find_pets_by_status"]["outputSchema"]["properties"]["result"]["type"]
