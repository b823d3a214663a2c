//! An upstream reply as the server read it: what hooks, redaction and the tool result see.

use axum::body::Bytes;
use reqwest::StatusCode;

/// What the upstream answered.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub content_type: Option<String>,
    pub body: Bytes,
    /// Prism's `sl-violations` header: why it refused a request when the body is empty.
    pub violations: Option<String>,
    /// Where a redirect that was not followed points (`None` as well when it would show
    /// the server's own upstream credential, see `upstream/redact.rs`).
    pub location: Option<String>,
}
