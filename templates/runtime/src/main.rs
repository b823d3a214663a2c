//! Entry point: logging, configuration, then HTTP (default) or `--stdio`.
//! This runtime is copied verbatim by mcp-gen; only `tools.rs` and `schemas/` are generated.

mod app;
mod auth;
mod authserver;
mod body;
mod cache;
// Which variants a given API uses varies from spec to spec.
#[allow(dead_code)]
mod catalog;
mod challenge;
mod config;
mod credentials;
mod encode;
mod gate;
mod introspection;
// The user's own file (created once, never overwritten) and what the runtime offers it.
mod hooks;
mod hooks_api;
mod jwks;
mod listing;
mod metadata;
mod outcome;
mod redact;
mod scopes;
mod server;
#[cfg(test)]
mod testkit;
mod tokens;
// Generated and laid out by prettyplease; rustfmt would only reshuffle it.
#[rustfmt::skip]
mod tools;
mod upstream;
mod validate;

use std::process::ExitCode;

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

#[tokio::main]
async fn main() -> ExitCode {
    let catalog = &tools::CATALOG;
    let mut stdio = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--stdio" => stdio = true,
            "-h" | "--help" => {
                println!("{}", USAGE.replace("{name}", catalog.server_name));
                return ExitCode::SUCCESS;
            }
            "-V" | "--version" => {
                println!("{} {}", catalog.server_name, env!("CARGO_PKG_VERSION"));
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
    let config = match config::Config::from_env(catalog) {
        Ok(config) => config,
        Err(e) => {
            tracing::error!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let result = if stdio {
        app::run_stdio(catalog, config).await
    } else {
        app::run_http(catalog, config).await
    };
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
