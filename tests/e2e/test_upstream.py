"""What the generated server forwards, and how it survives upstream faults (issue 5), against
tests/e2e/upstream_peer.py (recording, fault-injecting) and oidc-provider. The server is
tests/e2e/specs/upstream-faults.json generated with --upstream-auth token-exchange."""

from __future__ import annotations

import base64
import json
import time
from email.parser import BytesParser
from email.policy import HTTP
from urllib.parse import unquote

import pytest

from upstream_fixtures import exchange_env, start_server, token_for
from upstream_peer import UpstreamPeer, refused_port

TIMEOUT_SECS = 2
MAX_BYTES = 100_000
FAULT_TABLE: list[tuple[str, str, str]] = []


@pytest.fixture(scope="module")
def tls_peer(workdir):
    p = UpstreamPeer(tls_dir=workdir)
    yield p
    p.stop()


def faults_server(workdir, auth_server, base: str, label: str):
    return start_server(workdir, "upstream-faults", label, {
        "UPSTREAM_BASE_URL": base, "UPSTREAM_API_KEY": "server-key-9",
        "UPSTREAM_TIMEOUT_SECS": str(TIMEOUT_SECS), "UPSTREAM_MAX_RESPONSE_BYTES": str(MAX_BYTES),
        "SERVICE_CLIENT_ID": auth_server.client_id, "SERVICE_CLIENT_SECRET": auth_server.client_secret,
        "SERVICE_TOKEN_URL": f"{auth_server.issuer}/token",
        **exchange_env(auth_server),
    })


@pytest.fixture(scope="module")
def server(workdir, auth_server, peer):
    return faults_server(workdir, auth_server, peer.base_url, "recording")


def text_of(result) -> str:
    return " ".join(c.get("text", "") for c in result.get("content", []))


# --- safety of what is forwarded -----------------------------------------------------------------

# Values with `/`, `\` or dot segments are refused before the upstream: test_path_values.py.
@pytest.mark.parametrize("value", ["x?q=1", "x#frag", "@evil.example", "http:evil.example", "a;b=c",
                                   "%zz"])
def test_path_arguments_stay_in_their_segment_and_host(server, peer, auth_server, value):
    token = token_for(auth_server, server, "read")
    before = len(peer.requests())
    result = server.call("record_as_user", {"id": value}, token)
    assert not result.get("isError"), result
    [seen] = peer.requests()[before:]
    path, _, query = seen.target.partition("?")
    # One segment under /record/items/, decoding back to exactly the value sent; same host.
    assert path.startswith("/record/items/") and "/" not in path.removeprefix("/record/items/"), seen.target
    assert unquote(path.removeprefix("/record/items/")) == value
    assert query == "" and seen.headers["host"] == peer.base_url.removeprefix("http://")


def test_query_values_are_encoded(server, peer, auth_server):
    token = token_for(auth_server, server, "read")
    before = len(peer.requests())
    value = "a&b=c d#e?f/%"
    server.call("record_as_user", {"id": "1", "q": value}, token)
    [seen] = peer.requests()[before:]
    assert seen.target == "/record/items/1?q=" + "a%26b%3Dc%20d%23e%3Ff%2F%25", seen.target


@pytest.mark.parametrize("value", ["a\r\nX-Injected: 1", "a\nb", "a\rb"])
def test_header_values_with_line_breaks_are_refused(server, peer, auth_server, value):
    token = token_for(auth_server, server, "read")
    before = len(peer.requests())
    result = server.call("record_as_user", {"id": "1", "X-Trace": value}, token)
    assert result["isError"] is True and "CR" in text_of(result), result
    assert peer.requests()[before:] == []  # nothing reached the upstream


def test_cookie_and_header_arguments_arrive(server, peer, auth_server):
    token = token_for(auth_server, server, "read")
    before = len(peer.requests())
    server.call("record_as_user", {"id": "1", "X-Trace": "t-1", "session": "s;evil=1"}, token)
    [seen] = peer.requests()[before:]
    assert seen.headers["x-trace"] == "t-1"
    assert seen.headers["cookie"] == "session=s%3Bevil%3D1"


