"""Replicas: three instances of the generated Petstore server behind nginx (Debian's
`nginx-light`, round robin) share one public address, RESOURCE_SERVER_URL = nginx's /mcp. The
Python `mcp` client signs in through nginx (OAuthClientProvider against oidc-provider) and
makes 200 `get_pet_by_id` calls, 8 at a time, at an upstream that takes 0.2 s per reply (so
calls are really in flight). Mid-run one replica gets SIGTERM while it has calls in flight.

Checked: no call fails; the drained replica turned /readyz to 503, finished its calls in
flight after the signal (its JSON log shows them), logged a complete drain and exited 0 well
within SHUTDOWN_GRACE_SECS; every replica served calls (from its own metrics); and the calls
counted add up to the 200 made: the survivors' `mcp_tool_calls_total` scraped at the end, the
drained replica's from its log (its metrics listener ends with it), cross-checked: each
survivor's log agrees with its metrics, and the drained replica's last scrapes never exceed
its log. Nothing in any log or scrape holds the token.

A second test: a call longer than the grace period is cut, and the process still exits 0 at
the end of the grace period.

Needs nginx (scripts/test.sh installs `nginx-light` when missing); without it the test fails.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import anyio
import httpx2
import pytest

import support
from auth_support import oauth_provider, secrets_in_log
from conftest import UPSTREAM_API_KEY, server_binary
from support import LOOPBACK, MemoryTokenStorage, Process, result_json, result_text

CALLS = 200
CONCURRENCY = 8
UPSTREAM_DELAY = 0.2
GRACE_SECS = 10
DRAINED = 1  # the replica that gets SIGTERM
TOOL = "get_pet_by_id"


class SlowPetstore:
    """GET /pet/<id>: a valid Pet after `delay` seconds (ids from 900000: after id - 900000
    seconds), served by threads of the test process."""

    def __init__(self, delay: float):
        state = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802 (http.server's name)
                match = re.fullmatch(r"/pet/(\d+)", self.path)
                if not match:
                    self.send_error(404)
                    return
                pet_id = int(match.group(1))
                state.arrived += 1  # one statement: atomic under the GIL
                time.sleep(pet_id - 900_000 if pet_id >= 900_000 else state.delay)
                body = json.dumps({"id": pet_id, "name": "doggie", "photoUrls": [], "status": "available"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.delay = delay
        # Requests that reached the upstream (the tool calls in flight there).
        self.arrived = 0
        self.server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://{LOOPBACK}:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)
    if not found:
        pytest.fail("nginx is not installed: scripts/test.sh installs Debian's nginx-light "
                    "(apt-get install nginx-light)", pytrace=False)
    return found


def start_nginx(workdir: Path, port: int, replicas: list[int]) -> tuple[str, Process]:
    """nginx on `port`, round robin over the replicas' ports; its access log names the
    replica that answered each request."""
    d = workdir / "nginx"
    (d / "tmp").mkdir(parents=True, exist_ok=True)
    servers = "\n".join(f"    server {LOOPBACK}:{p};" for p in replicas)
    (d / "nginx.conf").write_text(f"""
