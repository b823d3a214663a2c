"""5. The official MCP Inspector CLI, with a Bearer header, lists the tools and calls one."""

import json
import os
import subprocess

from support import node_env


def inspector(workdir, *args: str) -> dict:
    home = workdir / "inspector-home"
    home.mkdir(exist_ok=True)
    env = node_env({"HOME": str(home), "MCP_CATALOG_PATH": str(home / "mcp.json")})
    cmd = [os.environ["PEERS_NODE"], os.environ["PEERS_INSPECTOR"], "--cli", *args]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=90, cwd=home)
    assert p.returncode == 0, f"{' '.join(cmd)}\nexit {p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}"
    try:
        return json.loads(p.stdout)
    except json.JSONDecodeError as err:
        raise AssertionError(f"inspector printed no JSON:\n{p.stdout}\nstderr:\n{p.stderr}") from err


def test_inspector_cli_lists_and_calls(server_tool, auth_server, prism, workdir):
    token = auth_server.client_credentials(scope="read:pets", resource=server_tool.resource)
    common = [server_tool.mcp_url, "--transport", "http", "--header", f"Authorization: Bearer {token}"]

    listed = inspector(workdir, *common, "--method", "tools/list")
    names = {t["name"] for t in listed["tools"]}
    assert {"get_pet_by_id", "add_pet", "get_order_by_id"} <= names, names

    before = len(prism.requests())
    called = inspector(workdir, *common, "--method", "tools/call", "--tool-name", "get_pet_by_id",
                       "--tool-arg", "petId=1")
    assert not called.get("isError"), called
    upstream = prism.requests()[before:]
    assert [(r.method, r.path) for r in upstream] == [("GET", "/pet/1")]
    data = called.get("structuredContent")
    if data is None:
        data = json.loads(called["content"][0]["text"])
    assert data == prism.get_json("/pet/1", {"api_key": "special-key"})
