//! What a client sees in `tools/list`, per tool mode: one entry per operation (`tools`), or
//! the three entries of catalog mode that search, describe and call the operations. The
//! entries are built here exactly as the generated server lists them, so their size can be
//! measured and budgeted before anything is written; the catalog-mode entries are emitted
//! into the generated project from here too.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::model::{Api, SchemaJson, Tool};

/// How a server presents its operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ToolMode {
    /// One tool per operation.
    Tools,
    /// `search_operations`, `describe_operation`, `call_operation`.
    Catalog,
    /// Tools while the per-tool list fits the budget, catalog when it does not.
    #[default]
    Auto,
}

impl ToolMode {
    /// As the config file spells it.
    pub fn name(self) -> &'static str {
        match self {
            ToolMode::Tools => "tools",
            ToolMode::Catalog => "catalog",
            ToolMode::Auto => "auto",
        }
    }
}

/// Which of the three catalog tools an entry is (the runtime dispatches on it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CatalogTool {
    Search,
    Describe,
    Call,
}

impl CatalogTool {
    pub const ALL: [CatalogTool; 3] = [
        CatalogTool::Search,
        CatalogTool::Describe,
        CatalogTool::Call,
    ];

    pub fn name(self) -> &'static str {
        match self {
            CatalogTool::Search => "search_operations",
            CatalogTool::Describe => "describe_operation",
            CatalogTool::Call => "call_operation",
        }
    }

    pub fn description(self, api: &Api) -> String {
        let title = &api.title;
        match self {
            CatalogTool::Search => format!(
                "Finds operations of the {title} API by what you want to do, best match first: each with its name, summary and group. An empty query lists the groups. Then describe_operation tells an operation's arguments and call_operation runs it."
            ),
            CatalogTool::Describe => "Tells one operation's arguments (inputSchema), what it returns (outputSchema), its HTTP method and path, and the OAuth scopes it needs (securitySchemes).".to_owned(),
            CatalogTool::Call => "Runs one operation with its arguments, checked against the inputSchema describe_operation gave. The result is the operation's own: its reply, or an error that says what to fix.".to_owned(),
        }
    }

    pub fn input_schema(self) -> Value {
        let operation =
            json!({"type": "string", "description": "An operation name from search_operations"});
        match self {
            CatalogTool::Search => json!({
                "type": "object",
                "properties": {
                    "query": {"type": "string", "description": "What you want to do, in a few words"},
                    "group": {"type": "string", "description": "Only operations of this group"},
                    "limit": {"type": "integer", "minimum": 1, "maximum": 20, "default": 5}
                },
                "required": ["query"]
            }),
            CatalogTool::Describe => json!({
                "type": "object",
                "properties": {"operation": operation},
                "required": ["operation"]
            }),
            CatalogTool::Call => json!({
                "type": "object",
                "properties": {
                    "operation": operation,
                    "arguments": {"type": "object", "description": "The operation's arguments, as its inputSchema says"}
                },
                "required": ["operation"],
                "additionalProperties": false
            }),
        }
    }

    /// Searching and describing read the embedded catalog only; calling does whatever the
    /// operation does.
    pub fn annotations(self, api: &Api) -> crate::model::Annotations {
        match self {
            CatalogTool::Search | CatalogTool::Describe => crate::model::Annotations {
                read_only: true,
                destructive: false,
                idempotent: true,
                open_world: false,
            },
            CatalogTool::Call => crate::model::Annotations {
                read_only: api.tools.iter().all(|t| t.annotations.read_only),
                destructive: api.tools.iter().any(|t| t.annotations.destructive),
                idempotent: api.tools.iter().all(|t| t.annotations.idempotent),
                open_world: true,
            },
        }
    }

    /// Truthful `securitySchemes`: searching and describing need a token only when every
    /// operation does (then the server refuses anything without one); calling allows
    /// whatever some operation allows. An operation's own scopes are named when a call is
    /// refused, and by `describe_operation`.
    pub fn access(self, api: &Api) -> crate::model::Access {
        let anonymous = api.tools.iter().any(|t| t.access.anonymous);
        let oauth = api.tools.iter().any(|t| t.access.oauth2.is_some());
        match self {
            CatalogTool::Search | CatalogTool::Describe => crate::model::Access {
                anonymous,
                oauth2: (!anonymous).then(Vec::new),
            },
            CatalogTool::Call => crate::model::Access {
                anonymous,
                oauth2: oauth.then(Vec::new),
            },
        }
    }
}

