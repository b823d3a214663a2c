//! The MCP server: a hand-written rmcp `ServerHandler` over the catalog's tool table.
//! A tool call runs authorization, then argument validation, then the upstream request;
//! each step that fails ends the call with a tool error and nothing after it runs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::http::request::Parts;
use opentelemetry::context::FutureExt as _;
use rmcp::model::{
    CacheScope, CallToolRequestParams, CallToolResponse, CallToolResult, DiscoverResult,
    Implementation, ListToolsResult, MetaObject, PaginatedRequestParams, ProtocolVersion,
    ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde_json::{Map, Value};

use crate::auth::challenge::Challenger;
use crate::auth::{self, Principal};
use crate::cache::Lru;
use crate::catalog::{Catalog, CatalogRole, ToolMode, ToolSpec};
use crate::mcp::catalog_mode::{self, CatalogMode};
use crate::mcp::listing;
use crate::mcp::outcome;
use crate::metrics::{Outcome, UpstreamClass};
use crate::search::Index;
use crate::telemetry::CallContext;
use crate::upstream::Upstream;
use crate::upstream::credentials::{CallerToken, Grant};
use crate::validate::{self, Limits, ToolSchemas};

/// Compiled schemas kept at most: every operation of a server in tool mode, the ones in use
/// of a catalog too big to list (MS Graph has 11,000; compiled, they would take gigabytes).
const MAX_COMPILED: usize = 1024;

struct Shared {
    catalog: &'static Catalog,
    /// One per operation, listed in tool mode; empty in catalog mode, which builds the one
    /// `describe_operation` asks for (startup stays fast and small for any catalog).
    tools: Vec<Tool>,
    /// Each operation's schemas, compiled at its first call (operation index → schemas).
    schemas: Mutex<Lru<Arc<ToolSchemas>, usize>>,
    /// Operation name → its place in the catalog.
    index: HashMap<&'static str, usize>,
    /// Catalog mode's listed tools and search index; `None` in tool mode.
    catalog_mode: Option<CatalogMode>,
    /// Which operations are listed and callable (`TOOLSETS`), and whether a caller with a
    /// token sees only what its scopes allow.
    exposure: Exposure,
    upstream: Upstream,
    /// `None` when tools are not access-checked: stdio, or no OAuth configured.
    oauth: Option<Challenger>,
    limits: Limits,
    cache: CacheHints,
}

/// Which operations a server exposes, and to whom it lists them.
#[derive(Debug, Clone)]
pub struct Exposure {
    /// One flag per tool of the catalog: served (`TOOLSETS`) or not.
    pub served: Vec<bool>,
    /// `tools/list` and catalog search show a caller with a token only the tools it may call.
    pub by_scope: bool,
    /// One tool per operation, or catalog mode.
    pub mode: ToolMode,
}

/// How long, and by whom, the answers that never change while the server runs (`tools/list`,
/// `server/discover`) may be cached: the SEP-2549 hints of protocol 2026-07-28.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheHints {
    pub ttl_ms: u64,
    pub scope: CacheScope,
}

impl CacheHints {
    /// The tool list is the same for every caller, so any cache may share it, unless listing
    /// needs a token: then only the caller's own client may keep it, and a shared cache never
    /// hands it to someone without one.
    pub fn new(ttl: Duration, listing_needs_token: bool) -> Self {
        Self {
            ttl_ms: u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX),
            scope: if listing_needs_token {
                CacheScope::Private
            } else {
                CacheScope::Public
            },
        }
    }
}

/// Clients on 2026-07-28 or later read caching hints; older ones get the answer they know.
fn reads_cache_hints(context: &RequestContext<RoleServer>) -> bool {
    context
        .protocol_version()
        .is_some_and(|version| version >= ProtocolVersion::V_2026_07_28)
}

