"""Traces: the generated Petstore server exports OpenTelemetry spans over OTLP/HTTP to a real
receiver (tests/e2e/otlp_receiver.py: the official OTLP protobuf messages) when OTEL_* asks,
and the upstream (Prism, which logs each request's headers) receives the caller's trace.

- A tool call through the Python `mcp` client with a W3C `traceparent` HTTP header: the
  receiver gets the MCP server span (child of the caller's span) and the upstream client span
  (child of the server span), all in the caller's trace; Prism receives a `traceparent` naming
  the client span. No token, argument value or full URL in any attribute.
- The same with `traceparent` in `params._meta` (MCP 2026-07-28) and a different one in the
  header: `_meta` is the parent, the header a link.
- Spans still queued when the server gets SIGTERM are sent before it exits (0).
- Export off (`OTEL_TRACES_EXPORTER=none`, endpoint still set): nothing reaches the receiver;
  the caller's `traceparent` still reaches the upstream unchanged; without one, none is made up.
"""

from __future__ import annotations

import secrets

import pytest

import support
from conftest import server_binary
from otlp_receiver import OtlpReceiver
from support import result_text

TOOL = "get_pet_by_id"
PET_ID = 4242


@pytest.fixture(scope="module")
def receiver():
    r = OtlpReceiver()
    yield r
    r.stop()


def start(workdir, auth_server, prism, label: str, env: dict[str, str]):
    """A Petstore server at Prism with these settings: its /mcp URL and its process."""
    base, proc = support.launch_mcp_server(
        server_binary(), f"mcp server (traces, {label})", workdir / f"mcp-server-traces-{label}.log", {
            "AUTHORIZATION_SERVER_URL": auth_server.issuer,
            "UPSTREAM_BASE_URL": prism.base_url,
            "UPSTREAM_API_KEY": "special-key",
            **env,
        })
    return f"{base}/mcp", proc


@pytest.fixture(scope="module")
def exporting(workdir, auth_server, prism, receiver):
    # A short batch delay keeps the test to seconds (the default is 5 s).
    return start(workdir, auth_server, prism, "exporting", {
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "100",
    })[0]


@pytest.fixture(scope="module")
def not_exporting(workdir, auth_server, prism, receiver):
    return start(workdir, auth_server, prism, "off", {
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "OTEL_TRACES_EXPORTER": "none",
    })[0]


def ids() -> tuple[str, str]:
    """A fresh caller trace id and span id."""
    return secrets.token_hex(16), secrets.token_hex(8)


async def _call(url: str, token: str, headers: dict[str, str], meta: dict | None):
    import httpx2
    from mcp.client import Client
    from mcp.client.streamable_http import streamable_http_client

    async with httpx2.AsyncClient(headers={**support.bearer(token), **headers}, trust_env=False,
                                  timeout=httpx2.Timeout(30.0)) as http:
        async with Client(streamable_http_client(url, http_client=http)) as client:
            return await client.call_tool(TOOL, {"petId": PET_ID}, meta=meta)


def call(url: str, token: str, prism, *, headers: dict[str, str] | None = None, meta: dict | None = None):
    """get_pet_by_id through the Python `mcp` client; the request Prism received for it."""
    before = len(prism.requests())
    result = support.run(lambda: _call(url, token, headers or {}, meta))
    assert not result.is_error, result_text(result)
    seen = prism.requests()[before:]
    upstream = [r for r in seen if r.path == f"/pet/{PET_ID}"]
    assert len(upstream) == 1, [(r.method, r.path) for r in seen]
    return upstream[0]


def token_for(auth_server, url: str) -> str:
    return auth_server.client_credentials(scope="read:pets", resource=url)


def trace_of(receiver: OtlpReceiver, trace_id: str):
    """The tool call's server span and the upstream request's client span in that trace. The
    client's other requests with the same header (`server/discover`, `tools/list`) have spans
    of their own there too."""
    def found(spans):
        names = {s.name for s in spans if s.trace_id == trace_id}
        return {f"tools/call {TOOL}", "GET /pet/{petId}"} <= names
    spans = receiver.wait_for(found)
    mine = [s for s in spans if s.trace_id == trace_id]
    assert found(spans), f"spans of trace {trace_id}: {mine}\nall received: {spans}"
    [server] = [s for s in mine if s.name == f"tools/call {TOOL}"]
    [client] = [s for s in mine if s.kind == "SPAN_KIND_CLIENT"]
    others = [s for s in mine if s not in (server, client)]
    assert all(s.kind == "SPAN_KIND_SERVER" and s.attributes["mcp.method.name"] == s.name
               for s in others), others
    return server, client


def assert_nothing_secret(spans, token: str):
    for span in spans:
        text = repr(span.attributes) + repr(span.resource) + span.name + span.status_message
        assert token not in text, span
        assert str(PET_ID) not in text, f"an argument value in a span: {span}"
        assert "special-key" not in text, span


