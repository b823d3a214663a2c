//! OAuth 2.0 Protected Resource Metadata (RFC 9728): where it lives and what it says.

use std::collections::BTreeSet;

use reqwest::Url;
use serde_json::{Value, json};

use crate::catalog::Catalog;

const WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";

/// The metadata URL for `resource`: the well-known prefix inserted between its origin and path,
/// e.g. `https://h/mcp` → `https://h/.well-known/oauth-protected-resource/mcp`.
pub fn metadata_url(resource: &Url) -> String {
    format!(
        "{}{}",
        resource.origin().ascii_serialization(),
        metadata_path(resource)
    )
}

/// The path part of [`metadata_url`], which this server also serves.
pub fn metadata_path(resource: &Url) -> String {
    let path = resource.path().trim_end_matches('/');
    format!("{WELL_KNOWN}{path}")
}

/// The bare well-known path, served too for clients that do not insert the resource path.
pub fn bare_metadata_path() -> &'static str {
    WELL_KNOWN
}

/// Every scope any tool asks for, sorted and without duplicates.
/// The scopes of the operations served (`TOOLSETS`): a deployment never asks users to
/// consent to, or names, what it does not serve.
pub fn all_scopes(catalog: &Catalog, served: &[bool]) -> Vec<&'static str> {
    let scopes: BTreeSet<&'static str> = catalog
        .tools
        .iter()
        .zip(served)
        .filter(|(_, served)| **served)
        .filter_map(|(t, _)| t.access.oauth2)
        .flat_map(|s| s.iter().copied())
        .collect();
    scopes.into_iter().collect()
}

pub fn document(catalog: &Catalog, served: &[bool], resource: &str, issuer: &str) -> Value {
    json!({
        "resource": resource,
        "authorization_servers": [issuer],
        "scopes_supported": all_scopes(catalog, served),
        "bearer_methods_supported": ["header"],
        "resource_name": catalog.server_title,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_inserts_well_known_before_path() {
        let r = Url::parse("https://api.example.com:8443/mcp").unwrap();
        assert_eq!(
            metadata_url(&r),
            "https://api.example.com:8443/.well-known/oauth-protected-resource/mcp"
        );
        let root = Url::parse("http://127.0.0.1:8000/").unwrap();
        assert_eq!(
            metadata_url(&root),
            "http://127.0.0.1:8000/.well-known/oauth-protected-resource"
        );
    }
}
