//! The runtime of the MCP servers mcp-gen generates: an OAuth resource server that serves
//! one API's operations as MCP tools. A generated project vendors this crate (in
//! `mcp-gen-runtime/`) and its `src/main.rs` hands it the two things that are the project's
//! own, the tool table and the user's hooks:
//!
//! ```ignore
//! fn main() -> std::process::ExitCode {
//!     mcp_gen_runtime::run(&tools::CATALOG, hooks::Custom, env!("CARGO_PKG_VERSION"))
//! }
//! ```
//!
//! [`run`] reads the configuration from the environment, then serves over HTTP (default) or
//! `--stdio`. [`catalog`] holds the types of the tool table; [`hooks_api`] what hooks see.

// Layers, each using only those above it (checked by `tests::layers`):
// 1. the tool table and what everything shares;
mod cache;
pub mod catalog;
mod config;
pub mod hooks_api;
mod logging;
mod metrics;
mod outbound;
mod reply;
mod search;
mod telemetry;
mod validate;
// 2. who the caller is;
mod auth;
// 3. the upstream API;
mod upstream;
// 4. the MCP side;
mod mcp;
// 5. the HTTP server and stdio wiring.
mod app;
#[cfg(test)]
mod testkit;

use std::process::ExitCode;
use std::sync::Arc;

use catalog::Catalog;
use hooks_api::Hooks;

/// The allocator generated servers use (their `main.rs` sets it as the global allocator).
pub type Allocator = mimalloc::MiMalloc;
/// The value to set: `#[global_allocator] static ALLOCATOR: Allocator = ALLOCATOR;`.
pub const ALLOCATOR: Allocator = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc's `mi_option_e`.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Freed memory goes back to the OS at once, not after mimalloc's default delay: a large
/// reply's memory is freed on whichever worker thread answered it, and held there, four
/// large replies (tests/e2e/test_bounds.py) peaked at 171 MB; purged at once, at 93 MB. A tool
/// call's own small allocations reuse pages that stay in use: the same instructions per call.
fn tune_allocator() {
    // SAFETY: sets a plain option value; any thread may, at any time.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) };
}

const USAGE: &str = "\
Usage: {name} [--stdio | --healthcheck]

Serves the MCP tools of this API over Streamable HTTP at /mcp (default) or over stdio, with
GET /healthz (alive) and GET /readyz (ready for traffic) beside it and Prometheus metrics at
GET /metrics on METRICS_ADDR (default 127.0.0.1:9464, `off` for none). On SIGTERM it turns
/readyz to 503, stops accepting, lets requests in flight finish within SHUTDOWN_GRACE_SECS
(default 60) and exits 0.
--healthcheck asks a server started with the same environment for GET /healthz (at HOST, or
loopback when HOST is 0.0.0.0 or ::, and PORT) and exits 0 when it answers 200 within 3 s,
else 1: a container HEALTHCHECK for an image without curl.
Configuration comes from the environment: AUTHORIZATION_SERVER_URL, RESOURCE_SERVER_URL,
UPSTREAM_BASE_URL, UPSTREAM_TIMEOUT_SECS, UPSTREAM_MAX_RESPONSE_BYTES,
UPSTREAM_MAX_CONCURRENT, UPSTREAM_QUEUE_TIMEOUT_SECS, RATE_LIMIT_PER_MINUTE,
RATE_LIMIT_BURST, RATE_LIMIT_CLIENT_IP_HEADER, the upstream credential variables,
AUTH_CHALLENGE (tool|http), ALLOW_INSECURE_ISSUER, JWKS_MAX_STALE_SECS,
TOKEN_INTROSPECTION_CLIENT_ID, TOKEN_INTROSPECTION_CLIENT_SECRET, TOKEN_INTROSPECTION_URL,
TOKEN_INTROSPECTION_MAX_PER_SEC, ALLOWED_ORIGINS, ALLOWED_HOSTS, HOST, PORT, RUST_LOG,
LOG_FORMAT (text|json), METRICS_ADDR, SHUTDOWN_GRACE_SECS,
HEADER_TIMEOUT_SECS, BODY_TIMEOUT_SECS, REQUEST_TIMEOUT_SECS, MAX_CONCURRENT_REQUESTS,
MAX_CONNECTIONS, ARGUMENT_MAX_DEPTH, ARGUMENT_MAX_ITEMS, ARGUMENT_MAX_MEMBERS,
ARGUMENT_MAX_STRING_BYTES, ARGUMENT_MAX_VALUES, LIST_TTL_SECS, TOOL_MODE, TOOLSETS,
LIST_BY_SCOPE.
Traces (OTLP over HTTP/protobuf) are exported when OTEL_EXPORTER_OTLP_ENDPOINT or
OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set, or OTEL_TRACES_EXPORTER=otlp; also read:
OTEL_TRACES_EXPORTER (otlp|none), OTEL_SDK_DISABLED, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES,
OTEL_EXPORTER_OTLP_PROTOCOL, OTEL_EXPORTER_OTLP_TIMEOUT, OTEL_EXPORTER_OTLP_HEADERS (each also
as OTEL_EXPORTER_OTLP_TRACES_*), OTEL_PROPAGATORS, OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG,
OTEL_BSP_*.
See README.md.";

