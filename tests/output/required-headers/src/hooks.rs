//! Your hooks. This file is yours: mcp-gen created it once and never overwrites it, so your
//! edits survive regeneration. Override any method of `Hooks` (see
//! `mcp-gen-runtime/src/hooks_api.rs`); the ones you leave out keep their default, which does
//! nothing.

use mcp_gen_runtime::hooks_api::Hooks;

/// The hooks the runtime calls around every upstream request.
pub struct Custom;

impl Hooks for Custom {
    // For example, send a tenant header with every upstream request:
    //
    // fn before_upstream(
    //     &self,
    //     _call: &mcp_gen_runtime::hooks_api::Call,
    //     request: &mut reqwest::Request,
    // ) -> Result<(), String> {
    //     let value = reqwest::header::HeaderValue::from_static("acme");
    //     request.headers_mut().insert("x-tenant", value);
    //     Ok(())
    // }
}
