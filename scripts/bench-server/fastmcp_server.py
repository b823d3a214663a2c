"""FastMCP's `from_openapi` server for scripts/bench.sh server: the same spec and upstream as
the generated server, stateless Streamable HTTP with JSON replies (as the generated server
answers), warnings only in the log.

Usage: python fastmcp_server.py SPEC UPSTREAM_BASE_URL PORT API_KEY

API_KEY goes upstream in the `api_key` header, as the other servers send it.
"""

import json
import sys

import httpx2
from fastmcp import FastMCP


def main() -> None:
    spec_path, base_url, port, api_key = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    with open(spec_path, encoding="utf-8") as f:
        spec = json.load(f)
    client = httpx2.AsyncClient(base_url=base_url, timeout=30, headers={"api_key": api_key})
    server = FastMCP.from_openapi(spec, client=client, name="petstore-fastmcp")
    server.run(
        transport="http",
        host="127.0.0.1",
        port=port,
        path="/mcp",
        stateless_http=True,
        json_response=True,
        log_level="warning",
        show_banner=False,
    )


if __name__ == "__main__":
    main()
