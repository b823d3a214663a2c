"""Helpers of the authorization tests (test_auth_matrix, test_keys, test_introspection, …):
extra authorization-server instances with their own keys, extra MCP servers with their own
environment, key material for minting hostile tokens, and log checks. No fixtures here."""

from __future__ import annotations

import base64
import json
import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import anyio
import httpx2
import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from mcp.client.auth import OAuthClientProvider
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientMetadata

import support
from support import MemoryTokenStorage, Process, SigningKey

REPO = Path(__file__).resolve().parents[2]
AS_SCRIPT = REPO / "tests" / "peers" / "authorization-server.mjs"
CLIENT_ID, CLIENT_SECRET = "e2e-client", "e2e-secret"


def b64url(data: bytes | str | dict) -> str:
    if isinstance(data, dict):
        data = json.dumps(data, separators=(",", ":"))
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class EcKey:
    """An ES256 signing key (P-256), published or foreign."""
    private_key: ec.EllipticCurvePrivateKey
    kid: str

    @classmethod
    def generate(cls, kid: str | None = None) -> "EcKey":
        return cls(ec.generate_private_key(ec.SECP256R1()), kid or f"ec-{uuid.uuid4().hex[:12]}")

    def private_jwk(self) -> dict:
        jwk = json.loads(ECAlgorithm.to_jwk(self.private_key))
        jwk.pop("key_ops", None)
        jwk.update(kid=self.kid, alg="ES256", use="sig")
        return jwk

    def public_jwk(self) -> dict:
        jwk = json.loads(ECAlgorithm.to_jwk(self.private_key.public_key()))
        jwk.update(kid=self.kid, alg="ES256", use="sig")
        return jwk

    def sign(self, claims: dict, headers: dict | None = None) -> str:
        return jwt.encode(claims, self.private_key, algorithm="ES256",
                          headers={"kid": self.kid, "typ": "at+jwt", **(headers or {})})


def rsa_private_jwk(key: SigningKey) -> dict:
    jwk = json.loads(RSAAlgorithm.to_jwk(key.private_key))
    jwk.pop("key_ops", None)
    jwk.update(kid=key.kid, alg=key.alg, use="sig")
    return jwk


def write_jwks(path: Path, private_jwks: list[dict]) -> Path:
    """The AS signs with the first key and publishes the public half of all."""
    path.write_text(json.dumps({"keys": private_jwks}))
    path.chmod(0o600)
    return path