/// Where the handler leaves how a tool call went, for the HTTP gate's one log line per request
/// (ARCHITECTURE.md, The server). Without one (stdio), the handler logs the call itself.
#[derive(Clone, Default)]
pub struct CallLog(Arc<OnceLock<CallOutcome>>);

pub struct CallOutcome {
    /// The operation that ran (through `call_operation` in catalog mode), or catalog mode's
    /// tool that answered.
    pub tool: &'static str,
    /// Its place among the catalog's tools (see [`crate::metrics::Metrics::index_of`]).
    pub index: usize,
    /// The upstream status, or why there was none (`refused:…`, `invalid_arguments`, …).
    pub outcome: String,
    /// The same, as a metric label.
    pub kind: Outcome,
    /// How the upstream exchange went and how long it took, when there was one.
    pub upstream: Option<(UpstreamClass, Duration)>,
    /// The token's subject: who called, never the token.
    pub caller: Option<String>,
    /// The result was an error (`isError`), whatever the upstream status.
    pub is_error: bool,
}

/// How one call went, as [`McpServer::run`] reports it.
struct Ran {
    result: CallToolResult,
    /// For the log line.
    outcome: String,
    kind: Outcome,
    upstream: Option<(UpstreamClass, Duration)>,
}

impl Ran {
    /// Ended before any upstream request.
    fn early(result: CallToolResult, outcome: impl Into<String>, kind: Outcome) -> Self {
        Self {
            result,
            outcome: outcome.into(),
            kind,
            upstream: None,
        }
    }
}

impl CallLog {
    pub fn get(&self) -> Option<&CallOutcome> {
        self.0.get()
    }
}

/// What catalog mode makes of a call.
enum Routed {
    /// Run this operation with these arguments, as its own tool would be.
    Run(usize, Option<Map<String, Value>>),
    /// Answered without an operation: search, describe, or a call that names none.
    Answered(CallToolResult),
    /// No tool of that name.
    Unknown,
}

/// Cheap to clone: rmcp asks for one handler per stateless request.
#[derive(Clone)]
pub struct McpServer(Arc<Shared>);

impl McpServer {
    /// Builds the listed tools (in tool mode); a broken one fails here, at startup. Schemas
    /// are compiled when first needed.
    pub fn new(
        catalog: &'static Catalog,
        upstream: Upstream,
        oauth: Option<Challenger>,
        limits: Limits,
        cache: CacheHints,
        exposure: Exposure,
    ) -> Result<Self, String> {
        if exposure.served.len() != catalog.tools.len() {
            return Err("internal error: one served flag per tool".to_owned());
        }
        let catalog_mode = match exposure.mode {
            ToolMode::Tools => None,
            ToolMode::Catalog => Some(CatalogMode {
                tools: catalog
                    .catalog_tools
                    .iter()
                    .map(|entry| Ok((entry.role, listing::catalog_tool(entry)?)))
                    .collect::<Result<_, String>>()?,
                index: Index::parse(catalog.search_index, catalog.tools.len())?,
            }),
        };
        let tools = match exposure.mode {
            ToolMode::Tools => catalog
                .tools
                .iter()
                .map(listing::tool)
                .collect::<Result<Vec<_>, _>>()?,
            ToolMode::Catalog => Vec::new(),
        };
        let index = catalog
            .tools
            .iter()
            .enumerate()
            .map(|(i, t)| (t.name, i))
            .collect();
        Ok(Self(Arc::new(Shared {
            catalog,
            tools,
            schemas: Mutex::new(Lru::new(MAX_COMPILED)),
            index,
            catalog_mode,
            exposure,
            upstream,
            oauth,
            limits,
            cache,
        })))
    }

    /// Whether the caller is shown operation `i`: it is served, and with listing by scope,
    /// a caller with a token may call it (anonymous callers see everything, so they can
    /// learn what to sign in for).
    fn shown(&self, i: usize, principal: Option<&Principal>) -> bool {
        let shared = &self.0;
        if !shared.exposure.served[i] {
            return false;
        }
        match principal {
            Some(principal) if shared.exposure.by_scope && shared.oauth.is_some() => {
                let access = &shared.catalog.tools[i].access;
                access.anonymous || auth::authorize(access, Some(principal)).entitled()
            }
            _ => true,
        }
    }

