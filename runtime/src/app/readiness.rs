//! `GET /readyz`: whether this replica should get traffic, apart from `/healthz` (whether it
//! is alive). Ready when tokens can be checked (the signing keys are loaded, or token
//! introspection answered; always without OAuth) and the upstream is configured; not ready
//! from the moment a SIGTERM arrives, so the load balancer stops sending requests here while
//! the ones in flight finish. Otherwise 503 with a short JSON reason.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use crate::auth::readiness::TokenReadiness;

pub struct Readiness {
    draining: AtomicBool,
    /// `None`: no OAuth, nothing to load.
    tokens: Option<TokenReadiness>,
    upstream_configured: bool,
}

impl Readiness {
    pub fn new(tokens: Option<TokenReadiness>, upstream_base: &str) -> Arc<Self> {
        Arc::new(Self {
            draining: AtomicBool::new(false),
            tokens,
            upstream_configured: !upstream_base.is_empty(),
        })
    }

    /// From now on, not ready: the server is shutting down.
    pub fn drain(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }

    /// `Err` says why not.
    pub fn check(&self) -> Result<(), &'static str> {
        if self.draining.load(Ordering::Relaxed) {
            return Err("shutting down");
        }
        if !self.upstream_configured {
            return Err("no upstream API configured (UPSTREAM_BASE_URL)");
        }
        if self.tokens.as_ref().is_some_and(|t| !t.ready()) {
            return Err(
                "cannot check access tokens yet: the authorization server's signing keys are not loaded and token introspection has not answered",
            );
        }
        Ok(())
    }

    fn answer(&self) -> Response {
        let (status, body) = match self.check() {
            Ok(()) => (StatusCode::OK, json!({"status": "ready"})),
            Err(reason) => (
                StatusCode::SERVICE_UNAVAILABLE,
                json!({"status": "not_ready", "reason": reason}),
            ),
        };
        (
            status,
            [(CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response()
    }
}

/// The `/readyz` route.
pub fn route(readiness: Arc<Readiness>) -> Router {
    Router::new().route("/readyz", get(move || async move { readiness.answer() }))
}
