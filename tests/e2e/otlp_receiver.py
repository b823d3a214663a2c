"""An OTLP/HTTP trace receiver on 127.0.0.1, for tests/e2e/test_traces.py: what an
OpenTelemetry Collector's `otlp` receiver does on port 4318 for traces, and nothing more.
It takes `POST /v1/traces` with `Content-Type: application/x-protobuf` (optionally gzip),
decodes the body as an `ExportTraceServiceRequest` with the official OpenTelemetry protobuf
bindings (PyPI `opentelemetry-proto`), keeps every span with its resource and scope, and
answers with an empty `ExportTraceServiceResponse`, as the OTLP specification says. Any other
request gets the status the specification gives it (404, 405, 415, 400).

No OpenTelemetry Collector is installable here (no PyPI, npm or Debian package ships one), so
the test decodes the wire format with the reference message definitions instead of trusting
its own parser. Runs in a thread of the test process.
"""

from __future__ import annotations

import gzip
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span as SpanProto, Status as StatusProto

MAX_BODY = 8 * 1024 * 1024


def _value(v: AnyValue):
    kind = v.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [_value(x) for x in v.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: _value(kv.value) for kv in v.kvlist_value.values}
    return getattr(v, kind)


def _attributes(kvs) -> dict:
    return {kv.key: _value(kv.value) for kv in kvs}


@dataclass
class Span:
    """One received span, ids as lowercase hex (as in `traceparent`)."""
    name: str
    kind: str  # SPAN_KIND_SERVER, SPAN_KIND_CLIENT, …
    trace_id: str
    span_id: str
    parent_span_id: str  # "" for a root span
    attributes: dict
    status_code: str  # STATUS_CODE_UNSET, STATUS_CODE_OK, STATUS_CODE_ERROR
    status_message: str
    links: list[tuple[str, str]]  # (trace id, span id)
    resource: dict
    scope: str
    start_ns: int
    end_ns: int


@dataclass
class State:
    spans: list[Span] = field(default_factory=list)
    posts: int = 0
    content_types: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def decode(body: bytes) -> list[Span]:
    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    out = []
    for rs in request.resource_spans:
        resource = _attributes(rs.resource.attributes)
        for ss in rs.scope_spans:
            for s in ss.spans:
                out.append(Span(
                    name=s.name,
                    kind=SpanProto.SpanKind.Name(s.kind),
                    trace_id=s.trace_id.hex(),
                    span_id=s.span_id.hex(),
                    parent_span_id=s.parent_span_id.hex(),
                    attributes=_attributes(s.attributes),
                    status_code=StatusProto.StatusCode.Name(s.status.code),
                    status_message=s.status.message,
                    links=[(link.trace_id.hex(), link.span_id.hex()) for link in s.links],
                    resource=resource,
                    scope=ss.scope.name,
                    start_ns=s.start_time_unix_nano,
                    end_ns=s.end_time_unix_nano,
                ))
    return out


class Handler(BaseHTTPRequestHandler):
    server_version = "otlp-receiver"
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _answer(self, status: int, body: bytes = b"", content_type: str = "text/plain"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        state: State = self.server.state  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            return self._answer(413, b"too large")
        body = self.rfile.read(length)
        if self.path.split("?", 1)[0] != "/v1/traces":
            return self._answer(404, b"not found")
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        with state.lock:
            state.content_types.append(content_type)
        if content_type != "application/x-protobuf":
            return self._answer(415, b"only application/x-protobuf")
        if (self.headers.get("Content-Encoding") or "").lower() == "gzip":
            body = gzip.decompress(body)
        try:
            spans = decode(body)
        except Exception as e:  # noqa: BLE001 - any decode failure is the sender's fault
            return self._answer(400, f"undecodable: {e}".encode())
        with state.lock:
            state.posts += 1
            state.spans.extend(spans)
        self._answer(200, ExportTraceServiceResponse().SerializeToString(), "application/x-protobuf")

    def do_GET(self):
        self._answer(405, b"POST only")


class OtlpReceiver:
    def __init__(self):
        self.state = State()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.state = self.state  # type: ignore[attr-defined]
        self.endpoint = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def spans(self) -> list[Span]:
        with self.state.lock:
            return list(self.state.spans)

    def wait_for(self, predicate, timeout: float = 10.0) -> list[Span]:
        """The spans received, once `predicate(spans)` holds (or at the deadline)."""
        deadline = time.monotonic() + timeout
        while True:
            spans = self.spans()
            if predicate(spans) or time.monotonic() > deadline:
                return spans
            time.sleep(0.05)

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
