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

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;
    use std::time::Duration;

    use axum::body::{Body, to_bytes};
    use axum::http::Request;
    use serde_json::Value;
    use tower::ServiceExt;

    use super::*;
    use crate::auth::jwks::KeyStore;
    use crate::testkit::TestIssuer;

    async fn ask(readiness: &Arc<Readiness>) -> (StatusCode, Value) {
        let request = Request::get("/readyz").body(Body::empty()).unwrap();
        let response = route(Arc::clone(readiness)).oneshot(request).await.unwrap();
        let status = response.status();
        let body = to_bytes(response.into_body(), 4096).await.unwrap();
        (status, serde_json::from_slice(&body).unwrap())
    }

    #[tokio::test]
    async fn ready_once_keys_load_and_not_ready_once_draining() {
        let issuer = TestIssuer::start().await;
        issuer.down.store(true, Ordering::Relaxed);
        let keys = KeyStore::new(&issuer.url, reqwest::Client::new());
        let tokens = TokenReadiness::new(Arc::clone(&keys), None);
        let readiness = Readiness::new(Some(tokens.clone()), "http://127.0.0.1:9");
        let warming = tokio::spawn(tokens.warm());

        let (status, body) = ask(&readiness).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body["status"], "not_ready");
        assert!(
            body["reason"].as_str().unwrap().contains("signing keys"),
            "{body}"
        );
        // The authorization server comes up: the retries load the keys without any token.
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!warming.is_finished());
        issuer.down.store(false, Ordering::Relaxed);
        let loaded = async {
            while ask(&readiness).await.0 != StatusCode::OK {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(10), loaded)
            .await
            .expect("keys loaded within the retries");
        // It goes on, keeping the keys fresh without any token.
        assert!(!warming.is_finished());
        warming.abort();
        assert_eq!(
            ask(&readiness).await,
            (StatusCode::OK, serde_json::json!({"status": "ready"}))
        );

        readiness.drain();
        let (status, body) = ask(&readiness).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body["reason"], "shutting down");
    }

    #[tokio::test]
    async fn without_oauth_ready_at_once() {
        let readiness = Readiness::new(None, "http://127.0.0.1:9");
        assert_eq!(ask(&readiness).await.0, StatusCode::OK);
        let unconfigured = Readiness::new(None, "");
        let (status, body) = ask(&unconfigured).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            body["reason"]
                .as_str()
                .unwrap()
                .contains("UPSTREAM_BASE_URL")
        );
    }
}
