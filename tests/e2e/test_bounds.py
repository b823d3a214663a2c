"""What one client may cost a generated server: memory of argument validation under oversized
and error-dense arguments (and of the outputSchema check under a huge non-matching upstream
reply), slowly sent headers and bodies, the cap on concurrent requests, and the token checked
before the body is read. Servers: Petstore 3.0 (its user operations are anonymous) and
train-travel (`fid-train`: every tool needs a token), against a small upstream in this file
that answers slowly or hugely on purpose. Each test prints a `BOUND | attack | measured` line."""

from __future__ import annotations

import json
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import ThreadingHTTPServer

import pytest

import support
import upstream_peer
from conftest import server_binary
from upstream_fixtures import binary

# Settings of the server under attack (short, so the tests are quick).
HEADER_TIMEOUT = 1.0
BODY_TIMEOUT = 1.0
MAX_REQUESTS = 2
MAX_CONNECTIONS = 4
UPSTREAM_SLEEP = 4.0
# Peak resident memory (VmHWM) of a fresh Petstore server across 20 calls of ~4 MB arguments,
# 4 at a time (measured: about 70 MB), and of another across 4 upstream replies of 0.9-4 MB
# that break the outputSchema (about 90 MB: a reply under the server's 500,000 values is
# parsed, a larger one is not; when every reply was parsed, 175 MB). Before the bounds, the
# calls took a server to 1.6 GB.
PEAK_RSS_CALLS_MB = 100
PEAK_RSS_REPLIES_MB = 140
# How long an attack may hold a connection before a test calls it "never closed".
PATIENCE = 8.0

CALL_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json",
                "MCP-Protocol-Version": "2025-06-18"}


def measured(attack: str, outcome: str):
    print(f"BOUND | {attack} | {outcome}")


class Handler(upstream_peer.Handler):
    """GET /user/slow sleeps; GET /pet/1 answers a ~4 MB Pet whose 1,900,001 photoUrls all
    have the wrong type, and GET /pet/<other id> one of 450,001 (under the server's 500,000
    values a reply is read into); anything else answers `{}`."""

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        if self.path.startswith("/user/slow"):
            time.sleep(UPSTREAM_SLEEP)
            body = b'{"id": 1, "username": "slow"}'
        elif self.path.startswith("/pet/1"):
            body = b'{"id": 1, "name": "huge", "photoUrls": [' + b"0," * 1_900_000 + b"0]}"
        elif self.path.startswith("/pet/"):
            body = b'{"id": 2, "name": "big", "photoUrls": [' + b"0," * 450_000 + b"0]}"
        else:
            body = b"{}"
        return self._send(200, "application/json", body)

    do_GET = do_POST = do_PUT = do_DELETE = _handle


