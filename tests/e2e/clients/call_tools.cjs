// One official TypeScript MCP client session: list the tools (as every client does before
// calling, which also arms its output-schema validation), then call each tool in order.
//
//   node call_tools.cjs <request.json>
//   request: {"sdk": "v2" | "v1", "url": "...", "token": "...", "protocol": "2026-07-28" | "legacy",
//             "calls": [{"name": "...", "arguments": {...}}, ...]}
//
// The packages come from PEERS_NODE_MODULES (scripts/peers.sh). Prints one JSON object:
// {"negotiated": <protocol version>, "results": [{"raised": null | "<message>", "result": {...}}]}.
// A call that throws is reported, not fatal: the test decides.
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const { createRequire } = require("node:module");

async function main() {
  const request = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
  const modules = process.env.PEERS_NODE_MODULES;
  if (!modules) throw new Error("PEERS_NODE_MODULES is not set: eval \"$(scripts/peers.sh)\"");
  const load = createRequire(path.join(modules, "noop.js"));
  const headers = { Authorization: `Bearer ${request.token}` };
  const info = { name: "mcp-gen-e2e", version: "1.0.0" };
  let client;
  let transport;
  if (request.sdk === "v2") {
    const sdk = load("@modelcontextprotocol/client");
    const options = request.protocol === "legacy" ? {} : { versionNegotiation: { mode: { pin: request.protocol } } };
    client = new sdk.Client(info, options);
    transport = new sdk.StreamableHTTPClientTransport(new URL(request.url), { requestInit: { headers } });
  } else if (request.sdk === "v1") {
    const { Client } = load("@modelcontextprotocol/sdk/client/index.js");
    const { StreamableHTTPClientTransport } = load("@modelcontextprotocol/sdk/client/streamableHttp.js");
    client = new Client(info);
    transport = new StreamableHTTPClientTransport(new URL(request.url), { requestInit: { headers } });
  } else {
    throw new Error(`unknown sdk ${request.sdk}`);
  }
  await client.connect(transport);
  const negotiated = typeof client.getNegotiatedProtocolVersion === "function"
    ? client.getNegotiatedProtocolVersion()
    : transport.protocolVersion;
  await client.listTools();
  const results = [];
  for (const call of request.calls) {
    try {
      const result = await client.callTool({ name: call.name, arguments: call.arguments });
      results.push({ raised: null, result });
    } catch (err) {
      results.push({ raised: String((err && err.message) || err), result: null });
    }
  }
  await client.close();
  process.stdout.write(JSON.stringify({ negotiated: negotiated || null, results }) + "\n");
}

main().catch((err) => {
  process.stderr.write(`call_tools: ${(err && err.stack) || err}\n`);
  process.exit(1);
});
