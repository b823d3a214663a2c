//! The fixed label values of the metrics: how a tool call ended, how the upstream answered,
//! why a request was refused, what a key or introspection fetch gave. Each is an enum so no
//! label can ever carry a value from a request.

/// How a tool call ended: the `outcome` label of `mcp_tool_calls_total` and
/// `mcp_tool_call_duration_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The upstream answered 2xx and the caller got its data.
    Ok,
    /// Answered with an error result without a refusal or an upstream error status: a 2xx
    /// reply that breaks the tool's outputSchema, a catalog-mode answer that is an error.
    ToolError,
    /// The arguments broke a limit or the inputSchema; no upstream request.
    InvalidArguments,
    /// Refused for want of a token (`AUTH_CHALLENGE=tool` or `http`).
    RefusedNoToken,
    /// Refused: the token lacks the tool's scopes.
    RefusedInsufficientScope,
    /// Refused: the token is not valid.
    RefusedInvalidToken,
    /// Refused by a per-caller rate limit.
    RateLimited,
    /// Refused because the upstream already has as many requests in flight as allowed.
    UpstreamBusy,
    /// The upstream answered 3xx (a redirect not followed, 304).
    Upstream3xx,
    /// The upstream answered 4xx.
    Upstream4xx,
    /// The upstream answered 5xx (or another status outside 2xx-4xx).
    Upstream5xx,
    /// No upstream reply within `UPSTREAM_TIMEOUT_SECS`.
    UpstreamTimeout,
    /// The upstream could not be reached or its reply not read (connect, TLS, reset).
    UpstreamTransportError,
    /// The upstream reply was over `UPSTREAM_MAX_RESPONSE_BYTES`.
    UpstreamTooLarge,
    /// No usable upstream credential, or its token endpoint failed.
    UpstreamCredentialError,
    /// The project's hooks refused the request or its reply.
    HookRefused,
    /// The whole request went over `REQUEST_TIMEOUT_SECS`.
    RequestTimeout,
    /// A fault of the server itself (a tool schema that does not build).
    InternalError,
}

impl Outcome {
    pub const ALL: [Outcome; 18] = [
        Outcome::Ok,
        Outcome::ToolError,
        Outcome::InvalidArguments,
        Outcome::RefusedNoToken,
        Outcome::RefusedInsufficientScope,
        Outcome::RefusedInvalidToken,
        Outcome::RateLimited,
        Outcome::UpstreamBusy,
        Outcome::Upstream3xx,
        Outcome::Upstream4xx,
        Outcome::Upstream5xx,
        Outcome::UpstreamTimeout,
        Outcome::UpstreamTransportError,
        Outcome::UpstreamTooLarge,
        Outcome::UpstreamCredentialError,
        Outcome::HookRefused,
        Outcome::RequestTimeout,
        Outcome::InternalError,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::ToolError => "tool_error",
            Outcome::InvalidArguments => "invalid_arguments",
            Outcome::RefusedNoToken => "refused_no_token",
            Outcome::RefusedInsufficientScope => "refused_insufficient_scope",
            Outcome::RefusedInvalidToken => "refused_invalid_token",
            Outcome::RateLimited => "rate_limited",
            Outcome::UpstreamBusy => "upstream_busy",
            Outcome::Upstream3xx => "upstream_3xx",
            Outcome::Upstream4xx => "upstream_4xx",
            Outcome::Upstream5xx => "upstream_5xx",
            Outcome::UpstreamTimeout => "upstream_timeout",
            Outcome::UpstreamTransportError => "upstream_transport_error",
            Outcome::UpstreamTooLarge => "upstream_too_large",
            Outcome::UpstreamCredentialError => "upstream_credential_error",
            Outcome::HookRefused => "hook_refused",
            Outcome::RequestTimeout => "request_timeout",
            Outcome::InternalError => "internal_error",
        }
    }

    /// Its place in [`Outcome::ALL`] (the slot of its series).
    pub fn index(self) -> usize {
        self as usize
    }

    /// A call the upstream answered with this status; `error_result`: the answer became an
    /// error result anyway (a 2xx breaking the outputSchema).
    pub fn of_status(status: u16, error_result: bool) -> Self {
        match status {
            200..=299 if error_result => Outcome::ToolError,
            200..=299 => Outcome::Ok,
            300..=399 => Outcome::Upstream3xx,
            400..=499 => Outcome::Upstream4xx,
            _ => Outcome::Upstream5xx,
        }
    }

    /// Why the call was refused for its credentials, if it was.
    pub fn refusal(self) -> Option<Refusal> {
        match self {
            Outcome::RefusedNoToken => Some(Refusal::NoToken),
            Outcome::RefusedInsufficientScope => Some(Refusal::InsufficientScope),
            Outcome::RefusedInvalidToken => Some(Refusal::InvalidToken),
            _ => None,
        }
    }

    /// The refusal of a tool call by its OAuth error code (RFC 6750 §3.1).
    pub fn refused(error: &str) -> Self {
        match Refusal::of_error(error) {
            Refusal::InsufficientScope => Outcome::RefusedInsufficientScope,
            Refusal::InvalidToken => Outcome::RefusedInvalidToken,
            Refusal::NoToken | Refusal::TokenInQuery => Outcome::RefusedNoToken,
        }
    }
}