/// The `tools/list` entries in `mode` (`Auto` must be resolved first: it lists as `Tools`).
pub fn entries(api: &Api, mode: ToolMode) -> Vec<Value> {
    match mode {
        ToolMode::Tools | ToolMode::Auto => api.tools.iter().map(tool_entry).collect(),
        ToolMode::Catalog => CatalogTool::ALL
            .iter()
            .map(|&c| {
                let description = c.description(api);
                let input = SchemaJson::new(&c.input_schema());
                let access = c.access(api);
                to_value(Entry::new(
                    c.name(),
                    None,
                    &description,
                    &input,
                    None,
                    &c.annotations(api),
                    &access,
                ))
            })
            .collect(),
    }
}

/// One operation's entry, as the server lists it in tool mode.
pub fn tool_entry(t: &Tool) -> Value {
    to_value(Entry::of(t))
}

/// The same entry as compact JSON, without copying its schemas into a `Value` first (MS
/// Graph's 11,422 entries hold 70 MB of them).
pub fn tool_entry_json(t: &Tool) -> String {
    // Serializing cannot fail: every key is a string.
    serde_json::to_string(&Entry::of(t)).unwrap_or_default()
}

fn to_value(entry: Entry) -> Value {
    // Serializing cannot fail: every key is a string.
    serde_json::to_value(entry).unwrap_or_default()
}

/// Field for field what rmcp serializes for a `Tool`, plus the top-level `securitySchemes`
/// the server adds; borrowed, so measuring a list copies no schema.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Entry<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'a str>,
    description: &'a str,
    input_schema: &'a SchemaJson,
    #[serde(skip_serializing_if = "Option::is_none")]
    output_schema: Option<&'a SchemaJson>,
    annotations: Hints,
    #[serde(rename = "_meta")]
    meta: Meta,
    security_schemes: Value,
}

/// A tool's `annotations` as MCP spells them.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Hints {
    read_only_hint: bool,
    destructive_hint: bool,
    idempotent_hint: bool,
    open_world_hint: bool,
}

impl From<&crate::model::Annotations> for Hints {
    fn from(a: &crate::model::Annotations) -> Self {
        Hints {
            read_only_hint: a.read_only,
            destructive_hint: a.destructive,
            idempotent_hint: a.idempotent,
            open_world_hint: a.open_world,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Meta {
    security_schemes: Value,
}

impl<'a> Entry<'a> {
    fn of(t: &'a Tool) -> Self {
        Entry::new(
            &t.name,
            t.title.as_deref(),
            &t.description,
            &t.input_schema,
            t.output.as_ref().map(|o| &o.schema),
            &t.annotations,
            &t.access,
        )
    }

    fn new(
        name: &'a str,
        title: Option<&'a str>,
        description: &'a str,
        input_schema: &'a SchemaJson,
        output_schema: Option<&'a SchemaJson>,
        a: &crate::model::Annotations,
        access: &crate::model::Access,
    ) -> Self {
        let schemes = access.security_schemes();
        Entry {
            name,
            title,
            description,
            input_schema,
            output_schema,
            annotations: Hints::from(a),
            meta: Meta {
                security_schemes: schemes.clone(),
            },
            security_schemes: schemes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_reads_the_same_as_text_and_as_a_value() {
        let spec = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/petstore/petstore-3.0.json"
        );
        let (_, api) = crate::read_api(spec, &crate::model::Options::default()).unwrap();
        for t in &api.tools {
            let value = tool_entry(t);
            assert_eq!(tool_entry_json(t), serde_json::to_string(&value).unwrap());
            let keys: Vec<&str> = value
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            let expected: &[&str] = match (&t.title, &t.output) {
                (Some(_), Some(_)) => &[
                    "name",
                    "title",
                    "description",
                    "inputSchema",
                    "outputSchema",
                    "annotations",
                    "_meta",
                    "securitySchemes",
                ],
                (Some(_), None) => &[
                    "name",
                    "title",
                    "description",
                    "inputSchema",
                    "annotations",
                    "_meta",
                    "securitySchemes",
                ],
                _ => panic!("petstore's tools have titles"),
            };
            assert_eq!(keys, expected);
        }
    }
}
