//! Settings from the environment (ARCHITECTURE.md, The server). The environment is read once,
//! here ([`Environment::capture`]); every value is checked at startup, and a bad one stops the
//! server with an error that names the variable. The parts that read more settings of their
//! own (upstream credentials, introspection, the scope hierarchy, key refetching) look them up
//! in [`Config::env`].

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Duration;

use reqwest::Url;

use crate::catalog::{Catalog, ToolMode};
use crate::validate::Limits;

/// How a protected tool refuses a caller without a usable token (`AUTH_CHALLENGE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeMode {
    /// A tool result with `isError` and `_meta["mcp/www_authenticate"]` (ChatGPT).
    Tool,
    /// HTTP 401/403 with `WWW-Authenticate` on the `tools/call` request (Claude, VS Code, SDKs).
    Http,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// `AUTHORIZATION_SERVER_URL` as written; `None` when no tool needs OAuth and none is set.
    pub issuer: Option<String>,
    /// `RESOURCE_SERVER_URL` as written: the token audience and the PRM `resource`.
    pub resource: String,
    /// No `RESOURCE_SERVER_URL` and none baked in: `resource` is the loopback default.
    pub resource_defaulted: bool,
    /// `UPSTREAM_BASE_URL` without a trailing slash.
    pub upstream_base: String,
    pub challenge: ChallengeMode,
    /// Browser origins allowed on `/mcp` and by CORS, each `scheme://host:port`,
    /// `scheme://host:*` (any port) or `null`. By default: loopback, the origin of
    /// `RESOURCE_SERVER_URL` and the hosts listed in `ALLOWED_HOSTS`. Never empty unless
    /// `any_origin`. A request without `Origin` (not a browser) is not refused for it.
    pub allowed_origins: Vec<String>,
    /// `ALLOWED_ORIGINS=*`: every browser origin may call `/mcp`.
    pub any_origin: bool,
    /// `Host` values accepted on `/mcp`; empty means any (`ALLOWED_HOSTS=*`).
    pub allowed_hosts: Vec<String>,
    pub host: String,
    pub port: u16,
    /// `UPSTREAM_TIMEOUT_SECS`: limit for one whole upstream exchange, body included.
    pub upstream_timeout: Duration,
    /// `UPSTREAM_MAX_RESPONSE_BYTES`: largest upstream body read.
    pub upstream_max_bytes: usize,
    /// `UPSTREAM_MAX_CONCURRENT`: upstream requests in flight at once, all callers together.
    pub upstream_max_concurrent: usize,
    /// `UPSTREAM_QUEUE_TIMEOUT_SECS`: how long a call waits for one of those slots before it
    /// answers that the upstream is busy.
    pub upstream_queue_timeout: Duration,
    /// `RATE_LIMIT_*`: tool calls each caller may make; `None` (the default) is no limit.
    pub rate_limit: Option<RateLimitSettings>,
    /// What one client may cost the server: time, concurrency, argument size.
    pub bounds: Bounds,
    /// `LIST_TTL_SECS`: how long a client may reuse the tool list (protocol 2026-07-28).
    pub list_ttl: Duration,
    /// `TOOLSETS`: the groups of operations served (the others are neither listed nor
    /// callable), one flag per tool of the catalog.
    pub served: Vec<bool>,
    /// `LIST_BY_SCOPE`: a caller with a token is listed only the tools its scopes allow.
    pub list_by_scope: bool,
    /// `TOOL_MODE`: one tool per operation, or catalog mode's search, describe and call.
    pub mode: ToolMode,
    /// Sent with upstream requests: the server's name and its project's version.
    pub user_agent: String,
    /// Spans and trace context (`OTEL_*`, started by `lib.rs` with the async runtime).
    pub tracing: crate::telemetry::Tracing,
    /// The environment the settings came from, for the parts with settings of their own.
    pub env: Environment,
}

/// A per-caller limit on tool calls: a caller is its token's subject, or its client address
/// when it has no token (or a token without a subject).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitSettings {
    /// `RATE_LIMIT_PER_MINUTE`: the sustained rate.
    pub per_minute: u32,
    /// `RATE_LIMIT_BURST`: calls allowed at once (default: a minute's worth).
    pub burst: u32,
    /// `RATE_LIMIT_CLIENT_IP_HEADER`: a header the proxy in front sets to the client's
    /// address (`X-Forwarded-For`: its last entry, the one the proxy added); without it,
    /// anonymous callers behind a proxy would all share the proxy's address.
    pub client_ip_header: Option<axum::http::HeaderName>,
}

