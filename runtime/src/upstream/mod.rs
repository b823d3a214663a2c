//! The upstream API: one tool call becomes one HTTP request with the upstream's own
//! credential, and its reply is read within bounds.
//!
//! - `client`: builds and sends the request (the hooks run around it) and reads the reply.
//! - `encode`: parameters in their OpenAPI styles, everything percent-encoded.
//! - `body`: request bodies (JSON, forms, multipart, raw bytes).
//! - `credentials`: the server's upstream credentials, read at startup, spent only for callers
//!   entitled to them; `tokens`: the token endpoints behind them (client credentials, RFC 8693
//!   token exchange).
//! - `error`: why a call got no reply, by kind.
//! - `redact`: keeps those credentials out of what callers see.

pub(crate) mod body;
mod client;
pub(crate) mod credentials;
pub(crate) mod encode;
mod error;
pub(crate) mod redact;
pub(crate) mod tokens;

pub(crate) use client::*;
