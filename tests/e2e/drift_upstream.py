"""A Petstore upstream that drifts from its spec the way real APIs do, on 127.0.0.1 in a
thread of the test process. Prism answers with the spec's own examples and never shows this.

`GET /pet/<id>` answers drift number <id> of DRIFTS; `GET /pet/findByStatus` answers a JSON
array (whose items drift too). Every reply carries a marker (`rex-<drift>`) the test looks for
in what the client hands the model."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

JSON = "application/json"


@dataclass(frozen=True)
class Drift:
    key: str
    what: str
    content_type: str
    body: bytes


def _pet(**fields) -> bytes:
    return json.dumps(fields).encode()


# Numbered from 1: the pet id selects the drift.
DRIFTS = [
    Drift("missing-required", "a required field missing (no photoUrls)", JSON,
          _pet(id=1, name="rex-missing-required", status="available")),
    Drift("unknown-enum", "an enum value the spec does not list", JSON,
          _pet(id=2, name="rex-unknown-enum", photoUrls=[], status="adopted")),
    Drift("null-string", "null where the spec says string", JSON,
          _pet(id=3, name=None, photoUrls=["rex-null-string"], status=None)),
    Drift("extra-property", "a property the spec does not declare", JSON,
          _pet(id=4, name="rex-extra-property", photoUrls=[], microchip={"vendor": "acme"})),
    Drift("number-as-string", "a number sent as a string", JSON,
          _pet(id="5", name="rex-number-as-string", photoUrls=[])),
    Drift("object-for-string", "an object where the spec says string", JSON,
          _pet(id=6, name={"first": "rex-object-for-string"}, photoUrls=[])),
    Drift("empty-200", "an empty 200", JSON, b""),
    Drift("not-json", "a reply that is not JSON although the spec says JSON", JSON,
          b"rex-not-json: pet 8 is available"),
]
ARRAY = Drift("array", "a JSON array (a list endpoint), its items drifting too", JSON,
              json.dumps([{"id": 9, "name": "rex-array", "status": "adopted"},
                          {"id": 10, "name": None, "photoUrls": None, "extra": True}]).encode())


class _Handler(BaseHTTPRequestHandler):
    server_version = "drifting-petstore"
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        drift = None
        if path == "/pet/findByStatus":
            drift = ARRAY
        elif path.startswith("/pet/") and path[5:].isdigit() and 1 <= int(path[5:]) <= len(DRIFTS):
            drift = DRIFTS[int(path[5:]) - 1]
        if drift is None:
            return self._send(404, JSON, b'{"message": "not found"}')
        self._send(200, drift.content_type, drift.body)

    def _send(self, status: int, content_type: str, body: bytes):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class DriftingUpstream:
    def __init__(self):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