    /// A served operation by name, or the error a caller gets for any other name.
    fn operation(&self, name: &str) -> Result<usize, String> {
        match self.0.index.get(name) {
            Some(&i) if self.0.exposure.served[i] => Ok(i),
            _ => Err(format!(
                "no operation `{name}`: search_operations finds the operation names"
            )),
        }
    }

    /// A call in catalog mode: search and describe are answered here; a `call_operation`
    /// becomes the operation to run and its own arguments.
    fn route(
        &self,
        mode: &CatalogMode,
        name: &str,
        arguments: Option<Map<String, Value>>,
        principal: Option<&Principal>,
    ) -> Routed {
        let role = mode
            .tools
            .iter()
            .find(|(_, tool)| tool.name == name)
            .map(|(role, _)| *role);
        let args = arguments.unwrap_or_default();
        match role {
            Some(CatalogRole::Search) => {
                let shown = |i| self.shown(i, principal);
                Routed::Answered(mode.search(self.0.catalog, &args, shown))
            }
            Some(CatalogRole::Describe) => {
                Routed::Answered(match args.get("operation").and_then(Value::as_str) {
                    // Any served operation, whatever the token: a caller must be able to
                    // learn what it needs to step up for.
                    Some(o) => match self.operation(o) {
                        Ok(i) => {
                            let spec = &self.0.catalog.tools[i];
                            match listing::tool(spec) {
                                Ok(tool) => mode.describe(Some((spec, &tool))),
                                Err(e) => internal_error(&e),
                            }
                        }
                        Err(_) => mode.describe(None),
                    },
                    None => outcome::error("`operation` (a string) is required"),
                })
            }
            // The operation runs as its own tool would: scopes, arguments, request.
            Some(CatalogRole::Call) => {
                match catalog_mode::call_target(&args)
                    .and_then(|t| Ok((self.operation(t.operation)?, t.arguments)))
                {
                    Ok((i, arguments)) => Routed::Run(i, arguments),
                    Err(message) => Routed::Answered(outcome::error(message)),
                }
            }
            None => Routed::Unknown,
        }
    }

    /// Operation `i`'s compiled schemas, from the cache or compiled now.
    fn schemas(&self, i: usize) -> Result<Arc<ToolSchemas>, String> {
        // A poisoned lock only means another call panicked mid-update: the cache holds whole
        // entries either way.
        let cache = || self.0.schemas.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(compiled) = cache().get(&i) {
            return Ok(Arc::clone(compiled));
        }
        // Compiled outside the lock; two first calls at once compile twice, harmlessly.
        let compiled = Arc::new(ToolSchemas::compile(&self.0.catalog.tools[i])?);
        cache().insert(i, Arc::clone(&compiled));
        Ok(compiled)
    }