/// Limits on requests to this server (the `*_TIMEOUT_SECS`, `MAX_CONCURRENT_*` and
/// `ARGUMENT_MAX_*` settings).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bounds {
    /// `HEADER_TIMEOUT_SECS`: to send the request line and headers (also an idle keep-alive).
    pub header_timeout: Duration,
    /// `BODY_TIMEOUT_SECS`: to send the request body.
    pub body_timeout: Duration,
    /// `REQUEST_TIMEOUT_SECS`: for the whole request, answer included; above the upstream's.
    pub request_timeout: Duration,
    /// `MAX_CONCURRENT_REQUESTS`: beyond it, `/mcp` answers 503 at once.
    pub max_requests: usize,
    /// `MAX_CONNECTIONS`: beyond it, new connections wait to be accepted.
    pub max_connections: usize,
    pub arguments: Limits,
}

/// The tool list is fixed for a server's life; a redeploy shows new tools within this time.
pub const DEFAULT_LIST_TTL: Duration = Duration::from_secs(300);
/// Default largest upstream body read (`UPSTREAM_MAX_RESPONSE_BYTES`); larger replies
/// become a tool error.
pub const DEFAULT_UPSTREAM_MAX_BYTES: usize = 4 * 1024 * 1024;
/// Default limit for a whole upstream exchange, body included (`UPSTREAM_TIMEOUT_SECS`).
pub const DEFAULT_UPSTREAM_TIMEOUT: Duration = Duration::from_secs(30);
/// Default `UPSTREAM_MAX_CONCURRENT`: half of `MAX_CONCURRENT_REQUESTS`' default, so a burst
/// of calls to one slow API still leaves this server answering others.
pub const DEFAULT_UPSTREAM_MAX_CONCURRENT: usize = 32;
/// Default `UPSTREAM_QUEUE_TIMEOUT_SECS`.
pub const DEFAULT_UPSTREAM_QUEUE_TIMEOUT: Duration = Duration::from_secs(2);
/// Highest `RATE_LIMIT_PER_MINUTE` and `RATE_LIMIT_BURST`.
const MOST_RATE: u32 = 1_000_000;
/// A day: past it a cache should look again whatever the operator set.
const MOST_LIST_TTL_SECS: u64 = 86_400;

/// Which tools `TOOLSETS` serves: a comma-separated list of groups, `all`, or unset for the
/// generated default. An unknown group is an error that lists the known ones.
fn served(catalog: &Catalog, setting: Option<&str>) -> Result<Vec<bool>, ConfigError> {
    let known: BTreeSet<&str> = catalog.tools.iter().map(|t| t.group).collect();
    let chosen: Vec<&str> = match setting.map(str::trim) {
        Some("all") => Vec::new(),
        Some(list) => list
            .split(',')
            .map(str::trim)
            .filter(|g| !g.is_empty())
            .collect(),
        None => catalog.default_toolsets.to_vec(),
    };
    if let Some(unknown) = chosen.iter().find(|g| !known.contains(*g)) {
        return Err(ConfigError {
            var: "TOOLSETS",
            message: format!(
                "no group {unknown:?}; the groups are: {}, or `all`",
                known.into_iter().collect::<Vec<_>>().join(", ")
            ),
        });
    }
    Ok(catalog
        .tools
        .iter()
        .map(|t| chosen.is_empty() || chosen.contains(&t.group))
        .collect())
}

impl Bounds {
    pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
    pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);
    /// Added to the upstream timeout for the default whole-request timeout: token checks,
    /// the body and the answer take time too.
    pub const REQUEST_MARGIN: Duration = Duration::from_secs(30);
    pub const DEFAULT_MAX_REQUESTS: usize = 64;
    pub const DEFAULT_MAX_CONNECTIONS: usize = 256;
    /// Highest `MAX_CONCURRENT_REQUESTS` and `MAX_CONNECTIONS`.
    pub const MOST: usize = 1_000_000;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub var: &'static str,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {}: {}", self.var, self.message)
    }
}

impl std::error::Error for ConfigError {}

fn error(var: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        var,
        message: message.into(),
    }
}

/// The process environment as it was at startup. An empty value counts as unset (`VAR=` in
/// env files and compose files is common). `Debug` shows names only: values can be secrets.
#[derive(Clone, Default)]
pub struct Environment(BTreeMap<String, String>);

impl Environment {
    /// The one read of the process environment.
    pub fn capture() -> Self {
        Self(
            std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
        )
    }

    pub fn get(&self, name: &str) -> Option<String> {
        self.0.get(name).filter(|v| !v.trim().is_empty()).cloned()
    }
}

impl fmt::Debug for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl Config {
    /// The configuration from the environment captured at startup, kept in [`Config::env`].
    pub fn from_environment(catalog: &Catalog, env: Environment) -> Result<Self, ConfigError> {
        let mut config = Self::from_lookup(catalog, |name| env.get(name))?;
        config.env = env;
        Ok(config)
    }

    /// `lookup` stands in for the environment so tests need not touch the process's.
    pub fn from_lookup(
        catalog: &Catalog,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        // An empty value counts as unset: `VAR=` in env files and compose files is common.
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };

        let (host, port) = listen_address(get)?;

