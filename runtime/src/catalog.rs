//! The types of the tool table. `tools.rs` (generated from the OpenAPI document) fills one
//! `Catalog`; everything else in the runtime reads it and never knows which API it serves.

/// Everything the generator knew about the API.
#[derive(Debug)]
pub struct Catalog {
    /// Crate and binary name; also the MCP `serverInfo.name`.
    pub server_name: &'static str,
    /// Human title (the spec's `info.title`); `resource_name` in the protected-resource metadata.
    pub server_title: &'static str,
    /// The spec's `info.version`.
    pub api_version: &'static str,
    /// Issuer baked in from `--oauth-server`; `AUTHORIZATION_SERVER_URL` overrides it.
    pub default_issuer: &'static str,
    /// Public `/mcp` URL baked in from `--resource-url` (empty: follow HOST/PORT);
    /// `RESOURCE_SERVER_URL` overrides it.
    pub default_resource: &'static str,
    /// Scope hierarchy baked in from `mcp-gen.toml` (`broad=narrow …, …`, the
    /// `SCOPE_IMPLIES` syntax); the environment variable overrides it.
    pub default_scope_implies: &'static str,
    /// The spec's first server URL; `UPSTREAM_BASE_URL` overrides it.
    pub default_upstream: &'static str,
    pub tools: &'static [ToolSpec],
    pub upstream_schemes: &'static [UpstreamScheme],
    /// How `tools/list` presents the operations unless `TOOL_MODE` says otherwise.
    pub default_mode: ToolMode,
    /// Catalog mode's listed tools.
    pub catalog_tools: &'static [CatalogEntry],
    /// The search index over the operations for catalog mode, built by the generator
    /// (`search/mod.rs` documents it).
    pub search_index: &'static str,
    /// The toolsets (groups of [`ToolSpec::group`]) served unless `TOOLSETS` says otherwise;
    /// empty: all of them.
    pub default_toolsets: &'static [&'static str],
    /// `tools/list` (and catalog search) show a caller with a token only the tools its scopes
    /// allow; `LIST_BY_SCOPE` overrides it.
    pub list_by_scope: bool,
}

/// How the operations are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolMode {
    /// One tool per operation.
    Tools,
    /// A few tools that search, describe and call the operations, for APIs too big to list.
    Catalog,
}

/// One of catalog mode's listed tools.
#[derive(Debug)]
pub struct CatalogEntry {
    pub role: CatalogRole,
    pub name: &'static str,
    pub description: &'static str,
    /// JSON Schema 2020-12 text.
    pub input_schema: &'static str,
    pub annotations: Annotations,
    pub access: Access,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CatalogRole {
    /// `{query, group?, limit?}` → the best matching operations.
    Search,
    /// `{operation}` → its schemas, method, path and security.
    Describe,
    /// `{operation, arguments}` → the operation's own result.
    Call,
}

#[derive(Debug)]
pub struct ToolSpec {
    pub name: &'static str,
    pub title: Option<&'static str>,
    pub description: &'static str,
    /// JSON Schema 2020-12 text; root `{"type":"object"}`, no `$ref`.
    pub input_schema: &'static str,
    /// What a 2xx JSON reply declares, when the operation has one.
    pub output: Option<Output>,
    pub annotations: Annotations,
    /// Its toolset: the operation's first tag, else its path's first segment.
    pub group: &'static str,
    pub access: Access,
    pub http: HttpBinding,
}

/// A tool's `outputSchema` and how replies map onto it.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    /// JSON Schema 2020-12 text; root `{"type":"object"}`, no `$ref`.
    pub schema: &'static str,
    /// Replies that are not JSON objects (lists, scalars) travel as `{"result": …}`.
    pub wrapped: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct Annotations {
    pub read_only: bool,
    pub destructive: bool,
    pub idempotent: bool,
    pub open_world: bool,
}

/// Who may call a tool (the MCP side, ARCHITECTURE.md, Access).
/// noauth: `anonymous` and no `oauth2`; oauth2: `oauth2` only; mixed: both.
#[derive(Debug, Clone, Copy)]
pub struct Access {
    pub anonymous: bool,
    /// Scopes a token must carry, all of them; `Some(&[])` means any valid token.
    pub oauth2: Option<&'static [&'static str]>,
}

