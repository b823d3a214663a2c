//! The axum middleware in front of `/mcp`: verifies the bearer token, answers with HTTP
//! challenges where the design asks for them, hands the verified [`Principal`] to the MCP
//! handler through request extensions, adds top-level `securitySchemes` to `tools/list`
//! responses, and writes one access-log line per request.

use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::auth::{self, Bearer, Principal, Verifier};
use crate::catalog::Catalog;
use crate::challenge::Challenger;
use crate::config::ChallengeMode;
use crate::credentials::CallerToken;
use crate::listing;
use crate::metadata;

/// Same bound as rmcp's own request limit.
const MAX_REQUEST_BYTES: usize = 4 * 1024 * 1024;
/// A tools/list response is rewritten only up to this size (and passed through beyond).
const MAX_LIST_BYTES: usize = 64 * 1024 * 1024;

pub struct Gate {
    catalog: &'static Catalog,
    /// `None`: OAuth is off (no issuer configured, every tool anonymous).
    verifier: Option<Verifier>,
    challenger: Challenger,
    mode: ChallengeMode,
    /// Set when every tool needs a token: then any request without one is refused.
    missing_token_challenge: Option<String>,
}

/// The JSON-RPC method and, for `tools/call`, the tool name of a request body.
#[derive(Debug, Default, PartialEq)]
struct RpcInfo {
    method: Option<String>,
    tool: Option<String>,
}

fn peek(body: &[u8]) -> RpcInfo {
    let Ok(Value::Object(message)) = serde_json::from_slice::<Value>(body) else {
        return RpcInfo::default();
    };
    let method = message
        .get("method")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let tool = match method.as_deref() {
        Some("tools/call") => message
            .get("params")
            .and_then(|p| p.get("name"))
            .and_then(Value::as_str)
            .map(str::to_owned),
        _ => None,
    };
    RpcInfo { method, tool }
}

impl Gate {
    pub fn new(
        catalog: &'static Catalog,
        verifier: Option<Verifier>,
        challenger: Challenger,
        mode: ChallengeMode,
    ) -> Self {
        let all_protected =
            !catalog.tools.is_empty() && catalog.tools.iter().all(|t| !t.access.anonymous);
        let missing_token_challenge =
            all_protected.then(|| challenger.missing_token(&metadata::all_scopes(catalog)));
        Self {
            catalog,
            verifier,
            challenger,
            mode,
            missing_token_challenge,
        }
    }

    /// `Err` is the response that refuses the request.
    async fn admit(&self, parts: &mut Parts, rpc: &RpcInfo) -> Result<(), Response> {
        let Some(verifier) = &self.verifier else {
            parts.headers.remove(AUTHORIZATION);
            return Ok(());
        };
        // RFC 6750 §2.3 / MCP: never from the query string; refused so the client learns why.
        if has_query_token(parts.uri.query()) {
            tracing::warn!(
                reason = "access_token in the query string",
                "rejected request"
            );
            let description = "Access tokens are accepted only in the Authorization header.";
            let challenge = self.challenger.invalid_request(description);
            return Err(refuse(
                StatusCode::UNAUTHORIZED,
                "invalid_request",
                description,
                &challenge,
            ));
        }
        // Kept aside (not as a header) for upstream schemes that act as the caller.
        let mut caller_token = None;
        let principal = match auth::bearer(&parts.headers) {
            Bearer::Token(token) => match verifier.verify(token).await {
                Ok(principal) => {
                    caller_token = Some(CallerToken::new(token));
                    Some(principal)
                }
                Err(rejection) => {
                    tracing::warn!(reason = %rejection.reason, tool = ?rpc.tool, "rejected access token");
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
                tracing::warn!(
                    reason = description,
                    tool = ?rpc.tool,
                    "rejected Authorization header"
                );
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
            tracing::info!(reason = "no access token", rpc = ?rpc.method, "authorization required");
            return Err(refuse(
                StatusCode::UNAUTHORIZED,
                "invalid_request",
                "An access token is required.",
                challenge,
            ));
        }
        if self.mode == ChallengeMode::Http
            && rpc.method.as_deref() == Some("tools/call")
            && let Some(spec) = rpc
                .tool
                .as_deref()
                .and_then(|name| self.catalog.tools.iter().find(|t| t.name == name))
        {
            let decision = auth::authorize(&spec.access, principal.as_ref());
            if let Some(refusal) = self.challenger.refusal(spec.name, &spec.access, &decision) {
                tracing::info!(
                    tool = spec.name,
                    reason = refusal.error,
                    "tool call refused"
                );
                return Err(refuse(
                    refusal.status,
                    refusal.error,
                    &refusal.message,
                    &refusal.challenge,
                ));
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
    response
}

pub async fn gate(State(gate): State<Arc<Gate>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let (mut parts, body) = request.into_parts();
    let http_method = parts.method.clone();
    let Ok(bytes) = to_bytes(body, MAX_REQUEST_BYTES).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "request body too large").into_response();
    };
    let rpc = peek(&bytes);
    let response = match gate.admit(&mut parts, &rpc).await {
        Ok(()) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Err(refusal) => refusal,
    };
    let response = if rpc.method.as_deref() == Some("tools/list") {
        with_top_level_schemes(response).await
    } else {
        response
    };
    tracing::info!(
        method = %http_method,
        rpc = rpc.method.as_deref().unwrap_or("-"),
        tool = rpc.tool.as_deref().unwrap_or("-"),
        status = response.status().as_u16(),
        latency_ms = started.elapsed().as_millis() as u64,
        "mcp request"
    );
    response
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
        assert_eq!(
            peek(call),
            RpcInfo {
                method: Some("tools/call".into()),
                tool: Some("get_pet".into())
            }
        );
        assert_eq!(peek(b"[1,2]"), RpcInfo::default());
        assert_eq!(peek(b"not json"), RpcInfo::default());
    }

    #[test]
    fn finds_query_tokens() {
        assert!(has_query_token(Some("access_token=abc")));
        assert!(has_query_token(Some("a=1&access_token=")));
        assert!(!has_query_token(Some("my_access_token=1")));
        assert!(!has_query_token(None));
    }
}