# --- bytes: base64 in the tool call, raw bytes upstream ------------------------------------------

PDF = b"%PDF-1.7\n\x00\xff\xfe\r\n--not-a-boundary\r\n"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def multipart_parts(seen) -> list[tuple[str, str | None, str, bytes]]:
    """(field name, filename, content type, bytes) of each part, parsed by the stdlib."""
    head = f"Content-Type: {seen.headers['content-type']}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + seen.body)
    assert message.is_multipart(), seen.headers
    return [(part.get_param("name", header="content-disposition"), part.get_filename(),
             part.get_content_type(), part.get_payload(decode=True)) for part in message.iter_parts()]


def test_files_arrive_as_file_parts_with_their_bytes(server, peer, auth_server):
    token = token_for(auth_server, server, "")
    before = len(peer.requests())
    args = {"note": "n 1", "document": b64(PDF), "pages": [b64(b"\x01\x02"), b64(b"\x03")]}
    result = server.call("record_upload", args, token)
    assert not result.get("isError"), result
    [seen] = peer.requests()[before:]
    assert seen.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert sorted(multipart_parts(seen)) == sorted([
        ("note", None, "text/plain", b"n 1"),
        ("document", "document", "application/pdf", PDF),
        ("pages", "pages", "application/octet-stream", b"\x01\x02"),
        ("pages", "pages", "application/octet-stream", b"\x03"),
    ])


def test_raw_bytes_arrive_decoded(server, peer, auth_server):
    token = token_for(auth_server, server, "")
    before = len(peer.requests())
    result = server.call("record_raw", {"body": b64(PDF)}, token)
    assert not result.get("isError"), result
    [seen] = peer.requests()[before:]
    assert (seen.method, seen.headers["content-type"], seen.body) == ("PUT", "application/octet-stream", PDF)


def test_bytes_that_are_not_base64_are_refused_before_the_upstream(server, peer, auth_server):
    token = token_for(auth_server, server, "")
    before = len(peer.requests())
    result = server.call("record_upload", {"document": "%PDF not base64"}, token)
    assert result.get("isError") and "`document` must be base64-encoded bytes" in text_of(result), result
    assert peer.requests()[before:] == []


# --- credentials ---------------------------------------------------------------------------------

def test_client_token_is_never_forwarded(server, peer, auth_server):
    """An operation with the server's own API key: the key goes up, the MCP token does not."""
    token = token_for(auth_server, server, "")
    before = len(peer.requests())
    result = server.call("record_with_key", {"id": "1"}, token)
    assert not result.get("isError"), result
    [seen] = peer.requests()[before:]
    assert seen.headers.get("x-key") == "server-key-9"
    assert "authorization" not in seen.headers
    assert token not in str(seen.headers) and token not in seen.target


def test_user_operation_gets_an_exchanged_token(server, peer, auth_server):
    token = token_for(auth_server, server, "read", sub="alice")
    before = len(peer.requests())
    server.call("record_as_user", {"id": "1"}, token)
    [seen] = peer.requests()[before:]
    sent = seen.headers["authorization"].removeprefix("Bearer ")
    assert sent != token
    claims = auth_server.key.verify(sent, audience=peer.base_url, issuer=auth_server.issuer)
    assert claims["sub"] == "alice" and claims["act"] == {"sub": "e2e-client-exchange"}


