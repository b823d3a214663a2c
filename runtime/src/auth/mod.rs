//! Who the caller is. The server is an OAuth resource server (RFC 9728): it validates bearer
//! tokens and never runs an OAuth flow itself.
//!
//! - `verifier`: bearer tokens taken from the `Authorization` header, verified as JWTs
//!   (signature, `iss`, `aud`, `exp`, scopes) into a `Principal`; the access rule of a tool.
//! - `authserver`: the authorization server's metadata (RFC 8414 discovery) and the HTTP
//!   client every call to it uses.
//! - `jwks`: its signing keys, cached and refetched within limits.
//! - `introspection`: opaque tokens checked at its RFC 7662 endpoint.
//! - `readiness`: whether tokens can be checked yet (keys loaded, or introspection answering),
//!   and the retries at startup until they can.
//! - `rejection`: why a token was refused.
//! - `scopes`: the scope hierarchy (`SCOPE_IMPLIES`).
//! - `challenge`, `metadata`: `WWW-Authenticate` challenges and the protected-resource
//!   metadata that tell a client how to get a token.

pub(crate) mod authserver;
pub(crate) mod challenge;
pub(crate) mod introspection;
pub(crate) mod jwks;
pub(crate) mod metadata;
pub(crate) mod readiness;
pub(crate) mod rejection;
pub(crate) mod scopes;
mod verifier;

pub(crate) use verifier::*;
