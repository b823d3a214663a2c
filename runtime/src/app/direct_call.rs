//! Plain `tools/call` requests answered without rmcp's Streamable HTTP machinery. rmcp reads
//! a message by trying each request type in turn (a dozen failed attempts, each building an
//! error) and runs every stateless request on tasks and channels of its own: together about
//! a quarter of a tool call's instructions. The handler is the same either way
//! ([`McpServer::call`]), and so is the answer, byte for byte (tests in `app/tests.rs`).
//!
//! Only the common shape is taken here, on terms at least as strict as rmcp's: a POST whose
//! `Accept` lists both JSON and event streams without parameters, a JSON `Content-Type`, a
//! `Host` rmcp would allow spelled as it would compare it, no `Origin`, a protocol version
//! from before per-request negotiation (2026-07-28), and a body that is a JSON-RPC request
//! with an id, `method`, and `params` of only `name` and `arguments`. Anything else (a
//! browser, `_meta`, a progress token, a current client, a malformed request) goes to rmcp,
//! which answers it as it always did.
//!
//! One difference is by design: a client that disconnects (or the gate's request timeout)
//! drops the call here, its upstream request with it, where rmcp lets the handler run on in
//! a task of its own to an answer nobody reads.

use axum::http::header::{ACCEPT, CONTENT_TYPE, HOST, ORIGIN};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use rmcp::model::{
    CallToolRequestParams, JsonObject, RequestId, ServerJsonRpcMessage, ServerResult,
};
use rmcp::transport::common::http_header::HEADER_MCP_PROTOCOL_VERSION;
use serde::Deserialize;

use crate::mcp::server::McpServer;

/// Protocol versions whose `tools/call` carries everything in the body and headers above.
/// (2024-11-05 clients use the old SSE transport; 2026-07-28 negotiates per request.)
const LEGACY_VERSIONS: &[&str] = &["2025-03-26", "2025-06-18", "2025-11-25"];

