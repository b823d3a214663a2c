"""Helpers of the end-to-end tests: processes, keys and tokens, the scripted browser, Prism's log,
WWW-Authenticate parsing. No pytest fixtures here (see conftest.py)."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx2
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def http_client(**kwargs) -> httpx2.Client:
    """A client that ignores proxy settings from the environment (everything is on loopback)."""
    kwargs.setdefault("timeout", 30.0)
    return httpx2.Client(trust_env=False, **kwargs)


def loopback_env(extra: dict[str, str | None] | None = None) -> dict[str, str]:
    """The environment for a child process: ours, no proxies for loopback, plus `extra`
    (a value of None removes the variable)."""
    env = dict(os.environ)
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        env.pop(name, None)
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    # The servers' metrics listener: any free port, not the shared default 9464 (several
    # servers run at once here); launch_mcp_server names one to scrape.
    env.setdefault("METRICS_ADDR", f"{LOOPBACK}:0")
    for name, value in (extra or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def node_env(extra: dict[str, str | None] | None = None) -> dict[str, str]:
    """Environment for the Node peers: loopback_env with Node 24 (scripts/peers.sh) first on PATH."""
    env = loopback_env(extra)
    env["PATH"] = os.pathsep.join([os.environ["PEERS_BIN"], str(Path(os.environ["PEERS_NODE"]).parent),
                                   env.get("PATH", "")])
    return env


# --- processes -----------------------------------------------------------------------------

class Process:
    """A child process with stdout+stderr in a log file, stopped by its own pid only."""

    registry: list["Process"] = []  # every process started, for the failure report

    def __init__(self, name: str, cmd: list[str], log_path: Path, env: dict[str, str], cwd: Path | None = None,
                 noise: str | None = None):
        self.name, self.cmd, self.log_path = name, cmd, log_path
        self.noise = noise  # lines containing this are left out of log_tail()
        self._log = open(log_path, "wb")
        self.proc = subprocess.Popen(
            cmd, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=env, cwd=cwd, start_new_session=True,
        )
        Process.registry.append(self)

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 60) -> str:
        kept = [line for line in self.log_text().splitlines() if not (self.noise and self.noise in line)]
        return "\n".join(kept[-lines:])

    def wait_ready(self, probe: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with code {self.proc.returncode} before {what}\n"
                    f"command: {' '.join(self.cmd)}\nlog {self.log_path}:\n{self.log_tail()}")
            try:
                if probe():
                    return
            except (httpx2.HTTPError, OSError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready ({what}) after {timeout}s\n"
                           f"command: {' '.join(self.cmd)}\nlog {self.log_path}:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            # The child leads its own session (start_new_session), so this reaches its children
            # (npm-style launchers) and nothing else.
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self._log.close()


def http_ok(url: str, expect: int = 200) -> Callable[[], bool]:
    def probe() -> bool:
        with http_client(timeout=2.0) as c:
            return c.get(url).status_code == expect
    return probe



def launch_mcp_server(binary: Path, name: str, log: Path,
                      env: dict[str, str | None]) -> tuple[str, Process]:
    """A generated MCP server on a free loopback port, named to itself by RESOURCE_SERVER_URL,
    ready once /healthz answers, its metrics on another free port; `env` adds to (or, with
    None, removes from) the shared settings. Returns its base URL and process."""
    port = free_port()
    base = f"http://{LOOPBACK}:{port}"
    full = loopback_env({
        "RESOURCE_SERVER_URL": f"{base}/mcp",
        "METRICS_ADDR": f"{LOOPBACK}:{free_port()}",
        "HOST": LOOPBACK,
        "PORT": str(port),
        "RUST_LOG": os.environ.get("RUST_LOG", "info"),
        "RUST_BACKTRACE": "1",
        **env,
    })
    proc = Process(name, [str(binary)], log, full)
    proc.wait_ready(http_ok(f"{base}/healthz"), 30, "GET /healthz")
    return base, proc

def port_open(port: int) -> Callable[[], bool]:
    def probe() -> bool:
        with socket.create_connection((LOOPBACK, port), timeout=1):
            return True
    return probe


# --- keys and tokens ---------------------------------------------------------------------------

@dataclass
class SigningKey:
    """The RSA key the authorization server signs with; the test mints tokens with it too."""
    private_key: rsa.RSAPrivateKey
    kid: str
    alg: str = "RS256"

    @classmethod
    def generate(cls) -> "SigningKey":
        return cls(rsa.generate_private_key(public_exponent=65537, key_size=2048), kid=f"e2e-{uuid.uuid4().hex[:12]}")

    def write_private_jwks(self, path: Path) -> Path:
        jwk = json.loads(RSAAlgorithm.to_jwk(self.private_key))
        jwk.pop("key_ops", None)  # PyJWT adds ["sign"]; the published public key must not say so
        jwk.update(kid=self.kid, alg=self.alg, use="sig")
        path.write_text(json.dumps({"keys": [jwk]}))
        path.chmod(0o600)
        return path

    def mint(self, *, iss: str, aud: str | list[str], scope: str | None = None, sub: str = "e2e-user",
             expires_in: int = 300, issued_ago: int = 0, extra: dict | None = None,
             kid: str | None = None) -> str:
        now = int(time.time()) - issued_ago
        claims = {"iss": iss, "aud": aud, "sub": sub, "iat": now, "exp": now + expires_in,
                  "jti": uuid.uuid4().hex, "client_id": "e2e-minted"}
        if scope is not None:
            claims["scope"] = scope
        claims.update(extra or {})
        return jwt.encode(claims, self.private_key, algorithm=self.alg,
                          headers={"kid": kid or self.kid, "typ": "at+jwt"})

    def verify(self, token: str, *, audience: str, issuer: str) -> dict:
        return jwt.decode(token, self.private_key.public_key(), algorithms=[self.alg],
                          audience=audience, issuer=issuer)


def client_credentials_token(issuer: str, client_id: str, client_secret: str, *,
                             scope: str | None, resource: str | None) -> dict:
    """A token response from the AS's token endpoint (client_credentials, client_secret_basic)."""
    data = {"grant_type": "client_credentials"}
    if scope is not None:
        data["scope"] = scope
    if resource is not None:
        data["resource"] = resource
    with http_client() as c:
        meta = c.get(f"{issuer}/.well-known/oauth-authorization-server").json()
        r = c.post(meta["token_endpoint"], data=data, auth=(client_id, client_secret))
    if r.status_code != 200:
        raise AssertionError(f"client_credentials at {meta['token_endpoint']} failed: {r.status_code} {r.text}")
    return r.json()


