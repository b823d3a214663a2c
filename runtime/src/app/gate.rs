//! The axum middleware in front of `/mcp`: verifies the bearer token, answers with HTTP
//! challenges where the design asks for them, hands the verified [`Principal`] to the MCP
//! handler through request extensions, adds top-level `securitySchemes` to `tools/list`
//! responses, writes one access-log line per request and counts it in the metrics (when the
//! app carries an `Arc<Metrics>` extension). It also bounds what one request
//! may cost: concurrent requests, time to send the body and to answer, the size and shape of
//! the JSON; the token is checked before the body is read.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::header::{
    AUTHORIZATION, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE,
};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rmcp::model::ProtocolVersion;
use rmcp::transport::common::http_header::HEADER_MCP_PROTOCOL_VERSION;
use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use crate::app::rate_limit::{self, CallerKey, RateLimit};
use crate::auth::challenge::Challenger;
use crate::auth::metadata;
use crate::auth::{self, Bearer, Principal, Verifier};
use crate::catalog::{Catalog, CatalogRole, ToolMode, ToolSpec};
use crate::config::{Bounds, ChallengeMode};
use crate::mcp::listing;
use crate::mcp::server::{CallLog, CallOutcome};
use crate::metrics::{Metrics, Outcome, Refusal};
use crate::telemetry::{self, RequestTrace, Tracing};
use crate::upstream::credentials::CallerToken;
use crate::validate::{self, Limits};

/// The JSON-RPC error code of a call refused by the rate limit (implementation-defined range).
const RATE_LIMITED: i64 = -32029;
/// Same bound as rmcp's own request limit.
pub const MAX_REQUEST_BYTES: usize = 4 * 1024 * 1024;
/// A tools/list response is rewritten only up to this size (and passed through beyond).
const MAX_LIST_BYTES: usize = 64 * 1024 * 1024;

pub struct Gate {
    catalog: &'static Catalog,
    /// `None`: OAuth is off (no issuer configured, every tool anonymous).
    verifier: Option<Verifier>,
    challenger: Challenger,
    mode: ChallengeMode,
    /// Whether a call names its operation itself or through catalog mode's `call_operation`.
    tool_mode: ToolMode,
    /// The operations `TOOLSETS` serves; calls to others are left to the handler, which
    /// answers as for any unknown name.
    served: Vec<bool>,
    /// Set when every tool needs a token: then any request without one is refused.
    missing_token_challenge: Option<String>,
    /// One permit per request being served; none left means busy.
    requests: Arc<Semaphore>,
    body_timeout: Duration,
    request_timeout: Duration,
    /// The argument limits, widened to the JSON-RPC message that carries them.
    message_limits: Limits,
    /// `RATE_LIMIT_PER_MINUTE`: tool calls each caller may make.
    rate_limit: Option<RateLimit>,
    /// The span of each request, and the trace context it passes on.
    tracing: Tracing,
}

/// Who the request is from, as far as its headers tell.
#[derive(Default)]
struct Caller {
    principal: Option<Principal>,
    /// Kept aside (not as a header) for upstream schemes that act as the caller.
    token: Option<CallerToken>,
}

/// The JSON-RPC method and, for `tools/call`, the tool name of a request body.
#[derive(Debug, Default, PartialEq)]
struct RpcInfo {
    method: Option<String>,
    tool: Option<String>,
    /// `arguments.operation` of a `tools/call`: the operation catalog mode's
    /// `call_operation` runs.
    operation: Option<String>,
    /// The request id, when it is a string or a number.
    id: Option<Value>,
    /// `params._meta.traceparent` and `tracestate` (W3C trace context, MCP 2026-07-28).
    traceparent: Option<String>,
    tracestate: Option<String>,
}

/// A `tools/call` the gate answered itself (a refusal, arguments over a limit, a timeout),
/// left in the response's extensions for the metrics.
#[derive(Clone)]
struct GateAnswer {
    tool: String,
    outcome: Outcome,
}