        let issuer = match get("AUTHORIZATION_SERVER_URL")
            .or_else(|| Some(catalog.default_issuer.to_owned()).filter(|s| !s.is_empty()))
        {
            Some(raw) => {
                check_url("AUTHORIZATION_SERVER_URL", &raw)?;
                Some(raw)
            }
            None => None,
        };

        // The default follows PORT so a server moved to another port still names itself right.
        let baked = Some(catalog.default_resource.to_owned()).filter(|s| !s.is_empty());
        let named = get("RESOURCE_SERVER_URL").or(baked);
        let resource_defaulted = named.is_none();
        let resource = named.unwrap_or_else(|| {
            format!(
                "http://127.0.0.1:{}/mcp",
                if port == 0 { 8000 } else { port }
            )
        });
        let resource_url = check_url("RESOURCE_SERVER_URL", &resource)?;

        let upstream =
            get("UPSTREAM_BASE_URL").unwrap_or_else(|| catalog.default_upstream.to_owned());
        if upstream.is_empty() {
            return Err(error(
                "UPSTREAM_BASE_URL",
                "not set and the spec names no server",
            ));
        }
        check_url("UPSTREAM_BASE_URL", &upstream)?;
        let upstream_base = upstream.trim_end_matches('/').to_owned();

        let challenge = match get("AUTH_CHALLENGE")
            .map(|v| v.to_ascii_lowercase())
            .as_deref()
        {
            None | Some("tool") => ChallengeMode::Tool,
            Some("http") => ChallengeMode::Http,
            Some(other) => {
                return Err(error(
                    "AUTH_CHALLENGE",
                    format!("{other:?} is neither \"tool\" nor \"http\""),
                ));
            }
        };

        let allowed_hosts = match get("ALLOWED_HOSTS") {
            Some(raw) if raw == "*" => Vec::new(),
            Some(raw) => {
                let hosts = split_list(Some(raw));
                if let Some(bad) = hosts.iter().find(|h| h.contains(['/', ' ', '@'])) {
                    return Err(error(
                        "ALLOWED_HOSTS",
                        format!("{bad:?} is not a host name or host:port"),
                    ));
                }
                hosts
            }
            None => default_hosts(&resource_url),
        };
        // Origins never follow `ALLOWED_HOSTS=*`: accepting any Host must not let any web
        // page call the server from a user's browser. Opening them takes `ALLOWED_ORIGINS=*`.
        let explicit_origins = split_list(get("ALLOWED_ORIGINS"));
        let any_origin = explicit_origins.iter().any(|o| o == "*");
        if any_origin && explicit_origins.len() > 1 {
            return Err(error(
                "ALLOWED_ORIGINS",
                "`*` allows every origin and stands alone; list origins or write `*`",
            ));
        }
        let allowed_origins = if any_origin {
            Vec::new()
        } else if explicit_origins.is_empty() {
            let mut origins = vec![origin_of(&resource_url)];
            let hosts = LOOPBACK
                .iter()
                .map(|h| h.to_string())
                .chain(allowed_hosts.clone());
            for origin in origins_of(&hosts.collect::<Vec<_>>()) {
                if let Some(origin) = normal_origin(&origin)
                    && !origins.contains(&origin)
                {
                    origins.push(origin);
                }
            }
            origins
        } else {
            explicit_origins
                .iter()
                .map(|origin| {
                    normal_origin(origin).ok_or_else(|| {
                        error(
                            "ALLOWED_ORIGINS",
                            format!(
                                "{origin:?} is not an origin like https://app.example.com, https://app.example.com:8443 or http://localhost:* (any port)"
                            ),
                        )
                    })
                })
                .collect::<Result<_, _>>()?
        };

