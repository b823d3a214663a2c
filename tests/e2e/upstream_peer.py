"""A recording, fault-injecting upstream API on 127.0.0.1, for what Prism cannot do: show the
exact bytes of a request line, and misbehave on purpose. Runs in a thread of the test process.

Routes (any method):
  /record/...            200 {"ok": true}; the request (raw target, headers, body) is recorded
  /anything/...          200, the request echoed back as JSON (method, target, headers), like
                         httpbin's /anything: whatever the server sends reaches its caller
  /fault/slow            headers only after `slow_seconds`
  /fault/drip            a 200 whose body trickles one byte per 0.5 s (Content-Length 1000)
  /fault/big             a JSON body of `big_bytes` bytes
  /fault/status/<code>   that status with a long JSON body (for the excerpt bound)
  /fault/image           a PNG
  /fault/binary          application/octet-stream bytes
  /fault/empty           204
  /fault/mismatch        a JSON object that breaks the operation's outputSchema
  /fault/array           a JSON array
  /fault/object          a JSON object that matches the outputSchema
  /fault/unauthorized-once  401 for the first bearer token it sees, 200 for any other
  /redirect/away, /moved/away   302 / 301 to another origin (not followed by the server)
  /redirect/here, /moved/here   302 / 301 to /fault/object on this origin (followed)
  /redirect/leak         302 to another origin with the request's X-Key in the query, as
                         APIs that echo a query key into a signed download URL do, and the
                         URL again in the body
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


@dataclass
class Recorded:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes


@dataclass
class State:
    requests: list[Recorded] = field(default_factory=list)
    slow_seconds: float = 5.0
    big_bytes: int = 2_000_000
    refused_tokens: set[str] = field(default_factory=set)
    refused_once: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Handler(BaseHTTPRequestHandler):
    server_version = "upstream-peer"
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet: the tests print what matters
        pass

    def _handle(self):
        state: State = self.server.state  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        with state.lock:
            state.requests.append(Recorded(self.command, self.path, headers, body))
        # `kind` allows reserved characters (`allowReserved`), so `status/404` arrives as two segments.
        path = unquote(self.path.split("?", 1)[0])
        if path.startswith("/record/items/refuse-once"):
            # 401 the first time this exact target is asked for (as if the token were revoked).
            with state.lock:
                first = self.path not in state.refused_once
                state.refused_once.add(self.path)
            if first:
                return self._send(401, "application/json", b'{"error": "token revoked"}')
            return self._send(200, "application/json", b'{"ok": true}')
        if path.startswith("/record/"):
            return self._send(200, "application/json", b'{"ok": true}')
        if path.startswith(("/redirect/", "/moved/")):
            code = 302 if path.startswith("/redirect/") else 301
            where = path.rsplit("/", 1)[1]
            location = {
                "away": "https://files.example.net/archive.tar.gz",
                "here": "/fault/object",
                "leak": f"https://files.example.net/archive.tar.gz?key={headers.get('x-key', '')}",
            }.get(where)
            if location is None:
                return self._send(404, "application/json", b'{"error": "no such file"}')
            body = f"Found. Redirecting to {location}".encode() if where == "leak" else b""
            self.send_response(code)
            self.send_header("Location", location)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return None
        if path.startswith("/anything"):
            echo = {"method": self.command, "target": self.path, "headers": headers}
            return self._send(200, "application/json", json.dumps(echo).encode())
        kind = path.removeprefix("/fault/")
        if kind == "slow":
            time.sleep(state.slow_seconds)
            return self._send(200, "application/json", b'{"id": 1}')
        if kind == "drip":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "1000")
            self.end_headers()
            try:
                for _ in range(1000):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(0.5)
            except OSError:
                pass  # the client gave up, as it should
            return None
        if kind == "big":
            return self._send(200, "application/json", b'"' + b"x" * state.big_bytes + b'"')
        if kind.startswith("status/"):
            code = int(kind.removeprefix("status/"))
            detail = json.dumps({"message": f"failure {code}", "padding": "p" * 10_000}).encode()
            return self._send(code, "application/json", detail)
        if kind == "image":
            return self._send(200, "image/png", PNG)
        if kind == "binary":
            return self._send(200, "application/octet-stream", bytes(range(256)) * 4)
        if kind == "empty":
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if kind == "mismatch":
            return self._send(200, "application/json", b'{"id": "not-a-number", "name": 7}')
        if kind == "array":
            return self._send(200, "application/json", b'[1, 2, 3]')
        if kind == "object":
            return self._send(200, "application/json", b'{"id": 7, "name": "seven"}')
        if kind == "unauthorized-once":
            token = headers.get("authorization", "")
            with state.lock:
                first = not state.refused_tokens
                if first:
                    state.refused_tokens.add(token)
                refused = token in state.refused_tokens
            if refused:
                return self._send(401, "application/json", b'{"error": "token revoked"}')
            return self._send(200, "application/json", b'{"id": 1, "name": "renewed"}')
        return self._send(404, "application/json", b'{"error": "no such route"}')

    def _send(self, status: int, content_type: str, body: bytes):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            pass
        return None

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle


class UpstreamPeer:
    """The server, plain HTTP or (with `tls_dir`) HTTPS with a self-signed certificate."""

    def __init__(self, tls_dir: Path | None = None):
        self.state = State()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.state = self.state  # type: ignore[attr-defined]
        scheme = "http"
        if tls_dir is not None:
            cert, key = self_signed(tls_dir)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
            scheme = "https"
        self.base_url = f"{scheme}://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def requests(self, prefix: str = "") -> list[Recorded]:
        with self.state.lock:
            return [r for r in self.state.requests if r.target.startswith(prefix)]

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def self_signed(directory: Path) -> tuple[str, str]:
    """A certificate for 127.0.0.1 that no trust store knows (the TLS-failure case)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "upstream-cert.pem", directory / "upstream-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


def refused_port() -> int:
    """A loopback port with nothing listening (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
