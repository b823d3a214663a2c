//! Stage 3: the tool IR. Walks a normalized document and decides, per operation, the tool's
//! name, schemas, HTTP binding, security and annotations. Nothing here writes files.

mod binary;
mod naming;
mod operation;
mod output;
mod parameters;
mod request_body;
mod responses;
mod schema;
mod schema_json;
mod security;
pub mod select;
mod servers;
mod site;

pub use schema_json::SchemaJson;

use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::normalize::Document;
use crate::openapi::METHODS;
use crate::pointer::Pointer;
use crate::profile::{schema_rules, Targets};
use crate::warning::{Class as WarningClass, LeftOut, Warning};

pub use naming::{crate_name, DEFAULT_MAX_LEN};
pub use output::{Output, OutputSchemas, WRAP_PROPERTY};
pub(crate) use schema::{
    each_subschema_mut, merge_all_of, SCHEMA_ARRAY_KEYWORDS, SCHEMA_KEYWORDS, SCHEMA_MAP_KEYWORDS,
};
pub use security::{AuthMode, UpstreamAuth};

/// Choices that shape the mapping.
#[derive(Debug, Clone)]
pub struct Options {
    pub auth: AuthMode,
    /// Scopes for tools that need a token but whose operation names no OAuth scopes.
    pub default_scopes: Vec<String>,
    /// Longest tool name asked for (`max_name_len`); `None`: [`DEFAULT_MAX_LEN`], within
    /// the profiles' budgets.
    pub max_name_len: Option<usize>,
    /// The clients the server is meant for: they bound names and shape input schemas.
    pub profiles: Targets,
    /// The server's name (`--name`); `None`: from the API's title ([`crate_name`]).
    pub server_name: Option<String>,
    /// What goes upstream for operations secured by the user's oauth2 schemes (ARCHITECTURE.md,
    /// Upstream credentials).
    pub upstream_auth: UpstreamAuth,
    /// Filters, scope rules and overrides from the config file and flags.
    pub select: select::Selection,
    /// Fetch `$ref`s to other hosts over the network (normalize stage; off: SSRF safety).
    pub allow_remote_refs: bool,
    /// Which output schemas tools declare.
    pub output_schemas: OutputSchemas,
    /// Defects of the document are errors (`--strict`), not warnings.
    pub strict: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            auth: AuthMode::OAuth2,
            default_scopes: Vec::new(),
            max_name_len: None,
            profiles: Targets::default(),
            server_name: None,
            upstream_auth: UpstreamAuth::Env,
            select: select::Selection::default(),
            allow_remote_refs: false,
            output_schemas: OutputSchemas::default(),
            strict: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Api {
    pub title: String,
    pub version: String,
    pub default_upstream: String,
    pub tools: Vec<Tool>,
    /// The server's name: `--name`, else from the title.
    pub server_name: String,
    /// The longest tool name, as the profiles and `max_name_len` decided.
    pub max_name_len: usize,
    pub upstream_schemes: Vec<UpstreamScheme>,
    /// Operations in the document, before any was dropped.
    pub operations_read: usize,
    /// Operations the filters left out (on purpose, so not warnings).
    pub filtered: usize,
    /// Operations that became tools weaker than the spec meant (an argument untyped, no
    /// output schema, no body), each with a warning.
    pub degraded: usize,
    /// What was dropped or changed in mapping, with the reason and place.
    pub warnings: Vec<Warning>,
    /// Scope hierarchy (`broad` → narrower scopes it satisfies), applied by the server to
    /// the scopes of verified tokens.
    pub scope_implications: std::collections::BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Tool {
    pub name: String,
    pub title: Option<String>,
    pub description: String,
    pub input_schema: SchemaJson,
    /// What a 2xx JSON reply declares (`None`: no outputSchema).
    pub output: Option<Output>,
    pub annotations: Annotations,
    /// The toolset it belongs to: the operation's first tag, else its path's first segment.
    pub group: String,
    pub access: Access,
    pub http: HttpBinding,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Annotations {
    pub read_only: bool,
    pub destructive: bool,
    pub idempotent: bool,
    pub open_world: bool,
}

impl Annotations {
    pub fn for_method(method: &str) -> Self {
        Annotations {
            read_only: matches!(method, "GET" | "HEAD"),
            destructive: method == "DELETE",
            idempotent: matches!(method, "GET" | "HEAD" | "PUT" | "DELETE"),
            open_world: true,
        }
    }
}

/// Who may call a tool (ARCHITECTURE.md, Access).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    pub anonymous: bool,
    pub oauth2: Option<Vec<String>>,
}

impl Access {
    /// The `securitySchemes` value clients read, top level and in `_meta`.
    pub fn security_schemes(&self) -> Value {
        let mut schemes = Vec::new();
        if self.anonymous {
            schemes.push(json!({"type": "noauth"}));
        }
        if let Some(scopes) = &self.oauth2 {
            schemes.push(json!({"type": "oauth2", "scopes": scopes}));
        }
        Value::Array(schemes)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct HttpBinding {
    pub method: String,
    pub path: String,
    pub params: Vec<Param>,
    pub body: Option<Body>,
    pub credentials: Vec<Vec<String>>,
    /// `Accept` and `Content-Type` values the spec requires (a required header parameter
    /// with a default or a single allowed value; OpenAPI 3 says to ignore such parameters,
    /// but the APIs that declare them check them). `Content-Type` is sent when no body is.
    pub required_headers: Vec<(String, String)>,
    /// The operation documents 3xx responses: one the server does not follow (another
    /// origin, too many hops) is the answer, reported as a redirect.
    pub documents_redirects: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub arg: String,
    pub name: String,
    pub location: Location,
    pub required: bool,
    pub style: Style,
    pub explode: bool,
    /// `allowReserved: true` on a path parameter: its value may carry `/` (sent as is).
    pub allow_reserved: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Location {
    Path,
    Query,
    Header,
    Cookie,
}

impl Location {
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "path" => Location::Path,
            "query" => Location::Query,
            "header" => Location::Header,
            "cookie" => Location::Cookie,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Location::Path => "path",
            Location::Query => "query",
            Location::Header => "header",
            Location::Cookie => "cookie",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Simple,
    Form,
    SpaceDelimited,
    PipeDelimited,
    DeepObject,
    Matrix,
    Label,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Body {
    pub media_type: String,
    pub required: bool,
    pub shape: BodyShape,
    /// Form-urlencoded fields the spec's `encoding` gives a style other than the default
    /// (form, exploded).
    pub encoding: Vec<FieldEncoding>,
    /// Arguments that carry bytes as base64: the whole body (raw media types) or multipart
    /// file fields ([`binary`]).
    pub binary: Vec<BinaryField>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BinaryField {
    /// The body argument, or the multipart field.
    pub field: String,
    /// What the bytes are sent as.
    pub content_type: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FieldEncoding {
    pub field: String,
    pub style: Style,
    pub explode: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum BodyShape {
    Whole { arg: String },
    Flattened { fields: Vec<String> },
}

#[derive(Debug, Clone, PartialEq)]
pub struct UpstreamScheme {
    pub name: String,
    pub kind: SchemeKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SchemeKind {
    ApiKey {
        location: Location,
        param: String,
        env: String,
    },
    Bearer {
        env: String,
    },
    Basic {
        username_env: String,
        password_env: String,
    },
    /// An oauth2 scheme whose only flow is client credentials: the server's own token.
    ClientCredentials {
        /// From the spec; may be empty or relative (then `token_url_env` must be set).
        token_url: String,
        token_url_env: String,
        client_id_env: String,
        client_secret_env: String,
        scopes: Vec<String>,
    },
    /// The caller's token exchanged at the authorization server (RFC 8693).
    TokenExchange,
    /// The caller's token sent upstream unchanged (`--upstream-auth passthrough`).
    Passthrough,
}

/// The token exchange's settings, the same for every scheme (see the runtime's credentials.rs).
pub const TOKEN_EXCHANGE_ENV: &[&str] = &[
    "TOKEN_EXCHANGE_CLIENT_ID",
    "TOKEN_EXCHANGE_CLIENT_SECRET",
    "TOKEN_EXCHANGE_URL",
    "TOKEN_EXCHANGE_AUDIENCE",
];

impl SchemeKind {
    /// The environment variables the generated server reads for this credential.
    pub fn env_vars(&self) -> Vec<&str> {
        match self {
            SchemeKind::ApiKey { env, .. } | SchemeKind::Bearer { env } => vec![env],
            SchemeKind::Basic {
                username_env,
                password_env,
            } => vec![username_env, password_env],
            SchemeKind::ClientCredentials {
                token_url_env,
                client_id_env,
                client_secret_env,
                ..
            } => vec![client_id_env, client_secret_env, token_url_env],
            SchemeKind::TokenExchange => TOKEN_EXCHANGE_ENV.to_vec(),
            SchemeKind::Passthrough => Vec::new(),
        }
    }

    /// Whether one of [`Self::env_vars`] holds a secret (a key, token, password, client id
    /// and secret) rather than a setting (a token endpoint, an audience): deployments keep
    /// the two apart (a Kubernetes Secret and a ConfigMap).
    pub fn is_secret(&self, var: &str) -> bool {
        match self {
            SchemeKind::ClientCredentials { token_url_env, .. } => var != token_url_env,
            // The client id and secret; the endpoint and the audience are settings.
            SchemeKind::TokenExchange => TOKEN_EXCHANGE_ENV[..2].contains(&var),
            _ => true,
        }
    }
}

pub fn build(doc: &Document, options: &Options) -> Result<Api> {
    let root = &doc.root;
    let info = root.get("info").unwrap_or(&Value::Null);
    let text = |key: &str| {
        info.get(key)
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim()
            .to_string()
    };
    let mut warnings = doc.warnings.clone();
    let schemes = security::Schemes::read(root, options, &mut warnings)?;
    let default_upstream = servers::default_upstream(root, &mut warnings);

    let server_name = options
        .server_name
        .clone()
        .unwrap_or_else(|| crate_name(&text("title")));
    let max_name_len =
        options
            .profiles
            .name_budget(&server_name, options.max_name_len, DEFAULT_MAX_LEN)?;
    let mut names = naming::Registry::bounded(max_name_len);
    // Operations the normalize stage left out were read too.
    let mut operations_read = doc.dropped;
    let mut filtered = 0;
    let mut seen_keys = std::collections::BTreeSet::new();
    let paths_at = Pointer::root().push("paths");
    let Some(Value::Object(paths)) = root.get("paths") else {
        return Err(Error::spec("/paths", "not an object"));
    };
    // The operations to map, each with the warnings that come before it in document order.
    let mut jobs = Vec::new();
    let mut pending = Vec::new();
    for (path, item) in paths {
        let item_at = paths_at.push(path);
        let item = match resolve_item(root, item, &item_at) {
            Ok(item) => item,
            Err(e) => {
                // Its operations are unknown, so none is counted.
                pending.push(Warning::left_out(e, LeftOut::PathItem)?);
                continue;
            }
        };
        for method in METHODS {
            let Some(op) = item.get(*method) else {
                continue;
            };
            operations_read += 1;
            let op_at = item_at.push(method);
            if op.get("x-mcp") == Some(&Value::Bool(false)) {
                pending.push(Warning::new(
                    WarningClass::Hidden,
                    &op_at,
                    "hidden by `x-mcp: false`",
                ));
                continue;
            }
            let facts = select::OpFacts { op, method, path };
            seen_keys.insert(facts.key());
            if select::excluded(&options.select.filters, &facts).is_some() {
                filtered += 1;
                continue;
            }
            jobs.push(Job {
                before: std::mem::take(&mut pending),
                path,
                method,
                item,
                op,
                at: op_at,
            });
        }
    }
    let mapped = crate::parallel::map(
        &jobs,
        || operation::Shared::new(root, doc.version),
        |shared, job| {
            let site = operation::Site {
                root,
                path: job.path,
                method: job.method,
                item: job.item,
                op: job.op,
                at: &job.at,
            };
            let mut found = Vec::new();
            let tool = operation::build(&site, &schemes, options, shared, &mut found);
            (tool, found)
        },
    );
    let mut tools = Vec::new();
    let mut degraded = 0;
    for (job, (tool, found)) in jobs.into_iter().zip(mapped) {
        warnings.extend(job.before);
        let mut tool = match tool {
            Ok(tool) => tool,
            Err(e) => {
                // Nothing of a broken operation is kept, its warnings and name included.
                warnings.push(Warning::left_out(e, LeftOut::Operation)?);
                continue;
            }
        };
        if found.iter().any(|w| w.class.degrades()) {
            degraded += 1;
        }
        warnings.extend(found);
        // Names are claimed in document order, so clashes resolve as they always have.
        tool.name = names.claim_bounded(&tool.name);
        let facts = select::OpFacts {
            op: job.op,
            method: job.method,
            path: job.path,
        };
        select::apply_text_overrides(&options.select, &facts, &mut tool);
        tools.push(tool);
    }
    warnings.extend(pending);
    let mut upstream_schemes = schemes.used(&tools);
    select::rename_credentials(&options.select, &mut upstream_schemes);
    warnings.extend(select::unused(
        &options.select,
        &seen_keys,
        &upstream_schemes,
    ));
    Ok(Api {
        title: text("title"),
        version: text("version"),
        default_upstream,
        tools,
        server_name,
        max_name_len,
        upstream_schemes,
        operations_read,
        filtered,
        degraded,
        warnings,
        scope_implications: options.select.scope_implications.clone(),
    })
}

/// The tool's input schema made acceptable to the targeted profiles; each argument left
/// untyped on the way is a warning.
fn conform(
    input_schema: &mut Value,
    targets: &Targets,
    site: &operation::Site,
    warnings: &mut Vec<Warning>,
) {
    for u in schema_rules::conform(input_schema, targets) {
        warnings.push(Warning::new(
            WarningClass::UntypedArgument,
            site.at,
            format!(
                "argument `{}` of {} takes any value: its schema uses `{}`, which {} refuses (profile {}), and cannot be rewritten without it",
                u.argument,
                site::operation_label(site),
                u.keyword,
                schema_rules::client(u.profile),
                u.profile
            ),
        ));
    }
}

impl Api {
    /// The warnings about defects of the document (what `--strict` refuses).
    pub fn defects(&self) -> impl Iterator<Item = &Warning> {
        self.warnings.iter().filter(|w| w.class.is_defect())
    }
}

/// A path item may itself be a `$ref` (to `#/components/pathItems/…` in 3.1).
/// One operation to map, and the warnings that come before it in document order.
struct Job<'a> {
    before: Vec<Warning>,
    path: &'a str,
    method: &'static str,
    item: &'a Value,
    op: &'a Value,
    at: Pointer,
}

fn resolve_item<'a>(root: &'a Value, item: &'a Value, at: &Pointer) -> Result<&'a Value> {
    let Some(reference) = item.get("$ref").and_then(Value::as_str) else {
        return Ok(item);
    };
    Pointer::parse(reference)
        .and_then(|p| p.resolve(root))
        .ok_or_else(|| {
            Error::spec(
                format!("{at}/$ref"),
                format!("`{reference}` points to nothing in this document"),
            )
        })
}

/// Follow a chain of local `$ref`s to the object they name (parameters, bodies, responses).
pub(crate) fn deref<'a>(
    root: &'a Value,
    value: &'a Value,
    at: &Pointer,
) -> Result<(&'a Value, Pointer)> {
    let mut current = value;
    let mut place = at.clone();
    for _ in 0..32 {
        let Some(reference) = current.get("$ref").and_then(Value::as_str) else {
            return Ok((current, place));
        };
        let target = Pointer::parse(reference).ok_or_else(|| {
            Error::spec(
                format!("{place}/$ref"),
                format!("`{reference}` is not a local reference (only `#/…` is supported)"),
            )
        })?;
        current = target.resolve(root).ok_or_else(|| {
            Error::spec(
                format!("{place}/$ref"),
                format!("`{reference}` points to nothing in this document"),
            )
        })?;
        place = target;
    }
    Err(Error::spec(at.to_string(), "`$ref` chain does not end"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::{self, Version};

    #[test]
    fn a_broken_operation_is_left_out_and_keeps_nothing_not_even_its_name() {
        let root = json!({
            "openapi": "3.1.0", "info": {"title": "t", "version": "1"},
            "servers": [{"url": "https://api.example.com"}],
            "paths": {
                "/a": {"get": {"operationId": "pets", "parameters": [
                    {"name": "x", "in": "query", "style": "pipeline", "schema": {"type": "string"}}
                ], "responses": {}}},
                "/b": {"get": {"operationId": "pets", "parameters": [
                    {"name": "y", "in": "query", "schema": {"$ref": "#/components/schemas/Gone"}}
                ], "responses": {}}},
                "/c": {"$ref": "#/components/pathItems/Gone"}
            }
        });
        let doc = normalize::normalize(root).unwrap();
        assert_eq!(doc.version, Version::V3_1);
        let api = build(&doc, &Options::default()).unwrap();
        let names: Vec<&str> = api.tools.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["pets"]);
        assert_eq!((api.operations_read, api.degraded), (2, 1));
        let shown: Vec<String> = api.warnings.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "/paths/~1a/get/parameters/0/style: unknown style `pipeline`; operation left out [operation-dropped]",
                "/paths/~1b/get/parameters/0/schema/$ref: `#/components/schemas/Gone` points to nothing; parameter `y` of GET /b takes any value [untyped-argument]",
                "/paths/~1c/$ref: `#/components/pathItems/Gone` points to nothing in this document; the operations of this path left out [operation-dropped]",
            ]
        );
    }
}
