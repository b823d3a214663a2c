//! Stage 4: the generated project. `render` turns the model into file contents (pure, so
//! output is byte-identical for the same input); `write` puts them on disk atomically.

mod lockfile;
mod project;
mod runtime;
mod tools_rs;
mod write;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::model::{Api, AuthMode};

pub use write::MANIFEST;

/// What the generated project is called and where it points, beyond the model.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Crate and binary name.
    pub name: String,
    pub auth: AuthMode,
    /// Default `AUTHORIZATION_SERVER_URL`; empty when not given.
    pub issuer: String,
    /// Default `RESOURCE_SERVER_URL`; empty: `http://127.0.0.1:{PORT}/mcp`.
    pub resource_url: String,
    pub default_scopes: Vec<String>,
    pub max_name_len: usize,
    /// The spec as the user named it, and the SHA-256 of its bytes.
    pub spec_source: String,
    pub spec_digest: String,
}

pub const DEFAULT_RESOURCE_URL: &str = "http://127.0.0.1:8000/mcp";

pub type Files = BTreeMap<PathBuf, Vec<u8>>;

pub fn render(api: &Api, settings: &Settings) -> Result<Files> {
    let mut files = Files::new();
    let mut add = |path: &str, bytes: Vec<u8>| {
        files.insert(PathBuf::from(path), bytes);
    };
    for (path, text) in runtime::FILES {
        add(path, text.as_bytes().to_vec());
    }
    let tools = tools_rs::render(api, settings).map_err(|e| {
        Error::Io(format!(
            "internal error: generated tools.rs does not parse: {e}"
        ))
    })?;
    add("src/tools.rs", tools.into_bytes());
    for tool in &api.tools {
        add(
            &tools_rs::input_schema_file(tool),
            pretty(&tool.input_schema),
        );
        if let Some(output) = &tool.output_schema {
            add(&tools_rs::output_schema_file(tool), pretty(output));
        }
    }
    for (path, text) in project::render(api, settings)? {
        add(&path, text.into_bytes());
    }
    add(MANIFEST, pretty(&manifest(api, settings)));
    Ok(files)
}

pub fn write(files: &Files, out: &Path) -> Result<()> {
    write::write(files, out)
}

fn pretty(value: &Value) -> Vec<u8> {
    // Serializing a Value cannot fail: its keys are strings.
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text.into_bytes()
}

/// What made this output: enough to regenerate it and to tell whether it is current.
fn manifest(api: &Api, settings: &Settings) -> Value {
    json!({
        "generator": format!("mcp-gen {}", env!("CARGO_PKG_VERSION")),
        "spec": {"source": settings.spec_source, "sha256": settings.spec_digest},
        "options": {
            "name": settings.name,
            "auth": match settings.auth { AuthMode::OAuth2 => "oauth2", AuthMode::None => "none" },
            "oauth_server": settings.issuer,
            "resource_url": settings.resource_url,
            "default_scopes": settings.default_scopes,
            "max_name_len": settings.max_name_len,
        },
        "tools": api.tools.iter().map(|t| &t.name).collect::<Vec<_>>(),
    })
}
