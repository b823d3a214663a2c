//! How tools are presented in `tools/list` (ARCHITECTURE.md, Access): title, schemas, annotations
//! and
//! `securitySchemes`, the latter both in `_meta` (set here) and as a top-level field (added
//! to the JSON response by [`add_top_level_security_schemes`], since rmcp's `Tool` has no
//! such field).

use std::sync::Arc;

use rmcp::model::{JsonObject, MetaObject, Tool, ToolAnnotations};
use serde_json::{Value, json};

use crate::catalog::{Access, Annotations, CatalogEntry, ToolSpec};

pub fn security_schemes(access: &Access) -> Value {
    let mut schemes = Vec::new();
    if access.anonymous {
        schemes.push(json!({"type": "noauth"}));
    }
    if let Some(scopes) = access.oauth2 {
        schemes.push(json!({"type": "oauth2", "scopes": scopes}));
    } else if !access.anonymous {
        // Neither: treat as "any valid token" rather than open (fail closed).
        schemes.push(json!({"type": "oauth2", "scopes": []}));
    }
    Value::Array(schemes)
}

pub fn tool(spec: &ToolSpec) -> Result<Tool, String> {
    let mut tool = listed(
        spec.name,
        spec.description,
        spec.input_schema,
        spec.annotations,
        &spec.access,
    )?;
    tool.title = spec.title.map(str::to_owned);
    if let Some(declared) = spec.output {
        let output = object(declared.schema)
            .map_err(|e| format!("tool `{}`: outputSchema: {e}", spec.name))?;
        tool.output_schema = Some(Arc::new(output));
    }
    Ok(tool)
}

/// One of catalog mode's tools.
pub fn catalog_tool(entry: &CatalogEntry) -> Result<Tool, String> {
    listed(
        entry.name,
        entry.description,
        entry.input_schema,
        entry.annotations,
        &entry.access,
    )
}

fn listed(
    name: &'static str,
    description: &'static str,
    input_schema: &str,
    a: Annotations,
    access: &Access,
) -> Result<Tool, String> {
    let input = object(input_schema).map_err(|e| format!("tool `{name}`: inputSchema: {e}"))?;
    let mut tool = Tool::new(name, description, Arc::new(input));
    tool.annotations = Some(annotations(a));
    let mut meta = MetaObject::new();
    meta.0
        .insert("securitySchemes".to_owned(), security_schemes(access));
    tool.meta = Some(meta);
    Ok(tool)
}

/// The MCP hints of a tool or operation.
pub fn annotations(a: Annotations) -> ToolAnnotations {
    ToolAnnotations::new()
        .read_only(a.read_only)
        .destructive(a.destructive)
        .idempotent(a.idempotent)
        .open_world(a.open_world)
}

fn object(text: &str) -> Result<JsonObject, String> {
    match serde_json::from_str(text) {
        Ok(Value::Object(o)) => Ok(o),
        Ok(_) => Err("not a JSON object".to_owned()),
        Err(e) => Err(e.to_string()),
    }
}

/// Copies each tool's `_meta.securitySchemes` to a top-level `securitySchemes` in a JSON-RPC
/// `tools/list` response body. `None` when the body is not such a response.
pub fn add_top_level_security_schemes(body: &[u8]) -> Option<Vec<u8>> {
    let mut message: Value = serde_json::from_slice(body).ok()?;
    let tools = message
        .get_mut("result")?
        .get_mut("tools")?
        .as_array_mut()?;
    for tool in tools.iter_mut() {
        let schemes = tool.pointer("/_meta/securitySchemes").cloned();
        if let (Some(schemes), Some(object)) = (schemes, tool.as_object_mut()) {
            object.insert("securitySchemes".to_owned(), schemes);
        }
    }
    serde_json::to_vec(&message).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_for_each_kind_of_access() {
        let noauth = Access {
            anonymous: true,
            oauth2: None,
        };
        let oauth = Access {
            anonymous: false,
            oauth2: Some(&["read:pets"]),
        };
        let mixed = Access {
            anonymous: true,
            oauth2: Some(&["write:pets"]),
        };
        assert_eq!(security_schemes(&noauth), json!([{"type": "noauth"}]));
        assert_eq!(
            security_schemes(&oauth),
            json!([{"type": "oauth2", "scopes": ["read:pets"]}])
        );
        assert_eq!(
            security_schemes(&mixed),
            json!([{"type": "noauth"}, {"type": "oauth2", "scopes": ["write:pets"]}])
        );
    }

    #[test]
    fn rewrite_adds_top_level_field() {
        let body = json!({"jsonrpc": "2.0", "id": 1, "result": {"tools": [
            {"name": "a", "_meta": {"securitySchemes": [{"type": "noauth"}]}},
            {"name": "b"}
        ]}});
        let out = add_top_level_security_schemes(body.to_string().as_bytes()).unwrap();
        let out: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            out["result"]["tools"][0]["securitySchemes"],
            json!([{"type": "noauth"}])
        );
        assert!(out["result"]["tools"][1].get("securitySchemes").is_none());
        assert!(add_top_level_security_schemes(b"{\"result\":{}}").is_none());
    }
}