# --- the scripted browser (devInteractions login + consent pages) ---------------------------------

_FORM = re.compile(r'<form\b[^>]*\baction="([^"]*)"[^>]*>(.*?)</form>', re.S | re.I)
_HIDDEN = re.compile(r'<input\b[^>]*\btype="hidden"[^>]*\bname="([^"]*)"[^>]*\bvalue="([^"]*)"', re.I)


@dataclass
class AuthorizationResponse:
    code: str
    state: str | None
    iss: str | None
    visited: list[str] = field(default_factory=list)


def browse_authorization(authorization_url: str, redirect_uri: str, *, login: str = "e2e-user",
                         max_steps: int = 20) -> AuthorizationResponse:
    """Play the user's browser: follow redirects from the authorization URL, sign in on the
    dev login page (any login), confirm the consent page when one is shown, and stop at the
    redirect to `redirect_uri`, returning its code, state and iss. Plain HTTP, one cookie jar."""
    visited: list[str] = []
    url, method, form = authorization_url, "GET", None
    with http_client(follow_redirects=False) as c:
        for _ in range(max_steps):
            visited.append(f"{method} {url}")
            r = c.request(method, url, data=form)
            if r.is_redirect:
                url, method, form = urljoin(url, r.headers["location"]), "GET", None
                if url.startswith(redirect_uri):
                    q = parse_qs(urlsplit(url).query)
                    if "error" in q:
                        raise AssertionError(f"authorization failed: {q} (visited: {visited})")
                    return AuthorizationResponse(code=q["code"][0], state=q.get("state", [None])[0],
                                                 iss=q.get("iss", [None])[0], visited=visited)
                continue
            if r.status_code != 200:
                raise AssertionError(f"{method} {url} answered {r.status_code}: {r.text[:500]} (visited: {visited})")
            m = _FORM.search(r.text)
            if not m:
                raise AssertionError(f"no form on {url}: {r.text[:500]} (visited: {visited})")
            action, body = html.unescape(m.group(1)), m.group(2)
            form = {name: html.unescape(value) for name, value in _HIDDEN.findall(body)}
            if form.get("prompt") == "login":
                form.update(login=login, password="any-password")
            url, method = urljoin(url, action), "POST"
    raise AssertionError(f"no redirect to {redirect_uri} after {max_steps} steps: {visited}")


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorization_code_token(issuer: str, *, resource: str, scope: str,
                             redirect_uri: str = "http://127.0.0.1:9/callback") -> dict:
    """The whole code flow by hand (DCR, PKCE, scripted login): used to check the AS itself."""
    with http_client() as c:
        meta = c.get(f"{issuer}/.well-known/oauth-authorization-server").json()
        reg = c.post(meta["registration_endpoint"], json={
            "redirect_uris": [redirect_uri], "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
            "application_type": "native", "client_name": "e2e by hand", "scope": scope,
        })
        assert reg.status_code == 201, f"registration failed: {reg.status_code} {reg.text}"
        client_id = reg.json()["client_id"]
        verifier, challenge = pkce_pair()
        state = secrets.token_urlsafe(16)
        url = meta["authorization_endpoint"] + "?" + urlencode({
            "response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
            "scope": scope, "resource": resource, "state": state,
            "code_challenge": challenge, "code_challenge_method": "S256",
        })
        resp = browse_authorization(url, redirect_uri)
        assert resp.state == state and resp.iss == meta["issuer"], resp
        tok = c.post(meta["token_endpoint"], data={
            "grant_type": "authorization_code", "code": resp.code, "redirect_uri": redirect_uri,
            "client_id": client_id, "code_verifier": verifier, "resource": resource,
        })
        assert tok.status_code == 200, f"token exchange failed: {tok.status_code} {tok.text}"
        out = tok.json()
        out["client_id"] = client_id
        return out