/// Reads the fields the gate needs, skipping the rest unbuilt (the body may be over a limit).
fn peek(body: &[u8]) -> RpcInfo {
    #[derive(Deserialize)]
    struct Params {
        name: Option<String>,
        /// `arguments.operation`.
        #[serde(default, rename = "arguments", deserialize_with = "operation")]
        operation: Option<String>,
        /// `_meta.traceparent` and `_meta.tracestate`.
        #[serde(default, rename = "_meta", deserialize_with = "trace_context")]
        trace: [Option<String>; 2],
    }
    fn operation<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        let [operation] = d.deserialize_any(Strings(["operation"]))?;
        Ok(operation)
    }
    fn trace_context<'de, D: Deserializer<'de>>(d: D) -> Result<[Option<String>; 2], D::Error> {
        d.deserialize_any(Strings(["traceparent", "tracestate"]))
    }
    /// The string values at these keys of an object; other values and keys, and a value of
    /// any other JSON type, are skipped unread.
    struct Strings<const N: usize>([&'static str; N]);
    impl<'de, const N: usize> Visitor<'de> for Strings<N> {
        type Value = [Option<String>; N];
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("any JSON value")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut found = [const { None }; N];
            while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                match self.0.iter().position(|k| *k == key) {
                    Some(i) => {
                        found[i] = match map.next_value::<Scalar>()?.0 {
                            Some(Value::String(text)) => Some(text),
                            _ => None,
                        }
                    }
                    None => map.next_value::<IgnoredAny>().map(drop)?,
                }
            }
            Ok(found)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok([const { None }; N])
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok([const { None }; N])
        }
        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok([const { None }; N])
        }
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok([const { None }; N])
        }
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok([const { None }; N])
        }
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok([const { None }; N])
        }
        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok([const { None }; N])
        }
    }
    #[derive(Deserialize)]
    struct Message {
        method: Option<String>,
        params: Option<Params>,
        id: Option<Scalar>,
    }
    /// A string or a number (the request id, a `_meta` value); anything else, skipped
    /// unread, as nothing.
    struct Scalar(Option<Value>);
    impl<'de> Deserialize<'de> for Scalar {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            deserializer.deserialize_any(ScalarVisitor).map(Scalar)
        }
    }
    struct ScalarVisitor;
    impl<'de> Visitor<'de> for ScalarVisitor {
        type Value = Option<Value>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a string or a number")
        }
        fn visit_u64<E>(self, n: u64) -> Result<Self::Value, E> {
            Ok(Some(n.into()))
        }
        fn visit_i64<E>(self, n: i64) -> Result<Self::Value, E> {
            Ok(Some(n.into()))
        }
        fn visit_f64<E>(self, n: f64) -> Result<Self::Value, E> {
            Ok(Some(n.into()))
        }
        fn visit_str<E>(self, text: &str) -> Result<Self::Value, E> {
            Ok(Some(text.into()))
        }
        // Unread like the rest: a `true` must not fail the whole peek, which would leave a
        // call uncounted by the rate limit and the metrics.
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(None)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(None)
        }
    }
    let Ok(message) = serde_json::from_slice::<Message>(body) else {
        return RpcInfo::default();
    };
    let (tool, operation, [traceparent, tracestate]) = match message.params {
        Some(Params {
            name,
            operation,
            trace,
        }) if message.method.as_deref() == Some("tools/call") => (name, operation, trace),
        Some(Params { trace, .. }) => (None, None, trace),
        None => (None, None, [None, None]),
    };
    RpcInfo {
        method: message.method,
        tool,
        operation,
        id: message.id.and_then(|id| id.0),
        traceparent,
        tracestate,
    }
}

impl Gate {
    pub fn new(
        catalog: &'static Catalog,
        verifier: Option<Verifier>,
        challenger: Challenger,
        mode: ChallengeMode,
        tool_mode: ToolMode,
        served: Vec<bool>,
        bounds: &Bounds,
    ) -> Self {
        assert_eq!(
            served.len(),
            catalog.tools.len(),
            "one served flag per tool"
        );
        let missing_token_challenge = every_tool_protected(catalog, &served)
            .then(|| challenger.missing_token(&metadata::all_scopes(catalog, &served)));
        Self {
            catalog,
            verifier,
            challenger,
            mode,
            tool_mode,
            served,
            missing_token_challenge,
            requests: Arc::new(Semaphore::new(bounds.max_requests)),
            body_timeout: bounds.body_timeout,
            request_timeout: bounds.request_timeout,
            message_limits: bounds
                .arguments
                .for_message(usize::from(tool_mode == ToolMode::Catalog)),
            rate_limit: None,
            tracing: Tracing::default(),
        }
    }