class AuthServerInstance:
    """One oidc-provider (tests/peers/authorization-server.mjs) on a fixed port that the test
    can stop and start again with other keys: the issuer URL stays the same."""

    def __init__(self, workdir: Path, name: str, *, opaque: bool = False):
        self.workdir, self.name, self.opaque = workdir, name, opaque
        self.port = support.free_port()
        self.issuer = f"http://{support.LOOPBACK}:{self.port}"
        self.proc: Process | None = None
        self.logs: list[Process] = []

    def start(self, private_jwks: list[dict]) -> "AuthServerInstance":
        assert self.proc is None or self.proc.proc.poll() is not None, "already running"
        n = len(self.logs)
        jwks = write_jwks(self.workdir / f"{self.name}-{n}.jwks.json", private_jwks)
        cmd = [os.environ["PEERS_NODE"], str(AS_SCRIPT), "--port", str(self.port), "--jwks", str(jwks),
               "--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET]
        if self.opaque:
            cmd.append("--opaque")
        self.proc = Process(f"{self.name} #{n}", cmd, self.workdir / f"{self.name}-{n}.log",
                            support.node_env({"PEERS_NODE_MODULES": os.environ["PEERS_NODE_MODULES"]}))
        self.logs.append(self.proc)
        self.proc.wait_ready(support.http_ok(f"{self.issuer}/.well-known/oauth-authorization-server"),
                             30, "AS metadata")
        return self

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()

    def count(self, request_line: str) -> int:
        """How many requests like "GET /jwks" every run of this AS answered."""
        pattern = re.compile(rf"^{re.escape(request_line)} \d{{3}}$", re.M)
        return sum(len(pattern.findall(p.log_text())) for p in self.logs)

    def jwks_fetches(self) -> int:
        return self.count("GET /jwks")

    def metadata(self) -> dict:
        with support.http_client() as c:
            return c.get(f"{self.issuer}/.well-known/oauth-authorization-server").json()

    def client_credentials(self, *, scope: str | None, resource: str | None) -> str:
        return support.client_credentials_token(self.issuer, CLIENT_ID, CLIENT_SECRET,
                                                scope=scope, resource=resource)["access_token"]


@dataclass
class ExtraServer:
    """A generated MCP server started by one test module with its own environment."""
    base_url: str
    proc: Process

    @property
    def mcp_url(self) -> str:
        return f"{self.base_url}/mcp"

    @property
    def resource(self) -> str:
        return self.mcp_url

    @property
    def prm_urls(self) -> list[str]:
        return [f"{self.base_url}/.well-known/oauth-protected-resource/mcp",
                f"{self.base_url}/.well-known/oauth-protected-resource"]

    def alive(self) -> bool:
        return self.proc.proc.poll() is None


def start_mcp_server(binary: Path, workdir: Path, name: str, env: dict[str, str | None]) -> ExtraServer:
    base, proc = support.launch_mcp_server(binary, name, workdir / f"{name.replace(' ', '-')}.log", env)
    return ExtraServer(base_url=base, proc=proc)


def tool_call(name: str, arguments: dict, rpc_id: int = 1) -> dict:
    return {"jsonrpc": "2.0", "id": rpc_id, "method": "tools/call",
            "params": {"name": name, "arguments": arguments}}


def post_mcp(url: str, message: dict, headers: list[tuple[str, str]] | None = None,
             client: httpx2.Client | None = None) -> httpx2.Response:
    """One JSON-RPC POST with exactly the headers given (repeats allowed) besides the basics."""
    base = [("Accept", "application/json, text/event-stream"), ("Content-Type", "application/json"),
            ("MCP-Protocol-Version", support.PROTOCOL_VERSION)]
    body = json.dumps(message)
    if client is not None:
        return client.post(url, headers=base + (headers or []), content=body)
    with support.http_client() as c:
        return c.post(url, headers=base + (headers or []), content=body)


def secrets_in_log(log_text: str, token: str) -> list[str]:
    """What of the token shows up in a log: the whole, its signature, or a long prefix."""
    found = []
    if token and token in log_text:
        found.append("token")
    parts = token.split(".")
    if len(parts) == 3 and len(parts[2]) >= 16 and parts[2] in log_text:
        found.append("signature")
    if len(token) >= 40 and token[:40] in log_text:
        found.append("prefix")
    return found


def oauth_provider(server_url: str, storage: MemoryTokenStorage, browser_log: list) -> OAuthClientProvider:
    """The Python SDK's OAuth client for `server_url`: discovery, dynamic registration, PKCE;
    the scripted browser signs in on the AS's dev login page (`browser_log` keeps the
    authorization URL and the response)."""
    redirect_uri = f"http://127.0.0.1:{support.free_port()}/callback"  # nothing listens: the browser stops there

    async def redirect_handler(authorization_url: str) -> None:
        browser_log.append(authorization_url)
        browser_log.append(await anyio.to_thread.run_sync(
            support.browse_authorization, authorization_url, redirect_uri))

    async def callback_handler() -> AuthorizationCodeResult:
        response = browser_log[-1]
        return AuthorizationCodeResult(code=response.code, state=response.state, iss=response.iss)

    metadata = OAuthClientMetadata(
        client_name="mcp-gen e2e", redirect_uris=[redirect_uri],
        grant_types=["authorization_code", "refresh_token"], response_types=["code"],
        token_endpoint_auth_method="none")
    return OAuthClientProvider(server_url, metadata, storage, redirect_handler, callback_handler)