def test_a_401_renews_only_that_callers_exchanged_token(server, peer, auth_server):
    """Alice's exchanged token is refused upstream once: hers is exchanged anew, Bob's cached
    exchanged token stays in use (one user's 401 does not cost every user a new exchange)."""
    alice = token_for(auth_server, server, "read", sub="alice-401")
    bob = token_for(auth_server, server, "read", sub="bob-401")

    def sent(token: str, item: str) -> list[str]:
        before = len(peer.requests())
        result = server.call("record_as_user", {"id": item}, token)
        assert not result.get("isError"), result
        return [r.headers["authorization"] for r in peer.requests()[before:]]

    def exchanges(sub: str) -> int:
        return auth_server.proc.log_text().count(f"token exchange: sub={sub} ")

    [bob_first] = sent(bob, "1")
    refused, renewed = sent(alice, "refuse-once-alice")
    assert refused != renewed and exchanges("alice-401") == 2
    [bob_again] = sent(bob, "2")
    assert bob_again == bob_first and exchanges("bob-401") == 1, \
        "Bob's exchanged token was dropped by Alice's 401"


def test_client_credentials_token_is_refetched_after_a_401(server, peer, auth_server):
    token = token_for(auth_server, server, "")
    before = len(peer.requests("/fault/unauthorized-once"))
    result = server.call("service_call", {}, token)
    assert not result.get("isError"), result
    assert result["structuredContent"] == {"id": 1, "name": "renewed"}
    first, second = peer.requests("/fault/unauthorized-once")[before:]
    assert first.headers["authorization"] != second.headers["authorization"]
    assert token not in first.headers["authorization"] + second.headers["authorization"]


# --- responses and faults ------------------------------------------------------------------------

def record(fault: str, expected: str, seen: str):
    FAULT_TABLE.append((fault, expected, seen))
    print(f"FAULT | {fault} | {expected} | {seen}")


def timed_call(server, kind: str):
    started = time.monotonic()
    result = server.call("fault", {"kind": kind}, timeout=30)
    return result, time.monotonic() - started


def test_responses_by_kind(server):
    result, _ = timed_call(server, "object")
    assert result["structuredContent"] == {"id": 7, "name": "seven"} and not result["isError"]
    record("JSON object matching outputSchema", "structuredContent + text", "structuredContent " + text_of(result))

    # The tool declares an outputSchema (Thing, an object): a success must carry conforming
    # structuredContent, so any other reply is an error result that carries the reply.
    result, _ = timed_call(server, "mismatch")
    assert result["isError"] and "structuredContent" not in result
    assert "does not match the tool's output schema" in text_of(result)
    assert '"not-a-number"' in text_of(result)
    assert "does not match the outputSchema" in server.proc.log_text()
    record("JSON object breaking outputSchema", "error result carrying the reply, mismatch logged",
           f"isError=true, text {text_of(result)[:160]}…, warning logged")

    result, _ = timed_call(server, "array")
    assert result["isError"] and "[1,2,3]" in text_of(result)
    record("JSON array where the spec says object", "error result carrying the reply", text_of(result)[:160])

    result, _ = timed_call(server, "image")
    explanation, block = result["content"]
    assert result["isError"] and "not JSON (Content-Type: image/png)" in explanation["text"]
    assert block["type"] == "image" and block["mimeType"] == "image/png" and block["data"].startswith("iVBOR")
    record("image/png where the spec says JSON", "error result carrying the image",
           f"{block['type']} {block['mimeType']} ({len(block['data'])} base64 chars)")

    result, _ = timed_call(server, "binary")
    assert result["isError"] and "1024 bytes of application/octet-stream" in text_of(result)
    record("application/octet-stream where the spec says JSON", "described, not dumped", text_of(result)[-90:])

    result, _ = timed_call(server, "empty")
    assert "204" in text_of(result) and not result["isError"] and result["structuredContent"] == {}
    record("204 No Content", "short success, structuredContent {}", text_of(result))

@pytest.mark.parametrize("code", [404, 500, 503])
def test_upstream_errors_carry_status_and_a_bounded_excerpt(server, code):
    result, _ = timed_call(server, f"status/{code}")
    text = text_of(result)
    assert result["isError"] is True and f"HTTP {code}" in text and f"failure {code}" in text
    assert len(text) < 2300 and text.endswith("(truncated)")
    record(f"HTTP {code} with a 10 kB body", "isError, status, bounded excerpt",
           f"isError, {len(text)} chars: {text[:60]}…")