    /// Spans for each request, and the trace context passed on (default: passed through).
    pub fn with_tracing(mut self, tracing: Tracing) -> Self {
        self.tracing = tracing;
        self
    }

    /// The tool a `tools/call` names, when this server serves it: a name of its own, safe
    /// for a span.
    fn served_tool(&self, rpc: &RpcInfo) -> Option<&'static str> {
        let tool = rpc.tool.as_deref()?;
        match self.tool_mode {
            ToolMode::Tools => self.called_operation(rpc).map(|spec| spec.name),
            ToolMode::Catalog => self
                .catalog
                .catalog_tools
                .iter()
                .find(|t| t.name == tool)
                .map(|t| t.name),
        }
    }

    /// The tool a `tools/call` the gate answers itself is counted as: the operation it would
    /// have run, else the tool it names (`count` keeps only served ones).
    fn counted_as(&self, rpc: &RpcInfo) -> Option<String> {
        self.called_operation(rpc)
            .map(|spec| spec.name)
            .or(rpc.tool.as_deref())
            .map(str::to_owned)
    }

    /// Whether tool `index` (the operations in catalog order, then catalog mode's tools)
    /// is one this server serves: a name a caller sends for any other gets no series, so
    /// callers cannot make one per tool of a big catalog that `TOOLSETS` narrows.
    fn serves(&self, index: usize) -> bool {
        match self.served.get(index) {
            Some(served) => *served,
            None => self.tool_mode == ToolMode::Catalog,
        }
    }

    pub fn with_rate_limit(mut self, rate_limit: Option<RateLimit>) -> Self {
        self.rate_limit = rate_limit;
        self
    }

    /// A `tools/call` over its caller's rate limit: 429 with `Retry-After`, before the tool
    /// runs. Other methods cost no upstream call and are not counted.
    fn over_rate_limit(&self, rpc: &RpcInfo, caller: Option<CallerKey>) -> Option<Response> {
        let (limit, caller) = (self.rate_limit.as_ref()?, caller?);
        if rpc.method.as_deref() != Some("tools/call") {
            return None;
        }
        let wait = limit.check(&caller).err()?;
        let secs = rate_limit::retry_after_secs(wait);
        tracing::info!(
            tool = rpc.tool.as_deref().unwrap_or("-"),
            retry_after_secs = secs,
            "tool call refused: caller over RATE_LIMIT_PER_MINUTE"
        );
        let message = format!("Rate limit reached for this caller; retry after {secs} s.");
        let body = json!({
            "jsonrpc": "2.0",
            "id": rpc.id,
            "error": {"code": RATE_LIMITED, "message": message},
        });
        let mut response = (
            StatusCode::TOO_MANY_REQUESTS,
            [(CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response();
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(secs));
        if let Some(tool) = self.counted_as(rpc) {
            response.extensions_mut().insert(GateAnswer {
                tool,
                outcome: Outcome::RateLimited,
            });
        }
        Some(response)
    }

    /// Checks the token from the headers alone, so a request that cannot be admitted is
    /// refused before its body is read. `Err` is the response that refuses the request.
    async fn authenticate(&self, parts: &mut Parts) -> Result<Caller, Response> {
        let Some(verifier) = &self.verifier else {
            parts.headers.remove(AUTHORIZATION);
            return Ok(Caller::default());
        };
        // RFC 6750 §2.3 / MCP: never from the query string; refused so the client learns why.
        if has_query_token(parts.uri.query()) {
            tracing::warn!(
                reason = "access_token in the query string",
                "rejected request"
            );
            let description = "Access tokens are accepted only in the Authorization header.";
            let challenge = self.challenger.invalid_request(description);
            let mut refusal = refuse(
                StatusCode::UNAUTHORIZED,
                "invalid_request",
                description,
                &challenge,
            );
            refusal.extensions_mut().insert(Refusal::TokenInQuery);
            return Err(refusal);
        }
        let mut caller_token = None;
        let principal = match auth::bearer(&parts.headers) {
            Bearer::Token(token) => match verifier.verify(token).await {
                Ok(principal) => {
                    caller_token = Some(CallerToken::new(token));
                    Some(principal)
                }
                Err(rejection) => {
                    tracing::warn!(reason = %rejection.reason, "rejected access token");
                    let challenge = self.challenger.invalid_token(rejection.description);
                    return Err(refuse(
                        StatusCode::UNAUTHORIZED,
                        "invalid_token",
                        rejection.description,
                        &challenge,
                    ));
                }
            },
            Bearer::Malformed(description) => {
                tracing::warn!(reason = description, "rejected Authorization header");
                let challenge = self.challenger.invalid_token(description);
                return Err(refuse(
                    StatusCode::UNAUTHORIZED,
                    "invalid_token",
                    description,
                    &challenge,
                ));
            }
            Bearer::Absent => None,
        };
        // Nothing downstream may see, let alone forward, the client's credential.
        parts.headers.remove(AUTHORIZATION);

        if principal.is_none()
            && let Some(challenge) = &self.missing_token_challenge
        {
            tracing::info!(reason = "no access token", "authorization required");
            return Err(refuse(
                StatusCode::UNAUTHORIZED,
                "invalid_request",
                "An access token is required.",
                challenge,
            ));
        }
        Ok(Caller {
            principal,
            token: caller_token,
        })
    }

    /// The operation a `tools/call` runs: the tool's own in tool mode, the named one through
    /// catalog mode's `call_operation`.
    fn called_operation(&self, rpc: &RpcInfo) -> Option<&'static ToolSpec> {
        let name = match self.tool_mode {
            ToolMode::Tools => rpc.tool.as_deref()?,
            ToolMode::Catalog => {
                let tool = rpc.tool.as_deref()?;
                let calls = self
                    .catalog
                    .catalog_tools
                    .iter()
                    .any(|t| t.role == CatalogRole::Call && t.name == tool);
                if !calls {
                    return None;
                }
                rpc.operation.as_deref()?
            }
        };
        let i = self.catalog.tools.iter().position(|t| t.name == name)?;
        self.served[i].then(|| &self.catalog.tools[i])
    }

    /// What the body adds: in HTTP challenge mode, the called tool's own requirements.
    /// `Err` is the response that refuses the request.
    async fn admit(
        &self,
        parts: &mut Parts,
        rpc: &RpcInfo,
        caller: Caller,
    ) -> Result<(), Response> {
        let Caller {
            principal,
            token: caller_token,
        } = caller;
        if self.verifier.is_some()
            && self.mode == ChallengeMode::Http
            && rpc.method.as_deref() == Some("tools/call")
            && let Some(spec) = self.called_operation(rpc)
        {
            let decision = auth::authorize(&spec.access, principal.as_ref());
            if let Some(refusal) = self.challenger.refusal(spec.name, &spec.access, &decision) {
                tracing::info!(
                    tool = spec.name,
                    reason = refusal.error,
                    "tool call refused"
                );
                let mut response = refuse(
                    refusal.status,
                    refusal.error,
                    &refusal.message,
                    &refusal.challenge,
                );
                response.extensions_mut().insert(GateAnswer {
                    tool: spec.name.to_owned(),
                    outcome: Outcome::refused(refusal.error),
                });
                return Err(response);
            }
        }
        if let Some(principal) = principal {
            parts.extensions.insert::<Principal>(principal);
        }
        if let Some(token) = caller_token {
            parts.extensions.insert::<CallerToken>(token);
        }
        Ok(())
    }
}

