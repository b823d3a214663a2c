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

mod app;
mod auth;
mod authserver;
mod body;
mod cache;
pub mod catalog;
mod challenge;
mod config;
mod credentials;
mod encode;
mod gate;
pub mod hooks_api;
mod introspection;
mod jwks;
mod listing;
mod metadata;
mod outbound;
mod outcome;
mod redact;
mod rejection;
mod reply;
mod scopes;
mod server;
#[cfg(test)]
mod testkit;
mod tokens;
mod upstream;
mod validate;

use std::process::ExitCode;
use std::sync::Arc;

use catalog::Catalog;
use hooks_api::Hooks;

use tracing_subscriber::EnvFilter;

const USAGE: &str = "\
Usage: {name} [--stdio]

Serves the MCP tools of this API over Streamable HTTP at /mcp (default) or over stdio.
Configuration comes from the environment: AUTHORIZATION_SERVER_URL, RESOURCE_SERVER_URL,
UPSTREAM_BASE_URL, UPSTREAM_TIMEOUT_SECS, UPSTREAM_MAX_RESPONSE_BYTES, the upstream
credential variables, AUTH_CHALLENGE (tool|http), ALLOW_INSECURE_ISSUER, JWKS_MAX_STALE_SECS,
TOKEN_INTROSPECTION_CLIENT_ID, TOKEN_INTROSPECTION_CLIENT_SECRET, TOKEN_INTROSPECTION_URL,
TOKEN_INTROSPECTION_MAX_PER_SEC, ALLOWED_ORIGINS, ALLOWED_HOSTS, HOST, PORT, RUST_LOG,
HEADER_TIMEOUT_SECS, BODY_TIMEOUT_SECS, REQUEST_TIMEOUT_SECS, MAX_CONCURRENT_REQUESTS,
MAX_CONNECTIONS, ARGUMENT_MAX_DEPTH, ARGUMENT_MAX_ITEMS, ARGUMENT_MAX_MEMBERS,
ARGUMENT_MAX_STRING_BYTES, ARGUMENT_MAX_VALUES, LIST_TTL_SECS. See README.md.";

/// The server's `main`: arguments, logging, configuration, then serving until stopped.
/// `version` is the project's own (`--version`, and the upstream requests' `User-Agent`).
pub fn run(
    catalog: &'static Catalog,
    hooks: impl Hooks + 'static,
    version: &'static str,
) -> ExitCode {
    let mut stdio = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--stdio" => stdio = true,
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
    if let Err(message) = init_logging() {
        eprintln!("error: {message}");
        return ExitCode::FAILURE;
    }
    let mut config = match config::Config::from_env(catalog) {
        Ok(config) => config,
        Err(e) => {
            tracing::error!("{e}");
            return ExitCode::FAILURE;
        }
    };
    config.user_agent = format!("{}/{version}", catalog.server_name);
    let hooks: Arc<dyn Hooks> = Arc::new(hooks);
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
    let result = runtime.block_on(async {
        if stdio {
            app::run_stdio(catalog, config, hooks).await
        } else {
            app::run_http(catalog, config, hooks).await
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!("{message}");
            ExitCode::FAILURE
        }
    }
}

/// Logs go to stderr in every mode: on stdio, stdout carries the protocol.
fn init_logging() -> Result<(), String> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.trim().is_empty() => {
            EnvFilter::try_new(&spec).map_err(|e| format!("invalid RUST_LOG {spec:?}: {e}"))?
        }
        _ => EnvFilter::new("info,rmcp=warn"),
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init()
        .map_err(|e| format!("cannot start logging: {e}"))
}