/// How a tool call becomes the upstream HTTP request.
#[derive(Debug)]
pub struct HttpBinding {
    /// Upper case: `GET`, `POST`, …
    pub method: &'static str,
    /// Path template relative to the upstream base URL, e.g. `/pet/{petId}`.
    pub path: &'static str,
    pub params: &'static [Param],
    pub body: Option<Body>,
    /// Alternatives (any one suffices), each a set of upstream scheme names (all needed).
    /// Empty: the operation needs no upstream credential.
    pub credentials: &'static [&'static [&'static str]],
    /// `Accept` and `Content-Type` values the spec requires on every request (`Content-Type`
    /// only when no body sets its own).
    pub required_headers: &'static [(&'static str, &'static str)],
    /// The spec documents 3xx responses: one that is not followed (another origin, too many
    /// hops) is reported as a redirect, not as a failure.
    pub documents_redirects: bool,
}

#[derive(Debug)]
pub struct Param {
    /// Argument name in the tool's inputSchema.
    pub arg: &'static str,
    /// Name on the wire (path placeholder, query key, header or cookie name).
    pub name: &'static str,
    pub location: Location,
    pub required: bool,
    pub style: Style,
    pub explode: bool,
    /// Path only (`allowReserved: true` in the spec): the value may hold `/` and other
    /// reserved characters, sent as is. Otherwise a value is one whole path segment.
    pub allow_reserved: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    Path,
    Query,
    Header,
    Cookie,
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

#[derive(Debug)]
pub struct Body {
    /// The media type sent, e.g. `application/json`, `application/x-www-form-urlencoded`,
    /// `multipart/form-data`.
    pub media_type: &'static str,
    pub required: bool,
    pub shape: BodyShape,
    /// Form-urlencoded fields whose style is not the default (form, exploded).
    pub encoding: &'static [FieldEncoding],
    /// Arguments holding bytes, base64 in the tool call: the whole body of a raw media type,
    /// or multipart file fields (sent as file parts).
    pub binary: &'static [BinaryField],
}

/// Bytes that travel as base64 text in the tool call and are decoded before sending.
#[derive(Debug)]
pub struct BinaryField {
    /// The body argument, or the multipart field.
    pub field: &'static str,
    /// The content type the bytes are sent with (a multipart part's `Content-Type`).
    pub content_type: &'static str,
}

/// How one form-urlencoded field is serialized: the query-parameter styles.
#[derive(Debug)]
pub struct FieldEncoding {
    pub field: &'static str,
    pub style: Style,
    pub explode: bool,
}

#[derive(Debug)]
pub enum BodyShape {
    /// The whole body is one argument (`body` unless that name was taken).
    Whole { arg: &'static str },
    /// An object body whose properties are top-level arguments of the same names.
    Flattened { fields: &'static [&'static str] },
}

/// An upstream credential described by the spec's securitySchemes (ARCHITECTURE.md, Upstream
/// credentials).
#[derive(Debug)]
pub struct UpstreamScheme {
    /// The scheme's key in `components.securitySchemes`.
    pub name: &'static str,
    pub kind: SchemeKind,
}

#[derive(Debug)]
pub enum SchemeKind {
    /// Sent as `param` in `location`; value from `env`.
    ApiKey {
        location: Location,
        param: &'static str,
        env: &'static str,
    },
    /// `Authorization: Bearer <env>`.
    Bearer { env: &'static str },
    /// `Authorization: Basic base64(<username_env>:<password_env>)`.
    Basic {
        username_env: &'static str,
        password_env: &'static str,
    },
    /// OAuth 2 client credentials at `token_url` (`token_url_env` overrides it); the token
    /// is fetched, cached until shortly before it expires, and refetched on an upstream 401.
    ClientCredentials {
        token_url: &'static str,
        token_url_env: &'static str,
        client_id_env: &'static str,
        client_secret_env: &'static str,
        scopes: &'static [&'static str],
    },
    /// The caller acting upstream: its MCP token exchanged at the authorization server
    /// (RFC 8693) for one minted for the upstream API, sent as `Authorization: Bearer`.
    TokenExchange,
    /// The caller's MCP token sent upstream unchanged. Only by explicit opt-in
    /// (`--upstream-auth passthrough`): the MCP specification forbids it otherwise.
    Passthrough,
}