/// Every tool needs a token, so with OAuth on, a request without one (even `tools/list`) is
/// refused.
pub fn every_tool_protected(catalog: &Catalog, served: &[bool]) -> bool {
    let mut tools = catalog
        .tools
        .iter()
        .zip(served)
        .filter(|(_, served)| **served)
        .peekable();
    tools.peek().is_some() && tools.all(|(t, _)| !t.access.anonymous)
}

fn has_query_token(query: Option<&str>) -> bool {
    query.is_some_and(|q| {
        q.split('&')
            .any(|pair| pair.split('=').next() == Some("access_token"))
    })
}

fn refuse(status: StatusCode, error: &str, description: &str, challenge: &str) -> Response {
    let body = json!({"error": error, "error_description": description}).to_string();
    let mut response = (status, [(CONTENT_TYPE, "application/json")], body).into_response();
    if let Ok(value) = HeaderValue::from_str(challenge) {
        response.headers_mut().insert(WWW_AUTHENTICATE, value);
    }
    response.extensions_mut().insert(Refusal::of_error(error));
    response
}

/// Counts one request to `/mcp`: its refusal, its tool call.
fn count(
    gate: &Gate,
    metrics: &Metrics,
    call: Option<&CallOutcome>,
    response: &Response,
    elapsed: Duration,
) {
    let refusal = response.extensions().get::<Refusal>().copied();
    if let Some(reason) = refusal.or_else(|| call.and_then(|c| c.kind.refusal())) {
        metrics.refused(reason);
    }
    if let Some(call) = call {
        metrics.tool_call(call.index, call.kind, elapsed);
        if let Some((class, took)) = call.upstream {
            metrics.upstream_request(call.index, class, took);
        }
    } else if let Some(answer) = response.extensions().get::<GateAnswer>()
        && let Some(index) = metrics.index_of(&answer.tool)
        && gate.serves(index)
    {
        metrics.tool_call(index, answer.outcome, elapsed);
    }
}

