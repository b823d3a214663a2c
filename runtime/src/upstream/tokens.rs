//! Tokens the server obtains for the upstream API at an OAuth token endpoint: client
//! credentials (RFC 6749 §4.4) and token exchange (RFC 8693). Both are cached until shortly
//! before they expire. Tokens and secrets never reach a log line or an error message.

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::Mutex;

use crate::auth::authserver;
use crate::cache::{Lru, TokenKey};
use crate::outbound::Failure;
use crate::upstream::encode::enc;

const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
/// Exchanged tokens kept at most; the least recently used makes room (bounded memory).
const MAX_EXCHANGED: usize = 1024;
/// Largest token endpoint answer read.
const MAX_RESPONSE_BYTES: usize = 64 * 1024;

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: Option<u64>,
}

/// The client's id and secret at the token endpoint (`client_secret_basic`).
pub struct Client {
    pub id: String,
    pub secret: String,
}

/// POSTs `form` to `url` and returns the token with the moment to stop using it.
async fn request_token(
    http: &reqwest::Client,
    url: &str,
    client: &Client,
    form: &[(&str, &str)],
    what: &str,
) -> Result<(String, Instant), String> {
    let body = form
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect::<Vec<_>>()
        .join("&");
    // client_secret_basic (RFC 6749 §2.3.1): both parts form-encoded before base64.
    let basic = STANDARD.encode(format!("{}:{}", enc(&client.id), enc(&client.secret)));
    let response = http
        .post(url)
        .header("Authorization", format!("Basic {basic}"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Accept", "application/json")
        .timeout(authserver::TIMEOUT)
        .body(body)
        .send()
        .await
        .map_err(|e| format!("{what} failed: {}", Failure::from(e)))?;
    let status = response.status();
    let bytes = authserver::read_capped(response, MAX_RESPONSE_BYTES, what).await?;
    if !status.is_success() {
        // The OAuth error code says why (RFC 6749 §5.2); it carries no secret.
        let code = serde_json::from_slice::<Value>(&bytes)
            .ok()
            .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_owned))
            .map(|c| format!(" ({c})"))
            .unwrap_or_default();
        return Err(format!(
            "{what} refused: the token endpoint answered HTTP {status}{code}"
        ));
    }
    let parsed: TokenResponse = serde_json::from_slice(&bytes)
        .map_err(|_| format!("{what}: the token endpoint sent no usable access_token"))?;
    // Renew a little early so a token never expires in flight.
    let lifetime = parsed.expires_in.unwrap_or(300).saturating_sub(30).max(5);
    Ok((
        parsed.access_token,
        Instant::now() + Duration::from_secs(lifetime),
    ))
}

/// Client-credentials tokens, fetched on first use and reused until shortly before they
/// expire. The mutex also keeps concurrent calls from fetching at once.
pub struct ClientCredentials {
    pub http: reqwest::Client,
    pub token_url: String,
    pub client: Client,
    pub scopes: &'static [&'static str],
    cached: Mutex<Option<(String, Instant)>>,
}

impl ClientCredentials {
    pub fn new(
        http: reqwest::Client,
        token_url: String,
        client: Client,
        scopes: &'static [&'static str],
    ) -> Self {
        Self {
            http,
            token_url,
            client,
            scopes,
            cached: Mutex::new(None),
        }
    }

    pub async fn token(&self) -> Result<String, String> {
        let mut cached = self.cached.lock().await;
        if let Some((token, until)) = cached.as_ref()
            && Instant::now() < *until
        {
            return Ok(token.clone());
        }
        let scope = self.scopes.join(" ");
        let mut form = vec![("grant_type", "client_credentials")];
        if !scope.is_empty() {
            form.push(("scope", &scope));
        }
        let (token, until) = request_token(
            &self.http,
            &self.token_url,
            &self.client,
            &form,
            "upstream token request",
        )
        .await?;
        *cached = Some((token.clone(), until));
        Ok(token)
    }

    /// Drops the cached token (the upstream refused it), so the next call fetches anew.
    pub async fn forget(&self) {
        *self.cached.lock().await = None;
    }
}

/// Where the token endpoint of the exchange is: given, or from the issuer's metadata.
pub enum Endpoint {
    Fixed(String),
    Discover(String),
}