worker_processes 1;
daemon off;
master_process off;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 1024; }}
http {{
  log_format upstream '$request $status upstream=$upstream_addr upstream_status=$upstream_status';
  access_log {d}/access.log upstream;
  client_body_temp_path {d}/tmp;
  proxy_temp_path {d}/tmp;
  fastcgi_temp_path {d}/tmp;
  uwsgi_temp_path {d}/tmp;
  scgi_temp_path {d}/tmp;
  upstream replicas {{
{servers}
  }}
  server {{
    listen {LOOPBACK}:{port};
    location / {{
      proxy_pass http://replicas;
      # The public Host, which the replicas check against RESOURCE_SERVER_URL's.
      proxy_set_header Host $http_host;
      proxy_read_timeout 60s;
      # nginx's default: another replica only when this one refused the connection or
      # timed out before the request was sent (never a POST twice).
      proxy_next_upstream error timeout;
    }}
  }}
}}
""")
    proc = Process("nginx", [nginx_binary(), "-p", str(d), "-c", str(d / "nginx.conf")],
                   workdir / "nginx.log", support.loopback_env())
    proc.wait_ready(support.port_open(port), 10, "listening")
    return f"http://{LOOPBACK}:{port}", proc


class Replica:
    def __init__(self, base: str, proc: Process, metrics_url: str):
        self.base, self.proc, self.metrics_url = base, proc, metrics_url

    def scrape(self) -> str:
        with support.http_client(timeout=2.0) as c:
            r = c.get(self.metrics_url)
        assert r.status_code == 200, r.status_code
        assert r.headers["content-type"].startswith("text/plain; version=0.0.4"), r.headers
        return r.text

    def log_lines(self) -> list[dict]:
        """The JSON log, one object a line (LOG_FORMAT=json); any other line fails."""
        lines = []
        for line in self.proc.log_text().splitlines():
            try:
                lines.append(json.loads(line))
            except json.JSONDecodeError:
                raise AssertionError(f"{self.proc.name}: a log line that is not JSON: {line!r}") from None
        return lines

    def logged_calls(self) -> list[dict]:
        return [line for line in self.log_lines()
                if line.get("message") == "mcp request" and line.get("rpc") == "tools/call"]


def sample(text: str, series: str) -> float:
    """One series' value in a text exposition; 0 when the series was never created."""
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.split(" ")[1])
    return 0.0


def ok_calls(text: str) -> int:
    return int(sample(text, f'mcp_tool_calls_total{{outcome="ok",tool="{TOOL}"}}'))


def in_flight(text: str) -> int:
    return int(sample(text, "mcp_requests_in_flight"))


def start_replica(workdir: Path, i: int, env: dict[str, str]) -> Replica:
    metrics_port = support.free_port()
    base, proc = support.launch_mcp_server(server_binary(), f"replica {i}", workdir / f"replica-{i}.log", {
        "METRICS_ADDR": f"{LOOPBACK}:{metrics_port}",
        "LOG_FORMAT": "json",
        "SHUTDOWN_GRACE_SECS": str(GRACE_SECS),
        **env,
    })
    return Replica(base, proc, f"http://{LOOPBACK}:{metrics_port}/metrics")


def wait_ready(replica: Replica) -> None:
    replica.proc.wait_ready(support.http_ok(f"{replica.base}/readyz"), 30, "GET /readyz 200")