#[cfg(test)]
thread_local! {
    /// Calls answered here on this thread (a test's runtime runs its requests on its own).
    pub static TAKEN: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// The `Host` values rmcp is configured to accept, in the one spelling taken here.
pub struct DirectCalls {
    /// `None`: any host (`ALLOWED_HOSTS=*`).
    hosts: Option<Vec<(String, Option<u16>)>>,
}

/// A request taken: its id and what to call.
pub struct Call {
    id: RequestId,
    params: CallToolRequestParams,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Message {
    jsonrpc: String,
    id: RequestId,
    method: String,
    params: Params,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    name: String,
    arguments: Option<JsonObject>,
}

impl DirectCalls {
    /// For rmcp's `allowed_hosts` (empty: any). Entries not in the plain spelling
    /// ([`plain_authority`]) are left to rmcp.
    pub fn new(allowed_hosts: &[String]) -> Self {
        let hosts = (!allowed_hosts.is_empty()).then(|| {
            allowed_hosts
                .iter()
                .filter_map(|h| plain_authority(h))
                .collect()
        });
        Self { hosts }
    }

    /// The call, when the request is one answered here.
    pub fn take(&self, parts: &Parts, body: &[u8]) -> Option<Call> {
        if parts.method != Method::POST
            || parts.headers.contains_key(ORIGIN)
            || !accepts_json_and_events(&parts.headers)
            || !single(&parts.headers, CONTENT_TYPE.as_str()).is_some_and(is_json)
            || !single(&parts.headers, HEADER_MCP_PROTOCOL_VERSION)
                .is_some_and(|v| LEGACY_VERSIONS.contains(&v))
            || !self.host_allowed(&parts.headers)
        {
            return None;
        }
        let message: Message = serde_json::from_slice(body).ok()?;
        if message.jsonrpc != "2.0" || message.method != "tools/call" {
            return None;
        }
        #[cfg(test)]
        TAKEN.with(|taken| taken.set(taken.get() + 1));
        let mut params = CallToolRequestParams::new(message.params.name);
        params.arguments = message.params.arguments;
        Some(Call {
            id: message.id,
            params,
        })
    }

    fn host_allowed(&self, headers: &HeaderMap) -> bool {
        let Some(host) = single(headers, HOST.as_str()).and_then(plain_authority) else {
            return false;
        };
        self.hosts.as_ref().is_none_or(|hosts| {
            hosts
                .iter()
                .any(|(name, port)| *name == host.0 && port.is_none_or(|port| host.1 == Some(port)))
        })
    }
}

/// Runs the call and answers as rmcp does a stateless JSON request of a client on a version
/// before 2026-07-28.
pub async fn answer(server: &McpServer, call: Call, parts: &Parts) -> Response {
    let message = match server.call(call.params, Some(parts)).await {
        Ok(result) => {
            let mut result = ServerResult::CallToolResult(result);
            result.strip_result_type_for_legacy_peer();
            result.strip_non_object_output_for_legacy_peer();
            ServerJsonRpcMessage::response(result, call.id)
        }
        Err(error) => ServerJsonRpcMessage::error(error, Some(call.id)),
    };
    match serde_json::to_vec(&message) {
        Ok(body) => (StatusCode::OK, [(CONTENT_TYPE, "application/json")], body).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// The only value of a header, as text.
fn single<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    let mut values = headers.get_all(name).iter();
    let value = values.next()?;
    values
        .next()
        .is_none()
        .then(|| value.to_str().ok())
        .flatten()
}

fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split_once(';')
        .map_or(content_type, |(e, _)| e);
    essence.trim().eq_ignore_ascii_case("application/json")
}

/// `Accept` lists `application/json` and `text/event-stream`, and no media range carries
/// parameters (a weight of zero would take one back: rmcp reads those).
fn accepts_json_and_events(headers: &HeaderMap) -> bool {
    let Some(accept) = single(headers, ACCEPT.as_str()) else {
        return false;
    };
    let (mut json, mut events) = (false, false);
    for range in accept.split(',').map(str::trim) {
        if range.contains([';', '"']) {
            return false;
        }
        json |= range.eq_ignore_ascii_case("application/json");
        events |= range.eq_ignore_ascii_case("text/event-stream");
    }
    json && events
}

/// `host` or `host:port` where the host is lower-case letters, digits, dots and hyphens:
/// what rmcp's normalization leaves as it is, so comparing the text compares what it would.
fn plain_authority(text: &str) -> Option<(String, Option<u16>)> {
    let (host, port) = match text.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (text, None),
    };
    let plain = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-';
    if host.is_empty() || !host.chars().all(plain) {
        return None;
    }
    let port = match port {
        Some(port) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => {
            Some(port.parse().ok()?)
        }
        Some(_) => return None,
        None => None,
    };
    Some((host.to_owned(), port))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn parts(headers: &[(&str, &str)]) -> Parts {
        let mut request = Request::post("/mcp");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.body(()).unwrap().into_parts().0
    }

    const PLAIN: &[(&str, &str)] = &[
        ("host", "127.0.0.1:8000"),
        ("accept", "application/json, text/event-stream"),
        ("content-type", "application/json"),
        ("mcp-protocol-version", "2025-06-18"),
    ];
    const CALL: &str =
        r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"t","arguments":{}}}"#;

    fn with(change: (&'static str, Option<&'static str>)) -> Vec<(&'static str, &'static str)> {
        let mut headers: Vec<_> = PLAIN
            .iter()
            .filter(|(n, _)| *n != change.0)
            .copied()
            .collect();
        if let Some(value) = change.1 {
            headers.push((change.0, value));
        }
        headers
    }

    #[test]
    fn takes_only_the_plain_shape() {
        let direct = DirectCalls::new(&["127.0.0.1:8000".to_owned(), "localhost".to_owned()]);
        assert!(direct.take(&parts(PLAIN), CALL.as_bytes()).is_some());
        for host in ["localhost:9", "localhost"] {
            assert!(
                direct
                    .take(&parts(&with(("host", Some(host)))), CALL.as_bytes())
                    .is_some()
            );
        }
        for change in [
            ("host", Some("127.0.0.1:8001")),
            ("host", Some("LOCALHOST")),
            ("host", Some("evil.example")),
            ("host", None),
            ("origin", Some("http://localhost:6274")),
            ("accept", Some("application/json")),
            ("accept", Some("application/json, text/event-stream;q=0")),
            ("content-type", Some("text/plain")),
            ("mcp-protocol-version", None),
            ("mcp-protocol-version", Some("2026-07-28")),
            ("mcp-protocol-version", Some("2099-01-01")),
        ] {
            assert!(
                direct
                    .take(&parts(&with(change)), CALL.as_bytes())
                    .is_none(),
                "{change:?}"
            );
        }
        for body in [
            r#"{"jsonrpc":"2.0","id":7,"method":"tools/list"}"#,
            r#"{"jsonrpc":"1.0","id":7,"method":"tools/call","params":{"name":"t"}}"#,
            r#"{"jsonrpc":"2.0","method":"tools/call","params":{"name":"t"}}"#,
            r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"t","_meta":{}}}"#,
            r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"t"},"x":1}"#,
            r#"[{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"t"}}]"#,
        ] {
            assert!(
                direct.take(&parts(PLAIN), body.as_bytes()).is_none(),
                "{body}"
            );
        }
        let any = DirectCalls::new(&[]);
        assert!(
            any.take(
                &parts(&with(("host", Some("evil.example")))),
                CALL.as_bytes()
            )
            .is_some()
        );
    }
}