@pytest.fixture(scope="module")
def upstream():
    httpd = ThreadingHTTPServer((support.LOOPBACK, 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://{support.LOOPBACK}:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def petstore(workdir, auth_server, upstream, label: str, env: dict[str, str]):
    base, proc = support.launch_mcp_server(server_binary(), f"petstore ({label})", workdir / f"bounds-{label}.log", {
        "AUTHORIZATION_SERVER_URL": auth_server.issuer, "UPSTREAM_BASE_URL": upstream,
        "UPSTREAM_API_KEY": "bounds-key", "AUTH_CHALLENGE": "tool", **env})
    return base, proc


@pytest.fixture(scope="module")
def memory_server(workdir, auth_server, upstream):
    return petstore(workdir, auth_server, upstream, "memory", {})


@pytest.fixture(scope="module")
def reply_server(workdir, auth_server, upstream):
    return petstore(workdir, auth_server, upstream, "replies", {})


@pytest.fixture(scope="module")
def tight_server(workdir, auth_server, upstream):
    return petstore(workdir, auth_server, upstream, "tight", {
        "HEADER_TIMEOUT_SECS": str(HEADER_TIMEOUT), "BODY_TIMEOUT_SECS": str(BODY_TIMEOUT),
        "MAX_CONCURRENT_REQUESTS": str(MAX_REQUESTS), "MAX_CONNECTIONS": str(MAX_CONNECTIONS),
        "UPSTREAM_TIMEOUT_SECS": "10"})


@pytest.fixture(scope="module")
def protected_server(workdir, auth_server):
    """train-travel: every operation needs a token."""
    return support.launch_mcp_server(binary("fid-train"), "fid-train (bounds)", workdir / "bounds-train.log", {
        "AUTHORIZATION_SERVER_URL": auth_server.issuer, "UPSTREAM_BASE_URL": "http://127.0.0.1:9",
        "UPSTREAM_API_KEY": None, "BODY_TIMEOUT_SECS": "30"})


def status_kb(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def call_body(name: str, arguments_json: bytes, id_: int = 1) -> bytes:
    return (b'{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"%s","arguments":'
            % (id_, name.encode()) + arguments_json + b"}}")


def post(base: str, body: bytes, token: str | None = None, timeout: float = 300):
    with support.http_client(timeout=timeout) as c:
        return c.post(f"{base}/mcp", content=body, headers={**CALL_HEADERS, **support.bearer(token)})


def tool_text(r) -> tuple[bool, str]:
    assert r.status_code == 200, f"HTTP {r.status_code}: {r.text[:300]}"
    result = r.json()["result"]
    return bool(result.get("isError")), " ".join(c.get("text", "") for c in result.get("content", []))


def nested(levels: int, inner: str) -> str:
    return "[" * levels + inner + "]" * levels


# Each ~4 MB, sent to the anonymous create_users_with_list_input ({"body": [User]}).
ATTACKS = {
    "2,000,000 wrong-typed items": ("/body", "ARGUMENT_MAX_ITEMS",
                                    b'{"body":[' + b"0," * 1_999_999 + b"0]}"),
    "100,000 users with wrong-typed fields": ("/body", "ARGUMENT_MAX_ITEMS", b'{"body":['
                                              + b",".join([b'{"id":"x","username":1,"userStatus":"y"}'] * 100_000)
                                              + b"]}"),
    # `body` is level 2 of 32: the 31st array inside it is one too deep.
    "100 levels deep around 1,900,000 items": ("/body" + "/0" * 31, "ARGUMENT_MAX_DEPTH",
                                               b'{"body":' + nested(100, "0," * 1_899_999 + "0").encode() + b"}"),
    "a 4,000,000-byte string": ("/body/0/username", "ARGUMENT_MAX_STRING_BYTES",
                                b'{"body":[{"username":"' + b"x" * 4_000_000 + b'"}]}'),
    "one user of 300,000 members": ("/body/0", "ARGUMENT_MAX_MEMBERS", b'{"body":[{'
                                    + b",".join(b'"k%d":0' % i for i in range(300_000)) + b"}]}"),
}


def test_oversized_and_error_dense_arguments_cost_bounded_memory(memory_server):
    base, proc = memory_server
    pid = proc.proc.pid
    at_start = status_kb(pid, "VmHWM")
    # Within the limits but wrong everywhere: every error used to be collected.
    dense = b'{"body":[' + b"0," * 9_999 + b"0]}"
    error, text = tool_text(post(base, call_body("create_users_with_list_input", dense)))
    assert error and "/body/0" in text and len(text) < 2000, text[:500]
    jobs = [(kind, i) for i in range(4) for kind in ATTACKS]
    started = time.monotonic()

    def one(job):
        kind, i = job
        pointer, limit, arguments = ATTACKS[kind]
        return kind, post(base, call_body("create_users_with_list_input", arguments, i + 2))

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(one, jobs))
    took = time.monotonic() - started
    peak, rss = status_kb(pid, "VmHWM"), status_kb(pid, "VmRSS")
    measured("20 calls of ~4 MB oversized / error-dense arguments, 4 at a time",
             f"peak RSS {at_start // 1024} → {peak // 1024} MB (RSS after: {rss // 1024} MB), {took:.1f} s")
    for kind, r in answers:
        pointer, limit, _ = ATTACKS[kind]
        error, text = tool_text(r)
        assert error and limit in text and f"{pointer}:" in text, f"{kind}: {text[:300]}"
    assert peak < PEAK_RSS_CALLS_MB * 1024, f"peak RSS {peak // 1024} MB > {PEAK_RSS_CALLS_MB} MB"


def test_huge_replies_breaking_the_output_schema_cost_bounded_memory(reply_server, auth_server):
    base, proc = reply_server
    pid = proc.proc.pid
    at_start = status_kb(pid, "VmHWM")
    token = auth_server.key.mint(iss=auth_server.issuer, aud=f"{base}/mcp", scope=None)
    started = time.monotonic()
    for i in range(2):
        # Under the limit: read, checked, and an error result that says why and carries the
        # reply (it does not conform).
        error, text = tool_text(post(base, call_body("get_pet_by_id", b'{"petId":2}', i), token))
        assert error and "does not match the tool's output schema" in text and '{"id":2,"name":"big"' in text, \
            text[:300]
        # Over it: not read, carried unchanged as text.
        error, text = tool_text(post(base, call_body("get_pet_by_id", b'{"petId":1}', i), token))
        assert error and "more than 500000 JSON values" in text and '{"id": 1, "name": "huge"' in text, \
            text[:300]
    took = time.monotonic() - started
    peak, rss = status_kb(pid, "VmHWM"), status_kb(pid, "VmRSS")
    measured("4 upstream replies of 0.9-4 MB whose 450,001 and 1,900,001 photoUrls break the outputSchema",
             f"peak RSS {at_start // 1024} → {peak // 1024} MB (RSS after: {rss // 1024} MB), {took:.1f} s")
    log = proc.log_text()
    assert "does not match the outputSchema" in log and "too many JSON values" in log
    assert peak < PEAK_RSS_REPLIES_MB * 1024, f"peak RSS {peak // 1024} MB > {PEAK_RSS_REPLIES_MB} MB"


def open_socket(base: str) -> socket.socket:
    host, port = base.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=5)


def closed_within(s: socket.socket, drip: bytes, patience: float) -> tuple[float | None, bytes]:
    """Sends `drip` every 0.2 s until the server closes the connection or `patience` runs out;
    returns the seconds until it closed (None: still open) and what it answered."""
    started = time.monotonic()
    answer = b""
    s.settimeout(0.2)
    while time.monotonic() - started < patience:
        try:
            s.sendall(drip)
        except OSError:
            return time.monotonic() - started, answer
        try:
            data = s.recv(65536)
        except socket.timeout:
            continue
        except OSError:
            return time.monotonic() - started, answer
        if not data:
            return time.monotonic() - started, answer
        answer += data
    return None, answer


def describe(took: float | None, answer: bytes) -> str:
    first = answer.split(b"\r\n", 1)[0].decode(errors="replace") or "nothing"
    return f"closed after {took:.1f} s, answered {first}" if took is not None \
        else f"still open after {PATIENCE:.0f} s, answered {first}"


def test_slowly_sent_headers_are_cut_off(tight_server):
    base, _ = tight_server
    with open_socket(base) as s:
        s.sendall(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        took, answer = closed_within(s, b"X-Slow: 1\r\n", PATIENCE)
    measured(f"headers sent one line per 0.2 s (HEADER_TIMEOUT_SECS={HEADER_TIMEOUT:g})", describe(took, answer))
    assert took is not None and took < HEADER_TIMEOUT + 2, describe(took, answer)


def test_idle_connection_is_closed(tight_server):
    base, _ = tight_server
    with open_socket(base) as s:
        s.settimeout(PATIENCE)
        started = time.monotonic()
        try:
            data = s.recv(1024)
        except socket.timeout:
            data = None
        took = time.monotonic() - started if data == b"" else None
    measured(f"a connection that sends nothing (HEADER_TIMEOUT_SECS={HEADER_TIMEOUT:g})", describe(took, b""))
    assert took is not None and took < HEADER_TIMEOUT + 2


def test_slowly_sent_body_is_cut_off(tight_server):
    base, _ = tight_server
    with open_socket(base) as s:
        s.sendall(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                  b"Accept: application/json, text/event-stream\r\nContent-Length: 5000\r\n\r\n{")
        took, answer = closed_within(s, b" ", PATIENCE)
    measured(f"body sent one byte per 0.2 s (BODY_TIMEOUT_SECS={BODY_TIMEOUT:g})", describe(took, answer))
    assert took is not None and took < BODY_TIMEOUT + 2, describe(took, answer)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]


def test_concurrent_requests_beyond_the_cap_are_shed(tight_server):
    base, _ = tight_server
    slow = call_body("get_user_by_name", b'{"username":"slow"}')
    with ThreadPoolExecutor(MAX_REQUESTS) as pool:
        held = [pool.submit(post, base, slow) for _ in range(MAX_REQUESTS)]
        time.sleep(1.0)  # both are waiting on the upstream now
        started = time.monotonic()
        extra = post(base, call_body("logout_user", b"{}"), timeout=30)
        took = time.monotonic() - started
        measured(f"a 3rd request while {MAX_REQUESTS} wait {UPSTREAM_SLEEP:g} s on the upstream "
                 f"(MAX_CONCURRENT_REQUESTS={MAX_REQUESTS})",
                 f"HTTP {extra.status_code} after {took:.2f} s, Retry-After {extra.headers.get('retry-after')}")
        assert extra.status_code == 503 and took < 1.0, (extra.status_code, took)
        assert extra.headers.get("retry-after") == "1"
        for f in held:
            error, text = tool_text(f.result())
            assert not error and "slow" in text, text
    error, _ = tool_text(post(base, call_body("logout_user", b"{}")))
    assert not error


def test_connections_beyond_the_cap_wait_for_a_free_one(tight_server):
    base, _ = tight_server
    started = time.monotonic()
    idle = [open_socket(base) for _ in range(MAX_CONNECTIONS)]
    try:
        time.sleep(0.2)
        with support.http_client(timeout=PATIENCE) as c:
            status = c.get(f"{base}/healthz").status_code
        took = time.monotonic() - started
    finally:
        for s in idle:
            s.close()
    measured(f"a request while {MAX_CONNECTIONS} idle connections are open (MAX_CONNECTIONS={MAX_CONNECTIONS}, "
             f"HEADER_TIMEOUT_SECS={HEADER_TIMEOUT:g})", f"HTTP {status} {took:.2f} s after they opened")
    # Accepted only once the header timeout has closed an idle connection.
    assert status == 200 and HEADER_TIMEOUT - 0.1 < took < HEADER_TIMEOUT + 2, took


@pytest.mark.parametrize("token", [None, "not-a-token"])
def test_protected_server_refuses_before_reading_the_body(protected_server, token):
    base, _ = protected_server
    auth = b"" if token is None else f"Authorization: Bearer {token}\r\n".encode()
    with open_socket(base) as s:
        # A 4 MB body announced, none of it sent.
        s.sendall(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                  b"Accept: application/json, text/event-stream\r\nContent-Length: 4000000\r\n" + auth + b"\r\n")
        started = time.monotonic()
        s.settimeout(PATIENCE)
        try:
            answer = s.recv(65536)
        except socket.timeout:
            answer = b""
        took = time.monotonic() - started
    what = "no token" if token is None else "an invalid token"
    status = answer.split(b"\r\n", 1)[0].decode(errors="replace") or f"nothing after {PATIENCE:.0f} s"
    measured(f"{what}, 4 MB body announced but not sent, every tool protected", f"{status} after {took:.2f} s")
    assert answer.startswith(b"HTTP/1.1 401") and took < 1.0, (answer[:200], took)
    assert b"www-authenticate: bearer" in answer.lower()
    assert b"connection: close" in answer.lower()  # the unread body ends the connection