def test_a_tool_call_is_traced_from_the_caller_to_the_upstream(exporting, auth_server, prism, receiver):
    token = token_for(auth_server, exporting)
    trace_id, parent = ids()
    sent = f"00-{trace_id}-{parent}-01"
    upstream = call(exporting, token, prism, headers={"traceparent": sent, "tracestate": "e2e=1"})
    server, client = trace_of(receiver, trace_id)

    assert server.name == f"tools/call {TOOL}"
    assert server.parent_span_id == parent
    assert server.attributes["mcp.method.name"] == "tools/call"
    assert server.attributes["gen_ai.tool.name"] == TOOL
    assert server.attributes["gen_ai.operation.name"] == "execute_tool"
    assert server.attributes["http.response.status_code"] == 200
    assert server.status_code == "STATUS_CODE_UNSET"
    assert server.resource["service.name"] == "swagger-petstore-mcp"
    assert server.scope == "mcp-gen-runtime"

    assert client.name == "GET /pet/{petId}"
    assert client.parent_span_id == server.span_id
    assert client.attributes["url.template"] == "/pet/{petId}"
    assert client.attributes["http.request.method"] == "GET"
    assert client.attributes["http.response.status_code"] == 200
    assert client.attributes["server.address"] == "127.0.0.1"
    assert server.start_ns <= client.start_ns <= client.end_ns <= server.end_ns

    # The upstream is in the caller's trace, as a child of the client span.
    assert upstream.headers.get("traceparent") == f"00-{trace_id}-{client.span_id}-01", upstream.headers
    assert upstream.headers.get("tracestate") == "e2e=1", upstream.headers
    assert_nothing_secret([server, client], token)
    support.REPORTS.append(("one trace as received (OTLP/HTTP protobuf)", [
        *(f"{s.kind:<17} {s.name!r} trace={s.trace_id} span={s.span_id} parent={s.parent_span_id or '-'} "
          f"status={s.status_code} attributes={s.attributes}" for s in (server, client)),
        f"resource: {server.resource}",
        f"caller's traceparent: {sent}",
        f"upstream received:    traceparent: {upstream.headers.get('traceparent')}  "
        f"tracestate: {upstream.headers.get('tracestate')}",
    ]))


def test_meta_trace_context_is_the_parent_and_the_header_a_link(exporting, auth_server, prism, receiver):
    token = token_for(auth_server, exporting)
    trace_id, parent = ids()
    header_trace, header_span = ids()
    upstream = call(exporting, token, prism,
                       headers={"traceparent": f"00-{header_trace}-{header_span}-01"},
                       meta={"traceparent": f"00-{trace_id}-{parent}-01"})
    server, client = trace_of(receiver, trace_id)
    assert server.parent_span_id == parent
    assert server.links == [(header_trace, header_span)]
    assert client.parent_span_id == server.span_id
    assert upstream.headers.get("traceparent") == f"00-{trace_id}-{client.span_id}-01"
    # The client's requests with the header alone (listing) are in the header's trace.
    in_header_trace = {s.name for s in receiver.spans() if s.trace_id == header_trace}
    assert f"tools/call {TOOL}" not in in_header_trace and "GET /pet/{petId}" not in in_header_trace


def test_without_a_caller_context_the_server_starts_the_trace(exporting, auth_server, prism, receiver):
    token = token_for(auth_server, exporting)
    upstream = call(exporting, token, prism)
    sent = upstream.headers.get("traceparent", "")
    _, trace_id, client_span, _ = sent.split("-")
    server, client = trace_of(receiver, trace_id)
    assert server.parent_span_id == ""
    assert client.span_id == client_span


def test_export_off_sends_nothing_and_passes_the_callers_context_on(not_exporting, auth_server, prism, receiver):
    token = token_for(auth_server, not_exporting)
    posts = receiver.state.posts
    trace_id, parent = ids()
    sent = f"00-{trace_id}-{parent}-01"
    upstream = call(not_exporting, token, prism, headers={"traceparent": sent})
    assert upstream.headers.get("traceparent") == sent
    upstream = call(not_exporting, token, prism, meta={"traceparent": sent})
    assert upstream.headers.get("traceparent") == sent
    upstream = call(not_exporting, token, prism)
    assert "traceparent" not in upstream.headers, upstream.headers
    # Malformed: ignored, nothing passed on.
    upstream = call(not_exporting, token, prism, headers={"traceparent": f"00-{trace_id}-{parent}-1"})
    assert "traceparent" not in upstream.headers, upstream.headers
    # Longer than the exporting server's batch delay: had it exported, it would have by now.
    receiver.wait_for(lambda s: False, timeout=0.5)
    assert receiver.state.posts == posts
    assert not [s for s in receiver.spans() if s.trace_id == trace_id]


def test_spans_still_queued_are_sent_when_the_server_stops(workdir, auth_server, prism, receiver):
    # A batch delay longer than the test: the spans leave only because the server flushes
    # them on SIGTERM.
    url, proc = start(workdir, auth_server, prism, "flush", {
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "600000",
    })
    trace_id, parent = ids()
    call(url, token_for(auth_server, url), prism, headers={"traceparent": f"00-{trace_id}-{parent}-01"})
    assert not [s for s in receiver.spans() if s.trace_id == trace_id], "exported before the stop"
    proc.stop()
    assert proc.proc.returncode == 0, proc.log_tail()
    server, client = trace_of(receiver, trace_id)
    assert server.parent_span_id == parent and client.parent_span_id == server.span_id