/// A plain-text answer that is not about authorization.
fn plain(status: StatusCode, text: &'static str) -> Response {
    (status, text).into_response()
}

/// An answer sent before the request body was read: the connection cannot carry another
/// request, and saying so keeps a client from sending its next one down it.
fn body_unread(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    response
}

/// A `tools/call` answered here: a tool error, as the MCP handler would have sent it to a
/// client speaking the request's protocol version.
fn tool_error(id: Option<Value>, text: String, headers: &HeaderMap) -> Response {
    let mut result = json!({"content": [{"type": "text", "text": text}], "isError": true});
    // 2026-07-28 results name their type. rmcp refuses a request whose `_meta` version
    // differs from this header, so the header is the version the client reads the answer in.
    let current = headers
        .get(HEADER_MCP_PROTOCOL_VERSION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v >= ProtocolVersion::V_2026_07_28.as_str());
    if current {
        result["resultType"] = json!("complete");
    }
    let body = json!({"jsonrpc": "2.0", "id": id, "result": result});
    (
        StatusCode::OK,
        [(CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

pub async fn gate(State(gate): State<Arc<Gate>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let http_method = request.method().clone();
    // Shed load rather than queue: a client that is told to retry can go elsewhere.
    let Ok(_permit) = Arc::clone(&gate.requests).try_acquire_owned() else {
        tracing::warn!(method = %http_method, "busy: MAX_CONCURRENT_REQUESTS reached");
        if let Some(metrics) = request.extensions().get::<Arc<Metrics>>() {
            metrics.shed();
        }
        let mut response = plain(StatusCode::SERVICE_UNAVAILABLE, "server busy, retry later");
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from_static("1"));
        return response;
    };
    let metrics = request.extensions().get::<Arc<Metrics>>().cloned();
    let _in_flight = metrics.as_deref().map(Metrics::in_flight);
    let mut rpc = RpcInfo::default();
    let call_log = CallLog::default();
    let mut trace = RequestTrace::begin(&gate.tracing, &http_method, request.headers());
    let serving = serve(&gate, request, next, &mut rpc, &call_log, &mut trace);
    let response = match tokio::time::timeout(gate.request_timeout, serving).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(tool = ?rpc.tool, "request timed out (REQUEST_TIMEOUT_SECS)");
            let mut response = plain(StatusCode::GATEWAY_TIMEOUT, "request timed out");
            if let Some(tool) = gate.counted_as(&rpc) {
                response.extensions_mut().insert(GateAnswer {
                    tool,
                    outcome: Outcome::RequestTimeout,
                });
            }
            response
        }
    };
    // One line per request: the tool call's own outcome joins it when the handler ran one.
    let call = call_log.get();
    trace.finish(telemetry::Ended {
        http_status: response.status().as_u16(),
        tool_outcome: call.map(|c| (c.outcome.as_str(), c.is_error)),
    });
    tracing::info!(
        method = %http_method,
        rpc = rpc.method.as_deref().unwrap_or("-"),
        tool = call.map_or(rpc.tool.as_deref().unwrap_or("-"), |c| c.tool),
        outcome = call.map_or("-", |c| c.outcome.as_str()),
        caller = call.and_then(|c| c.caller.as_deref()).unwrap_or("-"),
        status = response.status().as_u16(),
        latency_ms = started.elapsed().as_millis() as u64,
        "mcp request"
    );
    if let Some(metrics) = &metrics {
        count(&gate, metrics, call, &response, started.elapsed());
    }
    response
}

/// One request through the gate; `rpc` is filled in as soon as the body is known.
async fn serve(
    gate: &Gate,
    request: Request,
    next: Next,
    rpc: &mut RpcInfo,
    call_log: &CallLog,
    trace: &mut RequestTrace<'_>,
) -> Response {
    let (mut parts, body) = request.into_parts();
    let caller = match gate.authenticate(&mut parts).await {
        Ok(caller) => caller,
        Err(refusal) => return body_unread(refusal),
    };
    let read = tokio::time::timeout(gate.body_timeout, to_bytes(body, MAX_REQUEST_BYTES)).await;
    let bytes = match read {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(_)) => {
            let refusal = plain(StatusCode::PAYLOAD_TOO_LARGE, "request body too large");
            return body_unread(refusal);
        }
        Err(_) => {
            tracing::warn!("request body not received in time (BODY_TIMEOUT_SECS)");
            let refusal = plain(
                StatusCode::REQUEST_TIMEOUT,
                "request body not received in time",
            );
            return body_unread(refusal);
        }
    };
    // Bounded before anything is built from it: neither the peek below nor the MCP handler
    // may turn a small body into a huge tree.
    let bounded = gate.message_limits.check_json(&bytes);
    *rpc = peek(&bytes);
    // The span starts now that the body may have named its parent; refusals below end it.
    let traced = telemetry::Rpc {
        method: rpc.method.as_deref(),
        // A name the span may carry, looked up only for one.
        tool: if gate.tracing.exporting() {
            gate.served_tool(rpc)
        } else {
            None
        },
        id: rpc.id.as_ref(),
        traceparent: rpc.traceparent.as_deref(),
        tracestate: rpc.tracestate.as_deref(),
    };
    if let Some(context) = trace.call_context(&traced) {
        parts.extensions.insert(context);
    }
    if let Err(violation) = bounded {
        // Through call_operation, the operation's own arguments are one level further in,
        // and the operation is what the caller should hear about.
        let (tool, inside) = match gate.tool_mode {
            ToolMode::Catalog => (
                rpc.operation.as_deref(),
                violation.within("/params/arguments/arguments"),
            ),
            ToolMode::Tools => (rpc.tool.as_deref(), violation.within("/params/arguments")),
        };
        if let (Some("tools/call"), Some(tool), Some(inside)) =
            (rpc.method.as_deref(), tool, inside)
        {
            tracing::info!(tool, %inside, "arguments over a limit");
            let text = validate::over_limit(tool, &inside);
            let mut response = tool_error(rpc.id.clone(), text, &parts.headers);
            response.extensions_mut().insert(GateAnswer {
                tool: tool.to_owned(),
                outcome: Outcome::InvalidArguments,
            });
            return response;
        }
        tracing::info!(%violation, "request over a limit");
        return plain(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request JSON over a size limit",
        );
    }
    // Counted against the verified caller (known only now), before the call costs anything.
    let caller_key = gate
        .rate_limit
        .as_ref()
        .map(|limit| limit.caller(caller.principal.as_ref(), &parts));
    if let Err(refusal) = gate.admit(&mut parts, rpc, caller).await {
        return refusal;
    }
    if let Some(refusal) = gate.over_rate_limit(rpc, caller_key) {
        return refusal;
    }
    if rpc.method.as_deref() == Some("tools/call") {
        parts.extensions.insert(call_log.clone());
    }
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    if rpc.method.as_deref() == Some("tools/list") {
        with_top_level_schemes(response).await
    } else {
        response
    }
}

