//! Wiring: the HTTP app and the stdio mode, both built from one catalog and one
//! configuration. This module checks the configuration and assembles the parts at startup.
//!
//! - `router`: the routes (`/mcp`, `/healthz`, protected-resource metadata);
//! - `gate`: bounds and authenticates every request to `/mcp`;
//! - `cors`: which browser origins may call `/mcp`;
//! - `rate_limit`: how many tool calls each caller may make;
//! - `listener`: accepting connections within bounds, draining on shutdown
//!   (`SHUTDOWN_GRACE_SECS`);
//! - `readiness`: `/readyz`;
//! - `metrics_listener`: `/metrics` on `METRICS_ADDR`;
//! - `healthcheck`: `--healthcheck`, the server asking its own `/healthz`.

mod cors;
mod direct_call;
pub(crate) mod gate;
pub(crate) mod healthcheck;
mod listener;
mod metrics_listener;
pub(crate) mod rate_limit;
mod readiness;
mod router;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use axum::Extension;
use reqwest::Url;
use rmcp::ServiceExt;
use tokio_util::sync::CancellationToken;

use crate::app::listener::{Drained, grace_from, serve, shutdown_signal};
use crate::app::readiness::Readiness;
pub use crate::app::router::router;
use crate::auth::Verifier;
use crate::auth::authserver;
use crate::auth::challenge::Challenger;
use crate::auth::introspection::IntrospectionConfig;
use crate::auth::jwks::{self, KeyStore};
use crate::auth::metadata;
use crate::auth::scopes::ScopeImplications;
use crate::catalog::Catalog;
use crate::config::Config;
use crate::hooks_api::Hooks;
use crate::mcp::server::{CacheHints, Exposure, McpServer};
use crate::metrics::Metrics;
use crate::upstream::credentials::Credentials;
use crate::upstream::{self, Upstream};

fn build_upstream(
    catalog: &'static Catalog,
    config: &Config,
    hooks: Arc<dyn Hooks>,
) -> Result<Upstream, String> {
    let http = upstream::http_client(config.upstream_timeout, &config.user_agent)?;
    let credentials = Credentials::from_lookup(catalog, http.clone(), |name| config.env.get(name));
    for (scheme, vars) in credentials.missing() {
        tracing::warn!(
            scheme,
            missing = %vars.join(", "),
            "upstream credential not configured; tools that need it will answer with an error"
        );
    }
    for scheme in credentials.passthrough() {
        tracing::warn!(
            scheme,
            "the caller's MCP token is passed through to the upstream API unchanged (generated with --upstream-auth passthrough)"
        );
    }
    Ok(Upstream::new(http, &config.upstream_base, credentials)
        .with_max_bytes(config.upstream_max_bytes)
        .with_max_concurrent(
            config.upstream_max_concurrent,
            config.upstream_queue_timeout,
        )
        .with_hooks(hooks)
        .with_tracing(config.tracing.clone()))
}

/// Caching hints for the answers that never change while the server runs: shared by any
/// cache unless, with OAuth on, even listing needs a token.
fn cache_hints(catalog: &Catalog, config: &Config, oauth: bool) -> CacheHints {
    CacheHints::new(
        config.list_ttl,
        oauth && gate::every_tool_protected(catalog, &config.served),
    )
}

fn exposure(config: &Config) -> Exposure {
    Exposure {
        served: config.served.clone(),
        by_scope: config.list_by_scope,
        mode: config.mode,
    }
}

pub async fn run_stdio(
    catalog: &'static Catalog,
    config: Config,
    hooks: Arc<dyn Hooks>,
) -> Result<(), String> {
    // Local use: no OAuth on stdio (ARCHITECTURE.md, The server).
    let server = McpServer::new(
        catalog,
        build_upstream(catalog, &config, hooks)?,
        None,
        config.bounds.arguments,
        cache_hints(catalog, &config, false),
        exposure(&config),
    )?;
    let running = server
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| format!("stdio transport failed: {e}"))?;
    running
        .waiting()
        .await
        .map_err(|e| format!("stdio session ended with an error: {e}"))?;
    Ok(())
}