    /// Runs one call: its result, and how it went for the log line and the metrics.
    async fn run(
        &self,
        i: usize,
        arguments: Option<Map<String, Value>>,
        principal: Option<&Principal>,
        caller_token: Option<&str>,
    ) -> Ran {
        let shared = &self.0;
        let spec: &ToolSpec = &shared.catalog.tools[i];
        // Without OAuth (stdio, `--auth none`) every caller is the operator's own.
        let mut grant = Grant::Entitled {
            caller: caller_token,
        };
        if let Some(challenger) = &shared.oauth {
            let decision = auth::authorize(&spec.access, principal);
            if !decision.entitled() {
                grant = Grant::Anonymous;
            }
            if let Some(refusal) = challenger.refusal(spec.name, &spec.access, &decision) {
                let mut result = outcome::error(refusal.message);
                let mut meta = MetaObject::new();
                meta.0.insert(
                    "mcp/www_authenticate".to_owned(),
                    Value::Array(vec![Value::String(refusal.challenge)]),
                );
                result.meta = Some(meta);
                return Ran::early(
                    result,
                    format!("refused:{}", refusal.error),
                    Outcome::refused(refusal.error),
                );
            }
        }
        let schemas = match self.schemas(i) {
            Ok(schemas) => schemas,
            Err(e) => {
                return Ran::early(internal_error(&e), "internal_error", Outcome::InternalError);
            }
        };
        let invalid = |text: String| {
            Ran::early(
                outcome::error(text),
                "invalid_arguments",
                Outcome::InvalidArguments,
            )
        };
        let args = Value::Object(arguments.unwrap_or_default());
        if let Err(violation) = shared.limits.check(&args) {
            return invalid(validate::over_limit(spec.name, &violation));
        }
        if let Err(why) = validate::check(&schemas.input, &args) {
            return invalid(format!("Invalid arguments for `{}`: {why}", spec.name));
        }
        let Value::Object(args) = args else {
            return invalid("arguments must be an object".to_owned());
        };
        let sent = Instant::now();
        match shared.upstream.send(spec, &args, grant).await {
            Ok(reply) => {
                let result = outcome::tool_result(
                    spec.name,
                    &reply,
                    schemas.output.as_ref(),
                    spec.http.documents_redirects,
                );
                let status = reply.status.as_u16();
                let error_result = result.is_error == Some(true);
                Ran {
                    result,
                    outcome: status.to_string(),
                    kind: Outcome::of_status(status, error_result),
                    upstream: Some((UpstreamClass::of_status(status), sent.elapsed())),
                }
            }
            Err(e) => Ran {
                result: outcome::error(e.to_string()),
                outcome: e.outcome().to_owned(),
                kind: e.kind(),
                upstream: e.class().map(|class| (class, sent.elapsed())),
            },
        }
    }
}

impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        let catalog = self.0.catalog;
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build()).with_server_info(
            Implementation::new(catalog.server_name, catalog.api_version)
                .with_title(catalog.server_title),
        )
    }

    async fn discover(
        &self,
        _context: RequestContext<RoleServer>,
    ) -> Result<DiscoverResult, ErrorData> {
        let CacheHints { ttl_ms, scope } = self.0.cache;
        Ok(DiscoverResult::from_server_info(
            self.supported_protocol_versions().into_owned(),
            self.get_info(),
        )
        .with_ttl_ms(ttl_ms)
        .with_cache_scope(scope))
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let shared = &self.0;
        let tools = match &shared.catalog_mode {
            Some(mode) => mode.tools.iter().map(|(_, tool)| tool.clone()).collect(),
            None => {
                let principal = principal_of(&context);
                (0..shared.tools.len())
                    .filter(|&i| self.shown(i, principal))
                    .map(|i| shared.tools[i].clone())
                    .collect()
            }
        };
        let result = ListToolsResult::with_all_items(tools);
        if !reads_cache_hints(&context) {
            return Ok(result);
        }
        let CacheHints { ttl_ms, mut scope } = shared.cache;
        if shared.exposure.by_scope {
            // The list depends on who asks.
            scope = CacheScope::Private;
        }
        Ok(result.with_ttl_ms(ttl_ms).with_cache_scope(scope))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        let shared = &self.0;
        match &shared.catalog_mode {
            Some(mode) => mode
                .tools
                .iter()
                .find(|(_, tool)| tool.name == name)
                .map(|(_, tool)| tool.clone()),
            None => self.operation(name).ok().map(|i| shared.tools[i].clone()),
        }
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        self.call(request, context.extensions.get::<Parts>())
            .await
            .map(Into::into)
    }
}