/// RFC 8693 token exchange: the caller's MCP token (the subject) for one whose audience is
/// the upstream API, so the upstream sees the user without ever seeing the MCP token.
pub struct Exchanger {
    http: reqwest::Client,
    endpoint: Endpoint,
    found: Mutex<Option<String>>,
    client: Client,
    audience: String,
    /// By the subject token's digest: the caller's token itself is not kept.
    cache: Mutex<Lru<(String, Instant)>>,
}

impl Exchanger {
    pub fn new(
        http: reqwest::Client,
        endpoint: Endpoint,
        client: Client,
        audience: String,
    ) -> Self {
        Self {
            http,
            endpoint,
            found: Mutex::new(None),
            client,
            audience,
            cache: Mutex::new(Lru::new(MAX_EXCHANGED)),
        }
    }

    pub async fn exchange(&self, subject: &str) -> Result<String, String> {
        let key = TokenKey::of(subject);
        if let Some((token, until)) = self.cache.lock().await.get(&key)
            && Instant::now() < *until
        {
            return Ok(token.clone());
        }
        let url = self.token_endpoint().await?;
        let form = [
            ("grant_type", TOKEN_EXCHANGE),
            ("subject_token", subject),
            ("subject_token_type", ACCESS_TOKEN_TYPE),
            ("requested_token_type", ACCESS_TOKEN_TYPE),
            ("audience", self.audience.as_str()),
        ];
        let (token, until) =
            request_token(&self.http, &url, &self.client, &form, "token exchange").await?;
        self.cache.lock().await.insert(key, (token.clone(), until));
        Ok(token)
    }

    /// Drops the token exchanged for this subject only (the upstream refused it); other
    /// callers' exchanged tokens stay.
    pub async fn forget(&self, subject: &str) {
        self.cache.lock().await.remove(&TokenKey::of(subject));
    }

    async fn token_endpoint(&self) -> Result<String, String> {
        let issuer = match &self.endpoint {
            Endpoint::Fixed(url) => return Ok(url.clone()),
            Endpoint::Discover(issuer) => issuer,
        };
        let mut found = self.found.lock().await;
        if let Some(url) = found.as_ref() {
            return Ok(url.clone());
        }
        let metadata = authserver::fetch_metadata(&self.http, issuer)
            .await
            .map_err(|e| format!("token exchange: {e} (or set TOKEN_EXCHANGE_URL)"))?;
        let endpoint = metadata
            .get("token_endpoint")
            .and_then(Value::as_str)
            .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
            .ok_or_else(|| {
                format!(
                    "token exchange: no token_endpoint in the metadata of {issuer} (set TOKEN_EXCHANGE_URL)"
                )
            })?;
        *found = Some(endpoint.to_owned());
        Ok(endpoint.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::routing::post;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn an_upstream_refusal_drops_only_that_callers_exchanged_token() {
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&hits);
        let router = Router::new().route(
            "/token",
            post(move || {
                let n = counter.fetch_add(1, Ordering::SeqCst);
                async move { format!(r#"{{"access_token":"x-{n}","expires_in":3600}}"#) }
            }),
        );
        let base = crate::testkit::serve(router).await;
        let exchanger = Exchanger::new(
            reqwest::Client::new(),
            Endpoint::Fixed(format!("{base}/token")),
            Client {
                id: "id".into(),
                secret: "s".into(),
            },
            "https://api.example".into(),
        );
        let alice = exchanger.exchange("alice-token").await.unwrap();
        let bob = exchanger.exchange("bob-token").await.unwrap();
        exchanger.forget("alice-token").await;
        assert_eq!(exchanger.exchange("bob-token").await.unwrap(), bob);
        assert_ne!(exchanger.exchange("alice-token").await.unwrap(), alice);
        assert_eq!(hits.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn token_endpoint_answers_are_size_capped() {
        let router = Router::new().route(
            "/token",
            post(|| async { "x".repeat(MAX_RESPONSE_BYTES + 1) }),
        );
        let base = crate::testkit::serve(router).await;
        let client = Client {
            id: "id".into(),
            secret: "s".into(),
        };
        let url = format!("{base}/token");
        let err = request_token(&reqwest::Client::new(), &url, &client, &[], "test")
            .await
            .unwrap_err();
        assert!(err.contains("larger than"), "{err}");
    }
}