def test_three_replicas_behind_nginx_one_drained_mid_run(workdir, auth_server):
    upstream = SlowPetstore(UPSTREAM_DELAY)
    nginx_port = support.free_port()  # the public address comes first: the replicas are named by it
    public = f"http://{LOOPBACK}:{nginx_port}"
    env = {
        "AUTHORIZATION_SERVER_URL": auth_server.issuer,
        "RESOURCE_SERVER_URL": f"{public}/mcp",
        "UPSTREAM_BASE_URL": upstream.url,
        "UPSTREAM_API_KEY": UPSTREAM_API_KEY,
        "AUTH_CHALLENGE": "http",
    }
    replicas = [start_replica(workdir, i, env) for i in range(3)]
    for r in replicas:
        wait_ready(r)
    start_nginx(workdir, nginx_port, [int(r.base.rsplit(":", 1)[1]) for r in replicas])
    drained = replicas[DRAINED]

    storage, browser_log = MemoryTokenStorage(), []
    provider = oauth_provider(f"{public}/mcp", storage, browser_log)
    results: dict[int, object] = {}
    errors: list[str] = []
    signal_info: dict = {}

    async def terminate_mid_run():
        """SIGTERM to the drained replica once a third of the calls are done and it has calls
        in flight; then its scrapes until its metrics listener is gone."""
        async with httpx2.AsyncClient(trust_env=False, timeout=2.0) as http:
            while True:
                await anyio.sleep(0.005)
                if len(results) < CALLS // 3:
                    continue
                text = (await http.get(drained.metrics_url)).text
                if in_flight(text) > 0:
                    break
            signal_info.update(before=text, in_flight=in_flight(text), at=time.monotonic())
            os.kill(drained.proc.proc.pid, signal.SIGTERM)
            # Ready no more within moments: 503, or (the listener closed) no connection.
            for _ in range(200):
                try:
                    ready = await http.get(f"{drained.base}/readyz")
                    signal_info["readyz"] = (ready.status_code, ready.text)
                except httpx2.HTTPError as e:
                    signal_info["readyz"] = (None, type(e).__name__)
                if signal_info["readyz"][0] != 200:
                    break
                await anyio.sleep(0.005)
            scrapes = []
            while True:
                try:
                    scrapes.append((await http.get(drained.metrics_url)).text)
                except httpx2.HTTPError:
                    break
                await anyio.sleep(0.002)
            signal_info["scrapes"] = scrapes
        code = await anyio.to_thread.run_sync(lambda: drained.proc.proc.wait(timeout=GRACE_SECS + 5))
        signal_info.update(exit_code=code, exited_after=time.monotonic() - signal_info["at"])

    async def one(client, i: int):
        try:
            results[i] = await client.call_tool(TOOL, {"petId": i + 1})
        except Exception as e:  # noqa: BLE001 (every failure is reported below)
            errors.append(f"call {i}: {type(e).__name__}: {e}")
            results[i] = None

    async def first(client):
        await one(client, 0)

    remaining = iter(range(1, CALLS))

    async def worker(client):
        for i in remaining:
            await one(client, i)

    async def run_all():
        # The first call signs in (401 → metadata → registration → PKCE → token), alone.
        await support.with_mcp_client(f"{public}/mcp", first, auth=provider)
        # Then 8 clients at once: the SDK's OAuth provider sends one request at a time, so
        # each client has its own, all with the token the sign-in stored.
        async with anyio.create_task_group() as group:
            group.start_soon(terminate_mid_run)
            for _ in range(CONCURRENCY):
                signed_in = oauth_provider(f"{public}/mcp", storage, browser_log)
                group.start_soon(lambda auth=signed_in: support.with_mcp_client(f"{public}/mcp", worker, auth=auth))

    started = time.monotonic()
    support.run(run_all)
    took = time.monotonic() - started
    upstream.stop()

    # Every call answered, with the upstream's data.
    assert not errors, "\n".join(errors[:10])
    assert len(results) == CALLS
    for i, result in results.items():
        assert result is not None and not result.is_error, f"call {i}: {result_text(result)}"
        assert result_json(result)["id"] == i + 1
    assert browser_log and browser_log[0].startswith(f"{auth_server.issuer}/auth?"), "no OAuth flow"
    assert len(browser_log) == 2, f"signed in more than once: {browser_log[::2]}"
    token = storage.tokens.access_token
    assert auth_server.key.verify(token, audience=f"{public}/mcp", issuer=auth_server.issuer)

    # The drained replica: not ready at once, its calls in flight finished, exit 0 in time.
    assert signal_info["in_flight"] >= 1
    assert signal_info["readyz"][0] in (None, 503), signal_info["readyz"]
    assert signal_info["exit_code"] == 0, drained.proc.log_tail()
    assert signal_info["exited_after"] < GRACE_SECS, signal_info["exited_after"]
    lines = drained.log_lines()
    (stop_at,) = [n for n, line in enumerate(lines) if line.get("message") == "shutting down"]
    after = [line for line in lines[stop_at:]
             if line.get("message") == "mcp request" and line.get("rpc") == "tools/call"]
    assert len(after) >= 1 and all(line["status"] == 200 and line["outcome"] == "200" for line in after), after
    assert any(line.get("message") == "drained: every request finished" for line in lines[stop_at:]), \
        drained.proc.log_tail()

    # Distribution and the sum: survivors by their metrics (and their logs agree), the drained
    # replica by its log (its scrapes never exceed it).
    per_replica = {}
    for i, r in enumerate(replicas):
        logged = [line for line in r.logged_calls() if line["tool"] == TOOL and line["status"] == 200]
        if i == DRAINED:
            counted = len(logged)
            scraped = [ok_calls(s) for s in [signal_info["before"], *signal_info["scrapes"]]]
            assert max(scraped) <= counted, (scraped, counted)
            final = [ok_calls(s) for s in signal_info["scrapes"] if in_flight(s) == 0]
            assert all(f == counted for f in final[-1:]), (final, counted)
            assert counted - ok_calls(signal_info["before"]) >= 1, "no call finished after SIGTERM"
        else:
            counted = ok_calls(r.scrape())
            assert counted == len(logged), f"replica {i}: metrics {counted}, log {len(logged)}"
        per_replica[i] = counted
    assert sum(per_replica.values()) == CALLS, per_replica
    assert all(n >= 20 for n in per_replica.values()), per_replica

    # No token anywhere: logs, metrics.
    for r in replicas:
        assert not secrets_in_log(r.proc.log_text(), token), f"{r.proc.name} logged the token"
    for text in [replicas[0].scrape(), replicas[2].scrape(), signal_info["before"]]:
        assert token[:40] not in text and "e2e-user" not in text

    nginx_errors = (workdir / "nginx" / "error.log").read_text()
    refused = nginx_errors.count("Connection refused")
    excerpt = [line for line in replicas[0].scrape().splitlines() if not line.startswith("#") and (
        (TOOL in line and ("_total" in line or "_count" in line or 'le="0.25"' in line))
        or line.startswith(("mcp_requests_in_flight", "mcp_auth_refusals_total", "mcp_jwks_fetches_total",
                            "mcp_server_info")))]
    support.REPORTS.append(("replicas behind nginx (test_fleet.py)", [
        f"{CALLS} calls, {CONCURRENCY} at a time, upstream {UPSTREAM_DELAY} s per reply: {took:.1f} s, "
        f"{len(errors)} failed",
        "calls per replica: " + ", ".join(
            f"replica {i}{' (drained)' if i == DRAINED else ''}: {n}" for i, n in per_replica.items()),
        f"replica {DRAINED}: SIGTERM with {signal_info['in_flight']} calls in flight, "
        f"{len(after)} calls finished after it, exit code {signal_info['exit_code']} after "
        f"{signal_info['exited_after']:.2f} s (SHUTDOWN_GRACE_SECS={GRACE_SECS})",
        f"replica {DRAINED}: /readyz after the signal: {signal_info['readyz']}; "
        f"{len(signal_info['scrapes'])} scrapes while draining, the last with "
        f"{in_flight(signal_info['scrapes'][-1]) if signal_info['scrapes'] else '-'} in flight",
        f"nginx: {refused} connections refused by the drained replica, each sent to another",
        "replica 0 metrics excerpt:", *excerpt,
    ]))