impl McpServer {
    /// `tools/call`, from rmcp or straight from the HTTP app (`app/direct_call.rs`). `parts`:
    /// the HTTP request, which carries what the gate found (caller, call log, trace); none
    /// on stdio.
    pub async fn call(
        &self,
        request: CallToolRequestParams,
        parts: Option<&Parts>,
    ) -> Result<CallToolResult, ErrorData> {
        let started = Instant::now();
        let principal = parts.and_then(|parts| parts.extensions.get::<Principal>());
        let caller = principal.and_then(|p| p.subject.clone());
        let call_log = parts.and_then(|parts| parts.extensions.get::<CallLog>());
        let (i, arguments) = match &self.0.catalog_mode {
            Some(mode) => match self.route(mode, &request.name, request.arguments, principal) {
                Routed::Run(i, arguments) => (i, arguments),
                Routed::Answered(result) => {
                    // Search, describe, or a call naming no operation: counted as the
                    // catalog tool that answered.
                    if let (Some(log), Some(j)) = (
                        call_log,
                        self.0
                            .catalog
                            .catalog_tools
                            .iter()
                            .position(|t| t.name == request.name),
                    ) {
                        let kind = if result.is_error == Some(true) {
                            Outcome::ToolError
                        } else {
                            Outcome::Ok
                        };
                        let _ = log.0.set(CallOutcome {
                            tool: self.0.catalog.catalog_tools[j].name,
                            index: self.0.catalog.tools.len() + j,
                            outcome: kind.as_str().to_owned(),
                            kind,
                            upstream: None,
                            caller,
                            is_error: result.is_error == Some(true),
                        });
                    }
                    return Ok(result);
                }
                // Said for every name, so it tells nothing about which operations exist.
                Routed::Unknown => {
                    return Err(ErrorData::invalid_params(
                        format!(
                            "unknown tool: {} (this server lists its operations through search_operations, describe_operation and call_operation)",
                            request.name
                        ),
                        None,
                    ));
                }
            },
            None => match self.operation(&request.name) {
                Ok(i) => (i, request.arguments),
                Err(_) => {
                    return Err(ErrorData::invalid_params(
                        format!("unknown tool: {}", request.name),
                        None,
                    ));
                }
            },
        };
        let name = self.0.catalog.tools[i].name;
        // The token the gate validated; used solely by schemes that act as the caller
        // upstream (token exchange, opted-in pass-through).
        let caller_token = parts
            .and_then(|parts| parts.extensions.get::<CallerToken>())
            .map(CallerToken::as_str);
        // The upstream request joins the trace the HTTP gate started, or the caller's. One
        // path either way: two would hold this call's (large) future twice over.
        let trace = parts
            .and_then(|p| p.extensions.get::<CallContext>())
            .map_or_else(opentelemetry::Context::new, |CallContext(cx)| cx.clone());
        let ran = self
            .run(i, arguments, principal, caller_token)
            .with_context(trace)
            .await;
        match call_log {
            Some(log) => {
                let _ = log.0.set(CallOutcome {
                    tool: name,
                    index: i,
                    outcome: ran.outcome,
                    kind: ran.kind,
                    upstream: ran.upstream,
                    caller,
                    is_error: ran.result.is_error == Some(true),
                });
            }
            None => tracing::info!(
                tool = %name,
                status = %ran.outcome,
                caller = caller.as_deref().unwrap_or("-"),
                latency_ms = started.elapsed().as_millis() as u64,
                "tool call"
            ),
        }
        Ok(ran.result)
    }
}

/// A tool's own schemas that do not build: the generator's fault, not the caller's.
fn internal_error(error: &str) -> CallToolResult {
    tracing::error!(%error, "a tool's schema does not build");
    outcome::error("internal error: this tool's schema is invalid; the server log says why")
}

/// The verified caller the gate put into the HTTP request's extensions (none on stdio).
fn principal_of(context: &RequestContext<RoleServer>) -> Option<&Principal> {
    context
        .extensions
        .get::<Parts>()
        .and_then(|parts| parts.extensions.get::<Principal>())
}
