"""Catalog mode, toolsets and listing by scope, on the servers scripts/test.sh builds.

- Catalog mode (TOOL_MODE=catalog on the fid-* builds): three tools listed; every operation
  is found by its own summary, described with the schema its own tool would have, and called
  through call_operation with arguments Prism must accept, as the per-tool fidelity test
  demands; a token without the operation's scopes is refused with a challenge naming them.
- TOOLSETS narrows what is listed, found and callable.
- LIST_BY_SCOPE: two tokens of different scopes see different lists."""

from __future__ import annotations

import json

import pytest

import support
from arguments import arguments
from test_fidelity import PrismPeer, server_env, verdicts
from upstream_fixtures import REPO, exchange_env, start_server, token_for

CATALOG_TOOLS = ["search_operations", "describe_operation", "call_operation"]
ALL_SCOPES = "read write read:pets write:pets write:things"


def manifest_tools(name: str) -> dict:
    """The operations of a generated project, as its manifest records them."""
    return json.loads((REPO / "target/e2e" / name / "mcp-gen.json").read_text())["tools"]


@pytest.fixture(scope="module")
def catalog_runs(workdir, auth_server):
    """name → (catalog-mode server, prism peer); started once per spec."""
    started = {}

    def get(name):
        if name not in started:
            prism = PrismPeer(workdir, name)
            env = {**server_env(name, auth_server, prism.url), "TOOL_MODE": "catalog"}
            started[name] = (start_server(workdir, name, "catalog", env), prism)
        return started[name]

    return get


def structured(result: dict) -> dict:
    assert not result.get("isError"), result
    return result["structuredContent"]


@pytest.mark.parametrize("name", ["fid-petstore", "fid-security", "fid-train"])
def test_every_operation_is_found_described_and_called(name, catalog_runs, auth_server, workdir):
    server, prism = catalog_runs(name)
    token = token_for(auth_server, server, ALL_SCOPES)
    listed = server.rpc("tools/list", token=token)["tools"]
    assert [t["name"] for t in listed] == CATALOG_TOOLS
    operations = manifest_tools(name)
    report, rejected, missed = [], [], []
    for operation in operations:
        described = structured(server.call("describe_operation", {"operation": operation}, token))
        summary = described.get("summary") or described["description"].split(".")[0]
        found = structured(server.call("search_operations", {"query": summary}, token))["operations"]
        if operation not in [f["operation"] for f in found]:
            missed.append(f"{operation}: {summary!r} → {[f['operation'] for f in found]}")
        args = arguments(described["inputSchema"])
        before = len(support.prism_requests(prism.log_text()))
        result = server.call("call_operation", {"operation": operation, "arguments": args}, token)
        seen = verdicts(prism.log_text(), before)
        if not (len(seen) == 1 and not seen[0][2]):
            text = " ".join(c.get("text", "") for c in result.get("content", []))
            rejected.append(f"  {operation} {json.dumps(args)[:200]} → prism saw {seen}; tool said: {text[:300]}")
    report.append(f"{name} (catalog mode): Prism accepted {len(operations) - len(rejected)}/{len(operations)} "
                  f"requests through call_operation; search found {len(operations) - len(missed)}/{len(operations)} "
                  "operations in its top 5 by their own summary")
    report += rejected + [f"  not found: {m}" for m in missed]
    print("\n".join(report))
    (workdir / f"catalog-{name}.txt").write_text("\n".join(report) + "\n")
    assert not rejected, "\n".join(report)
    assert len(missed) <= len(operations) // 10, "\n".join(report)


def test_call_operation_refuses_without_the_operations_scopes(catalog_runs, auth_server):
    """train-travel's create-booking needs `write`: a `read` token gets the operation's own
    challenge inside the result, and nothing reaches the upstream."""
    server, prism = catalog_runs("fid-train")
    read_only = token_for(auth_server, server, "read")
    before = len(support.prism_requests(prism.log_text()))
    result = server.call("call_operation", {"operation": "create_booking", "arguments": {}}, read_only)
    assert result["isError"] is True, result
    [challenge] = result["_meta"]["mcp/www_authenticate"]
    parsed = support.parse_bearer_challenge(challenge)
    assert parsed["error"] == "insufficient_scope" and "write" in parsed["scope"].split(), parsed
    assert len(support.prism_requests(prism.log_text())) == before
    # An operation that does not exist is a tool error that says where to look.
    result = server.call("call_operation", {"operation": "no_such_operation", "arguments": {}}, read_only)
    assert result["isError"] is True and "search_operations" in json.dumps(result), result


def listed(server, token: str | None) -> list[str]:
    return sorted(t["name"] for t in server.rpc("tools/list", token=token)["tools"])


def may_call(tool: dict, scopes: set[str]) -> bool:
    """What the manifest's securitySchemes allow a token with `scopes`."""
    return any(s["type"] == "noauth" or set(s.get("scopes", [])) <= scopes for s in tool["securitySchemes"])


def test_toolsets_and_listing_by_scope_with_two_tokens(workdir, auth_server):
    """Petstore with TOOLSETS=pet,store (no `user` operations) and LIST_BY_SCOPE=true: most
    `pet` operations need write:pets and read:pets, `store` ones less."""
    env = {"UPSTREAM_BASE_URL": "http://127.0.0.1:9", "UPSTREAM_API_KEY": "special-key",
           "TOOLSETS": "pet,store", "LIST_BY_SCOPE": "true", **exchange_env(auth_server)}
    server = start_server(workdir, "fid-petstore", "toolsets", env)
    tools = manifest_tools("fid-petstore")
    served = {n: t for n, t in tools.items() if t["path"].split("/")[1] in ("pet", "store")}
    assert len(served) < len(tools)
    narrow_scopes, wide_scopes = {"read:pets"}, {"read:pets", "write:pets"}
    for_narrow = sorted(n for n, t in served.items() if may_call(t, narrow_scopes))
    assert 0 < len(for_narrow) < len(served)
    narrow = token_for(auth_server, server, " ".join(narrow_scopes))
    wide = token_for(auth_server, server, " ".join(wide_scopes))
    # Anonymous callers see everything served, so they learn what to sign in for.
    assert listed(server, None) == sorted(served)
    assert listed(server, narrow) == for_narrow
    assert listed(server, wide) == sorted(served)
    # A `user` operation is not served at all.
    with support.http_client() as c:
        r = c.post(server.mcp_url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                                         "params": {"name": "get_user_by_name", "arguments": {"username": "u"}}},
                   headers={"Accept": "application/json, text/event-stream", **support.bearer(wide)})
    assert r.status_code == 200 and "error" in r.json(), r.text[:300]
    server.proc.stop()

    # The same build in catalog mode: search finds only what the token may call.
    server = start_server(workdir, "fid-petstore", "toolsets-catalog", {**env, "TOOL_MODE": "catalog"})
    narrow = token_for(auth_server, server, " ".join(narrow_scopes))
    wide = token_for(auth_server, server, " ".join(wide_scopes))

    def found(token):
        answer = server.call("search_operations", {"query": "pet pets order", "limit": 20}, token)
        return {f["operation"] for f in structured(answer)["operations"]}

    assert found(narrow) and found(narrow) <= set(for_narrow), found(narrow)
    assert found(wide) - set(for_narrow), found(wide)
    assert not {n for n in found(wide) if n not in served}, found(wide)
    server.proc.stop()
