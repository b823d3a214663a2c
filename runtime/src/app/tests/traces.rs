//! Traces in process: the spans a tool call makes, their parents and attributes, and the
//! trace context the upstream receives, with export on (spans recorded in memory) and off.

use super::*;
use opentelemetry::trace::{SpanKind, Status};
use opentelemetry_sdk::trace::SpanData;

const CALLER_TRACE: &str = "0af7651916cd43dd8448eb211c80319c";
const CALLER_SPAN: &str = "b7ad6b7169203331";
const META_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const META_SPAN: &str = "00f067aa0ba902b7";

fn traceparent(trace: &str, span: &str) -> String {
    format!("00-{trace}-{span}-01")
}

/// `call("open")` with these headers and `_meta`; the upstream's echo of what it received.
async fn call_open(app: &Router, headers: &[(&'static str, String)], meta: Option<Value>) -> Value {
    let mut message = call("open");
    if let Some(meta) = meta {
        message["params"]["_meta"] = meta;
    }
    let mut headers = headers.to_vec();
    headers.push(("mcp-protocol-version", "2025-06-18".to_owned()));
    let answer = send(app, None, message, &headers).await;
    assert_eq!(answer.status, StatusCode::OK);
    let result = &answer.body["result"];
    assert_eq!(result["isError"], false, "{result}");
    serde_json::from_str(result["content"][0]["text"].as_str().unwrap()).unwrap()
}

fn attribute(span: &SpanData, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.to_string())
}

/// The app over `MIXED_TOOLS` in challenge `mode`, its spans recorded as they end; the issuer
/// must live as long as the app.
async fn exporting(mode: &str) -> (Router, Recorded, TestIssuer) {
    let issuer = TestIssuer::start().await;
    let (tracing, spans) = crate::telemetry::recording();
    let app = app_traced(catalog(MIXED_TOOLS), mode, &issuer, &[], tracing).await;
    (app, spans, issuer)
}

type Recorded = std::sync::Arc<std::sync::Mutex<Vec<SpanData>>>;

/// The spans recorded so far, taken.
fn taken(spans: &Recorded) -> Vec<SpanData> {
    std::mem::take(&mut *spans.lock().unwrap())
}

#[tokio::test]
async fn without_export_the_callers_context_passes_through_and_none_is_made_up() {
    let issuer = TestIssuer::start().await;
    let app = app_traced(
        catalog(MIXED_TOOLS),
        "tool",
        &issuer,
        &[],
        Tracing::default(),
    )
    .await;
    let sent = traceparent(CALLER_TRACE, CALLER_SPAN);
    let header = [
        ("traceparent", sent.clone()),
        ("tracestate", "congo=t61rcWkgMzE".to_owned()),
    ];
    let seen = call_open(&app, &header, None).await;
    assert_eq!(seen["headers"]["traceparent"], sent.as_str());
    assert_eq!(seen["headers"]["tracestate"], "congo=t61rcWkgMzE");
    // None sent, none received.
    let seen = call_open(&app, &[], None).await;
    assert_eq!(seen["headers"].get("traceparent"), None, "{seen}");
    // `_meta` wins over the header.
    let meta = json!({"traceparent": traceparent(META_TRACE, META_SPAN)});
    let seen = call_open(&app, &header, Some(meta)).await;
    assert_eq!(
        seen["headers"]["traceparent"],
        traceparent(META_TRACE, META_SPAN).as_str()
    );
    assert_eq!(seen["headers"].get("tracestate"), None, "{seen}");
    // Malformed: ignored, as if absent.
    let bad = [("traceparent", format!("00-{CALLER_TRACE}-{CALLER_SPAN}-1"))];
    let seen = call_open(&app, &bad, None).await;
    assert_eq!(seen["headers"].get("traceparent"), None, "{seen}");
    // OTEL_PROPAGATORS=none: nothing read, nothing passed on.
    let settings = crate::telemetry::Settings::from_lookup(
        |n| (n == "OTEL_PROPAGATORS").then(|| "none".to_owned()),
        "t",
    )
    .unwrap();
    let off = crate::telemetry::Telemetry::start(&settings, "1", tokio::runtime::Handle::current())
        .unwrap()
        .tracing();
    let app = app_traced(catalog(MIXED_TOOLS), "tool", &issuer, &[], off).await;
    let seen = call_open(&app, &header, None).await;
    assert_eq!(seen["headers"].get("traceparent"), None, "{seen}");
}

#[tokio::test]
async fn a_tool_call_makes_a_server_span_and_a_client_span_in_the_callers_trace() {
    let (app, spans, _issuer) = exporting("tool").await;
    let header = [("traceparent", traceparent(CALLER_TRACE, CALLER_SPAN))];
    let seen = call_open(&app, &header, None).await;
    let spans = taken(&spans);
    let [client, server] = spans.as_slice() else {
        panic!("two spans expected: {spans:#?}");
    };

    assert_eq!(server.name, "tools/call open");
    assert_eq!(server.span_kind, SpanKind::Server);
    assert_eq!(server.span_context.trace_id().to_string(), CALLER_TRACE);
    assert_eq!(server.parent_span_id.to_string(), CALLER_SPAN);
    assert!(server.parent_span_is_remote);
    assert_eq!(
        attribute(server, "mcp.method.name").as_deref(),
        Some("tools/call")
    );
    assert_eq!(
        attribute(server, "gen_ai.tool.name").as_deref(),
        Some("open")
    );
    assert_eq!(
        attribute(server, "jsonrpc.request.id").as_deref(),
        Some("7")
    );
    assert_eq!(
        attribute(server, "mcp.protocol.version").as_deref(),
        Some("2025-06-18")
    );
    assert_eq!(
        attribute(server, "http.response.status_code").as_deref(),
        Some("200")
    );
    assert_eq!(server.status, Status::Unset);

    assert_eq!(client.name, "GET /items/{id}");
    assert_eq!(client.span_kind, SpanKind::Client);
    assert_eq!(
        client.span_context.trace_id(),
        server.span_context.trace_id()
    );
    assert_eq!(client.parent_span_id, server.span_context.span_id());
    assert_eq!(
        attribute(client, "url.template").as_deref(),
        Some("/items/{id}")
    );
    assert_eq!(
        attribute(client, "http.request.method").as_deref(),
        Some("GET")
    );
    assert_eq!(
        attribute(client, "server.address").as_deref(),
        Some("127.0.0.1")
    );
    assert_eq!(
        attribute(client, "http.response.status_code").as_deref(),
        Some("200")
    );
    // The argument (id 3) is in no attribute.
    for span in [client, server] {
        assert!(
            span.attributes
                .iter()
                .all(|kv| !kv.value.to_string().contains("3/")
                    && !kv.value.to_string().ends_with("/3")),
            "{:?}",
            span.attributes
        );
    }

    // The upstream is a child of the client span, in the caller's trace.
    let expected = format!("00-{CALLER_TRACE}-{}-01", client.span_context.span_id());
    assert_eq!(seen["headers"]["traceparent"], expected.as_str());
}

#[tokio::test]
async fn meta_context_is_the_parent_and_the_header_a_link() {
    let (app, spans, _issuer) = exporting("tool").await;
    let header = [("traceparent", traceparent(CALLER_TRACE, CALLER_SPAN))];
    let meta = json!({"traceparent": traceparent(META_TRACE, META_SPAN), "tracestate": "rojo=1"});
    let seen = call_open(&app, &header, Some(meta)).await;
    let spans = taken(&spans);
    let server = spans
        .iter()
        .find(|s| s.span_kind == SpanKind::Server)
        .unwrap();
    assert_eq!(server.span_context.trace_id().to_string(), META_TRACE);
    assert_eq!(server.parent_span_id.to_string(), META_SPAN);
    let links: Vec<String> = server
        .links
        .iter()
        .map(|l| l.span_context.span_id().to_string())
        .collect();
    assert_eq!(links, [CALLER_SPAN]);
    let upstream = seen["headers"]["traceparent"].as_str().unwrap();
    assert!(
        upstream.starts_with(&format!("00-{META_TRACE}-")),
        "{upstream}"
    );
    assert_eq!(seen["headers"]["tracestate"], "rojo=1");
}

#[tokio::test]
async fn without_a_caller_context_the_server_starts_the_trace() {
    let (app, spans, _issuer) = exporting("tool").await;
    let seen = call_open(&app, &[], None).await;
    let spans = taken(&spans);
    let server = spans
        .iter()
        .find(|s| s.span_kind == SpanKind::Server)
        .unwrap();
    let client = spans
        .iter()
        .find(|s| s.span_kind == SpanKind::Client)
        .unwrap();
    assert_eq!(server.parent_span_id, opentelemetry::trace::SpanId::INVALID);
    let expected = format!(
        "00-{}-{}-01",
        server.span_context.trace_id(),
        client.span_context.span_id()
    );
    assert_eq!(seen["headers"]["traceparent"], expected.as_str());
}

#[tokio::test]
async fn refusals_and_tool_errors_mark_the_span_as_an_error() {
    let (app, spans, _issuer) = exporting("http").await;
    // A forged token: refused before the body is read.
    let answer = post(&app, Some("not-a-token"), call("guarded")).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    // No token for a protected tool in HTTP challenge mode: refused once the body is read.
    let answer = post(&app, None, call("guarded")).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    // Arguments that break the schema: a tool error, no upstream request.
    let bad = json!({"jsonrpc": "2.0", "id": 8, "method": "tools/call",
                     "params": {"name": "open", "arguments": {"id": "x"}}});
    let answer = post(&app, None, bad).await;
    assert_eq!(answer.body["result"]["isError"], true);
    let spans = taken(&spans);
    let summary: Vec<(String, Option<String>, Status)> = spans
        .iter()
        .map(|s| {
            (
                s.name.to_string(),
                attribute(s, "error.type"),
                s.status.clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "POST /mcp".to_owned(),
                Some("401".to_owned()),
                Status::error("HTTP 401")
            ),
            (
                "tools/call guarded".to_owned(),
                Some("401".to_owned()),
                Status::error("HTTP 401")
            ),
            (
                "tools/call open".to_owned(),
                Some("tool_error".to_owned()),
                Status::error("invalid_arguments")
            ),
        ]
    );
    assert!(spans.iter().all(|s| s.span_kind == SpanKind::Server));
}