def test_redirects_are_reported_as_redirects(server, auth_server):
    """Issue 12: a 3xx the server does not follow (another origin) is the operation's answer
    when the spec documents it, reported with its target; one on the same origin is followed."""
    token = token_for(auth_server, server, "")  # `download` spends the server's API key
    result = server.call("download", {"kind": "away"}, token)
    text = text_of(result)
    assert result["isError"] is False, result
    assert "HTTP 302 Found, a redirect this operation documents" in text, text
    assert text.endswith("Location: https://files.example.net/archive.tar.gz"), text
    assert "upstream API answered HTTP 302 Found:" not in text
    record("documented 302 to another origin", "success naming the Location", text[-90:])

    # The tool also declares an outputSchema (its 200): no redirect fits it, so the same
    # report comes as an error result (the SDK clients reject a success without it).
    result = server.call("get_moved", {"kind": "away"})
    assert result["isError"] is True and "structuredContent" not in result, result
    assert "HTTP 301 Moved Permanently, a redirect this operation documents" in text_of(result)
    record("documented 301, tool with outputSchema", "error result naming the Location", text_of(result)[-90:])

    # Same origin: followed, the final reply is the answer.
    result = server.call("get_moved", {"kind": "here"})
    assert result["structuredContent"] == {"id": 7, "name": "seven"}, result

    # A Location that carries the server's own API key is not shown to the caller, nor is
    # the key where the body repeats it.
    result = server.call("download", {"kind": "leak"}, token)
    assert "server-key-9" not in json.dumps(result), result
    assert "no Location shown" in text_of(result), result
    assert "Found. Redirecting to https://files.example.net/archive.tar.gz?key=[redacted]" in text_of(result)

    # An operation that documents no 3xx: still named a redirect, as an error.
    result = server.call("fault", {"kind": "status/302"})
    assert result["isError"] is True
    assert "a redirect this operation does not document" in text_of(result), result


def test_slow_upstream_times_out(server, peer):
    result, took = timed_call(server, "slow")
    assert result["isError"] is True and "timed out" in text_of(result), result
    assert took < TIMEOUT_SECS + 1.5, took
    record(f"no headers for {peer.state.slow_seconds:.0f}s", f"error within {TIMEOUT_SECS}s",
           f"{took:.1f}s: {text_of(result)}")


def test_slow_drip_body_times_out(server):
    result, took = timed_call(server, "drip")
    assert result["isError"] is True and "timed out" in text_of(result), result
    assert took < TIMEOUT_SECS + 1.5, took
    record("body dripping 1 byte / 0.5s", f"error within {TIMEOUT_SECS}s", f"{took:.1f}s: {text_of(result)}")


def test_oversized_body_is_refused(server):
    result, took = timed_call(server, "big")
    assert result["isError"] is True and f"larger than {MAX_BYTES} bytes" in text_of(result), result
    record("2 MB body (cap 100 kB)", "clear error", f"{took:.1f}s: {text_of(result)}")


def test_refused_connection(workdir, auth_server):
    down = faults_server(workdir, auth_server, f"http://127.0.0.1:{refused_port()}", "refused")
    result, took = timed_call(down, "object")
    assert result["isError"] is True and "cannot connect" in text_of(result), result
    assert down.healthy()
    record("connection refused", "clear error", f"{took:.1f}s: {text_of(result)}")


def test_tls_failure(workdir, auth_server, tls_peer):
    server = faults_server(workdir, auth_server, tls_peer.base_url, "tls")
    result, took = timed_call(server, "object")
    assert result["isError"] is True and "TLS error" in text_of(result), result
    assert server.healthy()
    record("self-signed TLS certificate", "clear error", f"{took:.1f}s: {text_of(result)}")


def test_server_keeps_serving_after_the_faults(server):
    assert server.healthy()
    result, _ = timed_call(server, "object")
    assert result["structuredContent"] == {"id": 7, "name": "seven"}