        let seconds = |var: &'static str, default: Duration| match get(var) {
            Some(raw) => match raw.parse::<f64>() {
                Ok(secs) if secs > 0.0 && secs <= 3600.0 => Ok(Duration::from_secs_f64(secs)),
                _ => Err(error(
                    var,
                    format!("{raw:?} is not a number of seconds between 0 and 3600"),
                )),
            },
            None => Ok(default),
        };
        let positive = |var: &'static str, default: usize| match get(var) {
            Some(raw) => raw
                .parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| error(var, format!("{raw:?} is not a positive whole number"))),
            None => Ok(default),
        };
        // Requests and connections are counted with semaphores, whose capacity is bounded.
        let count = |var: &'static str, default: usize| {
            positive(var, default).and_then(|n| {
                if n <= Bounds::MOST {
                    Ok(n)
                } else {
                    Err(error(var, format!("{n} is more than {}", Bounds::MOST)))
                }
            })
        };
        let upstream_timeout = seconds("UPSTREAM_TIMEOUT_SECS", DEFAULT_UPSTREAM_TIMEOUT)?;
        let upstream_max_bytes =
            positive("UPSTREAM_MAX_RESPONSE_BYTES", DEFAULT_UPSTREAM_MAX_BYTES)?;
        let request_timeout = seconds(
            "REQUEST_TIMEOUT_SECS",
            upstream_timeout + Bounds::REQUEST_MARGIN,
        )?;
        if request_timeout <= upstream_timeout {
            return Err(error(
                "REQUEST_TIMEOUT_SECS",
                format!(
                    "must be more than UPSTREAM_TIMEOUT_SECS ({} s), or a slow upstream call is cut without an answer",
                    upstream_timeout.as_secs_f64()
                ),
            ));
        }
        let bounds = Bounds {
            header_timeout: seconds("HEADER_TIMEOUT_SECS", Bounds::DEFAULT_HEADER_TIMEOUT)?,
            body_timeout: seconds("BODY_TIMEOUT_SECS", Bounds::DEFAULT_BODY_TIMEOUT)?,
            request_timeout,
            max_requests: count("MAX_CONCURRENT_REQUESTS", Bounds::DEFAULT_MAX_REQUESTS)?,
            max_connections: count("MAX_CONNECTIONS", Bounds::DEFAULT_MAX_CONNECTIONS)?,
            arguments: Limits {
                depth: positive("ARGUMENT_MAX_DEPTH", Limits::DEFAULT.depth)?,
                items: positive("ARGUMENT_MAX_ITEMS", Limits::DEFAULT.items)?,
                members: positive("ARGUMENT_MAX_MEMBERS", Limits::DEFAULT.members)?,
                string_bytes: positive("ARGUMENT_MAX_STRING_BYTES", Limits::DEFAULT.string_bytes)?,
                values: positive("ARGUMENT_MAX_VALUES", Limits::DEFAULT.values)?,
            },
        };

        let upstream_max_concurrent =
            count("UPSTREAM_MAX_CONCURRENT", DEFAULT_UPSTREAM_MAX_CONCURRENT)?;
        let upstream_queue_timeout = match get("UPSTREAM_QUEUE_TIMEOUT_SECS").as_deref() {
            // Zero is meaningful: answer "busy" at once rather than wait.
            Some("0") => Duration::ZERO,
            _ => seconds(
                "UPSTREAM_QUEUE_TIMEOUT_SECS",
                DEFAULT_UPSTREAM_QUEUE_TIMEOUT,
            )?,
        };
        let rate = |var: &'static str| -> Result<Option<u32>, ConfigError> {
            get(var)
                .map(|raw| {
                    raw.parse::<u32>()
                        .ok()
                        .filter(|n| (1..=MOST_RATE).contains(n))
                        .ok_or_else(|| {
                            error(
                                var,
                                format!("{raw:?} is not a whole number from 1 to {MOST_RATE}"),
                            )
                        })
                })
                .transpose()
        };
        let rate_limit = match rate("RATE_LIMIT_PER_MINUTE")? {
            Some(per_minute) => Some(RateLimitSettings {
                per_minute,
                burst: rate("RATE_LIMIT_BURST")?.unwrap_or(per_minute),
                client_ip_header: get("RATE_LIMIT_CLIENT_IP_HEADER")
                    .map(|name| {
                        axum::http::HeaderName::try_from(name.as_str()).map_err(|_| {
                            error(
                                "RATE_LIMIT_CLIENT_IP_HEADER",
                                format!("{name:?} is not a header name"),
                            )
                        })
                    })
                    .transpose()?,
            }),
            None => {
                for var in ["RATE_LIMIT_BURST", "RATE_LIMIT_CLIENT_IP_HEADER"] {
                    if get(var).is_some() {
                        return Err(error(
                            var,
                            "set without RATE_LIMIT_PER_MINUTE, which turns the rate limit on",
                        ));
                    }
                }
                None
            }
        };

        // Zero is meaningful here: clients should ask again every time.
        let list_ttl = match get("LIST_TTL_SECS") {
            Some(raw) => raw
                .parse::<u64>()
                .ok()
                .filter(|secs| *secs <= MOST_LIST_TTL_SECS)
                .map(Duration::from_secs)
                .ok_or_else(|| {
                    error(
                        "LIST_TTL_SECS",
                        format!(
                            "{raw:?} is not a whole number of seconds from 0 to {MOST_LIST_TTL_SECS}"
                        ),
                    )
                })?,
            None => DEFAULT_LIST_TTL,
        };

        let served = served(catalog, get("TOOLSETS").as_deref())?;
        let mode = match get("TOOL_MODE").as_deref().map(str::trim) {
            None => catalog.default_mode,
            Some("tools") => ToolMode::Tools,
            Some("catalog") if !catalog.catalog_tools.is_empty() => ToolMode::Catalog,
            Some("catalog") => {
                return Err(error(
                    "TOOL_MODE",
                    "this server was generated without catalog mode; regenerate it with mcp-gen",
                ));
            }
            Some(other) => {
                return Err(error(
                    "TOOL_MODE",
                    format!("{other:?} is neither `tools` nor `catalog`"),
                ));
            }
        };
        let list_by_scope = match get("LIST_BY_SCOPE").as_deref().map(str::trim) {
            None => catalog.list_by_scope,
            Some(v) if v.eq_ignore_ascii_case("true") => true,
            Some(v) if v.eq_ignore_ascii_case("false") => false,
            Some(other) => {
                return Err(error(
                    "LIST_BY_SCOPE",
                    format!("{other:?} is neither true nor false"),
                ));
            }
        };

        Ok(Config {
            issuer,
            resource,
            resource_defaulted,
            upstream_base,
            challenge,
            allowed_origins,
            any_origin,
            allowed_hosts,
            host,
            port,
            upstream_timeout,
            upstream_max_bytes,
            upstream_max_concurrent,
            upstream_queue_timeout,
            rate_limit,
            bounds,
            list_ttl,
            served,
            list_by_scope,
            mode,
            user_agent: format!("{}/{}", catalog.server_name, env!("CARGO_PKG_VERSION")),
            tracing: crate::telemetry::Tracing::default(),
            env: Environment::default(),
        })
    }
}

