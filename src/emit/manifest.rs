//! `mcp-gen.json`, the manifest of a generated project: what made it (enough to regenerate
//! it and to tell whether it is current) and which files are generated (everything else in
//! the directory is the user's). Read leniently: a field it lacks reads as empty.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Manifest {
    /// `mcp-gen <version>`.
    pub generator: String,
    pub spec: SpecRecord,
    /// The `mcp-gen.toml` used, relative to the project.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<String>,
    /// Every effective option (`Config::recorded`), so another mcp-gen regenerates the same.
    pub options: Value,
    /// Per tool, what `--check` compares (see check.rs).
    pub tools: Map<String, Value>,
    /// The generated files, `/`-separated and relative to the project.
    pub files: Vec<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SpecRecord {
    /// As given, relative to the project when it is a path.
    pub source: String,
    pub sha256: String,
}

impl Manifest {
    /// The manifest in `dir`: `Ok(None)` when there is none, an error naming the file when
    /// it is not a manifest.
    pub fn read(dir: &Path) -> Result<Option<Manifest>, String> {
        let path = dir.join(super::MANIFEST);
        let Ok(bytes) = std::fs::read(&path) else {
            return Ok(None);
        };
        Self::parse(&bytes)
            .map(Some)
            .map_err(|e| format!("{}: not a valid manifest: {e}", path.display()))
    }

    pub fn parse(bytes: &[u8]) -> Result<Manifest, serde_json::Error> {
        serde_json::from_slice(bytes)
    }

    /// Pretty JSON with a final newline, as it is written.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Serializing cannot fail: every key is a string.
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text.into_bytes()
    }
}
