//! The extension points the runtime offers to `src/hooks.rs`, the one file of a generated
//! project that is the user's (mcp-gen creates it once and never overwrites it); `main.rs`
//! passes its `Custom` to [`crate::run`]. Every hook has a default, so a newer runtime can add
//! hooks without breaking an older hooks file.

use axum::body::Bytes;
use reqwest::Request;
use serde_json::{Map, Value};

use crate::catalog::ToolSpec;
use crate::reply::Reply;

/// The tool call an upstream request is made for.
pub struct Call<'a> {
    pub tool: &'a str,
    /// The validated arguments.
    pub arguments: &'a Map<String, Value>,
}

/// Shared by every call the server handles, so it must be `Send + Sync`.
pub trait Hooks: Send + Sync {
    /// Called just before each upstream request is sent (credentials already in place): add
    /// a header, adjust the URL, or refuse the call with a message for the caller.
    fn before_upstream(&self, call: &Call, request: &mut Request) -> Result<(), String> {
        let _ = (call, request);
        Ok(())
    }

    /// Called with each upstream reply body before it becomes the tool result: redact or
    /// reshape it, or turn the call into an error with a message for the caller.
    fn after_upstream(&self, call: &Call, status: u16, body: &mut Vec<u8>) -> Result<(), String> {
        let _ = (call, status, body);
        Ok(())
    }
}

impl std::fmt::Debug for dyn Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Hooks")
    }
}

/// No hooks: every default.
pub struct NoHooks;

impl Hooks for NoHooks {}

/// Runs the user's `before_upstream` on the built request.
pub(crate) fn before(
    hooks: &dyn Hooks,
    tool: &ToolSpec,
    arguments: &Map<String, Value>,
    request: &mut Request,
) -> Result<(), String> {
    let call = Call {
        tool: tool.name,
        arguments,
    };
    hooks.before_upstream(&call, request)
}

/// Runs the user's `after_upstream` on a reply.
pub(crate) fn after(
    hooks: &dyn Hooks,
    tool: &ToolSpec,
    arguments: &Map<String, Value>,
    mut reply: Reply,
) -> Result<Reply, String> {
    let call = Call {
        tool: tool.name,
        arguments,
    };
    let mut body = reply.body.to_vec();
    hooks.after_upstream(&call, reply.status.as_u16(), &mut body)?;
    reply.body = Bytes::from(body);
    Ok(reply)
}