/// The server's `main`: arguments, logging, configuration, then serving until stopped.
/// `version` is the project's own (`--version`, and the upstream requests' `User-Agent`).
pub fn run(
    catalog: &'static Catalog,
    hooks: impl Hooks + 'static,
    version: &'static str,
) -> ExitCode {
    serve(catalog, Arc::new(hooks), version)
}

/// All of [`run`] past the hooks' type. Generic, `run` is compiled in the project's crate
/// with everything it calls that is generic itself (rmcp's server, hyper's connections, their
/// serde code): without this split a release rebuild after regenerating compiled all that
/// again (31 s of CPU on Petstore, against under 1 s; `scripts/bench-build.sh`).
fn serve(catalog: &'static Catalog, hooks: Arc<dyn Hooks>, version: &'static str) -> ExitCode {
    tune_allocator();
    let mut stdio = false;
    let mut healthcheck = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--stdio" => stdio = true,
            "--healthcheck" => healthcheck = true,
            "-h" | "--help" => {
                println!("{}", USAGE.replace("{name}", catalog.server_name));
                return ExitCode::SUCCESS;
            }
            "-V" | "--version" => {
                println!("{} {version}", catalog.server_name);
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!(
                    "error: unknown argument {other:?}\n\n{}",
                    USAGE.replace("{name}", catalog.server_name)
                );
                return ExitCode::from(2);
            }
        }
    }
    let env = config::Environment::capture();
    if healthcheck {
        return check_health(&env);
    }
    if let Err(message) = logging::init(&env) {
        eprintln!("error: {message}");
        return ExitCode::FAILURE;
    }
    let mut config = match config::Config::from_environment(catalog, env) {
        Ok(config) => config,
        Err(e) => {
            tracing::error!("{e}");
            return ExitCode::FAILURE;
        }
    };
    config.user_agent = format!("{}/{version}", catalog.server_name);
    let telemetry =
        match telemetry::Settings::from_lookup(|n| config.env.get(n), catalog.server_name) {
            Ok(settings) => settings,
            Err(e) => {
                tracing::error!("{e}");
                return ExitCode::FAILURE;
            }
        };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            tracing::error!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let telemetry = match telemetry::Telemetry::start(&telemetry, version, runtime.handle().clone())
    {
        Ok(telemetry) => telemetry,
        Err(message) => {
            tracing::error!("{message}");
            return ExitCode::FAILURE;
        }
    };
    config.tracing = telemetry.tracing();
    let result = runtime.block_on(async {
        if stdio {
            app::run_stdio(catalog, config, hooks).await
        } else {
            app::run_http(catalog, config, hooks).await
        }
    });
    // Serving has ended; the runtime still runs the last export.
    telemetry.shutdown();
    // Requests still running past the shutdown grace period are dropped, not waited for.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!("{message}");
            ExitCode::FAILURE
        }
    }
}

