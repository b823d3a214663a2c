//! The server's spans, named and attributed after the OpenTelemetry semantic conventions for
//! MCP (`{mcp.method.name} {gen_ai.tool.name}`, kind server) and for HTTP clients
//! (`{http.request.method} {url.template}`, kind client). Every attribute is a name the server
//! fixes or a value from a bounded set: never a token, a caller, an argument or a full URL.
//!
//! The MCP request's span starts when the request arrives but is only created once its body
//! is read, because the body's `params._meta` may name its parent: the span is then built with
//! the arrival time as its start.

use std::borrow::Cow;
use std::time::SystemTime;

use axum::http::{HeaderMap, Method};
use opentelemetry::trace::{
    Link, Span as _, SpanContext, SpanKind, Status, TraceContextExt, Tracer as _,
};
use opentelemetry::{Context, KeyValue};
use reqwest::Url;
use serde_json::Value;

use crate::telemetry::context::{inject, remote_from_headers, remote_from_meta};
use crate::telemetry::{CallContext, Tracing};

/// `mcp.method.name` values: the protocol's methods; any other name is `_OTHER`, so a caller
/// cannot make up span names.
const MCP_METHODS: &[&str] = &[
    "completion/complete",
    "initialize",
    "logging/setLevel",
    "notifications/cancelled",
    "notifications/initialized",
    "notifications/message",
    "notifications/progress",
    "notifications/roots/list_changed",
    "ping",
    "prompts/get",
    "prompts/list",
    "resources/list",
    "resources/read",
    "resources/subscribe",
    "resources/templates/list",
    "resources/unsubscribe",
    "server/discover",
    "subscriptions/listen",
    "tools/call",
    "tools/list",
];
/// The HTTP route every MCP request comes by.
const ROUTE: &str = "/mcp";

/// What the body of an MCP request tells its span.
#[derive(Default)]
pub struct Rpc<'a> {
    pub method: Option<&'a str>,
    /// The tool called, when it is one this server serves (a name it fixed).
    pub tool: Option<&'static str>,
    pub id: Option<&'a Value>,
    /// `params._meta.traceparent` and `tracestate`.
    pub traceparent: Option<&'a str>,
    pub tracestate: Option<&'a str>,
}

/// How an MCP request ended, for its span's status.
pub struct Ended<'a> {
    pub http_status: u16,
    /// A tool call's outcome (`200`, `invalid_arguments`, `refused:…`) and whether its result
    /// was an error.
    pub tool_outcome: Option<(&'a str, bool)>,
}

/// One MCP request's trace: the caller's context from the headers, then the span.
pub struct RequestTrace<'a> {
    tracing: &'a Tracing,
    /// When exporting: the arrival time, the span's start.
    arrived: Option<SystemTime>,
    http_method: Method,
    protocol_version: Option<String>,
    from_headers: Option<SpanContext>,
    /// The span, once started (exporting only).
    span: Option<Context>,
}

impl<'a> RequestTrace<'a> {
    /// At arrival: reads the headers' `traceparent` (unless propagation is off) and, when
    /// exporting, notes the time.
    pub fn begin(tracing: &'a Tracing, method: &Method, headers: &HeaderMap) -> Self {
        let exporting = tracing.exporting();
        Self {
            tracing,
            arrived: exporting.then(SystemTime::now),
            http_method: method.clone(),
            protocol_version: if exporting {
                protocol_version(headers)
            } else {
                None
            },
            from_headers: if tracing.propagate {
                remote_from_headers(headers)
            } else {
                None
            },
            span: None,
        }
    }

    /// Once the body is read: starts the span (exporting) and returns the context the call
    /// runs in, `None` when there is none to pass on. The parent is the context in
    /// `params._meta` when there is one, as the MCP semantic conventions say (it belongs to
    /// this very MCP request, where an HTTP header belongs to the transport, which a proxy or
    /// a client's HTTP layer may have set); a different one in the headers becomes a link.
    pub fn call_context(&mut self, rpc: &Rpc<'_>) -> Option<CallContext> {
        let from_meta = if self.tracing.propagate {
            remote_from_meta(rpc.traceparent, rpc.tracestate)
        } else {
            None
        };
        if !self.tracing.exporting() {
            let parent = from_meta.or_else(|| self.from_headers.clone())?;
            return Some(CallContext(Context::new().with_remote_span_context(parent)));
        }
        Some(CallContext(self.start(rpc, from_meta)))
    }