impl Config {
    /// The issuer, which HTTP mode needs as soon as one tool has an OAuth rule: a mixed tool
    /// (anonymous, or more with a token) too, since without a verifier nobody could be told
    /// apart from the entitled callers that may spend the upstream credential.
    pub fn require_issuer(&self, catalog: &Catalog) -> Result<Option<&str>, ConfigError> {
        let needs_oauth = catalog.tools.iter().any(|t| t.access.oauth2.is_some());
        match &self.issuer {
            Some(issuer) => Ok(Some(issuer)),
            None if needs_oauth => Err(error(
                "AUTHORIZATION_SERVER_URL",
                "not set, and some tools require OAuth (or need a token for the upstream credential); set it to the issuer URL of your authorization server",
            )),
            None => Ok(None),
        }
    }
}

impl Config {
    /// With OAuth on, a server other machines can reach must name itself: the default resource
    /// URL is the same for every server, so two deployments trusting one authorization server
    /// would accept each other's tokens.
    pub fn require_resource(&self) -> Result<(), ConfigError> {
        if self.resource_defaulted && !self.listens_on_loopback() {
            return Err(error(
                "RESOURCE_SERVER_URL",
                format!(
                    "not set, and HOST={} is reachable from other machines; set it to this server's public /mcp URL (e.g. https://mcp.example.com/mcp), the audience its tokens must be issued for",
                    self.host
                ),
            ));
        }
        Ok(())
    }

    /// Whether `HOST` is a loopback address, reachable from this machine only.
    pub fn listens_on_loopback(&self) -> bool {
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        host.eq_ignore_ascii_case("localhost")
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }
}

/// `HOST` and `PORT`: where the server listens (`127.0.0.1:8000` unless set). Also what
/// `--healthcheck` reads, so the check asks the address the server is on.
pub fn listen_address(get: impl Fn(&str) -> Option<String>) -> Result<(String, u16), ConfigError> {
    let port = match get("PORT") {
        Some(raw) => raw
            .parse::<u16>()
            .map_err(|_| error("PORT", format!("{raw:?} is not a port number (0-65535)")))?,
        None => 8000,
    };
    let host = get("HOST").unwrap_or_else(|| "127.0.0.1".to_owned());
    Ok((host, port))
}

/// An absolute http(s) URL without a fragment (RFC 8707 forbids one in a resource).
fn check_url(var: &'static str, raw: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(raw).map_err(|e| error(var, format!("{raw:?} is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(error(var, format!("{raw:?} is not an http(s) URL")));
    }
    if url.fragment().is_some() || url.query().is_some() {
        return Err(error(
            var,
            format!("{raw:?} must not have a query or fragment"),
        ));
    }
    Ok(url)
}

fn split_list(raw: Option<String>) -> Vec<String> {
    raw.map(|v| {
        v.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    })
    .unwrap_or_default()
}

const LOOPBACK: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// `scheme://host:port` of an http(s) URL, the port spelled out even when it is the default.
pub fn origin_of(url: &Url) -> String {
    format!(
        "{}://{}:{}",
        url.scheme(),
        url.host_str().unwrap_or_default(),
        url.port_or_known_default().unwrap_or_default()
    )
}

/// An allowed origin in the one form the Origin check and CORS both compare:
/// `scheme://host:port` (no port: the scheme's default), `scheme://host:*` (any port) or
/// `null`. `None` for anything else.
fn normal_origin(raw: &str) -> Option<String> {
    if raw.eq_ignore_ascii_case("null") {
        return Some("null".to_owned());
    }
    let (base, any_port) = match raw.strip_suffix(":*") {
        Some(base) => (base, true),
        None => (raw, false),
    };
    let url = Url::parse(base).ok()?;
    let bare = matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some()
        && url.username().is_empty()
        && url.password().is_none()
        && url.path() == "/"
        && url.query().is_none()
        && url.fragment().is_none()
        && !(any_port && url.port().is_some());
    if !bare {
        return None;
    }
    Some(if any_port {
        format!("{}://{}:*", url.scheme(), url.host_str()?)
    } else {
        origin_of(&url)
    })
}

