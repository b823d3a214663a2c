//! What every outbound HTTP call shares (the upstream API, the authorization server's
//! metadata, keys, token and introspection endpoints): what kind of failure it was, and
//! how it is told.

use std::error::Error as _;

/// What went wrong with an outbound exchange, as far as the caller can act on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// No reply (headers or the whole body) within the timeout.
    TimedOut,
    /// The TLS handshake failed: an untrusted certificate, a protocol mismatch.
    Tls,
    /// The connection was refused, or the name did not resolve.
    Connect,
    /// Anything else reqwest reports (a broken connection mid-reply, a bad reply).
    Other,
}

impl FailureKind {
    fn label(self) -> &'static str {
        match self {
            FailureKind::TimedOut => "timed out (UPSTREAM_TIMEOUT_SECS)",
            FailureKind::Tls => "TLS error",
            FailureKind::Connect => "cannot connect",
            FailureKind::Other => "error",
        }
    }
}

/// An outbound HTTP failure: its kind, and the error with its causes on one line
/// (reqwest's top-level message alone is vague). Never carries the URL, which may hold a
/// credential in its query.
#[derive(Debug, thiserror::Error)]
#[error("{}: {detail}", kind.label())]
pub struct Failure {
    pub kind: FailureKind,
    detail: String,
}

impl From<reqwest::Error> for Failure {
    fn from(e: reqwest::Error) -> Self {
        let e = e.without_url();
        let mut causes = vec![e.to_string()];
        let (mut timed_out, mut tls) = (e.is_timeout(), false);
        let mut source = e.source();
        while let Some(s) = source {
            causes.push(s.to_string());
            // An I/O error's own `source` skips the error it wraps (often another I/O
            // error, then rustls's): look inside it too.
            let mut layer = Some(s);
            while let Some(l) = layer {
                tls |= l.is::<rustls::Error>();
                let io = l.downcast_ref::<std::io::Error>();
                timed_out |= io.is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut);
                layer = io
                    .and_then(std::io::Error::get_ref)
                    .map(|inner| inner as &(dyn std::error::Error + 'static));
            }
            source = s.source();
        }
        let kind = if timed_out {
            FailureKind::TimedOut
        } else if tls {
            FailureKind::Tls
        } else if e.is_connect() {
            FailureKind::Connect
        } else {
            FailureKind::Other
        };
        Failure {
            kind,
            detail: causes.join(": "),
        }
    }
}
