//! The HTTP routes: `/mcp` (rmcp's Streamable HTTP service behind the gate and CORS, plain
//! tool calls answered directly: `direct_call.rs`),
//! `/healthz`, and the protected-resource metadata at its well-known paths.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::StatusCode;
use axum::http::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderName, Method};
use axum::middleware::from_fn_with_state;
use axum::response::IntoResponse;
use axum::routing::{any, get};
use reqwest::Url;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use tokio_util::sync::CancellationToken;
use tower_http::cors::{Any, CorsLayer};

use crate::app::cors::mcp_cors;
use crate::app::direct_call::{self, DirectCalls};
use crate::app::gate::{self, Gate};
use crate::app::rate_limit::RateLimit;
use crate::auth::Verifier;
use crate::auth::challenge::Challenger;
use crate::auth::metadata;
use crate::catalog::Catalog;
use crate::config::Config;
use crate::mcp::server::McpServer;

pub fn router(
    catalog: &'static Catalog,
    config: &Config,
    server: McpServer,
    verifier: Option<Verifier>,
    challenger: Challenger,
    shutdown: CancellationToken,
) -> Router {
    let mut mcp_config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_cancellation_token(shutdown);
    mcp_config = if config.allowed_hosts.is_empty() {
        mcp_config.disable_allowed_hosts()
    } else {
        mcp_config.with_allowed_hosts(config.allowed_hosts.clone())
    };
    if !config.any_origin {
        mcp_config = mcp_config.with_allowed_origins(config.allowed_origins.clone());
    }
    let oauth = verifier.is_some();
    let direct = Arc::new((DirectCalls::new(&config.allowed_hosts), server.clone()));
    // Shared, not cloned: the router clones a service for every request, and rmcp's
    // carries its whole configuration.
    let service = Arc::new(StreamableHttpService::new(
        move || Ok(server.clone()),
        Arc::new(NeverSessionManager::default()),
        mcp_config,
    ));
    let serve_mcp = move |request: Request| {
        let service = Arc::clone(&service);
        let direct = Arc::clone(&direct);
        async move {
            // The gate has read the body into memory already: this takes it back at once.
            let (parts, body) = request.into_parts();
            let Ok(bytes) = to_bytes(body, gate::MAX_REQUEST_BYTES).await else {
                return StatusCode::BAD_REQUEST.into_response();
            };
            let (calls, server) = &*direct;
            match calls.take(&parts, &bytes) {
                Some(call) => direct_call::answer(server, call, &parts).await,
                None => service
                    .handle(Request::from_parts(parts, Body::from(bytes)))
                    .await
                    .into_response(),
            }
        }
    };
    let gate_state = Arc::new(
        Gate::new(
            catalog,
            verifier,
            challenger,
            config.challenge,
            config.mode,
            config.served.clone(),
            &config.bounds,
        )
        .with_rate_limit(config.rate_limit.as_ref().map(RateLimit::new))
        .with_tracing(config.tracing.clone()),
    );
    let mcp = Router::new()
        .route("/mcp", any(serve_mcp))
        .layer(from_fn_with_state(gate_state, gate::gate))
        .layer(mcp_cors(config));

    let mut app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .merge(mcp);
    if oauth && let (Some(issuer), Ok(resource)) = (&config.issuer, Url::parse(&config.resource)) {
        let document =
            metadata::document(catalog, &config.served, &config.resource, issuer).to_string();
        let serve = move || {
            let document = document.clone();
            async move { ([(CONTENT_TYPE, "application/json")], document) }
        };
        let mut metadata_routes =
            Router::new().route(metadata::bare_metadata_path(), get(serve.clone()));
        // A resource without a path (`https://mcp.example.com`) has its metadata at the bare
        // path; routing it twice would panic.
        let path = metadata::metadata_path(&resource);
        if path != metadata::bare_metadata_path() {
            metadata_routes = metadata_routes.route(&path, get(serve));
        }
        let metadata_routes = metadata_routes.layer(
            CorsLayer::new()
                .allow_origin(Any)
                .allow_methods([Method::GET])
                .expose_headers([WWW_AUTHENTICATE, HeaderName::from_static("mcp-session-id")]),
        );
        app = app.merge(metadata_routes);
    }
    app
}