def test_a_call_longer_than_the_grace_period_is_cut_and_the_server_exits(workdir, auth_server):
    upstream = SlowPetstore(0.0)
    grace = 1.5
    replica = start_replica(workdir, 9, {
        "AUTHORIZATION_SERVER_URL": auth_server.issuer,
        "UPSTREAM_BASE_URL": upstream.url,
        "UPSTREAM_API_KEY": UPSTREAM_API_KEY,
        "SHUTDOWN_GRACE_SECS": str(grace),
    })
    wait_ready(replica)
    token = auth_server.client_credentials(scope="read:pets", resource=f"{replica.base}/mcp")
    outcome: dict = {}

    def slow_call():
        # 20 s at the upstream: far past the grace period.
        try:
            outcome["result"] = support.call_tool(f"{replica.base}/mcp", TOOL, {"petId": 900_020}, token=token)
        except Exception as e:  # noqa: BLE001 (the connection is cut: any error will do)
            outcome["error"] = e

    caller = threading.Thread(target=slow_call, daemon=True)
    caller.start()
    # In flight at the upstream, not merely at the server: the client's first request
    # (discovery) is in flight too, and a drain that ends with it is not this test.
    deadline = time.monotonic() + 10
    while upstream.arrived < 1 or in_flight(replica.scrape()) < 1:
        assert time.monotonic() < deadline, "the slow call never got in flight"
        time.sleep(0.02)
    signalled = time.monotonic()
    os.kill(replica.proc.proc.pid, signal.SIGTERM)
    code = replica.proc.proc.wait(timeout=grace + 5)
    took = time.monotonic() - signalled
    upstream.stop()
    assert code == 0, replica.proc.log_tail()
    assert grace <= took < grace + 2, took
    assert any(line.get("message", "").startswith("SHUTDOWN_GRACE_SECS ran out")
               for line in replica.log_lines()), replica.proc.log_tail()
    caller.join(timeout=10)
    assert "result" not in outcome or outcome["result"].is_error, outcome
