//! mcp-gen: an OpenAPI document in, an authenticated Rust MCP server out.
//!
//! The pipeline runs one way: [`load`] → [`normalize`] → [`model`] → [`emit`].

pub mod cli;
pub mod config;
pub mod emit;
pub mod error;
pub mod inspect;
mod json;
pub mod load;
pub mod model;
pub mod normalize;
mod pointer;

pub use error::{Error, Result};

/// Load, normalize and map a document: everything but writing.
pub fn read_api(source: &str, options: &model::Options) -> Result<(load::Loaded, model::Api)> {
    let mut loaded = load::load(source)?;
    let source = normalize::Source {
        origin: &loaded.origin,
        allow_remote_refs: options.allow_remote_refs,
    };
    let doc = normalize::normalize_from(std::mem::take(&mut loaded.value), &source)?;
    let api = model::build(&doc, options)?;
    Ok((loaded, api))
}

/// The untrusted-input stages on raw bytes, for the fuzz targets and their regression
/// tests: load → normalize → model. Errors are expected; a panic or hang is a bug. The
/// document is treated as stdin, so relative `$ref`s resolve against the working directory.
#[doc(hidden)]
pub fn check_untrusted(bytes: &[u8]) {
    let Ok(value) = load::parse("fuzz", bytes) else {
        return;
    };
    let Ok(doc) = normalize::normalize(value) else {
        return;
    };
    let _ = model::build(&doc, &model::Options::default());
}
