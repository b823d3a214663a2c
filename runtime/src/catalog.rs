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

/// What mcp-gen gives each HTTP method unless told otherwise; the tool table names these.
impl Annotations {
    /// `GET`, `HEAD`.
    pub const READ_ONLY: Self = Self::write(true, false, true);
    /// `PUT`: writes, the same result however often.
    pub const IDEMPOTENT_WRITE: Self = Self::write(false, false, true);
    /// `DELETE`.
    pub const DESTRUCTIVE: Self = Self::write(false, true, true);
    /// `POST`, `PATCH` and the rest.
    pub const WRITE: Self = Self::write(false, false, false);

    const fn write(read_only: bool, destructive: bool, idempotent: bool) -> Self {
        Annotations {
            read_only,
            destructive,
            idempotent,
            open_world: true,
        }
    }
}

/// Who may call a tool (the MCP side, ARCHITECTURE.md, Access).
/// noauth: `anonymous` and no `oauth2`; oauth2: `oauth2` only; mixed: both.
#[derive(Debug, Clone, Copy)]
pub struct Access {
    pub anonymous: bool,
    /// Scopes a token must carry, all of them; `Some(&[])` means any valid token.
    pub oauth2: Option<&'static [&'static str]>,
}

impl Access {
    /// Anyone may call it (noauth).
    pub const ANONYMOUS: Self = Access {
        anonymous: true,
        oauth2: None,
    };

    /// Only a token with all of `scopes`.
    pub const fn oauth2(scopes: &'static [&'static str]) -> Self {
        Access {
            anonymous: false,
            oauth2: Some(scopes),
        }
    }
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

/// The tool table spells a binding as `HttpBinding::new(method, path)` and only what it has
/// beyond that: `.params(&[…])`, `.body(…)`, `.credentials(&[…])`, ….
impl HttpBinding {
    /// `method` on `path`, with no parameters, body, credentials or required headers.
    pub const fn new(method: &'static str, path: &'static str) -> Self {
        HttpBinding {
            method,
            path,
            params: &[],
            body: None,
            credentials: &[],
            required_headers: &[],
            documents_redirects: false,
        }
    }

    pub const fn params(self, params: &'static [Param]) -> Self {
        HttpBinding { params, ..self }
    }

    pub const fn body(self, body: Body) -> Self {
        HttpBinding {
            body: Some(body),
            ..self
        }
    }

    pub const fn credentials(self, credentials: &'static [&'static [&'static str]]) -> Self {
        HttpBinding {
            credentials,
            ..self
        }
    }

    pub const fn required_headers(
        self,
        required_headers: &'static [(&'static str, &'static str)],
    ) -> Self {
        HttpBinding {
            required_headers,
            ..self
        }
    }

    pub const fn documents_redirects(self) -> Self {
        HttpBinding {
            documents_redirects: true,
            ..self
        }
    }
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

/// The tool table spells a parameter as its location's constructor (OpenAPI's defaults for
/// that location) and only what differs: `Param::query("$select").arg("_select")`.
impl Param {
    /// A path parameter: required, `simple`, not exploded.
    pub const fn path(name: &'static str) -> Self {
        Self::at(name, Location::Path, true, Style::Simple, false)
    }

    /// A query parameter: optional, `form`, exploded.
    pub const fn query(name: &'static str) -> Self {
        Self::at(name, Location::Query, false, Style::Form, true)
    }

    /// A header: optional, `simple`, not exploded.
    pub const fn header(name: &'static str) -> Self {
        Self::at(name, Location::Header, false, Style::Simple, false)
    }

    /// A cookie: optional, `form`, exploded.
    pub const fn cookie(name: &'static str) -> Self {
        Self::at(name, Location::Cookie, false, Style::Form, true)
    }

    const fn at(
        name: &'static str,
        location: Location,
        required: bool,
        style: Style,
        explode: bool,
    ) -> Self {
        Param {
            arg: name,
            name,
            location,
            required,
            style,
            explode,
            allow_reserved: false,
        }
    }

    /// The argument's name in the inputSchema, where it is not the wire name.
    pub const fn arg(self, arg: &'static str) -> Self {
        Param { arg, ..self }
    }

    pub const fn required(self, required: bool) -> Self {
        Param { required, ..self }
    }

    pub const fn style(self, style: Style) -> Self {
        Param { style, ..self }
    }

    pub const fn explode(self, explode: bool) -> Self {
        Param { explode, ..self }
    }

    pub const fn allow_reserved(self) -> Self {
        Param {
            allow_reserved: true,
            ..self
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn param_constructors_give_openapi_defaults_and_modifiers_change_one_field() {
        let p = Param::query("$select").arg("_select").explode(false);
        assert_eq!(
            (p.arg, p.name, p.location),
            ("_select", "$select", Location::Query)
        );
        assert_eq!(
            (p.required, p.style, p.explode),
            (false, Style::Form, false)
        );
        let p = Param::path("id").style(Style::Label).allow_reserved();
        assert_eq!(
            (p.arg, p.required, p.style, p.explode),
            ("id", true, Style::Label, false)
        );
        assert!(p.allow_reserved);
        let p = Param::header("X-Trace").required(true);
        assert_eq!(
            (p.location, p.required, p.style),
            (Location::Header, true, Style::Simple)
        );
        let p = Param::cookie("session");
        assert_eq!(
            (p.location, p.style, p.explode),
            (Location::Cookie, Style::Form, true)
        );
    }
}
