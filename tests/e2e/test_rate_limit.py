"""RATE_LIMIT_PER_MINUTE: a burst from one caller gets HTTP 429 with Retry-After while another
caller is served, and a refused call never reaches the upstream (Prism counts what arrives).
Signed-in callers are told apart by their token's subject; anonymous ones by their address,
taken from X-Forwarded-For's last entry when RATE_LIMIT_CLIENT_IP_HEADER names it (a proxy in
front appends the real address; what the client wrote before it does not count)."""

from __future__ import annotations

import time

import pytest

import support
from auth_support import post_mcp, start_mcp_server, tool_call
from conftest import UPSTREAM_API_KEY, server_binary

BURST = 3


@pytest.fixture(scope="module")
def limited(workdir, auth_server, prism):
    server = start_mcp_server(server_binary(), workdir, "rate limited server", {
        "AUTHORIZATION_SERVER_URL": auth_server.issuer,
        "UPSTREAM_BASE_URL": prism.base_url,
        "UPSTREAM_API_KEY": UPSTREAM_API_KEY,
        "AUTH_CHALLENGE": "http",
        # Slow enough that no cell refills during the test.
        "RATE_LIMIT_PER_MINUTE": "2",
        "RATE_LIMIT_BURST": str(BURST),
        "RATE_LIMIT_CLIENT_IP_HEADER": "X-Forwarded-For",
    })
    yield server
    server.proc.stop()


def token(signing_key, auth_server, server, subject: str) -> str:
    return signing_key.mint(iss=auth_server.issuer, aud=f"{server.base_url}/mcp",
                            scope="read:pets", sub=subject)


def upstream_calls(prism, path_prefix: str) -> int:
    return sum(1 for r in prism.requests() if r.path.startswith(path_prefix))


def assert_upstream_saw(prism, path_prefix: str, before: int, expected: int) -> None:
    """Prism writes its log a moment after answering: wait for the expected count, then make
    sure no more arrive."""
    deadline = time.monotonic() + 5
    while upstream_calls(prism, path_prefix) - before < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    assert upstream_calls(prism, path_prefix) - before == expected


def burst(url: str, name: str, arguments: dict, headers: list[tuple[str, str]], n: int) -> list:
    with support.http_client() as client:
        return [post_mcp(url, tool_call(name, arguments, rpc_id=i), headers, client=client)
                for i in range(n)]


def test_a_bursting_subject_gets_429_while_another_is_served(limited, signing_key, auth_server, prism):
    url = f"{limited.base_url}/mcp"
    alice = [("Authorization", f"Bearer {token(signing_key, auth_server, limited, 'alice')}")]
    bob = [("Authorization", f"Bearer {token(signing_key, auth_server, limited, 'bob')}")]
    before = upstream_calls(prism, "/pet/")

    answers = burst(url, "get_pet_by_id", {"petId": 1}, alice, BURST + 5)
    statuses = [a.status_code for a in answers]
    assert statuses == [200] * BURST + [429] * 5, statuses
    for refused in answers[BURST:]:
        retry_after = refused.headers.get("retry-after")
        assert retry_after is not None and retry_after.isdigit() and 1 <= int(retry_after) <= 60, \
            refused.headers
        body = refused.json()
        assert body["error"]["code"] == -32029 and "retry after" in body["error"]["message"], body
        assert body["id"] == answers.index(refused)
    for served in answers[:BURST]:
        result = served.json()["result"]
        assert result["isError"] is False, result

    # Bob is served while Alice waits; Alice's refused calls never went upstream.
    answers = burst(url, "get_pet_by_id", {"petId": 2}, bob, BURST)
    assert [a.status_code for a in answers] == [200] * BURST
    assert all(a.json()["result"]["isError"] is False for a in answers)
    assert_upstream_saw(prism, "/pet/", before, 2 * BURST)
    # Listing is not counted.
    r = post_mcp(url, {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, alice)
    assert r.status_code == 200 and r.json()["result"]["tools"]


def test_anonymous_callers_are_counted_by_the_address_the_proxy_saw(limited, prism):
    url = f"{limited.base_url}/mcp"
    before = upstream_calls(prism, "/store/order/")
    # The client may write any address first; the proxy's appended entry is what counts.
    first = [("X-Forwarded-For", "10.1.1.1, 198.51.100.1")]
    spoofing = [("X-Forwarded-For", "10.1.1.2, 198.51.100.1")]
    second = [("X-Forwarded-For", "198.51.100.2")]
    answers = burst(url, "get_order_by_id", {"orderId": 7}, first, BURST)
    answers += burst(url, "get_order_by_id", {"orderId": 7}, spoofing, 2)
    assert [a.status_code for a in answers] == [200] * BURST + [429] * 2
    answers = burst(url, "get_order_by_id", {"orderId": 7}, second, BURST)
    assert [a.status_code for a in answers] == [200] * BURST
    assert_upstream_saw(prism, "/store/order/", before, 2 * BURST)