/// `--healthcheck`: one line on stderr when the server is not healthy (a container runtime
/// keeps it with the check's result), nothing when it is.
fn check_health(env: &config::Environment) -> ExitCode {
    let checked = config::listen_address(|name| env.get(name).map(|v| v.trim().to_owned()))
        .map_err(|e| e.to_string())
        .and_then(|(host, port)| app::healthcheck::check(&host, port, app::healthcheck::DEADLINE));
    match checked {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("unhealthy: {message}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::Path;

    /// Each module of the crate (`group::file`, or `file` at the top) and the modules its
    /// non-test code names through `crate::` paths.
    fn imports() -> BTreeMap<String, BTreeSet<String>> {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        let mut stack = vec![src.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    files.push(path);
                }
            }
        }
        let name = |path: &Path| {
            let relative = path.strip_prefix(&src).unwrap().with_extension("");
            let text = relative.to_string_lossy().replace('/', "::");
            text.strip_suffix("::mod").unwrap_or(&text).to_owned()
        };
        let modules: BTreeSet<String> = files.iter().map(|f| name(f)).collect();
        // `crate::auth::Verifier` is re-exported from auth/verifier.rs, and so on.
        let reexports =
            BTreeMap::from([("auth", "auth::verifier"), ("upstream", "upstream::client")]);
        let mut out = BTreeMap::new();
        for file in &files {
            let module = name(file);
            if module == "lib" || module == "testkit" || module.ends_with("::tests") {
                continue;
            }
            let text = std::fs::read_to_string(file).unwrap();
            let code = text
                .split("#[cfg(test)]\nmod tests")
                .next()
                .unwrap_or_default();
            let mut used = BTreeSet::new();
            for (i, _) in code.match_indices("crate::") {
                let path: Vec<&str> = code[i + 7..]
                    .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                    .next()
                    .unwrap_or_default()
                    .split("::")
                    .collect();
                let two = path.iter().take(2).copied().collect::<Vec<_>>().join("::");
                let target = if modules.contains(&two) {
                    two
                } else if let Some(inner) = reexports.get(path[0]) {
                    (*inner).to_owned()
                } else {
                    path[0].to_owned()
                };
                if modules.contains(&target) && target != module && target != "testkit" {
                    used.insert(target);
                }
            }
            out.insert(module, used);
        }
        out
    }

    fn layer(module: &str) -> usize {
        match module.split("::").next().unwrap_or_default() {
            "auth" => 2,
            "upstream" => 3,
            "mcp" => 4,
            "app" => 5,
            _ => 1,
        }
    }

    /// The layers stated above `mod catalog`, and no import circle anywhere: every module
    /// names only modules of its own layer or those above it, and following imports never
    /// leads back to where it started.
    #[test]
    fn layers() {
        let graph = imports();
        assert!(graph.len() > 20, "{graph:?}");
        for (module, used) in &graph {
            for target in used {
                assert!(
                    layer(target) <= layer(module),
                    "{module} (layer {}) uses {target} (layer {})",
                    layer(module),
                    layer(target)
                );
            }
        }
        // Depth-first search for a back edge.
        fn visit<'a>(
            graph: &'a BTreeMap<String, BTreeSet<String>>,
            module: &'a str,
            path: &mut Vec<&'a str>,
            done: &mut BTreeSet<&'a str>,
        ) {
            if done.contains(module) {
                return;
            }
            assert!(
                !path.contains(&module),
                "import circle: {} -> {module}",
                path.join(" -> ")
            );
            path.push(module);
            for next in graph.get(module).into_iter().flatten() {
                visit(graph, next, path, done);
            }
            path.pop();
            done.insert(module);
        }
        let mut done = BTreeSet::new();
        for module in graph.keys() {
            visit(&graph, module, &mut Vec::new(), &mut done);
        }
    }
}