/// Rewrites a JSON `tools/list` response; SSE or oversized bodies pass through unchanged.
async fn with_top_level_schemes(response: Response) -> Response {
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_json || response.status() != StatusCode::OK {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes: Bytes = match to_bytes(body, MAX_LIST_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "tools/list response too large",
            )
                .into_response();
        }
    };
    let body = listing::add_top_level_security_schemes(&bytes).map_or(bytes, Bytes::from);
    parts.headers.remove(CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peeks_method_and_tool() {
        let call = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_pet"}}"#;
        let expected = RpcInfo {
            method: Some("tools/call".into()),
            tool: Some("get_pet".into()),
            operation: None,
            id: Some(1.into()),
            ..RpcInfo::default()
        };
        assert_eq!(peek(call), expected);
        // Catalog mode's call_operation names the operation inside its arguments.
        let call = br#"{"jsonrpc":"2.0","id":"a","method":"tools/call","params":{"arguments":{"x":[{"operation":"no"}],"operation":"get_pet","y":1},"name":"call_operation"}}"#;
        let expected = RpcInfo {
            method: Some("tools/call".into()),
            tool: Some("call_operation".into()),
            operation: Some("get_pet".into()),
            id: Some("a".into()),
            ..RpcInfo::default()
        };
        assert_eq!(peek(call), expected);
        for odd in [
            r#""text""#,
            "[1,{}]",
            "null",
            "7",
            r#"{"operation":3}"#,
            r#"{"operation":true}"#,
        ] {
            let call =
                format!(r#"{{"method":"tools/call","params":{{"name":"t","arguments":{odd}}}}}"#);
            let seen = peek(call.as_bytes());
            assert_eq!(seen.tool.as_deref(), Some("t"), "{odd}");
            assert_eq!(seen.operation, None, "{odd}");
        }
        assert_eq!(peek(b"[1,2]"), RpcInfo::default());
        assert_eq!(peek(b"not json"), RpcInfo::default());
        let odd_id = br#"{"id":{"a":[1]},"method":"ping","params":{"x":[[1]]}}"#;
        assert_eq!(peek(odd_id).method.as_deref(), Some("ping"));
        assert_eq!(peek(odd_id).id, None);
    }

    #[test]
    fn peeks_trace_context_in_meta() {
        let call = br#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"get_pet","arguments":{"traceparent":"arg"},"_meta":{"progressToken":[1,{}],"traceparent":"00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01","tracestate":"rojo=1"}}}"#;
        let seen = peek(call);
        assert_eq!(seen.tool.as_deref(), Some("get_pet"));
        assert_eq!(
            seen.traceparent.as_deref(),
            Some("00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01")
        );
        assert_eq!(seen.tracestate.as_deref(), Some("rojo=1"));
        // Not strings: ignored, the rest of the message still read.
        let odd = br#"{"method":"tools/list","id":false,"params":{"_meta":{"traceparent":true,"tracestate":7}}}"#;
        let seen = peek(odd);
        assert_eq!(seen.method.as_deref(), Some("tools/list"));
        assert_eq!((seen.traceparent, seen.tracestate), (None, None));
        // A list method's params without `_meta`, and `_meta` that is no object.
        assert_eq!(peek(br#"{"method":"ping","params":{}}"#).traceparent, None);
        let seen = peek(br#"{"method":"ping","params":{"_meta":3}}"#);
        assert_eq!(
            (seen.method.as_deref(), seen.traceparent),
            (Some("ping"), None)
        );
    }

    #[test]
    fn finds_query_tokens() {
        assert!(has_query_token(Some("access_token=abc")));
        assert!(has_query_token(Some("a=1&access_token=")));
        assert!(!has_query_token(Some("my_access_token=1")));
        assert!(!has_query_token(None));
    }
}