pub async fn run_http(
    catalog: &'static Catalog,
    config: Config,
    hooks: Arc<dyn Hooks>,
) -> Result<(), String> {
    let issuer = config.require_issuer(catalog).map_err(|e| e.to_string())?;
    // Tokens grant something only when a tool needs one.
    if catalog.tools.iter().any(|t| t.access.oauth2.is_some()) {
        config.require_resource().map_err(|e| e.to_string())?;
    } else if !config.listens_on_loopback() {
        tracing::warn!(
            host = %config.host,
            "every tool is anonymous (no OAuth), and HOST is reachable from other machines: anyone who can reach it can call every tool, with this server's upstream credentials"
        );
    }
    if config.any_origin {
        tracing::warn!(
            "ALLOWED_ORIGINS=*: any web page a user opens may call this server from their browser"
        );
    }
    let grace = grace_from(|name| config.env.get(name)).map_err(|e| e.to_string())?;
    let metrics = match metrics_listener::address_from(|name| config.env.get(name))
        .map_err(|e| e.to_string())?
    {
        Some(address) => {
            let version = config.user_agent.rsplit_once('/').map_or("", |(_, v)| v);
            Some((address, Arc::new(Metrics::new(catalog, version)?)))
        }
        None => None,
    };
    let resource = Url::parse(&config.resource).map_err(|e| format!("RESOURCE_SERVER_URL: {e}"))?;
    let challenger = Challenger::new(metadata::metadata_url(&resource));
    let verifier = match issuer {
        Some(issuer) => {
            let env = |name: &str| config.env.get(name);
            authserver::check_transport("AUTHORIZATION_SERVER_URL", issuer, env)?;
            let http = authserver::http_client()?;
            let max_stale = jwks::max_stale_from(env).map_err(|e| e.to_string())?;
            let keys = KeyStore::with_max_stale(issuer, http.clone(), max_stale);
            let implied = ScopeImplications::from_lookup(catalog.default_scope_implies, env)
                .map_err(|e| e.to_string())?;
            if !implied.is_empty() {
                tracing::info!("SCOPE_IMPLIES: broader scopes satisfy narrower ones");
            }
            let mut verifier =
                Verifier::new(keys, issuer, &config.resource).with_implied_scopes(implied);
            if let Some(introspection) =
                IntrospectionConfig::from_lookup(env).map_err(|e| e.to_string())?
            {
                if let Some(url) = &introspection.url {
                    authserver::check_transport("TOKEN_INTROSPECTION_URL", url, env)?;
                }
                let endpoint = introspection
                    .url
                    .as_deref()
                    .unwrap_or("introspection_endpoint of the authorization server metadata");
                tracing::info!(
                    endpoint,
                    "opaque access tokens are checked by introspection"
                );
                verifier = verifier.with_introspection(introspection, http);
            }
            if let Some((_, metrics)) = &metrics {
                verifier = verifier.with_counters(metrics.auth_counters());
            }
            Some(verifier)
        }
        None => None,
    };
    let server = McpServer::new(
        catalog,
        build_upstream(catalog, &config, hooks)?,
        verifier.is_some().then(|| challenger.clone()),
        config.bounds.arguments,
        cache_hints(catalog, &config, verifier.is_some()),
        exposure(&config),
    )?;
    let tokens = verifier.as_ref().map(Verifier::readiness);
    if let Some(tokens) = tokens.clone() {
        // Loads the keys without delaying startup; `/readyz` says when they are in.
        tokio::spawn(tokens.warm());
    }
    let readiness = Readiness::new(tokens, &config.upstream_base);
    let shutdown = CancellationToken::new();
    let mut app = router(
        catalog,
        &config,
        server,
        verifier,
        challenger,
        shutdown.child_token(),
    )
    .merge(readiness::route(Arc::clone(&readiness)));
    if let Some((_, metrics)) = &metrics {
        app = app.layer(Extension(Arc::clone(metrics)));
    }

    let listener = tokio::net::TcpListener::bind((config.host.as_str(), config.port))
        .await
        .map_err(|e| {
            format!(
                "cannot listen on HOST={} PORT={}: {e}",
                config.host, config.port
            )
        })?;
    let address = listener
        .local_addr()
        .map_err(|e| format!("cannot read the bound address: {e}"))?;
    if let Some((address, metrics)) = metrics {
        let bound = metrics_listener::start(address, metrics, &config.bounds).await?;
        tracing::info!(address = %bound, "serving Prometheus metrics at /metrics");
    }
    tracing::info!(
        %address,
        resource = %config.resource,
        issuer = config.issuer.as_deref().unwrap_or("-"),
        upstream = %config.upstream_base,
        tools = catalog.tools.len(),
        "serving MCP at /mcp"
    );
    let drained = serve(listener, app, &config.bounds, grace, async move {
        shutdown_signal().await;
        readiness.drain();
    })
    .await;
    // Only now: rmcp answers the requests still in its hands with an error once cancelled.
    shutdown.cancel();
    match drained {
        Drained::Complete => tracing::info!("drained: every request finished"),
        Drained::Cut(open) => tracing::warn!(
            open,
            "SHUTDOWN_GRACE_SECS ran out: connections still open are closed"
        ),
    }
    Ok(())
}