    fn start(&mut self, rpc: &Rpc<'_>, from_meta: Option<SpanContext>) -> Context {
        let Some(tracer) = &self.tracing.tracer else {
            return Context::new();
        };
        let method = rpc.method.map(|m| {
            MCP_METHODS
                .iter()
                .find(|known| **known == m)
                .copied()
                .unwrap_or("_OTHER")
        });
        let name: Cow<'static, str> = match (method, rpc.tool) {
            (Some(method @ "tools/call"), Some(tool)) => format!("{method} {tool}").into(),
            (Some(method), _) if method != "_OTHER" => method.into(),
            _ => format!("{} {ROUTE}", self.http_method).into(),
        };
        let mut attributes = vec![
            KeyValue::new("network.transport", "tcp"),
            KeyValue::new("network.protocol.name", "http"),
            KeyValue::new("http.request.method", self.http_method.to_string()),
            KeyValue::new("http.route", ROUTE),
        ];
        if let Some(method) = method {
            attributes.push(KeyValue::new("mcp.method.name", method));
        }
        if let Some(tool) = rpc.tool {
            attributes.push(KeyValue::new("gen_ai.tool.name", tool));
            attributes.push(KeyValue::new("gen_ai.operation.name", "execute_tool"));
        }
        if let Some(id) = rpc.id.and_then(request_id) {
            attributes.push(KeyValue::new("jsonrpc.request.id", id));
        }
        if let Some(version) = self.protocol_version.take() {
            attributes.push(KeyValue::new("mcp.protocol.version", version));
        }
        let (parent, link) = match (from_meta, self.from_headers.take()) {
            (Some(meta), Some(header)) if header.span_id() != meta.span_id() => {
                (Some(meta), Some(header))
            }
            (Some(meta), _) => (Some(meta), None),
            (None, header) => (header, None),
        };
        let parent = match parent {
            Some(span) => Context::new().with_remote_span_context(span),
            None => Context::new(),
        };
        let mut builder = tracer
            .span_builder(name)
            .with_kind(SpanKind::Server)
            .with_attributes(attributes);
        if let Some(start) = self.arrived {
            builder = builder.with_start_time(start);
        }
        if let Some(link) = link {
            builder = builder.with_links(vec![Link::with_context(link)]);
        }
        let span = builder.start_with_context(tracer, &parent);
        let cx = parent.with_span(span);
        self.span = Some(cx.clone());
        cx
    }

    /// At the end of the request: the span's outcome, and its end. A request refused before
    /// its body was read gets its span here.
    pub fn finish(mut self, ended: Ended<'_>) {
        if !self.tracing.exporting() {
            return;
        }
        let cx = match self.span.take() {
            Some(cx) => cx,
            None => self.start(&Rpc::default(), None),
        };
        let span = cx.span();
        span.set_attribute(KeyValue::new(
            "http.response.status_code",
            i64::from(ended.http_status),
        ));
        if ended.http_status >= 400 {
            // Refused (401, 403, 413, 429, 503) or failed: the MCP request did not happen.
            span.set_attribute(KeyValue::new("error.type", ended.http_status.to_string()));
            span.set_status(Status::error(format!("HTTP {}", ended.http_status)));
        } else if let Some((outcome, true)) = ended.tool_outcome {
            span.set_attribute(KeyValue::new("error.type", "tool_error"));
            let description = match outcome.parse::<u16>() {
                Ok(status) => format!("upstream status {status}"),
                Err(_) => outcome.to_owned(),
            };
            span.set_status(Status::error(description));
        }
        span.end();
    }
}

/// `MCP-Protocol-Version` when it has the shape of one (a date), so no caller text lands on
/// the span.
fn protocol_version(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("mcp-protocol-version")?.to_str().ok()?;
    let shaped = value.len() == 10
        && value.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    shaped.then(|| value.to_owned())
}

/// Numeric ids only: a string id is the client's free text, which may name its user.
fn request_id(id: &Value) -> Option<String> {
    match id {
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// One upstream request's span (exporting), or nothing. Boxed: it lives across the request's
/// awaits, and unboxed it would add its few hundred bytes to every call's future.
pub struct ClientSpan(Option<Box<opentelemetry_sdk::trace::Span>>);

impl ClientSpan {
    /// Starts the span of one upstream request in the call's context, and writes the trace
    /// context onto the request's headers: this span's when exporting, else the caller's own,
    /// as it came. Nothing when there is no context (none is made up) or propagation is off.
    pub fn start(
        tracing: &Tracing,
        method: &reqwest::Method,
        template: &str,
        base: Option<&Url>,
        headers: &mut reqwest::header::HeaderMap,
    ) -> Self {
        let Some(tracer) = &tracing.tracer else {
            if tracing.propagate {
                let cx = Context::current();
                if cx.span().span_context().is_valid() {
                    inject(&cx, headers);
                }
            }
            return Self(None);
        };
        // The operation's path template, never the URL sent (its path and query carry
        // argument values, its query maybe a key), nor UPSTREAM_BASE_URL's path (some APIs
        // put the key there, as in `/bot<token>/`).
        let url_template = template.to_owned();
        let mut attributes = vec![
            KeyValue::new("http.request.method", method.to_string()),
            KeyValue::new("url.template", url_template.clone()),
        ];
        if let Some(base) = base {
            attributes.push(KeyValue::new("url.scheme", base.scheme().to_owned()));
            if let Some(host) = base.host_str() {
                attributes.push(KeyValue::new("server.address", host.to_owned()));
            }
            if let Some(port) = base.port_or_known_default() {
                attributes.push(KeyValue::new("server.port", i64::from(port)));
            }
        }
        let span = tracer
            .span_builder(format!("{method} {url_template}"))
            .with_kind(SpanKind::Client)
            .with_attributes(attributes)
            .start_with_context(tracer, &Context::current());
        if tracing.propagate {
            let cx = Context::new().with_remote_span_context(span.span_context().clone());
            inject(&cx, headers);
        }
        Self(Some(Box::new(span)))
    }

    /// The upstream's status, or why there was none (`upstream_timeout`, …); then the end.
    pub fn end(self, result: Result<u16, &str>) {
        let Some(mut span) = self.0 else {
            return;
        };
        match result {
            Ok(status) => {
                span.set_attribute(KeyValue::new(
                    "http.response.status_code",
                    i64::from(status),
                ));
                if status >= 400 {
                    span.set_attribute(KeyValue::new("error.type", status.to_string()));
                    span.set_status(Status::error(String::new()));
                }
            }
            Err(outcome) => {
                span.set_attribute(KeyValue::new("error.type", outcome.to_owned()));
                span.set_status(Status::error(outcome.to_owned()));
            }
        }
        span.end();
    }
}
