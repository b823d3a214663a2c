//! Catalog mode: for APIs too big to list, three tools instead of one per operation.
//! `search_operations` ranks the operations by a query, `describe_operation` tells one's
//! schemas and security, and `call_operation` runs one exactly as its own tool would (the
//! handler in `server.rs` does that part: the same scopes, challenges, validation and
//! upstream request).

use rmcp::model::{CallToolResult, JsonObject, Tool};
use serde_json::{Map, Value, json};

use crate::catalog::{Catalog, CatalogRole, ToolSpec};
use crate::mcp::{listing, outcome};
use crate::search::Index;

/// The listed tools and the search index.
pub struct CatalogMode {
    pub tools: Vec<(CatalogRole, Tool)>,
    pub index: Index,
}

const DEFAULT_LIMIT: u64 = 5;
const MOST_LIMIT: u64 = 20;

impl CatalogMode {
    /// `{query, group?, limit?}`: the best matches among the operations `shown` to this
    /// caller. An empty query lists the groups with their operation counts.
    pub fn search(
        &self,
        catalog: &Catalog,
        args: &Map<String, Value>,
        shown: impl Fn(usize) -> bool,
    ) -> CallToolResult {
        let Some(query) = args.get("query").and_then(Value::as_str) else {
            return outcome::error("`query` (a string) is required");
        };
        let group = match args.get("group") {
            None | Some(Value::Null) => None,
            Some(Value::String(g)) => Some(g.as_str()),
            Some(_) => return outcome::error("`group` must be a string"),
        };
        let limit = match args.get("limit") {
            None | Some(Value::Null) => DEFAULT_LIMIT,
            // JSON Schema counts 5.0 as an integer too.
            Some(v) => match v
                .as_f64()
                .filter(|n| n.fract() == 0.0 && (1.0..=MOST_LIMIT as f64).contains(n))
                .map(|n| n as u64)
            {
                Some(n) => n,
                None => {
                    return outcome::error(format!(
                        "`limit` must be a whole number from 1 to {MOST_LIMIT}"
                    ));
                }
            },
        };
        let allowed = |i: usize| shown(i) && group.is_none_or(|g| catalog.tools[i].group == g);
        if query.trim().is_empty() {
            let mut groups: Vec<(&str, usize)> = Vec::new();
            for (i, tool) in catalog.tools.iter().enumerate() {
                if !allowed(i) {
                    continue;
                }
                match groups.iter_mut().find(|(g, _)| *g == tool.group) {
                    Some((_, n)) => *n += 1,
                    None => groups.push((tool.group, 1)),
                }
            }
            let groups: Vec<Value> = groups
                .into_iter()
                .map(|(name, operations)| json!({"group": name, "operations": operations}))
                .collect();
            return CallToolResult::structured(json!({"groups": groups}));
        }
        let found: Vec<Value> = self
            .index
            .search(bounded(query), allowed, limit as usize)
            .into_iter()
            .map(|i| summary(&catalog.tools[i]))
            .collect();
        CallToolResult::structured(json!({"operations": found}))
    }

    /// `{operation}`: what a client needs to call it, from the same parsed tool the
    /// server would list for it (`None`: no such operation served).
    pub fn describe(&self, operation: Option<(&ToolSpec, &Tool)>) -> CallToolResult {
        let Some((spec, tool)) = operation else {
            return outcome::error(
                "no such operation: search_operations finds the operation names",
            );
        };
        let mut described = summary(spec);
        if let Value::Object(fields) = &mut described {
            fields.insert("description".into(), spec.description.into());
            let schema = |object: &JsonObject| Value::Object(object.clone());
            fields.insert("inputSchema".into(), schema(&tool.input_schema));
            if let Some(output) = &tool.output_schema {
                fields.insert("outputSchema".into(), schema(output));
            }
            let hints = serde_json::to_value(&tool.annotations);
            fields.insert("annotations".into(), hints.unwrap_or_default());
            fields.insert(
                "securitySchemes".into(),
                listing::security_schemes(&spec.access),
            );
        }
        CallToolResult::structured(described)
    }
}

/// The operation a `call_operation` names, and its own arguments.
pub struct Target<'a> {
    pub operation: &'a str,
    pub arguments: Option<Map<String, Value>>,
}

/// `{operation, arguments}` of a `call_operation`: the operation's name and its own
/// arguments. Anything else beside them is refused: a model that put the operation's
/// arguments there would otherwise have the call run without them.
pub fn call_target(args: &Map<String, Value>) -> Result<Target<'_>, String> {
    if let Some(stray) = args
        .keys()
        .find(|k| !matches!(k.as_str(), "operation" | "arguments"))
    {
        return Err(format!(
            "`{stray}` is not an argument of call_operation: put the operation's arguments inside `arguments`"
        ));
    }
    let Some(operation) = args.get("operation").and_then(Value::as_str) else {
        return Err("`operation` (a string) is required".to_owned());
    };
    match args.get("arguments") {
        None | Some(Value::Null) => Ok(Target {
            operation,
            arguments: None,
        }),
        Some(Value::Object(inner)) => Ok(Target {
            operation,
            arguments: Some(inner.clone()),
        }),
        Some(_) => Err("`arguments` must be an object".to_owned()),
    }
}

/// A query says what it wants in a few words; a longer one (up to the argument limit, a
/// megabyte) would cost CPU for nothing, so only its start is read.
const MOST_QUERY_BYTES: usize = 1024;

fn bounded(query: &str) -> &str {
    if query.len() <= MOST_QUERY_BYTES {
        return query;
    }
    let mut end = MOST_QUERY_BYTES;
    while !query.is_char_boundary(end) {
        end -= 1;
    }
    &query[..end]
}

/// One operation in a search result.
fn summary(spec: &ToolSpec) -> Value {
    let mut out = json!({
        "operation": spec.name,
        "group": spec.group,
        "method": spec.http.method,
        "path": spec.http.path,
    });
    if let (Some(title), Value::Object(fields)) = (spec.title, &mut out) {
        fields.insert("summary".into(), title.into());
    }
    out
}