/// How the upstream answered one request: the `status_class` label of
/// `mcp_upstream_request_duration_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpstreamClass {
    S2xx,
    S3xx,
    S4xx,
    S5xx,
    /// No reply within `UPSTREAM_TIMEOUT_SECS`.
    Timeout,
    /// No reply: connection, TLS or read failure.
    Error,
}

impl UpstreamClass {
    pub const ALL: [UpstreamClass; 6] = [
        UpstreamClass::S2xx,
        UpstreamClass::S3xx,
        UpstreamClass::S4xx,
        UpstreamClass::S5xx,
        UpstreamClass::Timeout,
        UpstreamClass::Error,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            UpstreamClass::S2xx => "2xx",
            UpstreamClass::S3xx => "3xx",
            UpstreamClass::S4xx => "4xx",
            UpstreamClass::S5xx => "5xx",
            UpstreamClass::Timeout => "timeout",
            UpstreamClass::Error => "error",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn of_status(status: u16) -> Self {
        match status {
            200..=299 => UpstreamClass::S2xx,
            300..=399 => UpstreamClass::S3xx,
            400..=499 => UpstreamClass::S4xx,
            _ => UpstreamClass::S5xx,
        }
    }
}

/// Why a request was refused for its credentials: the `reason` label of
/// `mcp_auth_refusals_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    NoToken,
    InvalidToken,
    InsufficientScope,
    /// `access_token` in the query string, refused whatever it holds.
    TokenInQuery,
}

impl Refusal {
    pub const ALL: [Refusal; 4] = [
        Refusal::NoToken,
        Refusal::InvalidToken,
        Refusal::InsufficientScope,
        Refusal::TokenInQuery,
    ];

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::NoToken => "no_token",
            Refusal::InvalidToken => "invalid_token",
            Refusal::InsufficientScope => "insufficient_scope",
            Refusal::TokenInQuery => "token_in_query",
        }
    }

    /// From the OAuth error code of the challenge: `invalid_request` is what a request
    /// without a token is answered with.
    pub fn of_error(error: &str) -> Self {
        match error {
            "insufficient_scope" => Refusal::InsufficientScope,
            "invalid_token" => Refusal::InvalidToken,
            _ => Refusal::NoToken,
        }
    }
}

/// What one JWKS fetch or introspection request gave: the `result` label of
/// `mcp_jwks_fetches_total` and `mcp_introspection_requests_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchResult {
    /// Keys loaded; an introspection answer saying the token is active.
    Ok,
    /// An introspection answer saying the token is not active (or not for this server).
    Inactive,
    /// No usable answer: unreachable, an error status, not JSON.
    Error,
    /// Not sent: over `TOKEN_INTROSPECTION_MAX_PER_SEC` or too many in flight.
    Throttled,
}

impl FetchResult {
    pub fn as_str(self) -> &'static str {
        match self {
            FetchResult::Ok => "ok",
            FetchResult::Inactive => "inactive",
            FetchResult::Error => "error",
            FetchResult::Throttled => "throttled",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_match_the_tables() {
        for (i, outcome) in Outcome::ALL.iter().enumerate() {
            assert_eq!(outcome.index(), i, "{outcome:?}");
        }
        let labels: std::collections::BTreeSet<_> =
            Outcome::ALL.iter().map(|o| o.as_str()).collect();
        assert_eq!(labels.len(), Outcome::ALL.len());
        assert_eq!(Outcome::of_status(204, false), Outcome::Ok);
        assert_eq!(Outcome::of_status(200, true), Outcome::ToolError);
        assert_eq!(Outcome::of_status(404, true), Outcome::Upstream4xx);
        assert_eq!(Outcome::of_status(503, true), Outcome::Upstream5xx);
        assert_eq!(Outcome::refused("invalid_request"), Outcome::RefusedNoToken);
        assert_eq!(
            Outcome::refused("insufficient_scope"),
            Outcome::RefusedInsufficientScope
        );
    }
}