/// `http(s)://host:*` (any port) for each host, or the exact `host:port` when one is given.
fn origins_of(hosts: &[String]) -> Vec<String> {
    let mut origins = Vec::new();
    for host in hosts {
        let authority =
            if host.contains(':') && !host.starts_with('[') && host.matches(':').count() > 1 {
                format!("[{host}]:*") // a bare IPv6 address
            } else if host.contains(':') {
                host.clone()
            } else {
                format!("{host}:*")
            };
        origins.push(format!("http://{authority}"));
        origins.push(format!("https://{authority}"));
    }
    origins
}

/// The public host the server is reached at, plus loopback for local use.
fn default_hosts(resource: &Url) -> Vec<String> {
    let mut hosts = LOOPBACK.map(str::to_owned).to_vec();
    if let Some(host) = resource.host_str() {
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        if !hosts.contains(&host) {
            hosts.push(host);
        }
    }
    hosts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::*;
    use std::collections::HashMap;

    /// One GET tool with this access rule and upstream credentials.
    const fn tool(access: Access, credentials: &'static [&'static [&'static str]]) -> ToolSpec {
        ToolSpec {
            name: "t",
            title: None,
            description: "",
            input_schema: "{\"type\":\"object\"}",
            output: None,
            group: "test",
            annotations: Annotations {
                read_only: true,
                destructive: false,
                idempotent: true,
                open_world: true,
            },
            access,
            http: HttpBinding {
                method: "GET",
                path: "/t",
                params: &[],
                body: None,
                credentials,
                required_headers: &[],
                documents_redirects: false,
            },
        }
    }

    static PROTECTED: &[ToolSpec] = &[tool(
        Access {
            anonymous: false,
            oauth2: Some(&["read"]),
        },
        &[],
    )];

    fn catalog(issuer: &'static str) -> &'static Catalog {
        Box::leak(Box::new(Catalog {
            default_issuer: issuer,
            default_upstream: "http://up.example/v1/",
            ..*crate::testkit::catalog(PROTECTED, &[])
        }))
    }

    fn load(issuer: &'static str, vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(catalog(issuer), |k| vars.get(k).cloned())
    }

    #[test]
    fn defaults() {
        let c = load("http://127.0.0.1:9000", &[]).unwrap();
        assert_eq!(c.issuer.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(c.resource, "http://127.0.0.1:8000/mcp");
        assert_eq!(c.upstream_base, "http://up.example/v1");
        assert_eq!(c.challenge, ChallengeMode::Tool);
        assert_eq!((c.host.as_str(), c.port), ("127.0.0.1", 8000));
        assert_eq!(c.upstream_timeout, DEFAULT_UPSTREAM_TIMEOUT);
        assert_eq!(c.upstream_max_bytes, DEFAULT_UPSTREAM_MAX_BYTES);
        assert_eq!(c.bounds.header_timeout, Bounds::DEFAULT_HEADER_TIMEOUT);
        assert_eq!(
            c.bounds.request_timeout,
            DEFAULT_UPSTREAM_TIMEOUT + Bounds::REQUEST_MARGIN
        );
        assert_eq!(c.bounds.max_requests, Bounds::DEFAULT_MAX_REQUESTS);
        assert_eq!(c.bounds.arguments, Limits::DEFAULT);
        assert!(c.allowed_hosts.contains(&"localhost".to_owned()));
        assert!(c.allowed_origins.contains(&"http://localhost:*".to_owned()));
        assert!(c.allowed_origins.contains(&"https://[::1]:*".to_owned()));
        assert!(c.resource_defaulted && !c.any_origin);
    }

    #[test]
    fn overrides() {
        let c = load(
            "",
            &[
                ("AUTHORIZATION_SERVER_URL", "https://as.example"),
                ("RESOURCE_SERVER_URL", "https://mcp.example.com/mcp"),
                ("AUTH_CHALLENGE", "HTTP"),
                ("PORT", "9100"),
                (
                    "ALLOWED_ORIGINS",
                    "https://a.example, https://b.example:8443",
                ),
            ],
        )
        .unwrap();
        assert_eq!(c.challenge, ChallengeMode::Http);
        assert_eq!(c.port, 9100);
        assert_eq!(c.allowed_origins.len(), 2);
        assert!(c.allowed_hosts.contains(&"mcp.example.com".to_owned()));
    }

    #[test]
    fn bad_values_name_the_variable() {
        let cases: &[(&str, &str)] = &[
            ("PORT", "eighty"),
            ("AUTH_CHALLENGE", "maybe"),
            ("RESOURCE_SERVER_URL", "not a url"),
            ("RESOURCE_SERVER_URL", "https://x.example/mcp#frag"),
            ("UPSTREAM_BASE_URL", "ftp://x.example"),
            ("AUTHORIZATION_SERVER_URL", "as.example"),
            ("ALLOWED_ORIGINS", "a.example"),
            ("ALLOWED_HOSTS", "https://a.example/"),
            ("UPSTREAM_TIMEOUT_SECS", "0"),
            ("UPSTREAM_TIMEOUT_SECS", "soon"),
            ("UPSTREAM_MAX_RESPONSE_BYTES", "-1"),
            ("HEADER_TIMEOUT_SECS", "0"),
            ("BODY_TIMEOUT_SECS", "never"),
            ("REQUEST_TIMEOUT_SECS", "30"),
            ("MAX_CONCURRENT_REQUESTS", "0"),
            ("MAX_CONNECTIONS", "many"),
            ("MAX_CONNECTIONS", "10000000"),
            ("ARGUMENT_MAX_ITEMS", "-5"),
            ("LIST_TTL_SECS", "-1"),
            ("LIST_TTL_SECS", "1.5"),
            ("LIST_TTL_SECS", "86401"),
            ("UPSTREAM_MAX_CONCURRENT", "0"),
            ("UPSTREAM_QUEUE_TIMEOUT_SECS", "-1"),
            ("RATE_LIMIT_PER_MINUTE", "0"),
            ("RATE_LIMIT_PER_MINUTE", "ten"),
            ("RATE_LIMIT_PER_MINUTE", "2000000"),
            // Without RATE_LIMIT_PER_MINUTE these would silently do nothing.
            ("RATE_LIMIT_BURST", "5"),
            ("RATE_LIMIT_CLIENT_IP_HEADER", "X-Forwarded-For"),
        ];
        for (var, value) in cases {
            let err = load("http://127.0.0.1:9000", &[(var, value)]).unwrap_err();
            assert_eq!(err.var, *var, "{value}");
            assert!(err.to_string().contains(var));
        }
    }

    #[test]
    fn the_rate_limit_and_upstream_cap_follow_the_environment() {
        let c = load(
            "http://127.0.0.1:9000",
            &[
                ("RATE_LIMIT_PER_MINUTE", "120"),
                ("RATE_LIMIT_CLIENT_IP_HEADER", "X-Forwarded-For"),
                ("UPSTREAM_MAX_CONCURRENT", "4"),
                ("UPSTREAM_QUEUE_TIMEOUT_SECS", "0"),
            ],
        )
        .unwrap();
        let limit = c.rate_limit.unwrap();
        assert_eq!((limit.per_minute, limit.burst), (120, 120));
        assert_eq!(limit.client_ip_header.unwrap(), "x-forwarded-for");
        assert_eq!(c.upstream_max_concurrent, 4);
        assert_eq!(c.upstream_queue_timeout, Duration::ZERO);
        let c = load(
            "http://127.0.0.1:9000",
            &[("RATE_LIMIT_PER_MINUTE", "30"), ("RATE_LIMIT_BURST", "5")],
        )
        .unwrap();
        assert_eq!(c.rate_limit.map(|l| (l.per_minute, l.burst)), Some((30, 5)));
    }

    #[test]
    fn bounds_follow_the_environment() {
        let c = load(
            "http://127.0.0.1:9000",
            &[
                ("UPSTREAM_TIMEOUT_SECS", "2"),
                ("HEADER_TIMEOUT_SECS", "0.5"),
                ("MAX_CONCURRENT_REQUESTS", "2"),
                ("ARGUMENT_MAX_DEPTH", "8"),
            ],
        )
        .unwrap();
        assert_eq!(c.bounds.header_timeout, Duration::from_millis(500));
        assert_eq!(c.bounds.request_timeout, Duration::from_secs(32));
        assert_eq!(c.bounds.max_requests, 2);
        assert_eq!(c.bounds.arguments.depth, 8);
        assert_eq!(c.list_ttl, DEFAULT_LIST_TTL);
        assert_eq!(c.upstream_max_concurrent, DEFAULT_UPSTREAM_MAX_CONCURRENT);
        assert_eq!(c.upstream_queue_timeout, DEFAULT_UPSTREAM_QUEUE_TIMEOUT);
        assert_eq!(c.rate_limit, None);
        let fresh = load("http://127.0.0.1:9000", &[("LIST_TTL_SECS", "0")]).unwrap();
        assert_eq!(fresh.list_ttl, Duration::ZERO);
        let err = load(
            "http://127.0.0.1:9000",
            &[
                ("UPSTREAM_TIMEOUT_SECS", "60"),
                ("REQUEST_TIMEOUT_SECS", "60"),
            ],
        )
        .unwrap_err();
        assert_eq!(err.var, "REQUEST_TIMEOUT_SECS");
    }

    #[test]
    fn oauth_tools_need_an_issuer() {
        let c = load("", &[]).unwrap();
        let err = c.require_issuer(catalog("")).unwrap_err();
        assert_eq!(err.var, "AUTHORIZATION_SERVER_URL");
    }

    #[test]
    fn mixed_tools_need_an_issuer_too() {
        // Without a verifier every caller would be taken as entitled to the upstream key.
        static MIXED: &[ToolSpec] = &[tool(
            Access {
                anonymous: true,
                oauth2: Some(&[]),
            },
            &[&["key"]],
        )];
        let catalog = crate::testkit::catalog(MIXED, &[]);
        let c = Config::from_lookup(catalog, |k| {
            (k == "UPSTREAM_BASE_URL").then(|| "http://up.example".to_owned())
        })
        .unwrap();
        let err = c.require_issuer(catalog).unwrap_err();
        assert_eq!(err.var, "AUTHORIZATION_SERVER_URL");
    }

    #[test]
    fn star_allows_any_host_but_not_any_origin() {
        let c = load(
            "http://127.0.0.1:9000",
            &[
                ("ALLOWED_HOSTS", "*"),
                ("RESOURCE_SERVER_URL", "https://MCP.example.com/mcp"),
            ],
        )
        .unwrap();
        assert!(c.allowed_hosts.is_empty());
        assert!(!c.any_origin);
        assert_eq!(
            c.allowed_origins,
            [
                "https://mcp.example.com:443",
                "http://localhost:*",
                "https://localhost:*",
                "http://127.0.0.1:*",
                "https://127.0.0.1:*",
                "http://[::1]:*",
                "https://[::1]:*",
            ]
        );
    }

    #[test]
    fn origins_are_opened_only_by_an_explicit_star() {
        let c = load(
            "http://127.0.0.1:9000",
            &[("ALLOWED_HOSTS", "*"), ("ALLOWED_ORIGINS", " * ")],
        )
        .unwrap();
        assert!(c.any_origin && c.allowed_origins.is_empty());
        let err = load(
            "http://127.0.0.1:9000",
            &[("ALLOWED_ORIGINS", "*, https://a.example")],
        )
        .unwrap_err();
        assert_eq!(err.var, "ALLOWED_ORIGINS");
    }

    #[test]
    fn listed_origins_and_hosts_are_normalized() {
        let c = load(
            "",
            &[(
                "ALLOWED_ORIGINS",
                "https://A.example/, http://b.example:8080, http://c.example:*, null",
            )],
        )
        .unwrap();
        assert_eq!(
            c.allowed_origins,
            [
                "https://a.example:443",
                "http://b.example:8080",
                "http://c.example:*",
                "null"
            ]
        );
        let c = load(
            "",
            &[("ALLOWED_HOSTS", "mcp.example.com, alt.example:8443")],
        )
        .unwrap();
        for origin in [
            "http://127.0.0.1:8000",
            "https://mcp.example.com:*",
            "https://alt.example:8443",
        ] {
            assert!(c.allowed_origins.contains(&origin.to_owned()), "{origin}");
        }
        for bad in [
            "https://a.example/path",
            "https://u@a.example",
            "https://a.example:8443:*",
            "ftp://a.example",
            "https://a.example?x",
        ] {
            let err = load("", &[("ALLOWED_ORIGINS", bad)]).unwrap_err();
            assert_eq!(err.var, "ALLOWED_ORIGINS", "{bad}");
        }
    }

    #[test]
    fn a_reachable_oauth_server_must_name_its_resource() {
        let public = load("http://127.0.0.1:9000", &[("HOST", "0.0.0.0")]).unwrap();
        let err = public.require_resource().unwrap_err();
        assert_eq!(err.var, "RESOURCE_SERVER_URL");
        assert!(err.to_string().contains("HOST=0.0.0.0"), "{err}");
        let named = load(
            "http://127.0.0.1:9000",
            &[
                ("HOST", "0.0.0.0"),
                ("RESOURCE_SERVER_URL", "https://mcp.example.com/mcp"),
            ],
        )
        .unwrap();
        assert!(named.require_resource().is_ok());
        for local in [
            "127.0.0.1",
            "127.1.2.3",
            "::1",
            "[::1]",
            "localhost",
            "LocalHost",
        ] {
            let c = load("http://127.0.0.1:9000", &[("HOST", local)]).unwrap();
            assert!(c.listens_on_loopback(), "{local}");
            assert!(c.require_resource().is_ok(), "{local}");
        }
        for reachable in ["0.0.0.0", "::", "10.0.0.5", "mcp.internal"] {
            let c = load("http://127.0.0.1:9000", &[("HOST", reachable)]).unwrap();
            assert!(!c.listens_on_loopback(), "{reachable}");
        }
    }

    #[test]
    fn a_resource_without_a_path_is_accepted() {
        let c = load(
            "http://127.0.0.1:9000",
            &[("RESOURCE_SERVER_URL", "https://mcp.example.com")],
        )
        .unwrap();
        assert_eq!(c.resource, "https://mcp.example.com");
        assert!(
            c.allowed_origins
                .contains(&"https://mcp.example.com:443".to_owned())
        );
    }
}
