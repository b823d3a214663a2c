//! Why a tool call got no upstream reply. Every message is meant for the caller and never
//! holds a secret; the kind says what happened, for the log's outcome field.

use reqwest::StatusCode;

use crate::metrics::{Outcome, UpstreamClass};
use crate::outbound::{Failure, FailureKind};

#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// The arguments cannot form a request on the upstream's origin (encoding, body, headers).
    #[error("{0}")]
    Arguments(String),
    /// No credential this caller may use is configured.
    #[error("{0}")]
    NoCredential(String),
    /// The token endpoint behind a credential failed (client credentials, token exchange).
    #[error("{0}")]
    Token(String),
    /// The user's hook refused the request or its reply.
    #[error("{0}")]
    Hook(String),
    /// The request could not be sent, or no reply came.
    #[error("upstream request failed: {0}")]
    Send(#[source] Failure),
    /// The reply's body could not be read to its end.
    #[error("reading the upstream response failed: {0}")]
    Read(#[source] Failure),
    /// `UPSTREAM_MAX_CONCURRENT` requests were in flight for all of
    /// `UPSTREAM_QUEUE_TIMEOUT_SECS`: nothing was sent.
    #[error(
        "the upstream API is busy: {max} requests from this server are in flight (UPSTREAM_MAX_CONCURRENT); nothing was sent, retry shortly"
    )]
    Busy { max: usize },
    /// The reply is over `UPSTREAM_MAX_RESPONSE_BYTES`.
    #[error(
        "the upstream response (HTTP {status}) is larger than {max_bytes} bytes (UPSTREAM_MAX_RESPONSE_BYTES)"
    )]
    TooLarge {
        status: StatusCode,
        max_bytes: usize,
    },
}

impl UpstreamError {
    /// A short fixed label for the call's outcome in the log.
    pub fn outcome(&self) -> &'static str {
        match self {
            UpstreamError::Arguments(_) => "invalid_request",
            UpstreamError::NoCredential(_) => "no_upstream_credential",
            UpstreamError::Token(_) => "upstream_token_failed",
            UpstreamError::Hook(_) => "hook_refused",
            UpstreamError::Send(f) | UpstreamError::Read(f) => match f.kind {
                FailureKind::TimedOut => "upstream_timeout",
                FailureKind::Tls => "upstream_tls",
                FailureKind::Connect => "upstream_unreachable",
                FailureKind::Other => "upstream_error",
            },
            UpstreamError::TooLarge { .. } => "upstream_too_large",
            UpstreamError::Busy { .. } => "upstream_busy",
        }
    }

    /// The outcome label of the call's metrics.
    pub fn kind(&self) -> Outcome {
        match self {
            UpstreamError::Arguments(_) => Outcome::InvalidArguments,
            UpstreamError::NoCredential(_) | UpstreamError::Token(_) => {
                Outcome::UpstreamCredentialError
            }
            UpstreamError::Hook(_) => Outcome::HookRefused,
            UpstreamError::Send(f) | UpstreamError::Read(f) => match f.kind {
                FailureKind::TimedOut => Outcome::UpstreamTimeout,
                _ => Outcome::UpstreamTransportError,
            },
            UpstreamError::TooLarge { .. } => Outcome::UpstreamTooLarge,
            UpstreamError::Busy { .. } => Outcome::UpstreamBusy,
        }
    }

    /// How the upstream exchange ended, when a request was sent (`None`: refused before).
    pub fn class(&self) -> Option<UpstreamClass> {
        match self {
            UpstreamError::Send(f) | UpstreamError::Read(f) => Some(match f.kind {
                FailureKind::TimedOut => UpstreamClass::Timeout,
                _ => UpstreamClass::Error,
            }),
            UpstreamError::TooLarge { status, .. } => {
                Some(UpstreamClass::of_status(status.as_u16()))
            }
            _ => None,
        }
    }
}