# --- WWW-Authenticate ------------------------------------------------------------------------

_PARAM = re.compile(r'([A-Za-z_][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


def parse_bearer_challenge(value: str) -> dict[str, str]:
    """`Bearer k="v", k2=v2` → {"scheme": "Bearer", k: v, …} (one challenge)."""
    value = value.strip()
    scheme, _, rest = value.partition(" ")
    params = {"scheme": scheme}
    for m in _PARAM.finditer(rest):
        params[m.group(1).lower()] = m.group(2).replace('\\"', '"') if m.group(2) is not None else m.group(3)
    return params


# --- Prism's log -------------------------------------------------------------------------------

_PRISM_REQUEST = re.compile(r"\[HTTP SERVER\] (\w+) (\S+) .*Request received")
_PRISM_HEADER = re.compile(r"\[NEGOTIATOR\] .*debug\s+<\s+\t?([^:\s]+): (.*)$")


@dataclass
class PrismRequest:
    method: str
    path: str
    headers: dict[str, str]
    lines: list[str]


def prism_requests(log_text: str) -> list[PrismRequest]:
    """The requests Prism received, in order, with the headers it logged (-v debug)."""
    out: list[PrismRequest] = []
    for line in log_text.splitlines():
        m = _PRISM_REQUEST.search(line)
        if m:
            out.append(PrismRequest(m.group(1).upper(), m.group(2), {}, [line]))
            continue
        if out and "[CLI]" not in line:
            out[-1].lines.append(line)
            h = _PRISM_HEADER.search(line)
            if h:
                out[-1].headers[h.group(1).lower()] = h.group(2).strip()
    return out


# Tables measured by the tests, printed after the results (conftest.pytest_terminal_summary):
# (title, lines).
REPORTS: list[tuple[str, list[str]]] = []


# --- MCP clients ---------------------------------------------------------------------------------

def run(async_fn, *args):
    """Run an async scenario to completion from a (sync) test."""
    import anyio
    return anyio.run(async_fn, *args)


def bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


class MemoryTokenStorage:
    """The TokenStorage of mcp's OAuthClientProvider, in memory."""

    def __init__(self):
        self.tokens = None
        self.client_info = None

    async def get_tokens(self):
        return self.tokens

    async def set_tokens(self, tokens):
        self.tokens = tokens

    async def get_client_info(self):
        return self.client_info

    async def set_client_info(self, client_info):
        self.client_info = client_info


async def with_mcp_client(url: str, scenario, *, token: str | None = None, auth=None, mode: str = "auto"):
    """Connect the Python SDK client (`mcp.client.Client` over Streamable HTTP) and run
    `await scenario(client)`; the HTTP client sends `token` as a static Bearer header, or uses
    `auth` (an httpx2 Auth such as OAuthClientProvider). `mode` is the client's protocol
    negotiation: "auto" (its default: `server/discover`, else `initialize`), "legacy"
    (2025-11-25 `initialize`) or a version to pin."""
    from mcp.client import Client
    from mcp.client.streamable_http import streamable_http_client

    async with httpx2.AsyncClient(headers=bearer(token), auth=auth, trust_env=False,
                                  timeout=httpx2.Timeout(30.0, read=60.0)) as http:
        async with Client(streamable_http_client(url, http_client=http), mode=mode) as client:
            return await scenario(client)


def call_tool(url: str, name: str, arguments: dict, *, token: str | None = None):
    async def scenario(client):
        return await client.call_tool(name, arguments)
    return run(lambda: with_mcp_client(url, scenario, token=token))


def list_tools(url: str, *, token: str | None = None):
    async def scenario(client):
        return (await client.list_tools()).tools
    return run(lambda: with_mcp_client(url, scenario, token=token))


def result_text(result) -> str:
    return "\n".join(getattr(block, "text", "") or "" for block in result.content)


def result_meta(result) -> dict:
    """A CallToolResult's `_meta`, as a plain dict."""
    meta = getattr(result, "meta", None)
    if meta is None:
        return {}
    return meta if isinstance(meta, dict) else meta.model_dump(by_alias=True)


def result_json(result):
    """The data of a successful tool result: structuredContent, else the JSON text content."""
    if result.structured_content is not None:
        return result.structured_content
    text = result_text(result)
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise AssertionError(f"tool result is neither structured nor JSON text: {text[:500]!r}") from err


# --- raw JSON-RPC over Streamable HTTP (to see HTTP statuses, headers and the exact JSON) --------

PROTOCOL_VERSION = "2025-06-18"


def _jsonrpc_messages(r: httpx2.Response) -> list[dict]:
    ctype = r.headers.get("content-type", "")
    if "text/event-stream" in ctype:
        out = []
        for event in r.text.split("\n\n"):
            data = "\n".join(line[5:].lstrip() for line in event.splitlines() if line.startswith("data:"))
            if data.strip():
                out.append(json.loads(data))
        return out
    if "json" in ctype and r.content:
        body = r.json()
        return body if isinstance(body, list) else [body]
    return []


class RawMcp:
    """A minimal Streamable HTTP client: JSON-RPC POSTs with an optional Bearer token."""

    def __init__(self, url: str, token: str | None = None):
        self.url, self.token = url, token
        self.session_id: str | None = None
        self.protocol_version: str | None = None
        self._next_id = 0

    def post(self, message: dict) -> tuple[httpx2.Response, dict | None]:
        headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json",
                   **bearer(self.token)}
        if self.session_id:
            headers["Mcp-Session-Id"] = self.session_id
        if self.protocol_version:
            headers["MCP-Protocol-Version"] = self.protocol_version
        with http_client() as c:
            r = c.post(self.url, headers=headers, content=json.dumps(message))
        reply = next((m for m in _jsonrpc_messages(r) if m.get("id") == message.get("id")), None) \
            if "id" in message else None
        return r, reply

    def request(self, method: str, params: dict | None = None) -> tuple[httpx2.Response, dict | None]:
        self._next_id += 1
        return self.post({"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params or {}})

    def initialize(self) -> tuple[httpx2.Response, dict | None]:
        r, reply = self.request("initialize", {
            "protocolVersion": PROTOCOL_VERSION, "capabilities": {},
            "clientInfo": {"name": "mcp-gen-e2e-raw", "version": "0"}})
        if r.status_code == 200 and reply and "result" in reply:
            self.session_id = r.headers.get("mcp-session-id")
            self.protocol_version = reply["result"].get("protocolVersion", PROTOCOL_VERSION)
            self.post({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return r, reply

    def ready(self) -> "RawMcp":
        r, reply = self.initialize()
        assert r.status_code == 200 and reply and "result" in reply, \
            f"initialize failed: HTTP {r.status_code} {r.headers} {r.text[:500]}"
        return self
